"""--ray: every command's outputs on a local Ray instance (2 CPUs) equal the single-process run's,
bit for bit, also when a worker dies mid-job or a run is resumed. One Ray instance for the module."""
import os
import sys
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from netbend.cli import main
from netbend.distributed import EXIT_AFTER_ENV, INSTALL_HINT
from stylegan2_helpers import tiny_model_file

if os.environ.get("NETBEND_REQUIRE_RAY"):  # CI installs netbend[ray]: these tests must run there
    import ray
else:
    ray = pytest.importorskip("ray")
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module", autouse=True)
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="warning")
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("model"), seed=3, channels={4: 16, 8: 12, 16: 8})


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res


def files(folder: Path, skip=(".netbend-run.json",)) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in skip}


def test_generate_on_ray_with_a_dying_worker_equals_one_process(tmp_path, tiny, monkeypatch):
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"transforms": [
        {"layer": 2, "transform": "multiply", "params": {"p": 2.0}, "features": "random",
         "feature-param": 0.5}]}))
    common = ["generate", "--model", tiny, "--config", plan, "--seeds", "0-6", "--batch-size", 2,
              "--variations", 2]
    run(*common, "--out", tmp_path / "one", "--raw", tmp_path / "one.npy")
    monkeypatch.setenv(EXIT_AFTER_ENV, "1")  # each worker's first life exits when sent its 2nd chunk
    run(*common, "--out", tmp_path / "ray", "--raw", tmp_path / "ray.npy", "--ray", "--workers", 2)
    one, dist = files(tmp_path / "one"), files(tmp_path / "ray")
    assert len(one) == 7 * 2 + 3 and one == dist
    assert (tmp_path / "one.npy").read_bytes() == (tmp_path / "ray.npy").read_bytes()
    # resume: two images lost; a resumed Ray run writes exactly them and keeps the others untouched
    monkeypatch.delenv(EXIT_AFTER_ENV)
    kept = tmp_path / "ray" / "seed0002_var00.png"
    stamp = kept.stat().st_mtime_ns
    for name in ("seed0005_var01.png", "seed0000_var00.png"):
        (tmp_path / "ray" / name).unlink()
    run(*common, "--out", tmp_path / "ray", "--resume", "--ray", "local")
    assert files(tmp_path / "ray") == one and kept.stat().st_mtime_ns == stamp
    res = CliRunner().invoke(main, [str(a) for a in [*common[:-1], 3, "--out", tmp_path / "ray", "--resume"]])
    assert res.exit_code == 2 and "'variations' differs" in res.output


def test_animate_frame_ranges_on_ray_and_resume(tmp_path, tiny, monkeypatch):
    common = ["animate", "--model", tiny, "--config", EXAMPLES / "teratome.yaml", "--seeds", "0,7",
              "--frames", 10, "--batch-size", 3]
    run(*common, "--out", f"{tmp_path / 'one'}/")
    monkeypatch.setenv(EXIT_AFTER_ENV, "1")
    run(*common, "--out", f"{tmp_path / 'ray'}/", "--frames-range", "2:7", "--ray", "--workers", 2)
    assert sorted(files(tmp_path / "ray")) == sorted(["run.yaml"] + [f"frame{i:06d}.png" for i in range(2, 7)])
    run(*common, "--out", f"{tmp_path / 'ray'}/", "--resume", "--ray", "--workers", 2)
    assert files(tmp_path / "ray") == files(tmp_path / "one")


def test_audio_autoencode_folder_on_ray_and_resume(tmp_path):
    inputs = tmp_path / "in"
    (inputs / "sub").mkdir(parents=True)
    for i, src in enumerate(sorted((EXAMPLES / "audio").glob("*.flac"))[:2]):
        (inputs / ("sub" if i else "") / src.name).write_bytes(src.read_bytes())
    common = ["audio", "autoencode", inputs, "--config", EXAMPLES / "fig3_stochastic.yaml", "--variations", 2,
              "--iterations", 4]
    run(*common, "--out", tmp_path / "one")
    run(*common, "--out", tmp_path / "ray", "--ray", "--workers", 2)
    one = files(tmp_path / "one")
    assert sum(name.endswith(".wav") for name in one) == 4 and any(n.startswith("sub/") for n in one)
    assert files(tmp_path / "ray") == one
    lost = next(tmp_path.glob("ray/sub/*_var01.wav"))
    lost.unlink()
    res = run(*common, "--out", tmp_path / "ray", "--resume")
    assert files(tmp_path / "ray") == one and "4 file(s) for 2 input(s)" in res.output


def test_cluster_run_on_ray_equals_one_process(tmp_path, tiny):
    common = ["cluster", "run", "--model", tiny, "--n-train", 6, "--n-test", 2, "--max-side", 8,
              "--epochs", 1, "--layers", "2,3", "--k", 3]
    run(*common, "--out-dir", tmp_path / "one")
    run(*common, "--out-dir", tmp_path / "ray", "--ray", "--workers", 2)
    skip = (".netbend-run.json", "timing.json", "2.pt", "3.pt")  # .pt: a zip named after its temp file
    one = files(tmp_path / "one", skip)
    assert "clusters.json" in one and "cnn.safetensors" in one and one == files(tmp_path / "ray", skip)
    for key in ("2", "3"):
        a, b = (torch.load(tmp_path / d / "cnn" / f"{key}.pt", weights_only=False) for d in ("one", "ray"))
        assert all(torch.equal(a["model"][n], b["model"][n]) for n in a["model"]) and a["history"] == b["history"]


def test_worker_errors_and_missing_ray_are_one_line(tmp_path, monkeypatch):
    bad = tmp_path / "in"
    bad.mkdir()
    (bad / "broken.wav").write_bytes(b"RIFF not really a wave file")
    res = CliRunner().invoke(main, ["audio", "autoencode", str(bad), "--out", str(tmp_path / "o"), "--ray"])
    assert res.exit_code == 2 and "broken.wav: cannot decode audio" in res.output and "Traceback" not in res.output
    res = CliRunner().invoke(main, ["generate", "--seeds", "0", "--out", str(tmp_path / "g"), "--ray", "127.0.0.1:1"])
    assert res.exit_code == 2 and "--ray 127.0.0.1:1: nothing answers there" in res.output
    assert not (tmp_path / "g").exists()
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    res = CliRunner().invoke(main, ["generate", "--seeds", "0", "--out", str(tmp_path / "g"), "--ray"])
    assert res.exit_code == 2 and res.output.strip() == f"netbend: error: {INSTALL_HINT}"
    assert not (tmp_path / "g").exists()
