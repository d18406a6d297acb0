"""Projection: the distances, the schedules, the optimiser, and `netbend project` end to end."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image
from scipy import ndimage

from netbend.cli import main
from netbend.errors import NetbendError
from netbend.models import load_model, save_native
from netbend.models.stylegan2 import Generator
from netbend.models.wrapper import StyleGAN2Model
from netbend.projection import ProjectionConfig, parse_loss, project, read_target, render, to_tensor
from netbend.projection import losses
from netbend.projection.outputs import unique_names
from netbend.projection.schedule import latent_noise_at, lr_at


def tiny_generator(n_mlp: int = 2, seed: int = 1) -> Generator:
    """A 16 px generator whose noise inputs matter (random init leaves their strengths at zero)."""
    torch.manual_seed(seed)
    gen = Generator(16, style_dim=32, n_mlp=n_mlp, channels={4: 32, 8: 16, 16: 8})
    with torch.no_grad():
        for m in gen.modules():
            if m.__class__.__name__ == "NoiseInjection":
                m.weight.fill_(0.3)
    return gen


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    save_native(StyleGAN2Model(tiny_generator(), name="tiny"), path)
    return path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# -- distances ---------------------------------------------------------------------------------
def _ssim_reference(x: np.ndarray, y: np.ndarray) -> float:
    """Single-scale SSIM with scipy's Gaussian filter (sigma 1.5, 11 taps), valid region only."""
    def f(a):
        return np.stack([ndimage.gaussian_filter(c, 1.5, truncate=5 / 1.5)[5:-5, 5:-5] for c in a])
    mx, my = f(x), f(y)
    sxx, syy, sxy = f(x * x) - mx ** 2, f(y * y) - my ** 2, f(x * y) - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    return float((((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (sxx + syy + c2))).mean())


def test_msssim_single_scale_matches_a_scipy_ssim():
    rng = np.random.default_rng(0)
    x = rng.random((3, 20, 20))
    y = np.clip(x + 0.1 * rng.standard_normal(x.shape), 0, 1)
    ours = losses.msssim(torch.tensor(x * 2 - 1)[None], torch.tensor(y * 2 - 1)[None], scales=1)
    assert ours.item() == pytest.approx(_ssim_reference(x, y), abs=1e-6)


def test_msssim_scales_fit_the_resolution_and_identity_is_one():
    assert [losses.msssim_scales(r) for r in (16, 32, 64, 256, 1024)] == [1, 2, 3, 5, 5]
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    assert torch.allclose(losses.msssim(x, x), torch.ones(2))
    worse = losses.msssim(x, x + 0.3 * torch.randn_like(x))
    better = losses.msssim(x, x + 0.05 * torch.randn_like(x))
    assert (worse < better).all() and (better < 1).all()


def test_pixel_distances_and_psnr_by_hand():
    x, y = torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.5)
    assert losses.l1(x, y).item() == 0.5 and losses.l2(x, y).item() == 0.25
    assert losses.psnr(x, y).item() == pytest.approx(10 * np.log10(1 / 0.0625))  # 0.25 of a [0, 1] range


def test_noise_penalty_by_hand_and_normalisation():
    board = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2 * 2.0 - 1  # checkerboard +-1
    assert losses.noise_penalty([board[None, None]]).item() == pytest.approx(2.0)  # (-1)^2 + (-1)^2
    const = torch.ones(1, 1, 16, 16)
    assert losses.noise_penalty([const]).item() == pytest.approx(4.0)  # 16x16 and 8x8 levels, 2 each
    maps = [torch.randn(3, 1, 8, 8) * 5 + 2]
    losses.normalise_noise_(maps)
    assert torch.allclose(maps[0].mean((1, 2, 3)), torch.zeros(3), atol=1e-6)
    assert torch.allclose(maps[0].square().mean((1, 2, 3)), torch.ones(3), atol=1e-5)


def test_schedules_follow_nvlabs_projector():
    assert lr_at(0.0, 0.1, 0.05, 0.25) == 0.0
    assert lr_at(0.025, 0.1, 0.05, 0.25) == pytest.approx(0.05)
    assert lr_at(0.5, 0.1, 0.05, 0.25) == pytest.approx(0.1)
    assert lr_at(0.875, 0.1, 0.05, 0.25) == pytest.approx(0.05)
    assert latent_noise_at(0.0, 0.05, 0.75) == 0.05
    assert latent_noise_at(0.375, 0.05, 0.75) == pytest.approx(0.0125)
    assert latent_noise_at(0.8, 0.05, 0.75) == 0.0


def test_config_and_loss_text_are_validated():
    assert parse_loss("l2=1, msssim=0.5,l1") == {"l2": 1.0, "msssim": 0.5, "l1": 1.0}
    with pytest.raises(NetbendError, match="unknown term 'ssim'"):
        parse_loss("ssim=1")
    with pytest.raises(NetbendError, match="not a number"):
        parse_loss("l2=x")
    with pytest.raises(NetbendError, match="at least one must be > 0"):
        ProjectionConfig(loss={"l2": 0})
    with pytest.raises(NetbendError, match="--space"):
        ProjectionConfig(space="z")


def test_unique_names():
    assert unique_names(["a", "a", "b", "a_2"]) == ["a", "a_2", "b", "a_2_2"]


# -- the optimiser -----------------------------------------------------------------------------
def _target(model, seed=5):
    gen = torch.Generator().manual_seed(seed)
    noises = [torch.randn(1, 1, r, r, generator=gen) for r in model.module.noise_resolutions()]
    return model.synthesize(z=model.latents_from_seeds([seed]), noise=noises)


@pytest.mark.parametrize("space", ["w", "w+"])
def test_projection_recovers_an_image_the_default_model_drew(space):
    model = load_model(None)
    target = model.synthesize(z=model.latents_from_seeds([2_000_000]))
    start = render(model, model.mean_w, list(model.module.make_noise("const", 1, "cpu")))
    result = project(model, target, ProjectionConfig(space=space, steps=80))
    images = render(model, result.w, result.noises)
    assert losses.psnr(start, target).item() < 20 and losses.psnr(images, target).item() > 28  # measured 33.4 / 36.2
    assert result.w.shape == ((1, 128) if space == "w" else (1, model.num_ws, 128))
    assert [tuple(n.shape) for n in result.noises] == [(1, 1, r, r) for r in model.module.noise_resolutions()]
    assert result.steps_run == 80 and result.stopped is None and result.best_step[0] > 60
    assert all(p.requires_grad for p in model.module.parameters())  # restored afterwards


def test_batched_images_are_independent_problems():
    model = StyleGAN2Model(tiny_generator(), name="tiny")
    a, b = _target(model, 5), _target(model, 6)
    config = ProjectionConfig(steps=30)
    together = project(model, torch.cat([b, a]), config, indices=[4, 7])
    alone = project(model, a, config, indices=[7])
    assert torch.allclose(together.w[1], alone.w[0], atol=1e-4)
    assert all(torch.allclose(t[1], o[0], atol=1e-4) for t, o in zip(together.noises, alone.noises))
    other = project(model, a, config, indices=[8])
    assert not torch.allclose(other.w[0], alone.w[0], atol=1e-4)


def test_noise_maps_are_optimised_where_they_matter():
    model = StyleGAN2Model(tiny_generator(), name="tiny")
    target = _target(model)
    with_noise = project(model, target, ProjectionConfig(steps=60))
    without = project(model, target, ProjectionConfig(steps=60, optimise_noise=False))
    assert with_noise.best_loss.item() < without.best_loss.item()
    for n in with_noise.noises:  # normalised every step
        assert n.mean().abs() < 1e-4 and (n.square().mean() - 1).abs() < 1e-3


def test_nan_loss_stops_and_keeps_the_best_so_far():
    model = StyleGAN2Model(tiny_generator(), name="tiny")
    target = _target(model)
    bad = target.clone()
    bad[0, 0, 0, 0] = float("nan")
    result = project(model, bad, ProjectionConfig(steps=20))
    assert result.steps_run == 0 and "NaN" in result.stopped and result.best_step == [-1]
    assert torch.equal(result.w[0, 0], model.mean_w[0])

    def poison(report):
        if report.step == 6:
            with torch.no_grad():
                model.module.input.input.fill_(float("nan"))

    result = project(model, target, ProjectionConfig(steps=20), callback=poison)
    assert result.steps_run == 7 and "step 7" in result.stopped
    assert 0 <= result.best_step[0] <= 6 and torch.isfinite(result.w).all()


def test_projection_refuses_models_without_mapping_and_wrong_sizes():
    flat = StyleGAN2Model(tiny_generator(n_mlp=0), name="flat")
    with pytest.raises(NetbendError, match="no mapping network"):
        project(flat, torch.zeros(1, 3, 16, 16))
    with pytest.raises(NetbendError, match=r"draws \[N, 3, 16, 16\]"):
        project(StyleGAN2Model(tiny_generator(), name="tiny"), torch.zeros(1, 3, 32, 32))
    with pytest.raises(NetbendError, match="needs a VGG16 file"):
        project(StyleGAN2Model(tiny_generator(), name="tiny"), torch.zeros(1, 3, 16, 16),
                ProjectionConfig(loss={"lpips": 1}))


# -- reading images ----------------------------------------------------------------------------
def test_images_of_any_mode_become_rgb_squares(tmp_path):
    rgb = np.zeros((30, 50, 3), np.uint8)
    rgb[:, 10:40] = 200  # the centred 30x30 square is all 200
    Image.fromarray(rgb).save(tmp_path / "wide.png")
    t = read_target(tmp_path / "wide.png", 16)
    assert t.pixels.shape == (16, 16, 3) and (t.pixels == 200).all() and t.original_size == (50, 30)
    squashed = read_target(tmp_path / "wide.png", 16, crop=False)
    assert squashed.pixels[:, 0].max() < 100  # the black borders are kept
    grey16 = np.full((16, 16), 65535 // 2, np.uint16)
    Image.fromarray(grey16).save(tmp_path / "grey16.png")
    t = read_target(tmp_path / "grey16.png", 16)
    assert (t.pixels == 127).all() and any("8 bits" in n for n in t.notes) and any("grey" in n for n in t.notes)
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 0  # fully transparent red -> white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    t = read_target(tmp_path / "alpha.png", 16)
    assert (t.pixels == 255).all() and any("white" in n for n in t.notes)
    Image.fromarray(np.full((16, 16, 4), 40, np.uint8), "CMYK").save(tmp_path / "cmyk.jpg")
    assert read_target(tmp_path / "cmyk.jpg", 16).pixels.shape == (16, 16, 3)
    Image.fromarray(rgb).convert("P").save(tmp_path / "palette.png")
    assert read_target(tmp_path / "palette.png", 16).pixels.shape == (16, 16, 3)


@pytest.mark.parametrize("name,content,message", [
    ("notes.png", b"not an image", "not a readable PNG or JPEG image"),
    ("missing.png", None, "image file not found"),
    ("anim.gif", "gif", "a GIF image; netbend project reads PNG and JPEG"),
])
def test_unreadable_images_are_one_line_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if content == "gif":
        Image.new("RGB", (8, 8)).save(path)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(NetbendError, match=message):
        read_target(path, 16)


# -- the command line --------------------------------------------------------------------------
def test_project_then_generate_rerenders_the_same_pixels_and_bends_them(tmp_path, tiny_path):
    model = load_model(tiny_path)
    pixels = ((_target(model)[0].permute(1, 2, 0) + 1) * 127.5).clamp(0, 255).round().byte().numpy()
    Image.fromarray(pixels).resize((40, 40)).save(tmp_path / "me.jpg")
    Image.fromarray(pixels).save(tmp_path / "me.png")
    res = run("project", tmp_path / "me.jpg", tmp_path / "me.png", "--model", tiny_path, "--steps", 30,
              "--batch-size", 1, "--out", tmp_path / "p")
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "p" / "project.json").read_text())
    assert [e["name"] for e in summary["images"]] == ["me", "me_2"]
    assert summary["config"]["space"] == "w+" and summary["images"][1]["steps_run"] == 30
    w = np.load(tmp_path / "p" / "me_2_w.npy")
    assert w.shape == (1, model.num_ws, 32) and w.dtype == np.float32
    compare = np.asarray(Image.open(tmp_path / "p" / "me_2_compare.png"))
    assert compare.shape == (16, 16 * 3 + 4, 3) and (compare[:, :16] == pixels).all()

    def generate(*extra):
        out = tmp_path / f"g{len(extra)}"
        res = run("generate", "--model", tiny_path, "--w", tmp_path / "p" / "me_2_w.npy", "--noise-file",
                  tmp_path / "p" / "me_2_noise.safetensors", "--out", out, *extra)
        assert res.exit_code == 0, res.output
        return np.asarray(Image.open(out / "w0000_var00.png"))

    projected = np.asarray(Image.open(tmp_path / "p" / "me_2_projected.png"))
    assert np.array_equal(generate(), projected)
    plan = tmp_path / "plan.yaml"
    plan.write_text("transforms:\n- {layer: 1, transform: invert, features: all}\n")
    assert not np.array_equal(generate("--config", plan), projected)
    # the noise maps matter: the stored constant noise draws another image
    res = run("generate", "--model", tiny_path, "--w", tmp_path / "p" / "me_2_w.npy", "--out", tmp_path / "c")
    assert not np.array_equal(np.asarray(Image.open(tmp_path / "c" / "w0000_var00.png")), projected)


def test_project_space_w_writes_one_vector(tmp_path, tiny_path):
    Image.new("RGB", (16, 16), (90, 30, 200)).save(tmp_path / "x.png")
    res = run("project", tmp_path / "x.png", "--model", tiny_path, "--space", "w", "--steps", 3,
              "--out", tmp_path / "p")
    assert res.exit_code == 0, res.output
    assert np.load(tmp_path / "p" / "x_w.npy").shape == (1, 32)


def test_dry_run_writes_nothing(tmp_path, tiny_path):
    Image.new("L", (20, 16)).save(tmp_path / "g.png")
    res = run("project", tmp_path / "g.png", "--model", tiny_path, "--dry-run", "--out", tmp_path / "p")
    assert res.exit_code == 0 and "would project 1 image" in res.output and "grey image" in res.output
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("case,message", [
    ("text", "not a readable PNG or JPEG image"),
    ("flat", "has no mapping network"),
    ("audio", "is not a StyleGAN2 image model"),
    ("lpips", "--loss lpips needs --perceptual"),
    ("disc-default", "the built-in model has no discriminator"),
    ("noise-shapes", "'noise_0' has shape [1, 1, 5, 5]"),
    ("noise-not-file", "not a .safetensors noise file"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, tiny_path, case, message):
    Image.new("RGB", (16, 16)).save(tmp_path / "ok.png")
    (tmp_path / "text.png").write_text("hello")
    args = ["project", tmp_path / "ok.png", "--model", tiny_path, "--steps", 2, "--out", tmp_path / "o"]
    if case == "text":
        args[1] = tmp_path / "text.png"
    elif case == "flat":
        save_native(StyleGAN2Model(tiny_generator(n_mlp=0), name="flat"), tmp_path / "flat.safetensors")
        args[3] = tmp_path / "flat.safetensors"
    elif case == "audio":
        from netbend.audio.model import DEFAULT_MODEL

        args[3] = DEFAULT_MODEL
    elif case == "lpips":
        args += ["--loss", "l2=1,lpips=1"]
    elif case == "disc-default":
        args = ["project", tmp_path / "ok.png", "--loss", "disc=1", "--out", tmp_path / "o"]
    elif case.startswith("noise"):
        from netbend.noise_maps import save_noise_file

        noise = tmp_path / "n.safetensors"
        if case == "noise-shapes":
            save_noise_file(noise, [torch.zeros(1, 1, 5, 5) for _ in range(5)])
        else:
            noise.write_text("{}")
        np.save(tmp_path / "w.npy", np.zeros((1, 32), np.float32))
        args = ["generate", "--model", tiny_path, "--w", tmp_path / "w.npy", "--noise-file", noise,
                "--out", tmp_path / "o"]
    res = run(*args)
    assert res.exit_code == 2, res.output
    assert message in res.output and len(res.output.strip().splitlines()) == 1, res.output
    assert not (tmp_path / "o").exists()


# -- feature-matching losses: the checkpoint's discriminator and a user's VGG16 ----------------
def _random_trunk(seed=0):
    from netbend.projection.discriminator import DiscriminatorTrunk

    torch.manual_seed(seed)
    trunk = DiscriminatorTrunk([16, 32, 32])  # 16 px: fromrgb, blocks 16->8 and 8->4
    with torch.no_grad():
        for name, p in trunk.named_parameters():
            if name.endswith("bias"):
                p.normal_()
    return trunk


def _training_checkpoint(path, trunk):
    import argparse

    gen = tiny_generator()
    d = {k: v for k, v in trunk.state_dict().items()}
    d |= {"final_conv.0.weight": torch.randn(32, 33, 3, 3), "final_linear.0.weight": torch.randn(32, 512)}
    torch.save({"g": gen.state_dict(), "g_ema": gen.state_dict(), "d": d, "latent_avg": torch.zeros(32),
                "args": argparse.Namespace(arch="stylegan2", size=16)}, path)
    return path


def _to_nvlabs(trunk) -> dict:
    sd, out = trunk.state_dict(), {}
    out["b16.fromrgb.weight"], out["b16.fromrgb.bias"] = sd["convs.0.0.weight"], sd["convs.0.1.bias"]
    for j, r in ((1, 16), (2, 8)):
        out |= {f"b{r}.conv0.weight": sd[f"convs.{j}.conv1.0.weight"], f"b{r}.conv0.bias": sd[f"convs.{j}.conv1.1.bias"],
                f"b{r}.conv1.weight": sd[f"convs.{j}.conv2.1.weight"], f"b{r}.conv1.bias": sd[f"convs.{j}.conv2.2.bias"],
                f"b{r}.skip.weight": sd[f"convs.{j}.skip.1.weight"],
                f"b{r}.resample_filter": torch.tensor([[1., 3, 3, 1]]).T @ torch.tensor([[1., 3, 3, 1]]) / 64}
    out["b4.out.weight"] = torch.randn(1, 32)
    return out


def test_discriminator_trunk_downsamples_like_a_blur_then_strided_conv():
    trunk = _random_trunk()
    feats = trunk.activations(torch.randn(2, 3, 16, 16))
    assert [tuple(f.shape) for f in feats] == [(2, 16, 16, 16), (2, 32, 8, 8), (2, 32, 4, 4)]
    skip = trunk.convs[1].skip  # blur [1,3,3,1]/8 per axis with pad (1, 1), then 1x1 stride 2
    x = torch.randn(1, 16, 16, 16)
    k = torch.tensor([1., 3, 3, 1]) / 8
    blurred = F_conv_sep(torch.nn.functional.pad(x, (1, 1, 1, 1)), k)
    by_hand = torch.nn.functional.conv2d(blurred[:, :, ::2, ::2], skip[1].weight / 4)  # 1/sqrt(16 * 1 * 1)
    assert torch.allclose(skip(x), by_hand, atol=1e-5)


def F_conv_sep(x, k):
    c = x.shape[1]
    x = torch.nn.functional.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return torch.nn.functional.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def test_discriminator_from_rosinality_and_nvlabs_files(tmp_path):
    from stylegan2_helpers import build_records, write_snapshot

    from netbend.projection.discriminator import load_discriminator

    trunk = _random_trunk()
    x = torch.randn(2, 3, 16, 16)
    want = trunk.activations(x)
    ros = load_discriminator(_training_checkpoint(tmp_path / "train.pt", trunk))
    assert all(torch.equal(a, b) for a, b in zip(ros.activations(x), want))
    nv = _to_nvlabs(trunk)
    names = {p: "Module" for p in ["", "b16", "b8", "b4", "b16.fromrgb", "b4.out"]}
    names |= {f"b{r}.{n}": "Conv2dLayer" for r in (16, 8) for n in ("conv0", "conv1", "skip")}
    D = build_records(nv, {"synthesis_kwargs": {}}, class_names=names)
    pkl = write_snapshot(tmp_path / "snap.pkl", {"G": None, "D": D})
    from_pkl = load_discriminator(pkl)
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(from_pkl.activations(x), want))
    with pytest.raises(NetbendError, match="has no discriminator"):
        load_discriminator(Path(__file__).parent / "fixtures" / "stylegan2" / "rosinality_tiny.pt")


def test_project_with_the_discriminator_loss(tmp_path):
    ckpt = _training_checkpoint(tmp_path / "train.pt", _random_trunk())
    Image.new("RGB", (16, 16), (200, 40, 40)).save(tmp_path / "red.png")
    res = run("project", tmp_path / "red.png", "--model", ckpt, "--loss", "l2=1,disc=0.1", "--steps", 5,
              "--out", tmp_path / "p")
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "p" / "project.json").read_text())["config"]["loss"] == {"l2": 1.0, "disc": 0.1}


def _vgg_file(path, bad_key=None):
    from safetensors.torch import save_file

    from netbend.projection.vgg import VGG16Features

    torch.manual_seed(0)
    sd = {k: v for k, v in VGG16Features().state_dict().items() if k.startswith("features.")}
    if bad_key:
        sd[bad_key] = torch.zeros(3, 3)
    save_file(sd, str(path))
    return path


def test_vgg16_layout_and_lpips_style_distance(tmp_path):
    from netbend.projection.vgg import load_vgg16

    net = load_vgg16(_vgg_file(tmp_path / "vgg.safetensors"))
    assert [name for name, _ in net.features.named_children()][-1] == "30"  # torchvision's indices
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    feats = net.activations(x)
    assert [f.shape[1] for f in feats] == [64, 128, 256, 512, 512]
    assert torch.allclose(feats[2].square().sum(1), torch.ones(2, 8, 8), atol=1e-4)  # unit length per position
    assert torch.equal(net.distance(x, feats), torch.zeros(2))
    y = x.clone()
    y[1] = -y[1]
    assert net.distance(y, feats)[0] == 0 and net.distance(y, feats)[1] > 0


def test_project_with_perceptual_file_and_bad_files(tmp_path, tiny_path):
    Image.new("RGB", (16, 16), (20, 140, 40)).save(tmp_path / "g.png")
    good = _vgg_file(tmp_path / "vgg.safetensors")
    res = run("project", tmp_path / "g.png", "--model", tiny_path, "--perceptual", good, "--steps", 3,
              "--out", tmp_path / "p")
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "p" / "project.json").read_text())["config"]["loss"]["lpips"] == 1.0
    bad = _vgg_file(tmp_path / "bad.safetensors", bad_key="features.5.weight")
    res = run("project", tmp_path / "g.png", "--model", tiny_path, "--perceptual", bad, "--out", tmp_path / "q")
    assert res.exit_code == 2 and "'features.5.weight' has shape [3, 3], VGG16 needs [128, 64, 3, 3]" in res.output
    (tmp_path / "junk.safetensors").write_bytes(b"junk")
    res = run("project", tmp_path / "g.png", "--model", tiny_path, "--perceptual", tmp_path / "junk.safetensors",
              "--out", tmp_path / "q")
    assert res.exit_code == 2 and "not a .safetensors file" in res.output
    assert not (tmp_path / "q").exists()


def test_discriminator_matches_nvlabs_reference_blocks(tmp_path):
    """Fixture made by NVlabs' own code (tests/fixtures/stylegan2/make_reference_d.py)."""
    from safetensors.torch import load_file
    from stylegan2_helpers import FIXTURES

    from netbend.projection.discriminator import nvlabs_to_rosinality, trunk_from_state

    t = load_file(str(FIXTURES / "nvlabs_d_tiny.safetensors"))
    nv = {k[2:]: v for k, v in t.items() if k.startswith("D.")}
    trunk = trunk_from_state(nvlabs_to_rosinality(nv, Path("ref")), Path("ref"))
    feats = trunk.activations(t["input"])
    for got, key in zip(feats[1:], ("ref.b16", "ref.b8")):
        scale = t[key].abs().max()
        assert (got - t[key]).abs().max() / scale < 1e-5


def test_video_of_the_optimisation_and_the_output_folder_policy(tmp_path, tiny_path):
    import imageio_ffmpeg

    Image.new("RGB", (16, 16), (90, 30, 200)).save(tmp_path / "x.png")
    args = ["project", tmp_path / "x.png", "--model", tiny_path, "--steps", 10, "--video", "--out", tmp_path / "p"]
    res = run(*args)
    assert res.exit_code == 0, res.output
    video = tmp_path / "p" / "x_optimisation.mp4"
    reader = imageio_ffmpeg.read_frames(str(video))
    meta = next(reader)
    assert meta["size"] == (34, 16) and sum(1 for _ in reader) == 10  # target | synthesis, one frame a step
    res = run(*args)
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert run(*args, "--overwrite").exit_code == 0
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    res = run("project", tmp_path / "x.png", "--model", tiny_path, "--steps", 2, "--out", tmp_path / "mine",
              "--overwrite")
    assert res.exit_code == 2 and (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_generate_noise_file_with_one_map_per_latent(tmp_path, tiny_path):
    from netbend.noise_maps import save_noise_file

    model = load_model(tiny_path)
    gen = torch.Generator().manual_seed(0)
    maps = [torch.randn(2, 1, r, r, generator=gen) for r in model.module.noise_resolutions()]
    w = model.mapping(model.latents_from_seeds([3, 4]))
    np.save(tmp_path / "w.npy", w.numpy())
    save_noise_file(tmp_path / "n2.safetensors", maps)
    save_noise_file(tmp_path / "n3.safetensors", [torch.cat([m, m[:1]]) for m in maps])
    res = run("generate", "--model", tiny_path, "--w", tmp_path / "w.npy", "--noise-file", tmp_path / "n2.safetensors",
              "--batch-size", 1, "--out", tmp_path / "g")
    assert res.exit_code == 0, res.output
    for i in range(2):
        want = (model.synthesize(w=w[i:i + 1], noise=[m[i:i + 1] for m in maps]) + 1) * 127.5
        got = np.asarray(Image.open(tmp_path / "g" / f"w{i:04d}_var00.png")).astype(np.float32)
        assert np.abs(got - want[0].permute(1, 2, 0).clamp(0, 255).numpy()).max() <= 0.5 + 1e-3
    res = run("generate", "--model", tiny_path, "--w", tmp_path / "w.npy", "--noise-file", tmp_path / "n3.safetensors",
              "--out", tmp_path / "h")
    assert res.exit_code == 2 and "holds maps for 3 latents; give 1 or one per latent (2)" in res.output


def test_shipped_example_projection_draws_the_example_face():
    """examples/images/face_{w.npy,noise.safetensors}: `netbend project examples/images/face.png`."""
    from netbend.noise_maps import load_noise_file

    examples = Path(__file__).resolve().parents[1] / "examples" / "images"
    model = load_model(None)
    w = torch.from_numpy(np.load(examples / "face_w.npy"))
    image = render(model, w, load_noise_file(examples / "face_noise.safetensors", model))
    target = to_tensor([read_target(examples / "face.png", 64).pixels])
    assert losses.psnr(image, target).item() > 25  # 27.35 dB when it was made


def test_animate_takes_the_projection_files(tmp_path, tiny_path):
    Image.new("RGB", (16, 16), (30, 160, 90)).save(tmp_path / "me.png")
    assert run("project", tmp_path / "me.png", "--model", tiny_path, "--steps", 5, "--out", tmp_path / "p").exit_code == 0
    res = run("animate", "--model", tiny_path, "--w", tmp_path / "p" / "me_w.npy", "--noise-file",
              tmp_path / "p" / "me_noise.safetensors", "--frames", 2, "--batch-size", 1, "--out", f"{tmp_path / 'a'}/")
    assert res.exit_code == 0, res.output
    frames = sorted((tmp_path / "a").glob("*.png"))
    projected = np.asarray(Image.open(tmp_path / "p" / "me_projected.png"))
    assert len(frames) == 2 and all(np.array_equal(np.asarray(Image.open(f)), projected) for f in frames)


@pytest.mark.parametrize("name,extra", [("sg3_t", []), ("ada_cond", ["--class", "1"])])
def test_stylegan3_and_conditional_models_project_and_rerender(tmp_path, name, extra):
    from nvlabs_fixtures import write_fixture_pickle

    pkl = write_fixture_pickle(name, tmp_path / f"{name}.pkl")
    model = load_model(pkl)
    size = model.resolution
    Image.new("RGB", (size, size), (200, 120, 40)).save(tmp_path / "x.png")
    res = run("project", tmp_path / "x.png", "--model", pkl, "--steps", 4, *extra, "--out", tmp_path / "p")
    assert res.exit_code == 0, res.output
    res = run("generate", "--model", pkl, "--w", tmp_path / "p" / "x_w.npy", "--noise-file",
              tmp_path / "p" / "x_noise.safetensors", *extra, "--out", tmp_path / "g")
    assert res.exit_code == 0, res.output
    assert np.array_equal(np.asarray(Image.open(tmp_path / "g" / "w0000_var00.png")),
                          np.asarray(Image.open(tmp_path / "p" / "x_projected.png")))
    if extra:
        res = run("project", tmp_path / "x.png", "--model", pkl, "--steps", 2, "--out", tmp_path / "q")
        assert res.exit_code == 2 and "give --class K" in res.output
