"""`--ray local --workers N` against the single-process command, side by side in one run, plus
Ray's start-up cost, the per-chunk overhead, and a projection to 8 and 64 nodes.

Jobs (a randomly initialised StyleGAN2 with the FFHQ config-f channel table, ``--size`` px):

- ``generate``: ``netbend --threads T generate --seeds 0-(IMAGES-1)`` (default 64 images);
- ``animate``: ``netbend --threads T animate --seeds 0,7 --frames FRAMES --out DIR/`` (48 frames).

Each runs as a subprocess (start-up included on both sides), single process first, then with
``--ray local --workers N``; the outputs of the two are compared byte for byte. Then, in this
process: ``ray.init`` alone, actors up (each loading the model), and the per-chunk overhead
(K chunks whose work only returns a batch of uint8 images of the model's size, on one actor).
``--size-big 1024`` also times one batch of a random 1024 px model here, to scale the projection.

The projection (printed, labelled as such; the video part needs ``--size-big``) assumes unshared
nodes like this machine, each running ``--workers`` workers at the measured CPU seconds per big
frame, every result coming back to one driver over a 1 Gbit/s link and written there as PNG (its
measured cost), the link, the driver and the rendering overlapping; for clustering, the README's
projected per-layer CPU seconds of the paper preset: layers are the unit of work, so the wall time
cannot drop below the largest layer.

    python benchmarks/ray_scale.py [--images 64] [--frames 48] [--size 256] [--workers 2] [--threads 1]
"""
from __future__ import annotations

import argparse
import filecmp
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch

from netbend.errors import NetbendError, run_script

CLI = [sys.executable, "-c", "from netbend.cli import main; main()"]
LINK_BYTES_S = 125e6  # 1 Gbit/s, an assumption of the projection
PAPER_LAYER_CPU_S = [3434, 3410, 8957, 7433, 21641, 21821, 48078, 48975]  # README, projected
VIDEO_FRAMES = 5400  # 3 minutes at 30 fps


def timed(cmd: list[str]) -> float:
    t = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode:
        raise NetbendError(f"{' '.join(cmd[3:])} failed: {res.stderr.strip().splitlines()[-1]}")
    return time.perf_counter() - t


def same_files(a: Path, b: Path) -> bool:
    names = sorted(p.name for p in a.iterdir() if p.name != ".netbend-run.json")
    other = sorted(p.name for p in b.iterdir() if p.name != ".netbend-run.json")
    return names == other and all(filecmp.cmp(a / n, b / n, shallow=False) for n in names)


def side_by_side(name: str, args: list[str], threads: int, workers: int, tmp: Path) -> dict:
    one, dist = tmp / f"{name}_one", tmp / f"{name}_ray"
    t_one = timed([*CLI, "--threads", str(threads), *args, "--out", f"{one}/"])
    t_ray = timed([*CLI, "--threads", str(threads), *args, "--out", f"{dist}/", "--ray", "local",
                   "--workers", str(workers)])
    return {"job": name, "single_s": t_one, "ray_s": t_ray, "identical": same_files(one, dist)}


def _no_work(shape: tuple[int, ...], _model, _chunk) -> np.ndarray:
    return np.zeros(shape, dtype=np.uint8)


def ray_costs(model_path: Path, threads: int, workers: int, size: int, chunks: int) -> dict:
    import ray

    from netbend.distributed import RayOptions, map_chunks, no_state, session
    from netbend.models import load_model

    opts = RayOptions("local", workers, threads)
    t0 = time.perf_counter()
    with session(opts):
        t1 = time.perf_counter()
        map_chunks(opts, partial(load_model, str(model_path), "cpu"), partial(_no_work, (1,)), list(range(workers)),
                   lambda c, r: None)
        t2 = time.perf_counter()
        one = RayOptions("local", 1, threads)
        work = partial(_no_work, (8, size, size, 3))  # a batch of 8 images as uint8
        t3 = time.perf_counter()
        map_chunks(one, no_state, work, [0], lambda c, r: None)
        t4 = time.perf_counter()
        map_chunks(one, no_state, work, list(range(chunks + 1)), lambda c, r: None)
        t5 = time.perf_counter()
    assert not ray.is_initialized()
    return {"init_s": t1 - t0, "actors_up_s": t2 - t1, "per_chunk_s": ((t5 - t4) - (t4 - t3)) / chunks}


def big_frame_s(size: int, threads: int) -> float:
    """CPU seconds per frame of a random ``size`` px StyleGAN2 (config-f channels), batch of 2."""
    from netbend.models.stylegan2 import Generator
    from netbend.models.wrapper import StyleGAN2Model

    torch.manual_seed(0)
    model = StyleGAN2Model(Generator(size, channel_multiplier=2), name=f"random-{size}")
    z = model.latents_from_seeds([0, 1])
    torch.set_num_threads(threads)
    with torch.no_grad():
        t = time.process_time()  # CPU seconds: on a shared machine closer to the frame's cost than wall time
        model.synthesize(z=z)
        return (time.process_time() - t) / 2


def png_write_s(size: int) -> float:
    """CPU seconds for the driver to write one PNG of ``size`` px (random noise, 5 repeats)."""
    from netbend.media import save_png

    img = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.process_time()
        for i in range(5):
            save_png(Path(tmp) / f"{i}.png", img, {"netbend": "{}"})
        return (time.process_time() - t) / 5


def project_video(big: int, small: int, threads: int, workers: int, costs: dict) -> None:
    """The PROJECTION of docs/ray.md: nodes like this machine, unshared, ``workers`` workers each."""
    t_big, t_small, png = big_frame_s(big, threads), big_frame_s(small, threads), png_write_s(big)
    print(f"one frame: {t_big:.2f} CPU s at {big} px, {t_small:.3f} CPU s at {small} px; driver PNG write "
          f"{png:.3f} CPU s at {big} px")
    rate = workers / t_big  # frames/s per node
    link = VIDEO_FRAMES * big * big * 3 / LINK_BYTES_S
    driver = VIDEO_FRAMES * png + VIDEO_FRAMES / 8 * costs["per_chunk_s"]
    start = costs["init_s"] + costs["actors_up_s"]
    print(f"PROJECTION (not measured): {VIDEO_FRAMES}-frame {big} px video, nodes like this one unshared "
          f"({workers} workers, {rate:.2f} frames/s), results as arrays through one driver at 1 Gbit/s:")
    for nodes in (1, 8, 64):
        render = VIDEO_FRAMES / (rate * nodes)
        print(f"  {nodes:>2} node(s): about {(max(render, link, driver) + start) / 60:.0f} min (rendering "
              f"{render / 60:.1f} min, link {link / 60:.1f} min, driver PNGs+chunks {driver / 60:.1f} min)")


def lpt(jobs: list[float], nodes: int) -> float:
    """Longest-processing-time-first schedule of independent jobs on ``nodes``: the makespan."""
    loads = [0.0] * nodes
    for j in sorted(jobs, reverse=True):
        loads[loads.index(min(loads))] += j
    return max(loads)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=64)
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process / worker")
    ap.add_argument("--chunks", type=int, default=30, help="chunks for the per-chunk overhead")
    ap.add_argument("--size-big", type=int, default=0, help="also time a random model of this size (e.g. 1024)")
    args = ap.parse_args()
    from netbend.distributed import require_ray
    from netbend.models import save_native
    from netbend.models.stylegan2 import Generator
    from netbend.models.wrapper import StyleGAN2Model

    require_ray()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        torch.manual_seed(0)
        path = tmp / f"random{args.size}.safetensors"
        save_native(StyleGAN2Model(Generator(args.size, channel_multiplier=2), name=f"random-{args.size}"), path)
        rows = [side_by_side("generate", ["generate", "--model", str(path), "--seeds", f"0-{args.images - 1}"],
                             args.threads, args.workers, tmp),
                side_by_side("animate", ["animate", "--model", str(path), "--seeds", "0,7", "--frames",
                                         str(args.frames)], args.threads, args.workers, tmp)]
        costs = ray_costs(path, args.threads, args.workers, args.size, args.chunks)
    counts = {"generate": args.images, "animate": args.frames}
    print(f"{args.size} px random StyleGAN2, --threads {args.threads}, --ray local --workers {args.workers}")
    print("| job | items | single process s | Ray s | Ray / single | outputs identical |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['job']} | {counts[r['job']]} | {r['single_s']:.1f} | {r['ray_s']:.1f} | "
              f"{r['ray_s'] / r['single_s']:.2f} | {'yes' if r['identical'] else 'NO'} |")
    print(f"Ray start-up: ray.init {costs['init_s']:.1f} s; {args.workers} actors up with the model "
          f"{costs['actors_up_s']:.1f} s; per-chunk overhead {costs['per_chunk_s'] * 1000:.0f} ms "
          f"(a chunk returning 8 uint8 images of {args.size} px, one actor)")
    if args.size_big:
        project_video(args.size_big, args.size, args.threads, args.workers, costs)
    total = sum(PAPER_LAYER_CPU_S)
    print(f"PROJECTION (not measured): paper clustering preset, {total / 3600:.1f} CPU-hours of layer "
          "trainings (README), one layer per worker:")
    for nodes in (1, 8, 64):
        print(f"  {nodes:>2} node(s): {lpt(PAPER_LAYER_CPU_S, nodes) / 3600:.1f} h of training (largest layer "
              f"{max(PAPER_LAYER_CPU_S) / 3600:.1f} h bounds it)")


if __name__ == "__main__":
    run_script(main)
