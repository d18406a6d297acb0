"""StyleGAN3 (configs T and R) from NVlabs-structured pickles, against NVlabs' own images.

The fixtures were made by NVlabs' reference code (``tests/fixtures/stylegan3/make_reference.py``);
``sg3_t`` is config T at 32 px with fp16 layers, ``sg3_r`` config R at 24 px, conditional (4 classes).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml
from click.testing import CliRunner

from netbend.bending import bend, resolve_plan
from netbend.cli import main
from netbend.errors import NetbendError
from netbend.layers import list_layers
from netbend.models import load_model
from netbend.models.wrapper import StyleGAN3Model
from netbend.plan import Plan
from nvlabs_fixtures import REFERENCE, delete, fixture, write_fixture_pickle

TOL = 1e-4  # of the largest value of NVlabs' image


@pytest.fixture(scope="module")
def pickles(tmp_path_factory):
    root = tmp_path_factory.mktemp("sg3")
    return {name: write_fixture_pickle(name, root / f"{name}.pkl") for name in ("sg3_t", "sg3_r")}


def rel(ours: np.ndarray, ref: np.ndarray) -> float:
    return float(np.abs(ours - ref).max() / np.abs(ref).max())


def loaded(pickles, name) -> StyleGAN3Model:
    model = load_model(pickles[name])
    if model.c_dim:
        model.set_class(REFERENCE["class"])
    return model


@pytest.mark.parametrize("name", ["sg3_t", "sg3_r"])
@pytest.mark.parametrize("form", ["grouped", "scaled"])
def test_matches_nvlabs_reference(pickles, name, form):
    model, refs = loaded(pickles, name), fixture(name)[2]
    assert isinstance(model, StyleGAN3Model)
    model.module.set_modconv(form)
    z = model.latents_from_seeds(REFERENCE["seeds"])
    for tag, psi in (("psi1", 1.0), ("psi05", 0.5)):
        img = model.synthesize(z=z, truncation=psi).numpy()
        assert img.shape == refs[tag].shape
        assert rel(img, refs[tag]) < TOL, (tag, rel(img, refs[tag]))


@pytest.mark.parametrize("name", ["sg3_t", "sg3_r"])
def test_translate_rotate_match_gen_images(pickles, name):
    model, refs = loaded(pickles, name), fixture(name)[2]
    z = model.latents_from_seeds(REFERENCE["seeds"])
    plain = model.synthesize(z=z).numpy()
    model.set_view(REFERENCE["view"]["translate"], REFERENCE["view"]["rotate"])
    moved = model.synthesize(z=z).numpy()
    assert rel(moved, refs["view"]) < TOL and rel(moved, plain) > 0.05
    model.set_view((0, 0), 0)
    assert np.array_equal(model.synthesize(z=z).numpy(), plain)


def test_batch_does_not_change_an_image(pickles):
    model = loaded(pickles, "sg3_t")
    z = model.latents_from_seeds([0, 1, 2])
    batch = model.synthesize(z=z)
    single = torch.cat([model.synthesize(z=z[i:i + 1]) for i in range(3)])
    assert float((batch - single).abs().max()) < 1e-5


def test_layers_keep_nvlabs_names_and_paper_numbers(pickles):
    model = loaded(pickles, "sg3_t")
    desc = fixture("sg3_t")[1]["modules"]["synthesis"]["attrs"]["layer_names"]
    infos = {i.path: i for i in list_layers(model)}
    assert model.paper_layers == {i + 1: n for i, n in enumerate(desc[:-1])}  # ToRGB not numbered
    for name in desc:
        _, size, channels = name.split("_")
        assert infos[name].shape == (int(channels), int(size), int(size))
    assert infos["input"].number is None and infos[desc[-1]].number is None
    res = CliRunner().invoke(main, ["layers", "--model", str(pickles["sg3_t"]), "--all"])
    assert res.exit_code == 0 and desc[0] in res.output and "input" in res.output


@pytest.mark.parametrize("transform, params", [("translate", [0.25, 0]), ("rotate", [30]), ("erode", [2]),
                                               ("scale", [0.5]), ("multiply", [2.0])])
def test_transforms_bend_sg3_layers(pickles, transform, params):
    model = loaded(pickles, "sg3_t")
    z = model.latents_from_seeds([0])
    plain = model.synthesize(z=z)
    neutral = Plan.from_dict({"transforms": [{"layer": 2, "transform": "multiply", "params": [1.0]}]})
    with bend(model.module, resolve_plan(neutral, model)):
        assert torch.equal(model.synthesize(z=z), plain)
    plan = Plan.from_dict({"transforms": [{"layer": 2, "transform": transform, "params": params,
                                           "features": "indices", "feature-param": [0, 3]}]})
    with bend(model.module, resolve_plan(plan, model)):
        bent = model.synthesize(z=z)
    assert rel(bent.numpy(), plain.numpy()) > 1e-3


def test_clustering_runs_on_sg3_layers(pickles, tmp_path):
    from netbend.clustering.pipeline import run_pipeline
    from netbend.clustering.presets import get_preset

    tiny = get_preset("default").with_overrides(n_train=6, n_test=2, epochs=1, batch_size=32, n_general=3,
                                                max_side=8)
    model = loaded(pickles, "sg3_t")
    clusters, _ = run_pipeline(model, tmp_path / "run", preset=tiny, layers=[1, "input"], progress=False)
    assert sorted(f for g in clusters.layers["1"] for f in g) == list(range(16))
    assert sorted(f for g in clusters.layers["input"] for f in g) == list(range(16))
    plan = Plan.from_dict({"transforms": [{"layer": 1, "transform": "multiply", "params": [0],
                                           "features": "cluster", "feature-param": 0}]})
    assert resolve_plan(plan, model, clusters=clusters).bends[0].indices == tuple(clusters.layers["1"][0])


def test_conditional_needs_a_class_in_range(pickles):
    res = CliRunner().invoke(main, ["layers", "--model", str(pickles["sg3_r"])])  # shapes need no class
    assert res.exit_code == 0 and "L0_28_32" in res.output, res.output
    model = load_model(pickles["sg3_r"])
    z = model.latents_from_seeds([0])
    with pytest.raises(NetbendError, match=r"conditional \(4 classes\): give --class K \(0-3\)"):
        model.synthesize(z=z)
    with pytest.raises(NetbendError, match="has classes 0-3"):
        model.set_class(4)
    model.set_class(1)
    a = model.synthesize(z=z)
    model.set_class(2)
    assert rel(model.synthesize(z=z).numpy(), a.numpy()) > 1e-3
    with pytest.raises(NetbendError, match="is unconditional"):
        load_model(pickles["sg3_t"]).set_class(0)


@pytest.mark.parametrize("overrides, message", [
    ({"drop": ("synthesis.L2_52_11.weight",)}, "lacks tensor 'synthesis.L2_52_11.weight'"),
    ({"drop": ("synthesis.L1_36_16.up_filter",)}, "lacks tensor 'synthesis.L1_36_16.up_filter'"),
    ({"attrs": {"synthesis.L3_52_7": {"padding": delete()}}}, "'synthesis.L3_52_7' lacks attribute 'padding'"),
    ({"attrs": {"synthesis": {"layer_names": delete()}}}, "'synthesis' lacks attribute 'layer_names'"),
    ({"class_names": {"synthesis.input": "SynthesisInputV2"}}, "is a SynthesisInputV2, expected SynthesisInput"),
])
def test_bad_layouts_are_one_line(tmp_path, overrides, message):
    path = write_fixture_pickle("sg3_t", tmp_path / "bad.pkl", **overrides)
    with pytest.raises(NetbendError, match=message) as err:
        load_model(path)
    assert "\n" not in str(err.value)


def test_cli_translate_rotate_class(tmp_path, pickles):
    runner = CliRunner()
    out = tmp_path / "o"
    res = runner.invoke(main, ["generate", "--model", str(pickles["sg3_r"]), "--seeds", "0", "--class", "2",
                               "--translate", "0.3,-0.2", "--rotate", "10", "--out", str(out)])
    assert res.exit_code == 0, res.output
    run = yaml.safe_load((out / "run.yaml").read_text())
    assert run["class"] == 2 and run["translate"] == [0.3, -0.2] and run["rotate"] == 10.0
    for args, message in [(["--model", str(pickles["sg3_r"])], "give --class K (0-3)"),
                          (["--model", str(pickles["sg3_r"]), "--class", "7"], "has classes 0-3"),
                          (["--model", str(pickles["sg3_t"]), "--class", "0"], "is unconditional"),
                          (["--rotate", "5"], "--rotate: model 'netbend-faces64' is not a StyleGAN3"),
                          (["--model", str(pickles["sg3_t"]), "--translate", "1"], "expected two numbers")]:
        res = runner.invoke(main, ["generate", *args, "--seeds", "0", "--out", str(tmp_path / "x")])
        assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output, res.output
        assert len(res.output.strip().splitlines()) == 1


def test_animate_view_curves_give_each_frame_its_own_view(tmp_path, pickles):
    from PIL import Image

    from netbend.curves import parse_value, value_at
    from netbend.media import to_uint8

    rotate = "{lfo: 0.5, range: [-20, 20]}"
    out = tmp_path / "frames"
    res = CliRunner().invoke(main, ["animate", "--model", str(pickles["sg3_t"]), "--seeds", "0", "--frames", "4",
                                    "--fps", "4", "--rotate", rotate, "--translate", "0.1,0", "--out", f"{out}/"])
    assert res.exit_code == 0, res.output
    run = yaml.safe_load((out / "run.yaml").read_text())
    assert run["translate"] == [0.1, 0.0] and run["rotate"]["lfo"] == 0.5
    model = loaded(pickles, "sg3_t")
    z = model.latents_from_seeds([0])
    frames = []
    for i in range(4):
        model.set_view((0.1, 0.0), float(value_at(parse_value(rotate, "r"), i / 4)))
        want = to_uint8(model.synthesize(z=z))[0].astype(int)
        got = np.asarray(Image.open(out / f"frame{i:06d}.png").convert("RGB")).astype(int)
        assert np.abs(got - want).max() <= 1
        frames.append(got)
    assert np.abs(frames[0] - frames[2]).max() > 10  # the view moves over time
    res = CliRunner().invoke(main, ["animate", "--seeds", "0", "--frames", "2", "--rotate", "5", "--out", f"{tmp_path}/x/"])
    assert res.exit_code == 2 and "is not a StyleGAN3" in res.output


@pytest.mark.parametrize("name", ["sg3_t", "sg3_r"])
def test_native_round_trip(pickles, name, tmp_path):
    from netbend.models import save_native

    model = loaded(pickles, name)
    again = load_model(save_native(model, tmp_path / "m.safetensors"))
    assert isinstance(again, StyleGAN3Model) and again.model_hash == model.model_hash
    if again.c_dim:
        again.set_class(REFERENCE["class"])
    z = model.latents_from_seeds([0, 1])
    assert torch.equal(again.synthesize(z=z, truncation=0.5), model.synthesize(z=z, truncation=0.5))
