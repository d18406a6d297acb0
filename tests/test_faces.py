"""The face renderer, its labels, the z -> parameter map, quality metrics, training and the shipped model."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from netbend.errors import NetbendError
from netbend.faces import (LABELS, N_PARAMS, latents_for_seeds, params_for_seeds, params_from_latent,
                           render_face, render_faces)
from netbend.faces.params import INDEX
from netbend.faces.quality import colour_classes, psnr

SEEDS = list(range(24))


@pytest.fixture(scope="module")
def faces():
    params = params_for_seeds(SEEDS)
    images, labels = render_faces(params, size=64)
    return params, images, labels


def test_render_shapes_and_determinism(faces):
    params, images, labels = faces
    assert images.shape == (len(SEEDS), 64, 64, 3) and images.dtype == np.uint8
    assert labels.shape == (len(SEEDS), 64, 64) and labels.dtype == np.uint8
    again, again_labels = render_faces(seeds=SEEDS[:3], size=64)
    np.testing.assert_array_equal(again, images[:3])
    np.testing.assert_array_equal(again_labels, labels[:3])
    assert labels.max() < len(LABELS)


def test_faces_vary(faces):
    params, images, _ = faces
    # each unit parameter spreads over (0, 1) (uniform: std 0.29)
    assert params.std(axis=0).min() > 0.12
    styles = {int(u * 6) for u in params[:, INDEX['hair_style']]}
    assert len(styles) >= 4
    flat = images.reshape(len(images), -1).astype(float)
    diffs = [np.abs(flat[i] - flat[j]).mean() for i in range(8) for j in range(i + 1, 8)]
    assert min(diffs) > 10.0  # every pair of faces differs by > 10 grey levels on average


def test_parts_present_and_in_place(faces):
    params, _, labels = faces
    eyes, nose, mouth, brows = (LABELS.index(k) for k in ("eyes", "nose", "mouth", "eyebrows"))
    for u, lab in zip(params, labels):
        ys, xs = np.nonzero(lab == eyes)
        head_ys, head_xs = np.nonzero(np.isin(lab, [LABELS.index("skin"), nose, mouth, eyes, brows]))
        assert len(ys) > 4 and len(np.nonzero(lab == nose)[0]) > 2 and len(np.nonzero(lab == mouth)[0]) > 2
        assert len(np.nonzero(lab == brows)[0]) > 0
        # eyes sit inside the face's extent; brows above eyes above nose above mouth
        assert head_xs.min() < xs.min() and xs.max() < head_xs.max()
        centre = {k: np.nonzero(lab == k)[0].mean() for k in (brows, eyes, nose, mouth)}
        assert centre[brows] < centre[eyes] < centre[nose] < centre[mouth]
        has_glasses = (lab == LABELS.index("glasses")).any()
        assert has_glasses == (u[INDEX['glasses']] > 0.7)


def test_params_from_latent_normalises_like_stylegan2():
    z = torch.randn(5, N_PARAMS, generator=torch.Generator().manual_seed(3))
    u = params_from_latent(z)
    zn = z.double() / z.double().square().mean(1, keepdim=True).sqrt()
    expected = 0.5 * (1 + torch.erf(zn / np.sqrt(2)))
    np.testing.assert_allclose(u, expected.numpy(), atol=1e-7)
    np.testing.assert_allclose(params_from_latent(3.0 * z), u, atol=1e-7)  # only z's direction counts
    with pytest.raises(NetbendError):
        params_from_latent(torch.zeros(2, N_PARAMS + 1))
    # the wrapper's seed convention
    np.testing.assert_allclose(latents_for_seeds([7])[0].numpy(),
                               np.random.RandomState(7).randn(N_PARAMS).astype(np.float32))


def test_render_face_rejects_wrong_length():
    with pytest.raises(NetbendError):
        render_face(np.full(N_PARAMS - 1, 0.5))


def test_psnr_and_colour_classes_hand_computed():
    a = np.zeros((1, 4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0, 0, 0] = 255  # MSE = 255^2 / 48
    np.testing.assert_allclose(psnr(a, b), [10 * np.log10(48.0)])
    palette = [(np.array([1.0, 0, 0]), 6), (np.array([0, 0, 1.0]), 3), (np.array([0, 0, 0.1]), 2)]
    img = np.array([[[250, 10, 10], [0, 0, 200]], [[0, 0, 30], [0, 0, 0]]], np.uint8)
    index, part = colour_classes(img, palette)
    np.testing.assert_array_equal(index, [[0, 1], [2, 2]])
    np.testing.assert_array_equal(part, [[6, 3], [2, 2]])


def test_renderer_palette_classifies_its_own_parts():
    # at 128 px most eye pixels are flat colours (at 64 px half are anti-aliased mixtures)
    image, labels, palette = render_face(params_for_seeds([5])[0], 128, palette=True)
    _, part = colour_classes(image, palette)
    for name in ("eyes", "nose", "mouth"):
        where = labels == LABELS.index(name)
        assert (part[where] == LABELS.index(name)).mean() > 0.5, name


def test_cli_render_writes_grid_and_masks(tmp_path):
    from netbend.cli import main

    res = CliRunner().invoke(main, ["faces", "render", "--seeds", "0-3", "--size", "32", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    labels = np.load(tmp_path / "labels.npy")
    assert labels.shape == (4, 32, 32)
    for name in ("faces.png", "masks.png", "params.npy"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "faces.json").read_text())["labels"][3] == "eyes"


def test_train_checkpoints_resumes_and_exports(tmp_path):
    from netbend.faces.train import TrainConfig, train
    from netbend.models import load_model

    tiny = {"size": 64, "style_dim": 16, "n_mlp": 1, "lr_mlp": 1.0, "z_dim": N_PARAMS,
            "channels": {4: 8, 8: 8, 16: 8, 32: 4, 64: 4}}
    cfg = TrainConfig(out=str(tmp_path), faces=16, batch=4, steps=3, minutes=5, workers=1, threads=1, model=tiny)
    train(cfg, log=lambda m: None)
    blob = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert blob["step"] == 3
    path = train(TrainConfig(**{**cfg.__dict__, "steps": 5}), resume=True, log=lambda m: None)
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["step"] == 5
    model = load_model(path)
    assert model.mean_w_from_checkpoint and model.z_dim == N_PARAMS
    assert model.synthesize(z=model.latents_from_seeds([0])).shape == (1, 3, 64, 64)


def test_train_loss_choice_and_uncompilable_fallback(tmp_path, monkeypatch):
    """The loss is L1 (part weight --part-weight) before --l2-from, squared (--l2-part-weight) after;
    a failing torch.compile is reported and training goes on."""
    from netbend.faces import train as train_mod
    from netbend.faces.dataset import build_cache, load_cache
    from netbend.faces.train import TrainConfig, check_config, train

    tiny = {"size": 64, "style_dim": 16, "n_mlp": 1, "lr_mlp": 1.0, "z_dim": N_PARAMS,
            "channels": {4: 8, 8: 8, 16: 8, 32: 4, 64: 4}}
    cfg = TrainConfig(faces=16, batch=4, steps=1, workers=1, threads=1, model=tiny).resolved()
    state = train_mod._State(cfg)  # the initial weights and first batch a run with this config sees
    seeds, images, labels = load_cache(build_cache(tmp_path / "data", 16, 64, workers=1))
    zb, target, parts = train_mod._batch(state, cfg, latents_for_seeds(seeds), torch.from_numpy(images),
                                         torch.from_numpy(labels), 1.0)
    parts = parts - 1.0  # 1 on part pixels, 0 elsewhere
    with torch.no_grad():
        err = state.gen(zb, noise="none") - target
    expected = {"l1": float(((1 + 3 * parts) * err.abs()).mean()), "l2": float(((1 + 2 * parts) * err.square()).mean())}
    for loss, l2_from in (("l1", 1.0), ("l2", 0.0)):
        out = tmp_path / loss
        (out / "data").mkdir(parents=True)
        for chunk in (tmp_path / "data").iterdir():
            (out / "data" / chunk.name).symlink_to(chunk)
        train(TrainConfig(**{**cfg.__dict__, "out": str(out), "l2_from": l2_from, "part_weight": 3.0,
                             "l2_part_weight": 2.0}), log=lambda m: None)
        recorded = json.loads((out / "netbend-faces64.json").read_text())["final_loss"]  # step 1's loss
        assert recorded == pytest.approx(expected[loss], rel=1e-5), loss

    def broken_compile(*args, **kwargs):
        raise RuntimeError("no C++ compiler found")

    monkeypatch.setattr(train_mod.torch, "compile", broken_compile)
    messages = []
    path = train(TrainConfig(out=str(tmp_path / "c"), faces=16, batch=4, steps=2, workers=1, threads=1,
                             model=tiny, compile=True), log=messages.append)
    assert path.exists()
    assert any("torch.compile failed (RuntimeError: no C++ compiler found)" in m for m in messages)
    with pytest.raises(NetbendError, match="--l2-from"):
        check_config(TrainConfig(l2_from=-0.5))


def test_demo_rows_sweep_layers_and_unbent_row_matches(tmp_path):
    from netbend.faces.demo import Row, bend_rows, labelled_grid, sweep_rows
    from netbend.models import Generator, StyleGAN2Model
    from netbend.plan import Plan, load_plan

    torch.manual_seed(0)
    gen = Generator(16, style_dim=8, n_mlp=1, channels={4: 4, 8: 4, 16: 4}, z_dim=N_PARAMS)
    model = StyleGAN2Model(gen, name="tiny")
    rows = [Row("unbent", Plan())] + sweep_rows(load_plan("examples/fig2_rotate_layerwide.yaml"), [1, 3])
    assert [r.plan.transforms[0].layer for r in rows[1:]] == [1, 3]
    images = bend_rows(model, [0, 1], rows)
    plain = model.synthesize(z=model.latents_from_seeds([0, 1]), noise="const")
    np.testing.assert_array_equal(images[0], ((plain.clamp(-1, 1) + 1) * 127.5).round().byte()
                                  .permute(0, 2, 3, 1).numpy())
    assert not np.array_equal(images[0], images[1])  # rotating layer 1 changes the faces
    assert labelled_grid(images, ["a", "b", "c"], scale=2).shape[0] == 3 * (32 + 2) + 2
    with pytest.raises(NetbendError):
        sweep_rows(load_plan("examples/faces_translate_dilate.yaml"), [1])


def test_shipped_default_model_draws_the_renderer_faces():
    """The shipped model (load_model(None)) is close to the renderer on held-out latents.

    Measured on 256 held-out faces: 24.45 dB mean; these four seeds: 23.3, 23.6, 27.3, 26.3 dB.
    """
    from netbend.faces import faces_for_latents
    from netbend.faces.dataset import eval_seeds
    from netbend.faces.quality import model_images
    from netbend.models import load_model

    model = load_model(None)
    assert model.name == "netbend-faces64" and model.mean_w_from_checkpoint
    assert model.z_dim == N_PARAMS and model.resolution == 64
    z = model.latents_from_seeds(eval_seeds(4))
    scores = psnr(model_images(model, z), faces_for_latents(z)[0])
    assert scores.mean() > 24.0 and scores.min() > 22.5, scores
    # and it is the renderer it resembles: a different face for the same latent scores far lower
    other = faces_for_latents(model.latents_from_seeds([5, 6, 7, 8]))[0]
    assert psnr(model_images(model, z), other).mean() < scores.mean() - 3.0


def test_evaluate_reports_error_shares_and_scores_any_seed_range():
    from netbend.faces.quality import evaluate, format_report
    from netbend.models import Generator, StyleGAN2Model

    torch.manual_seed(0)
    model = StyleGAN2Model(Generator(16, style_dim=8, n_mlp=1, channels={4: 4, 8: 4, 16: 4}, z_dim=N_PARAMS),
                           name="tiny")
    result = evaluate(model, n=3, first_seed=5)
    assert result["seeds"] == "5-7" and result["resolution"] == 16
    shares = result["error_share"]
    assert list(shares) == list(LABELS)
    assert sum(r["error"] for r in shares.values()) == pytest.approx(1.0)
    assert sum(r["pixels"] for r in shares.values()) == pytest.approx(1.0)
    assert shares["background"]["pixels"] > shares["eyes"]["pixels"] > 0
    report = format_report(result)
    assert report.startswith("seeds 5-7 (3 faces, 16 px)") and "| hair |" in report
