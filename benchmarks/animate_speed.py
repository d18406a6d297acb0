"""Frames per second of `netbend animate` against the `netbend generate` path, side by side in one run.

For each model (the built-in 64 px face model; a randomly initialised 256 px StyleGAN2 with a
reduced channel table, 128 channels up to 32 px then halving per octave down to 16 at 256 px, so
that a run fits a shared 2-core machine) and the same N frames:

- ``generate``: the library's generate path (``netbend.generate.render`` over N latents, a static
  plan, PNG files written as `netbend generate` writes them);
- ``animate render``: ``render_to_folder`` on a latent path, PNG frames, no video;
- ``animate mp4``: the same plus H.264 encoding of the folder (what `netbend animate` does).

``bent``: generate gets a static plan (rotate 20 deg at layer 2, 25 % ablated at layer 1, 25 %
multiplied by 2 at layer 3); animate gets the same plan with the angle on an LFO and both random
selections re-drawn every frame, so every frame of a batch has its own bends. The overhead is
``animate mp4 bent / generate bent - 1`` (goal: <= 10 %). Median of interleaved repeats. Ratios are
given by wall time and by CPU time (this process plus its ffmpeg child); on a machine shared with
other jobs the CPU-time ratio is the steadier one.

    python benchmarks/animate_speed.py [--sizes 64 256] [--frames 96 24] [--repeats 3] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch

from netbend.animate import assemble, render_to_folder
from netbend.bending import resolve_plan
from netbend.frames import Clip
from netbend.generate import render
from netbend.latent_path import LatentPath
from netbend.latents import from_seeds
from netbend.media import save_png, to_uint8
from netbend.models import load_model
from netbend.models.stylegan2 import Generator
from netbend.models.wrapper import StyleGAN2Model
from netbend.plan import Plan

STATIC = [{"layer": 2, "transform": "rotate", "params": [20]},
          {"layer": 1, "transform": "ablate", "features": "random", "feature-param": 0.25},
          {"layer": 3, "transform": "scalar-multiply", "params": [2], "features": "random",
           "feature-param": 0.25}]
MOVING = [{"layer": 2, "transform": "rotate", "params": [{"lfo": 0.5, "range": [-20, 20]}]},
          {"layer": 1, "transform": "ablate", "features": "random", "feature-param": 0.25, "redraw": 1},
          {"layer": 3, "transform": "scalar-multiply", "params": [2], "features": "random",
           "feature-param": 0.25, "redraw": 1}]


def run_generate(model, plan: Plan, frames: int, batch: int, out: Path) -> None:
    latents = from_seeds(model, list(range(frames)))
    resolved = [resolve_plan(plan, model, seed=0)]
    for b in render(model, latents, resolved, batch_size=batch):
        for label, png in zip(b.latents.labels, to_uint8(b.images)):
            save_png(out / f"{label}.png", png, {"netbend": json.dumps({"latent": label})})


def run_animate(model, plan: Plan, frames: int, batch: int, out: Path, encode: bool) -> None:
    keys = model.latents_from_seeds([0, 1, 2, 3]).cpu().numpy()
    clip = Clip(LatentPath("z", keys, "slerp", True, frames), fps=24, plan=plan)
    render_to_folder(model, clip, out, range(frames), batch_size=batch, meta={"run": "bench"})
    if encode:
        assemble(out, out.with_suffix(".mp4"), "mp4", frames, 24)


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (ffmpeg)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, nargs="+", default=[96, 24], help="frames per size")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, cpu; batch {args.batch}; "
          f"median of {args.repeats} interleaved repeats")
    print("| model | frames | unbent: generate fps | animate render fps | animate mp4 fps | bent: generate fps "
          "| animate render fps | animate mp4 fps | mp4 / generate, unbent (wall / CPU) | mp4 / generate, bent (wall / CPU) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for size, frames in zip(args.sizes, args.frames + args.frames[-1:] * len(args.sizes)):
        if size == 64:
            model, name = load_model(None), "built-in 64 px"
        else:
            torch.manual_seed(0)
            channels = {2 ** i: min(128, 128 * 32 // 2 ** i) for i in range(2, size.bit_length())}
            model = StyleGAN2Model(Generator(size, channels=channels), name=f"random-{size}")
            name = f"random {size} px"
        plans = {"unbent": (Plan(), Plan()), "bent": (Plan.from_dict({"transforms": STATIC}),
                                                      Plan.from_dict({"transforms": MOVING}))}
        jobs = {}
        for kind, (static, moving) in plans.items():
            jobs[(kind, "generate")] = lambda d, p=static: run_generate(model, p, frames, args.batch, d)
            jobs[(kind, "render")] = lambda d, p=moving: run_animate(model, p, frames, args.batch, d, False)
            jobs[(kind, "mp4")] = lambda d, p=moving: run_animate(model, p, frames, args.batch, d, True)
        times = {k: [] for k in jobs}
        cpu = {k: [] for k in jobs}
        for rep in range(args.repeats + 1):  # the first round warms up
            for key, job in jobs.items():
                tmp = Path(tempfile.mkdtemp(prefix="nb-anim-"))
                t0, c0 = time.perf_counter(), cpu_seconds()
                job(tmp / "frames")
                dt, dc = time.perf_counter() - t0, cpu_seconds() - c0
                shutil.rmtree(tmp)
                if rep:
                    times[key].append(dt)
                    cpu[key].append(dc)
        fps = {k: frames / statistics.median(v) for k, v in times.items()}
        ratio = {k: f"{statistics.median(times[(k, 'mp4')]) / statistics.median(times[(k, 'generate')]):.3f} / "
                    f"{statistics.median(cpu[(k, 'mp4')]) / statistics.median(cpu[(k, 'generate')]):.3f}"
                 for k in plans}
        print(f"| {name} | {frames} | {fps[('unbent', 'generate')]:.1f} | {fps[('unbent', 'render')]:.1f} "
              f"| {fps[('unbent', 'mp4')]:.1f} | {fps[('bent', 'generate')]:.1f} | {fps[('bent', 'render')]:.1f} "
              f"| {fps[('bent', 'mp4')]:.1f} | {ratio['unbent']} | {ratio['bent']} |", flush=True)


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
