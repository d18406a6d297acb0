"""How well and how fast `netbend project` projects images into a StyleGAN2 (CPU).

Parts (``--part``, repeatable):

* ``quality``: the built-in 64 px model. In-domain = images the model drew for held-out seeds
  (``netbend.faces.dataset.eval_seeds``); out-of-domain = the renderer's faces for the same
  held-out seeds (faces the model never saw). Mean PSNR / MS-SSIM of the written 8-bit projection
  against the target, with w+ and with w, and seconds per image (batch = all images at once).
* ``mix``: the same images under several loss mixes side by side (w+), to choose the default.
* ``photo``: a real photograph (``--photo``), centre-cropped, projected into the built-in model;
  its compare strip is written to ``--out``.
* ``speed``: optimisation steps per second, w+, batch 1: the built-in model (64 px) and randomly
  initialised FFHQ-shaped StyleGAN2s (channel multiplier 2, 512 channels max) at 64 and 256 px.
  No trained 256 px checkpoint exists here; random weights cost the same time per step.
* ``memory``: peak resident memory of a w+ batch-1 projection step on a random FFHQ-shaped 1024 px
  StyleGAN2 (measured in a fresh child process: peak RSS minus RSS after building the model).

    .venv/bin/python benchmarks/projection_quality.py --part quality --images 16 --steps 300
    .venv/bin/python benchmarks/projection_quality.py --part mix --images 8 --steps 300
    .venv/bin/python benchmarks/projection_quality.py --part photo --photo astronaut.png
    .venv/bin/python benchmarks/projection_quality.py --part speed --part memory
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from netbend.faces import faces_for_latents
from netbend.faces.dataset import eval_seeds
from netbend.media import save_png, to_uint8
from netbend.models import load_model
from netbend.models.stylegan2 import Generator
from netbend.models.wrapper import StyleGAN2Model
from netbend.projection import ProjectionConfig, project, read_target, render, to_tensor
from netbend.projection.outputs import compare_strip
from netbend.projection.run import image_scores

MIXES = ["l2=1", "l1=1", "msssim=1", "l2=1,msssim=0.1", "l2=1,msssim=1", "l1=1,msssim=0.2", "l1=1,msssim=0.5"]


def targets_for(model, n: int) -> dict[str, torch.Tensor]:
    """In-domain (the model's drawings) and out-of-domain (renderer faces) for held-out seeds."""
    z = model.latents_from_seeds(eval_seeds(n))
    drawn = to_tensor(list(to_uint8(model.synthesize(z=z))))  # the 8-bit image, as a file would hold
    rendered, _ = faces_for_latents(z.cpu(), size=model.resolution)
    return {"in-domain": drawn, "out-of-domain": to_tensor(list(rendered))}


def score(model, x: torch.Tensor, config: ProjectionConfig) -> dict:
    t0 = time.perf_counter()
    result = project(model, x, config)
    seconds = time.perf_counter() - t0
    psnr, ssim = image_scores(x, render(model, result.w, result.noises))
    return {"psnr": float(np.mean(psnr)), "psnr_min": float(np.min(psnr)), "msssim": float(np.mean(ssim)),
            "s_per_image": seconds / len(x), "n": len(x), "stopped": result.stopped}


def part_quality(args) -> list[dict]:
    model = load_model(None)
    rows = []
    print("| images | space | mean PSNR dB (min) | mean MS-SSIM | s / image |\n|---|---|---|---|---|")
    for label, x in targets_for(model, args.images).items():
        for space in args.spaces:
            r = score(model, x, ProjectionConfig(space=space, steps=args.steps, loss=_loss(args.loss)))
            rows.append({"part": "quality", "images": label, "space": space, "steps": args.steps, **r})
            print(f"| {label} ({r['n']}) | {space} | {r['psnr']:.2f} ({r['psnr_min']:.2f}) | {r['msssim']:.4f} "
                  f"| {r['s_per_image']:.2f} |", flush=True)
    return rows


def part_mix(args) -> list[dict]:
    from netbend.projection import parse_loss

    model = load_model(None)
    sets = targets_for(model, args.images)
    rows = []
    print("| loss | in-domain PSNR | in-domain MS-SSIM | out-of-domain PSNR | out-of-domain MS-SSIM |\n"
          "|---|---|---|---|---|")
    for mix in args.mixes or MIXES:
        cells = {label: score(model, x, ProjectionConfig(steps=args.steps, loss=parse_loss(mix)))
                 for label, x in sets.items()}
        rows.append({"part": "mix", "loss": mix, "steps": args.steps, **cells})
        print(f"| `{mix}` | " + " | ".join(f"{c['psnr']:.2f} | {c['msssim']:.4f}" for c in cells.values()) + " |",
              flush=True)
    return rows


def part_photo(args) -> list[dict]:
    model = load_model(None)
    target = read_target(args.photo, model.resolution)
    x = to_tensor([target.pixels])
    rows = []
    print("| photo | space | PSNR dB | MS-SSIM | s |\n|---|---|---|---|---|")
    for space in ("w+", "w"):
        config = ProjectionConfig(space=space, steps=args.steps, loss=_loss(args.loss))
        t0 = time.perf_counter()
        result = project(model, x, config)
        seconds = time.perf_counter() - t0
        image = render(model, result.w, result.noises)
        psnr, ssim = image_scores(x, image)
        rows.append({"part": "photo", "photo": str(args.photo), "space": space, "psnr": psnr[0],
                     "msssim": ssim[0], "seconds": seconds})
        print(f"| {Path(args.photo).name} | {space} | {psnr[0]:.2f} | {ssim[0]:.4f} | {seconds:.1f} |", flush=True)
        if args.out:
            name = f"projection_{Path(args.photo).stem}_{space.replace('+', 'plus')}.png"
            save_png(Path(args.out) / name, compare_strip(target.pixels, to_uint8(image)[0]))
    return rows


def random_model(size: int) -> StyleGAN2Model:
    """A randomly initialised FFHQ-shaped StyleGAN2 (rosinality config F) of ``size`` px."""
    torch.manual_seed(0)
    return StyleGAN2Model(Generator(size, style_dim=512, n_mlp=8, channel_multiplier=2), name=f"random{size}")


def steps_per_second(model, steps: int) -> float:
    x = torch.rand(1, 3, model.resolution, model.resolution) * 2 - 1
    project(model, x, ProjectionConfig(steps=1))  # warm-up
    t0 = time.perf_counter()
    project(model, x, ProjectionConfig(steps=steps))
    return steps / (time.perf_counter() - t0)


def part_speed(args) -> list[dict]:
    rows = []
    print("| model | px | steps/s (w+, batch 1) |\n|---|---|---|")
    for name, model, steps in [("built-in netbend-faces64", load_model(None), 20),
                               ("random FFHQ-shaped", random_model(64), 10),
                               ("random FFHQ-shaped", random_model(256), 3)]:
        sps = steps_per_second(model, steps)
        rows.append({"part": "speed", "model": name, "resolution": model.resolution, "steps_per_s": sps})
        print(f"| {name} | {model.resolution} | {sps:.2f} |", flush=True)
    return rows


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def memory_child(size: int) -> None:
    """In a fresh process: RSS after building the model, then peak RSS over two projection steps."""
    model = random_model(size)
    model.mean_w  # computed before the baseline
    base = _rss_mb()
    x = torch.rand(1, 3, size, size) * 2 - 1
    t0 = time.perf_counter()
    project(model, x, ProjectionConfig(steps=2))
    seconds = (time.perf_counter() - t0) / 2
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"model_mb": base, "peak_mb": peak, "projection_mb": peak - base, "s_per_step": seconds}))


def part_memory(args) -> list[dict]:
    out = subprocess.run([sys.executable, __file__, "--memory-child", "1024", "--threads", str(args.threads)],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    print("| px | RSS with the model MB | peak RSS MB | projection's share MB | s / step |\n|---|---|---|---|---|")
    print(f"| 1024 | {r['model_mb']:.0f} | {r['peak_mb']:.0f} | {r['projection_mb']:.0f} | {r['s_per_step']:.1f} |")
    return [{"part": "memory", "resolution": 1024, **r}]


def _loss(text: str | None) -> dict:
    from netbend.projection import DEFAULT_LOSS, parse_loss

    return parse_loss(text) if text else dict(DEFAULT_LOSS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", action="append", choices=["quality", "mix", "photo", "speed", "memory"])
    ap.add_argument("--images", type=int, default=16, help="Images per set (quality, mix).")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--spaces", nargs="+", default=["w+", "w"], choices=["w+", "w"], help="For 'quality'.")
    ap.add_argument("--loss", default=None, help="Loss mix for quality/photo (default: the library's).")
    ap.add_argument("--mixes", nargs="*", help=f"Loss mixes for 'mix' (default: {' '.join(MIXES)}).")
    ap.add_argument("--photo", type=Path, help="A photograph (PNG/JPEG) for 'photo'.")
    ap.add_argument("--out", type=Path, default=Path("docs"), help="Where 'photo' writes its compare strips.")
    ap.add_argument("--threads", type=int, default=1, help="Torch threads (1 is fastest on a shared machine).")
    ap.add_argument("--json", type=Path, help="Also write the rows as JSON.")
    ap.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.memory_child:
        return memory_child(args.memory_child)
    rows = []
    for part in args.part or ["quality"]:
        rows += globals()[f"part_{part}"](args)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
