"""StyleGAN2-ADA conditional, ``orig`` and ``resnet`` generators against NVlabs' own images.

Fixtures made by NVlabs' reference code (``tests/fixtures/stylegan3/make_reference.py``):
``ada_cond`` (skip, 3 classes), ``ada_orig``, ``ada_resnet`` (32 px, conv_clamp 2).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from netbend.bending import bend, resolve_plan
from netbend.cli import main
from netbend.errors import NetbendError
from netbend.layers import list_layers
from netbend.models import load_model, save_native
from netbend.plan import Plan
from nvlabs_fixtures import REFERENCE, fixture, write_fixture_pickle

NAMES = ("ada_cond", "ada_orig", "ada_resnet")


@pytest.fixture(scope="module")
def pickles(tmp_path_factory):
    root = tmp_path_factory.mktemp("ada")
    return {name: write_fixture_pickle(name, root / f"{name}.pkl") for name in NAMES}


def rel(ours: np.ndarray, ref: np.ndarray) -> float:
    return float(np.abs(ours - ref).max() / np.abs(ref).max())


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("form", ["grouped", "scaled"])
def test_matches_nvlabs_reference(pickles, name, form):
    model, refs = load_model(pickles[name]), fixture(name)[2]
    if model.c_dim:
        model.set_class(REFERENCE["class"])
    model.module.set_modconv(form)
    z = model.latents_from_seeds(REFERENCE["seeds"])
    for tag, psi in (("psi1", 1.0), ("psi05", 0.5)):
        assert rel(model.synthesize(z=z, truncation=psi).numpy(), refs[tag]) < 1e-4


def test_architectures_and_layers(pickles):
    orig, resnet = load_model(pickles["ada_orig"]).module, load_model(pickles["ada_resnet"]).module
    assert orig.architecture == "orig" and not hasattr(orig, "to_rgb1") and len(orig.to_rgbs) == 0
    assert resnet.architecture == "resnet" and len(resnet.skips) == 3
    model = load_model(pickles["ada_resnet"])
    infos = list_layers(model)
    assert [i.number for i in infos if i.number] == list(range(1, 7))
    z = model.latents_from_seeds([0])
    plain = model.synthesize(z=z)
    plan = Plan.from_dict({"transforms": [{"layer": 4, "transform": "erode", "params": [2]}]})
    with bend(model.module, resolve_plan(plan, model)):
        assert rel(model.synthesize(z=z).numpy(), plain.numpy()) > 1e-3


@pytest.mark.parametrize("name", NAMES)
def test_native_round_trip(pickles, name, tmp_path):
    model = load_model(pickles[name])
    if model.c_dim:
        model.set_class(1)
    again = load_model(save_native(model, tmp_path / "m.safetensors"))
    assert again.c_dim == model.c_dim and again.module.architecture == model.module.architecture
    if again.c_dim:
        again.set_class(1)
    z = model.latents_from_seeds([4])
    assert torch.equal(again.synthesize(z=z), model.synthesize(z=z))


def test_class_option(pickles, tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["generate", "--model", str(pickles["ada_cond"]), "--class", "2", "--seeds", "0",
                               "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    for args, message in [([], "is conditional (3 classes): give --class K (0-2)"), (["--class", "3"], "classes 0-2"),
                          (["--class", "-1"], "classes 0-2")]:
        res = runner.invoke(main, ["generate", "--model", str(pickles["ada_cond"]), *args, "--seeds", "0",
                                   "--out", str(tmp_path / "x")])
        assert res.exit_code == 2 and message in res.output and len(res.output.strip().splitlines()) == 1
    res = runner.invoke(main, ["generate", "--model", str(pickles["ada_orig"]), "--class", "0", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "is unconditional" in res.output
    with pytest.raises(NetbendError, match="give --class"):
        load_model(pickles["ada_cond"]).mapping(torch.zeros(1, 24))


@pytest.mark.parametrize("name", NAMES)
def test_layer_table_equals_a_real_pass(pickles, name):
    from netbend.layers import dry_run_layers

    model = load_model(pickles[name])
    if model.c_dim:
        model.set_class(0)
    assert model.layer_shapes() is not None
    assert list_layers(model, refresh=True) == dry_run_layers(model)
