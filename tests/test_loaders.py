"""Checkpoint loaders against outputs of the reference implementations; refusals; safety.

Fixtures (tests/fixtures/stylegan2, made by make_reference.py there): a tiny rosinality
checkpoint and the image rosinality's code made from it; tiny NVlabs weights + constructor
kwargs and the image NVlabs' code made from them (the pickle is written here, with our
placeholder in place of NVlabs' source).
"""
from __future__ import annotations

import argparse
import os
import pickle
import subprocess

import numpy as np
import pytest
import torch

from netbend.errors import NetbendError
from netbend.models import load_model
from stylegan2_helpers import FIXTURES, Record, module_state, tiny_nvlabs_snapshot, write_snapshot

BOUND = 1e-4  # max |ours - reference| / max |reference|
SEEDS = [0, 1, 2]


def assert_matches_reference(model, prefix: str) -> None:
    z = model.latents_from_seeds(SEEDS)
    for tag, psi in (("psi1", 1.0), ("psi05", 0.5)):
        ref = np.load(FIXTURES / f"{prefix}_ref_{tag}.npy")
        for form in ("grouped", "scaled"):
            model.module.set_modconv(form)
            out = model.synthesize(z=z, truncation=psi, noise="const").numpy()
            ratio = np.abs(out - ref).max() / np.abs(ref).max()
            assert ratio <= BOUND, f"{prefix} {tag} {form}: {ratio:.2e}"
    model.module.set_modconv("auto")


@pytest.fixture(scope="module")
def rosinality_ckpt():
    return torch.load(FIXTURES / "rosinality_tiny.pt", weights_only=True)


# ---------------------------------------------------------------- rosinality
def test_rosinality_converted_checkpoint_matches_reference():
    model = load_model(FIXTURES / "rosinality_tiny.pt")
    assert (model.resolution, model.z_dim, model.w_dim, model.num_ws) == (32, 32, 32, 8)
    assert model.mean_w_from_checkpoint and model.source == "rosinality"
    assert model.module.channels == {4: 32, 8: 32, 16: 16, 32: 8}
    assert_matches_reference(model, "rosinality")


def test_rosinality_training_checkpoint_with_args(rosinality_ckpt, tmp_path):
    sd = rosinality_ckpt["g_ema"]
    args = argparse.Namespace(size=32, arch="stylegan2", n_mlp=2, latent=32, channel_multiplier=1)
    optim = {"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.zeros(2), "exp_avg_sq": torch.zeros(2)}},
             "param_groups": [{"lr": 0.002, "betas": (0.0, 0.99), "eps": 1e-8, "params": [0]}]}  # Adam's layout
    torch.save({"g": {k: v * 0 for k, v in sd.items()}, "d": {"convs.0.0.weight": torch.zeros(1)},
                "g_ema": sd, "g_optim": optim, "d_optim": optim, "args": args, "ada_aug_p": 0.0},
               tmp_path / "train.pt")
    model = load_model(tmp_path / "train.pt")
    assert not model.mean_w_from_checkpoint  # training checkpoints carry no latent_avg
    z = model.latents_from_seeds(SEEDS)
    ref = np.load(FIXTURES / "rosinality_ref_psi1.npy")
    assert np.abs(model.synthesize(z=z).numpy() - ref).max() / np.abs(ref).max() <= BOUND


def test_rosinality_bare_state_dict(rosinality_ckpt, tmp_path):
    torch.save(rosinality_ckpt["g_ema"], tmp_path / "bare.pth")
    assert load_model(tmp_path / "bare.pth").model_hash == load_model(FIXTURES / "rosinality_tiny.pt").model_hash


@pytest.mark.parametrize("content, message", [
    ({"d": {"convs.0.0.weight": torch.zeros(1)}, "d_optim": {}}, "discriminator-only"),
    ({"weights": torch.zeros(3)}, "not a StyleGAN2 checkpoint"),
    ({"g_ema": {"style.1.weight": torch.zeros(4, 4)}}, "not a StyleGAN2 generator"),
    (torch.zeros(3), "not a StyleGAN2 checkpoint dict"),
])
def test_rosinality_refusals(content, message, tmp_path):
    torch.save(content, tmp_path / "x.pt")
    with pytest.raises(NetbendError, match=message):
        load_model(tmp_path / "x.pt")


def test_rosinality_swagan_refused(rosinality_ckpt, tmp_path):
    torch.save({"g_ema": rosinality_ckpt["g_ema"], "args": argparse.Namespace(arch="swagan")}, tmp_path / "s.pt")
    with pytest.raises(NetbendError, match="SWAGAN.*not supported"):
        load_model(tmp_path / "s.pt")


def test_truncated_pt_is_one_line_error(tmp_path):
    data = (FIXTURES / "rosinality_tiny.pt").read_bytes()
    (tmp_path / "cut.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(NetbendError, match="corrupt or truncated") as err:
        load_model(tmp_path / "cut.pt")
    assert "\n" not in str(err.value)


class _Shell:
    """Pickles as a call of ``func(*args)``: what a malicious checkpoint does."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _attacks(marker):
    return {"os.system": _Shell(os.system, f"touch {marker}"),
            "subprocess": _Shell(subprocess.call, ["touch", str(marker)]),
            "builtins.exec": _Shell(exec, f"open({str(marker)!r}, 'w').close()")}


@pytest.mark.parametrize("attack", ["os.system", "subprocess", "builtins.exec"])
def test_malicious_pt_is_refused(attack, tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"g_ema": {}, "args": _attacks(marker)[attack]}, tmp_path / "evil.pt")
    with pytest.raises(NetbendError, match="refused to load"):
        load_model(tmp_path / "evil.pt")
    assert not marker.exists()


# ---------------------------------------------------------------- NVlabs
def test_nvlabs_snapshot_matches_reference(tmp_path):
    model = load_model(tiny_nvlabs_snapshot(tmp_path / "network-snapshot.pkl"))
    assert (model.resolution, model.z_dim, model.w_dim, model.num_ws) == (32, 24, 32, 8)
    assert model.module.conv_clamp == 2.0 and model.module.lr_mlp == pytest.approx(0.01)
    assert model.mean_w_from_checkpoint and model.source == "nvlabs"
    assert_matches_reference(model, "nvlabs")


def test_nvlabs_embedded_source_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    src = f"import os\nos.system('touch {marker}')\nopen({str(marker)!r}, 'w').close()\n"
    model = load_model(tiny_nvlabs_snapshot(tmp_path / "g.pkl", module_src=src))
    assert model.resolution == 32 and not marker.exists()


@pytest.mark.parametrize("attack", ["os.system", "subprocess", "builtins.exec"])
def test_malicious_pkl_is_refused(attack, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    with open(path, "wb") as f:
        pickle.dump({"G_ema": _attacks(marker)[attack]}, f)
    with pytest.raises(NetbendError, match="refused to unpickle .*allow-list"):
        load_model(path)
    assert not marker.exists()


@pytest.mark.parametrize("overrides, message", [
    ({"class_names": {"synthesis.b8": "SuperResBlock"}}, "not made of StyleGAN2 blocks"),
    ({"attrs": {"": {"c_dim": 10}}}, r"conditional model \(c_dim=10\) without a mapping.embed layer"),
    ({"attrs": {"synthesis.b16": {"architecture": "resnet"}}}, r"architecture\(s\) \['resnet', 'skip'\]"),
    ({"attrs": {"synthesis.b16": {"architecture": "dense"}}}, r"expected one of skip, orig, resnet"),
])
def test_nvlabs_unsupported_generators_refused(overrides, message, tmp_path):
    with pytest.raises(NetbendError, match=message):
        load_model(tiny_nvlabs_snapshot(tmp_path / "u.pkl", **overrides))


def test_stylegan3_skeleton_refused(tmp_path):
    layer = Record("SynthesisLayer", module_state({"weight": torch.zeros(1)}, {}))
    synthesis = Record("SynthesisNetwork", module_state({}, {"input": Record("SynthesisInput", module_state({}, {})),
                                                             "L0_36_512": layer}))
    G = Record("Generator", module_state({}, {"synthesis": synthesis, "mapping": Record("MappingNetwork",
                                                                                         module_state({}, {}))}))
    with pytest.raises(NetbendError, match="lacks attribute 'z_dim' .*older or newer StyleGAN3 layout"):
        load_model(write_snapshot(tmp_path / "sg3.pkl", {"G_ema": G}))


def test_discriminator_only_pkl_refused(tmp_path):
    path = write_snapshot(tmp_path / "d.pkl", {"D": Record("Discriminator", module_state({}, {}))})
    with pytest.raises(NetbendError, match="discriminator-only"):
        load_model(path)


def test_tensorflow_pkl_refused(tmp_path):
    # protocol-2 GLOBAL of the TF network class, as in the original StyleGAN2 .pkl files
    (tmp_path / "tf.pkl").write_bytes(b"\x80\x02cdnnlib.tflib.network\nNetwork\nq\x00)\x81q\x01.")
    with pytest.raises(NetbendError, match="TensorFlow StyleGAN pickle"):
        load_model(tmp_path / "tf.pkl")


def test_truncated_and_foreign_pkl(tmp_path):
    data = tiny_nvlabs_snapshot(tmp_path / "g.pkl").read_bytes()
    (tmp_path / "cut.pkl").write_bytes(data[: len(data) // 3])
    with pytest.raises(NetbendError, match="corrupt, truncated") as err:
        load_model(tmp_path / "cut.pkl")
    assert "\n" not in str(err.value)
    (tmp_path / "list.pkl").write_bytes(pickle.dumps([1, 2, 3]))
    with pytest.raises(NetbendError, match="not an NVlabs network snapshot"):
        load_model(tmp_path / "list.pkl")
