"""The pure-PyTorch StyleGAN2 generator, its wrapper, the native format and the default model."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from netbend.errors import NetbendError
from netbend.models import Generator, StyleGAN2Model, load_model, save_native
from netbend.models.stylegan2 import choose_modconv, default_channels


def tiny_model(size: int = 16, seed: int = 0) -> StyleGAN2Model:
    """Random tiny generator with non-zero biases and noise strengths (so every term matters)."""
    torch.manual_seed(seed)
    gen = Generator(size, style_dim=16, n_mlp=2, channel_max=8)
    with torch.no_grad():
        for name, p in gen.named_parameters():
            if "bias" in name or "noise.weight" in name:
                p.add_(torch.randn_like(p) * 0.3)
    return StyleGAN2Model(gen, name="tiny")


def rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a - b).abs().max() / b.abs().max())


@pytest.fixture(scope="module")
def model() -> StyleGAN2Model:
    return tiny_model()


def test_layer_numbering_follows_the_paper():
    assert len(Generator(256, style_dim=8, n_mlp=1, channel_max=2).paper_layers) == 12
    gen = Generator(1024, style_dim=8, n_mlp=1, channel_max=2)
    assert gen.paper_layers == {i: f"convs.{i - 1}" for i in range(1, 17)}
    assert gen.convs[0].conv.upsample and gen.noises.noise_1.shape[-1] == 8  # layer 1 is 8x8
    assert default_channels(1024) == {4: 512, 8: 512, 16: 512, 32: 512, 64: 512, 128: 256,
                                      256: 128, 512: 64, 1024: 32}


def test_modconv_forms_agree(model):
    z = model.latents_from_seeds([3, 4, 5])
    outs = {}
    for form in ("grouped", "scaled"):
        model.module.set_modconv(form)
        outs[form] = model.synthesize(z=z)
    model.module.set_modconv("auto")
    assert rel_diff(outs["scaled"], outs["grouped"]) < 1e-5
    assert choose_modconv(torch.device("cpu"), 1) == "grouped"
    assert choose_modconv(torch.device("cpu"), 8) == "scaled"
    with pytest.raises(ValueError):
        model.module.set_modconv("fast")


def test_batch_of_four_equals_four_batches_of_one(model):
    z = model.latents_from_seeds([0, 1, 2, 3])
    batch = model.synthesize(z=z, truncation=0.7)
    singles = torch.cat([model.synthesize(z=z[i:i + 1], truncation=0.7) for i in range(4)])
    assert rel_diff(batch, singles) < 1e-5


def test_seeds_follow_numpy_convention(model):
    z = model.latents_from_seeds([7, 11])
    assert torch.equal(z[1], torch.from_numpy(np.random.RandomState(11).randn(16)).float())
    assert torch.equal(model.latents_from_seeds([11])[0], z[1])


def test_hooks_see_activations_and_replacements_feed_next_conv_and_torgb(model):
    gen, z = model.module, model.latents_from_seeds([1, 2])
    plain = model.synthesize(z=z)
    seen = {}
    handles = [gen.convs[1].register_forward_hook(lambda m, i, o: seen.__setitem__("conv", o)),
               gen.convs[1].activate.register_forward_hook(lambda m, i, o: seen.__setitem__("act", o))]
    model.synthesize(z=z)
    for h in handles:
        h.remove()
    assert seen["conv"].shape == (2, 8, 8, 8)  # [N, C, H, W] of paper layer 2
    assert seen["conv"] is seen["act"]  # the StyledConv output is its activation's output
    for idx in (len(gen.convs) - 1, 0):  # last layer feeds only ToRGB; layer 1 feeds the next conv
        h = gen.convs[idx].register_forward_hook(lambda m, i, o: o * 0)
        bent = model.synthesize(z=z)
        h.remove()
        assert rel_diff(bent, plain) > 1e-2
    h = gen.convs[0].register_forward_hook(lambda m, i, o: o.clone())
    assert torch.equal(model.synthesize(z=z), plain)
    h.remove()


def test_truncation(model):
    z = model.latents_from_seeds([1, 2, 3])
    assert torch.equal(model.synthesize(z=z, truncation=1.0), model.synthesize(w=model.mapping(z)))
    at_mean = model.synthesize(z=z, truncation=0.0)
    mean_image = model.synthesize(w=model.mean_w)
    for row in at_mean:
        assert torch.allclose(row, mean_image[0], atol=1e-6)
    w = model.mapping(z)
    half = model.synthesize(w=model.mean_w + 0.5 * (w - model.mean_w))
    assert torch.allclose(model.synthesize(z=z, truncation=0.5), half, atol=1e-6)


def test_mean_w_is_seeded_mean_of_mapped_samples():
    a, b = tiny_model(seed=1), tiny_model(seed=1)
    assert torch.equal(a.mean_w, b.mean_w) and a.mean_w.shape == (1, 16)
    gen = torch.Generator().manual_seed(0)
    manual = a.module.mapping(torch.randn(4096, 16, generator=gen)).mean(0, keepdim=True)
    assert torch.allclose(a.mean_w, manual, atol=1e-6)


def test_w_plus_equals_broadcast_w(model):
    w = model.mapping(model.latents_from_seeds([4]))
    w_plus = w[:, None, :].repeat(1, model.num_ws, 1)
    assert torch.equal(model.synthesize(w=w), model.synthesize(w=w_plus))
    with pytest.raises(NetbendError, match="expects"):
        model.synthesize(w=torch.zeros(1, 3, 16))


def test_noise_modes(model):
    z = model.latents_from_seeds([5])
    const = model.synthesize(z=z, noise="const")
    assert torch.equal(const, model.synthesize(z=z, noise="const"))
    explicit = model.module(w=model.mapping(z), noise=[getattr(model.module.noises, f"noise_{i}")
                                                      for i in range(model.module.num_layers)])
    assert torch.equal(const, explicit)
    r1, r2 = model.synthesize(z=z, noise="random", noise_seed=1), model.synthesize(z=z, noise="random", noise_seed=2)
    assert torch.equal(r1, model.synthesize(z=z, noise="random", noise_seed=1))
    assert rel_diff(r1, r2) > 1e-3 and rel_diff(r1, const) > 1e-3
    none = model.synthesize(z=z, noise="none")
    zeroed = tiny_model()
    with torch.no_grad():
        for m in zeroed.module.modules():
            if m.__class__.__name__ == "NoiseInjection":
                m.weight.zero_()
    assert torch.equal(none, zeroed.synthesize(z=z, noise="const"))
    with pytest.raises(NetbendError, match="noise mode"):
        model.synthesize(z=z, noise="loud")


def test_generator_is_trainable():
    gen = Generator(16, style_dim=16, n_mlp=2, channel_max=8)
    gen(torch.randn(2, 16)).square().mean().backward()
    for name in ("style.1.weight", "conv1.conv.weight", "convs.0.conv.weight", "to_rgbs.1.bias", "input.input"):
        assert gen.get_parameter(name).grad is not None and gen.get_parameter(name).grad.abs().sum() > 0


def test_native_round_trip(model, tmp_path):
    path = save_native(model, tmp_path / "tiny.safetensors")
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.safetensors"]  # no temporary left behind
    back = load_model(path)
    z = model.latents_from_seeds([0, 9])
    assert back.model_hash == model.model_hash and back.name == "tiny"
    assert torch.equal(back.synthesize(z=z, truncation=0.5), model.synthesize(z=z, truncation=0.5))
    folder = tmp_path / "folder"
    folder.mkdir()
    save_native(model, folder / "model.safetensors")
    assert load_model(folder).model_hash == model.model_hash


def test_native_keeps_checkpoint_mean_w(model, tmp_path):
    mean = torch.randn(1, 16)
    withmean = StyleGAN2Model(model.module, name="m", mean_w=mean)
    back = load_model(save_native(withmean, tmp_path / "m.safetensors"))
    assert torch.equal(back.mean_w, mean) and back.mean_w_from_checkpoint


def test_default_model_is_seeded_and_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    a, b = load_model(), load_model(None)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert a.model_hash == b.model_hash and a.resolution == 64 and len(a.paper_layers) == 8
    img = a.dry_run()
    assert img.shape == (1, 3, 64, 64) and torch.isfinite(img).all()


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(NetbendError, match="not found: .*nope.pt"):
        load_model(tmp_path / "nope.pt")
    (tmp_path / "empty.pkl").write_bytes(b"")
    with pytest.raises(NetbendError, match="empty file"):
        load_model(tmp_path / "empty.pkl")
    (tmp_path / "notes.txt").write_text("hello, I am not a model\n")
    with pytest.raises(NetbendError, match="not a model checkpoint"):
        load_model(tmp_path / "notes.txt")
    with pytest.raises(NetbendError, match="no model.safetensors"):
        load_model(tmp_path)


def test_bad_native_files(model, tmp_path):
    from safetensors.torch import save_file

    data = save_native(model, tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(NetbendError, match="not a readable safetensors file") as err:
        load_model(tmp_path / "cut.safetensors")
    assert "\n" not in str(err.value)
    save_file({"x": torch.zeros(2)}, str(tmp_path / "plain.safetensors"))
    with pytest.raises(NetbendError, match="no 'netbend' metadata"):
        load_model(tmp_path / "plain.safetensors")
