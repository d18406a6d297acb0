"""Bent / unbent generation time for StyleGAN2 on CPU, measured side by side in one run.

Plans: the paper's Figure 3 plan (25% erode r=2 at layer 1, 25% dilate r=2 at layer 2, 100%
binary-thresh 0.5 at layer 3, 25% scalar-multiply 1.5 at layer 4) and a heavy plan (rotate 45
and dilate r=2 on all features of every layer). Random-weight generators (channel_multiplier 2,
channel_max 512, the FFHQ config-f channel table), constant noise.

    python benchmarks/bending_overhead.py [--sizes 64 256] [--batches 1 8] [--repeats 5]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from netbend.bending import bend, resolve_plan
from netbend.models.stylegan2 import Generator
from netbend.models.wrapper import StyleGAN2Model
from netbend.plan import Plan

FIG3 = [{"layer": 1, "transform": "erode", "params": [2], "features": "random", "feature-param": 0.25},
        {"layer": 2, "transform": "dilate", "params": [2], "features": "random", "feature-param": 0.25},
        {"layer": 3, "transform": "binary-thresh", "params": [0.5]},
        {"layer": 4, "transform": "scalar-multiply", "params": [1.5], "features": "random",
         "feature-param": 0.25}]


def heavy(n_layers: int) -> list[dict]:
    return [e for n in range(1, n_layers + 1) for e in (
        {"layer": n, "transform": "rotate", "params": [45]},
        {"layer": n, "transform": "dilate", "params": [2]})]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device cpu; "
          f"median of {args.repeats} interleaved runs")
    print(f"{'size':>5} {'batch':>5} {'unbent s':>9} {'fig3 s':>8} {'fig3 ratio':>10} "
          f"{'heavy s':>8} {'heavy ratio':>11}")
    for size in args.sizes:
        torch.manual_seed(0)
        model = StyleGAN2Model(Generator(size, channel_multiplier=2), name=f"random-{size}")
        plans = {"none": Plan(), "fig3": Plan.from_dict({"transforms": FIG3}),
                 "heavy": Plan.from_dict({"transforms": heavy(len(model.paper_layers))})}
        resolved = {k: resolve_plan(p, model, seed=0) for k, p in plans.items()}
        for batch in args.batches:
            z = model.latents_from_seeds(range(batch))
            times = {k: [] for k in resolved}
            for k, r in resolved.items():  # warm-up
                with bend(model.module, r):
                    model.synthesize(z=z)
            for _ in range(args.repeats):
                for k, r in resolved.items():
                    t0 = time.perf_counter()
                    with bend(model.module, r):
                        model.synthesize(z=z)
                    times[k].append(time.perf_counter() - t0)
            med = {k: statistics.median(v) for k, v in times.items()}
            print(f"{size:>5} {batch:>5} {med['none']:>9.3f} {med['fig3']:>8.3f} "
                  f"{med['fig3'] / med['none']:>10.3f} {med['heavy']:>8.3f} {med['heavy'] / med['none']:>11.3f}",
                  flush=True)


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
