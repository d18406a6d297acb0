"""The command line end to end on a tiny StyleGAN2 in netbend's own format."""
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from PIL import Image

from netbend.cli import main
from stylegan2_helpers import tiny_model_file


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("model"), seed=1, channels={4: 32, 8: 16, 16: 8},
                           style_dim=32, n_mlp=2)


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def write_plan(path: Path, entries) -> Path:
    path.write_text(yaml.safe_dump({"transforms": entries}))
    return path


def test_generate_writes_pngs_metadata_run_yaml_and_raw(tmp_path, tiny_model):
    plan = write_plan(tmp_path / "p.yaml", [{"layer": 2, "transform": "scalar-multiply", "params": [-1],
                                             "features": "random", "feature-param": 0.5}])
    out = tmp_path / "out"
    res = run("generate", "--model", tiny_model, "--config", plan, "--seeds", "0-2,7", "--variations", "2",
              "--batch-size", "3", "--out", out, "--raw", tmp_path / "raw.npy", "--device", "cpu")
    assert res.exit_code == 0, res.output
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == sorted(f"seed{s:04d}_var{v:02d}.png" for s in (0, 1, 2, 7) for v in (0, 1))
    meta = json.loads(Image.open(out / "seed0007_var01.png").text["netbend"])
    assert meta["latent_seed"] == 7 and meta["variation"] == 1 and meta["model_hash"]
    indices = meta["resolved_plan"]["transforms"][0]["feature-param"]
    assert len(indices) == 8  # 50% of layer 2's 16 features
    run_yaml = yaml.safe_load((out / "run.yaml").read_text())
    assert len(run_yaml["images"]) == 8 and run_yaml["seed"] == 0
    raw = np.load(tmp_path / "raw.npy")
    assert raw.shape == (8, 3, 16, 16) and raw.dtype == np.float32
    assert not np.allclose(raw[:4], raw[4:])  # the two variations differ

    # re-rendering variation 1 from its written plan (same batching) gives exactly the same images
    res = run("generate", "--model", tiny_model, "--config", out / "plan_var01.yaml", "--seeds", "0-2,7",
              "--batch-size", "3", "--out", tmp_path / "again", "--raw", tmp_path / "again.npy")
    assert res.exit_code == 0, res.output
    np.testing.assert_array_equal(np.load(tmp_path / "again.npy"), raw[4:])


def test_unbent_equals_empty_plan_and_latent_files(tmp_path, tiny_model):
    empty = write_plan(tmp_path / "empty.yaml", [])
    assert run("generate", "--model", tiny_model, "--seeds", "3", "--out", tmp_path / "a",
               "--raw", tmp_path / "a.npy").exit_code == 0
    assert run("generate", "--model", tiny_model, "--seeds", "3", "--config", empty, "--out", tmp_path / "b",
               "--raw", tmp_path / "b.npy").exit_code == 0
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))
    z = np.random.RandomState(3).randn(1, 32).astype(np.float32)
    np.save(tmp_path / "z.npy", z)
    assert run("generate", "--model", tiny_model, "--latents", tmp_path / "z.npy", "--out", tmp_path / "c",
               "--raw", tmp_path / "c.npy").exit_code == 0
    np.testing.assert_allclose(np.load(tmp_path / "c.npy"), np.load(tmp_path / "a.npy"), atol=1e-6)
    np.save(tmp_path / "w.npy", np.zeros((2, 6, 32), np.float32))  # w+: num_ws = 6 at 16 px
    assert run("generate", "--model", tiny_model, "--w", tmp_path / "w.npy", "--out", tmp_path / "d").exit_code == 0
    assert (tmp_path / "d" / "w0001_var00.png").is_file()


def test_dry_run_prints_indices(tmp_path, tiny_model):
    plan = write_plan(tmp_path / "p.yaml", [{"layer": 1, "transform": "ablate", "features": "random",
                                             "feature-param": "25%"}])
    res = run("generate", "--model", tiny_model, "--config", plan, "--dry-run", "--variations", "2")
    assert res.exit_code == 0
    printed = yaml.safe_load(res.output)
    assert len(printed["variation 1"]["transforms"][0]["feature-param"]) == 4  # 25% of 16
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args,message", [
    (["--config", "missing.yaml"], "missing.yaml: plan file not found"),
    (["--seeds", "3-x"], "--seeds: cannot read '3-x'"),
    (["--seeds", ""], "--seeds: no seeds given"),
    (["--seeds", "5-2"], "--seeds: the range '5-2' is reversed; did you mean '2-5'?"),
    (["--seeds", "1,,2"], "--seeds: empty item in '1,,2'"),
    (["--clusters", "plan.yaml"], "plan.yaml: this is a plan, not a cluster file"),
    (["--model", "nope.pt"], "model file not found: nope.pt"),
    (["--latents", "z.npy", "--seeds", "1"], "give only one of --seeds, --latents and --w"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, tiny_model, args, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_plan(tmp_path / "plan.yaml", [])
    if "--model" not in args:
        args = ["--model", str(tiny_model), *args]
    res = CliRunner().invoke(main, ["generate", *args, "--out", "o"])
    assert res.exit_code == 2
    assert message in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


def test_bad_plan_names_entry_and_key(tmp_path, tiny_model):
    plan = write_plan(tmp_path / "p.yaml", [{"layer": 1, "transform": "ablate"},
                                            {"layer": 9, "transform": "ablate"}])
    res = CliRunner().invoke(main, ["generate", "--model", str(tiny_model), "--config", str(plan)])
    assert res.exit_code == 2
    assert f"{plan}: transforms[1].layer: tiny has no layer 9 (layers 1-4)" in res.output
    w = tmp_path / "w.npy"
    np.save(w, np.zeros((1, 5, 32), np.float32))
    res = CliRunner().invoke(main, ["generate", "--model", str(tiny_model), "--w", str(w)])
    assert res.exit_code == 2 and "does not fit this model's w" in res.output


def test_layers_lists_paper_numbers(tiny_model):
    res = run("layers", "--model", tiny_model)
    assert res.exit_code == 0
    rows = [line.split() for line in res.output.splitlines()[2:]]
    assert [r[:2] for r in rows] == [["1", "convs.0"], ["2", "convs.1"], ["3", "convs.2"], ["4", "convs.3"]]
    assert rows[0][-1] == "16" and rows[3][-1] == "8"


def test_core_commands_open_audio_model_files():
    from netbend.audio.model import DEFAULT_MODEL

    res = run("layers", "--model", DEFAULT_MODEL)
    assert res.exit_code == 0, res.output
    rows = [line.split() for line in res.output.splitlines()[2:]]
    assert [r[:2] for r in rows] == [[str(k), f"decoder.deconv{k}"] for k in range(1, 6)]
    assert rows[1][2:4] == ["(32,", "17,"] or "17, 65" in res.output
    res = CliRunner().invoke(main, ["generate", "--model", str(DEFAULT_MODEL)])
    assert res.exit_code == 2 and "is an audio model" in res.output


def test_layers_and_audio_layers_behave_the_same():
    """Both hide inner modules by default and list them with --all, in the same table."""
    from netbend.audio.model import DEFAULT_MODEL

    for flags in ([], ["--all"]):
        plain = run("layers", "--model", DEFAULT_MODEL, *flags)
        audio = run("audio", "layers", *flags)
        assert plain.exit_code == audio.exit_code == 0
        assert plain.output.splitlines()[1:] == audio.output.splitlines()[1:]
    assert len(run("audio", "layers").output.splitlines()) == 2 + 5
    assert "decoder.deconv1.0" in run("audio", "layers", "--all").output
