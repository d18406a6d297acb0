"""netbend animate: latent paths, per-frame bends, deterministic partial/resumed renders, video files."""
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from click.testing import CliRunner
from PIL import Image

from netbend.bending import bend, resolve_plan
from netbend.cli import main
from netbend.frames import Clip, render_clip, resolve_frame
from netbend.generate import render
from netbend.latent_path import LatentPath, frame_noise
from netbend.latents import from_seeds
from netbend.models import load_model
from netbend.plan import Plan
from netbend.video import even, write_gif, write_mp4
from stylegan2_helpers import tiny_model_file

MOVING = {"transforms": [
    {"layer": 2, "transform": "rotate", "params": {"angle": {"lfo": None, "cycles": 1, "range": [-40, 40]}}},
    {"layer": 1, "transform": "ablate", "features": "random", "feature-param": 0.3, "redraw": 2},
    {"layer": 3, "transform": "scalar-multiply", "params": [-1], "features": "random",
     "feature-param": {"keyframes": [[0, 0], [1, 0.8]]}, "redraw": "perlin"}]}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_model_file(tmp_path_factory.mktemp("model"), seed=1, channels={4: 32, 8: 16, 16: 8},
                           style_dim=32, n_mlp=2)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def frames_of(folder: Path) -> list[np.ndarray]:
    return [np.asarray(Image.open(p)) for p in sorted(folder.glob("frame*.png"))]


def test_latent_path_ends_loop_and_interpolations():
    keys = np.random.RandomState(0).randn(3, 8)
    for interp in ("slerp", "lerp", "cubic"):
        open_path = LatentPath("z", keys, interp, False, 9)
        np.testing.assert_allclose(open_path.at(np.array([0, 4, 8])).numpy(), keys, rtol=1e-6, atol=1e-6)
        looped = LatentPath("z", keys, interp, True, 12)
        k0, k1, u = looped.position(np.array([12]))
        assert (k0[0], k1[0], u[0]) == (0, 1, 0.0)  # frame N is frame 0 again: no seam
        np.testing.assert_allclose(looped.at(np.array([0, 4, 8])).numpy(), keys, rtol=1e-6, atol=1e-6)
    still = LatentPath("w", keys[:1], "lerp", False, 5).at(np.arange(5)).numpy()
    assert np.all(still == keys[:1].astype(np.float32))
    mid = LatentPath("z", keys, "slerp", False, 3).at(np.array([0.5])).numpy()[0]
    a, b = keys[0], keys[1]
    assert np.linalg.norm(mid) > np.linalg.norm((a + b) / 2)  # on the arc, not the chord
    wplus = LatentPath("w", np.random.RandomState(1).randn(2, 4, 8), "cubic", True, 6).at(np.arange(6))
    assert wplus.shape == (6, 4, 8)


def test_frame_noise_depends_on_the_frame_alone():
    path = LatentPath("z", np.zeros((2, 4)), "lerp", False, 10)
    whole = frame_noise("random", path, np.arange(10), [4, 8], seed=3)
    one = frame_noise("random", path, np.array([7]), [4, 8], seed=3)
    assert all(torch.equal(w[7:8], o) for w, o in zip(whole, one))
    ends = frame_noise("interp", path, np.array([0, 9]), [4], seed=3)[0]
    keys = frame_noise("interp", LatentPath("z", np.zeros((2, 4)), "lerp", False, 2), np.array([0, 1]), [4], 3)[0]
    torch.testing.assert_close(ends, keys)
    assert frame_noise("const", path, np.arange(3), [4], 0) == "const"


def test_partial_and_single_frame_renders_equal_the_whole_clip_bit_for_bit(tiny):
    model = load_model(tiny)
    z = model.latents_from_seeds([0, 7, 3]).numpy()
    clip = Clip(LatentPath("z", z, "slerp", True, 13), fps=6, plan=Plan.from_dict(MOVING), noise="random",
                truncation=0.8)
    whole = torch.cat([im for _, im in render_clip(model, clip, range(13), batch_size=4)])
    part = torch.cat([im for _, im in render_clip(model, clip, range(5, 11), batch_size=4)])
    single = torch.cat([im for _, im in render_clip(model, clip, [9], batch_size=4)])
    assert torch.equal(whole[5:11], part) and torch.equal(whole[9:10], single)
    distinct = []
    for f in range(13):
        b = resolve_frame(clip, model, f).bends
        distinct += [] if b in distinct else [b]
    assert len(distinct) > 4  # the bends differ from frame to frame
    # a frame of a batch with mixed bends = that frame rendered alone with its own bends
    frame = 6
    r = resolve_frame(clip, model, frame)
    w = model.mean_w + 0.8 * (model.mapping(clip.path.at(np.array([frame]))) - model.mean_w)
    from netbend.latent_path import frame_noise as fn
    with bend(model.module, r):
        alone = model.module(w=w, noise=fn("random", clip.path, np.array([frame]),
                                           model.module.noise_resolutions(), 0))
    torch.testing.assert_close(whole[frame:frame + 1], alone, rtol=1e-4, atol=1e-4)


def test_a_static_clip_equals_the_generate_path_exactly(tiny):
    model = load_model(tiny)
    plan = Plan.from_dict({"transforms": [{"layer": 2, "transform": "scalar-multiply", "params": [-1],
                                           "features": "random", "feature-param": 0.5}]})
    latents = from_seeds(model, [4] * 8)
    ref = next(render(model, latents, [resolve_plan(plan, model, seed=0)], batch_size=8)).images
    clip = Clip(LatentPath("z", latents.values.numpy()[:1], "slerp", False, 8), plan=plan)
    _, images = next(render_clip(model, clip, range(8), batch_size=8))
    assert torch.equal(images, ref)


def test_cli_png_folder_resume_and_frames_range_agree_with_a_whole_render(tmp_path, tiny):
    plan = tmp_path / "p.yaml"
    plan.write_text(yaml.safe_dump(MOVING))
    common = ["animate", "--model", tiny, "--config", plan, "--seeds", "0,7", "--frames", 10, "--fps", 5,
              "--noise", "random", "--batch-size", 4]
    whole = tmp_path / "whole"
    assert run(*common, "--out", f"{whole}/").exit_code == 0
    run_yaml = yaml.safe_load((whole / "run.yaml").read_text())
    assert run_yaml["frames"] == 10 and run_yaml["latents"] == {"seeds": [0, 7]}
    assert run_yaml["source_plan"]["transforms"][0]["params"]["angle"]["cycles"] == 1
    parts = tmp_path / "parts"
    res = run(*common, "--out", f"{parts}/", "--frames-range", "6:9")
    assert res.exit_code == 0 and len(frames_of(parts)) == 3
    (parts / "frame000007.png").unlink()  # as if killed while writing it
    res = run(*common, "--out", f"{parts}/", "--resume")
    assert res.exit_code == 0, res.output
    a, b = frames_of(whole), frames_of(parts)
    assert len(a) == len(b) == 10 and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not list(parts.glob(".*.tmp*"))  # no temporary files left
    res = run(*common[:-2], "--batch-size", 2, "--out", f"{parts}/", "--resume")
    assert res.exit_code == 2 and "different settings ('batch_size' differs)" in res.output
    res = run(*common, "--out", f"{parts}/")
    assert res.exit_code == 2 and "--resume" in res.output and "--overwrite" in res.output
    assert run(*common, "--out", f"{parts}/", "--overwrite").exit_code == 0


def test_cli_mp4_and_gif(tmp_path, tiny):
    import imageio_ffmpeg

    out = tmp_path / "clip.mp4"
    res = run("animate", "--model", tiny, "--seeds", "0,1", "--loop", "--frames", 7, "--out", out)
    assert res.exit_code == 0, res.output
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    assert meta["size"] == (16, 16) and len(list(reader)) == 7
    assert (tmp_path / "clip.mp4.run.yaml").is_file() and not (tmp_path / "clip.mp4.frames").exists()
    res = run("animate", "--model", tiny, "--seeds", "0,1", "--loop", "--frames", 7, "--out", out)
    assert res.exit_code == 2 and "exists; pass --overwrite" in res.output
    gif = tmp_path / "clip.gif"
    assert run("animate", "--model", tiny, "--seeds", "2,3", "--frames", 4, "--out", gif, "--keep-frames").exit_code == 0
    with Image.open(gif) as im:
        assert im.n_frames == 4 and im.size == (16, 16)
    assert len(frames_of(tmp_path / "clip.gif.frames")) == 4


def test_write_mp4_handles_odd_and_large_sizes(tmp_path):
    import imageio_ffmpeg

    rng = np.random.RandomState(0)
    for h, w, n in ((63, 65, 3), (1024, 1024, 2)):
        frames = [rng.randint(0, 255, (h, w, 3), dtype=np.uint8) for _ in range(n)]
        path = tmp_path / f"v{h}.mp4"
        assert write_mp4(path, frames, fps=12) == n
        reader = imageio_ffmpeg.read_frames(str(path))
        assert next(reader)["size"] == (w + w % 2, h + h % 2) and len(list(reader)) == n
    assert even(np.zeros((3, 5, 3), np.uint8)).shape == (4, 6, 3)
    assert write_gif(tmp_path / "g.gif", [np.zeros((5, 7, 3), np.uint8)] * 2, fps=10) == 2


@pytest.mark.parametrize("args, words", [
    (["--out", "x.webm"], "unsupported output extension '.webm'"),
    (["--frames", "0"], "needs at least one"),
    (["--duration", "0.01"], "needs at least one"),
    (["--frames", "5", "--frames-range", "3:9"], "--frames-range 3:9: must lie within 0:5"),
    (["--truncation", "{lfo: 1, rnage: 2}"], "--truncation.rnage: unknown key"),
    (["--seeds", "0", "--w", "x.npy"], "give only one of"),
])
def test_cli_bad_input_is_one_line_and_writes_nothing(tmp_path, tiny, args, words):
    res = run("animate", "--model", tiny, *([] if "--seeds" in args else ["--seeds", "0"]), "--out",
              tmp_path / "o.mp4", *args) if "--out" not in args else run("animate", "--model", tiny, *args)
    assert res.exit_code == 2 and words in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o.mp4").exists() and not (tmp_path / "o.mp4.frames").exists()


def test_cli_bad_curve_in_plan_and_dry_run(tmp_path, tiny):
    plan = tmp_path / "p.yaml"
    plan.write_text(yaml.safe_dump({"transforms": [{"layer": 1, "transform": "rotate",
                                                    "params": {"angle": {"keyframes": [[2, 0], [1, 5]]}}}]}))
    res = run("animate", "--model", tiny, "--config", plan, "--out", tmp_path / "a/")
    assert res.exit_code == 2
    assert f"{plan}: transforms[0].params.angle: keyframes[1]: keyframes out of order" in res.output
    good = tmp_path / "g.yaml"
    good.write_text(yaml.safe_dump(MOVING))
    res = run("animate", "--model", tiny, "--config", good, "--out", tmp_path / "b/", "--dry-run")
    assert res.exit_code == 0 and "frame 0 plan" in res.output and not (tmp_path / "b").exists()
    res = run("generate", "--model", tiny, "--config", good, "--out", tmp_path / "c")
    assert res.exit_code == 2 and "use `netbend animate`" in res.output


def test_shipped_artwork_examples_validate():
    from netbend.plan import load_plan

    root = Path(__file__).parent.parent / "examples"
    for name in ("disembodied_gaze", "fragments_of_self", "teratome"):
        plan = load_plan(root / f"{name}.yaml")
        assert plan.transforms


def test_cli_video_from_ranges_is_assembled_when_every_frame_is_there(tmp_path, tiny):
    import imageio_ffmpeg

    out = tmp_path / "v.mp4"
    base = ["animate", "--model", tiny, "--seeds", "0,1", "--frames", 6, "--batch-size", 4, "--out", out]
    res = run(*base, "--frames-range", "0:3")
    assert res.exit_code == 0 and "3 frame(s) of 6 still missing" in res.output and not out.exists()
    assert len(frames_of(tmp_path / "v.mp4.frames")) == 3
    res = run(*base, "--frames-range", "3:6")
    assert res.exit_code == 0 and out.exists() and not (tmp_path / "v.mp4.frames").exists()
    reader = imageio_ffmpeg.read_frames(str(out))
    next(reader)
    assert len(list(reader)) == 6


def test_cli_w_plus_keyframes_cubic_and_interp_noise(tmp_path, tiny):
    model = load_model(tiny)
    w = np.random.RandomState(0).randn(3, model.num_ws, model.w_dim).astype(np.float32)
    np.save(tmp_path / "w.npy", w)
    out = tmp_path / "f"
    res = run("animate", "--model", tiny, "--w", tmp_path / "w.npy", "--interp", "cubic", "--loop",
              "--frames", 6, "--noise", "interp", "--out", f"{out}/")
    assert res.exit_code == 0, res.output
    meta = yaml.safe_load((out / "run.yaml").read_text())
    assert meta["latents"]["kind"] == "w" and meta["interp"] == "cubic" and meta["noise"] == "interp"
    frames = frames_of(out)
    with torch.no_grad():  # frame 0 of a looped path is keyframe 0, rendered with keyframe 0's noise
        noise = frame_noise("interp", LatentPath("w", w, "cubic", True, 6), np.array([0]),
                            model.module.noise_resolutions(), 0)
        ref = model.module(w=torch.from_numpy(w[:1]), noise=noise)
    from netbend.media import to_uint8
    diff = np.abs(frames[0].astype(int) - to_uint8(ref)[0].astype(int))
    assert diff.max() <= 1  # rendered in a batch of 6 vs alone: float rounding may move a level
    assert len(frames) == 6 and not np.array_equal(frames[0], frames[1])


def test_per_frame_bends_on_a_1d_layer():
    from collections import OrderedDict

    from netbend.curves import Clock
    from netbend.frames import bend_frames, resolve_at
    from netbend.layers import ModuleModel

    net = torch.nn.Sequential(OrderedDict(conv=torch.nn.Conv1d(2, 4, 3, padding=1), act=torch.nn.ReLU()))
    model = ModuleModel(net, lambda: (torch.zeros(1, 2, 8),))
    plan = Plan.from_dict({"transforms": [{"layer": "conv", "transform": "scalar-multiply",
                                           "params": [{"keyframes": [[0, 1], [1, 3]]}]}]})
    resolved = [resolve_at(plan, model, t=t, frame=i, clock=Clock(1.0)) for i, t in enumerate([0, 0.5, 1])]
    assert [r.bends[0].layout for r in resolved] == ["NCL"] * 3
    x = torch.randn(3, 2, 8)
    with torch.no_grad():
        plain = net.conv(x)
        with bend_frames(net, resolved):
            out = net.conv(x)
    torch.testing.assert_close(out, plain * torch.tensor([1.0, 2.0, 3.0])[:, None, None])
