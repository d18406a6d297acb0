"""Bent / unbent generation time for StyleGAN2 on CPU, measured side by side in one run.

Plans: the paper's Figure 3 plan (25% erode r=2 at layer 1, 25% dilate r=2 at layer 2, 100%
binary-thresh 0.5 at layer 3, 25% scalar-multiply 1.5 at layer 4) and a heavy plan (rotate 45
and dilate r=2 on all features of every layer). Random-weight generators (channel_multiplier 2,
channel_max 512, the FFHQ config-f channel table), constant noise.

    python benchmarks/bending_overhead.py [--sizes 64 256] [--batches 1 8] [--repeats 5]

``--processes N`` measures instead what a user waits for: the whole ``netbend generate`` process
(start-up, model load, plan resolution, rendering, PNGs) with the Figure 3 plan against the empty
plan, in separate processes run in alternation (N each), medians; a random-weight model of the
first ``--sizes`` saved to a temporary folder, 8 seeds, batch 8, ``--threads 1``.

    python benchmarks/bending_overhead.py --processes 7 --sizes 256
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

import torch

from netbend.bending import bend, resolve_plan
from netbend.layers import dry_run_layers
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


CHILD = "import torch; torch.set_num_threads(1); from netbend.cli import main; main()"


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def whole_process(size: int, repeats: int, seeds: int = 8, batch: int = 8) -> None:
    """Median wall time of whole `netbend generate` processes, Figure 3 plan vs the empty plan."""
    from netbend.models import save_native

    with tempfile.TemporaryDirectory() as tmp:
        torch.manual_seed(0)
        model = Path(tmp) / f"random{size}.safetensors"
        save_native(StyleGAN2Model(Generator(size, channel_multiplier=2), name=f"random-{size}"), model)
        plans = {"none": Path(tmp) / "none.yaml", "fig3": Path(tmp) / "fig3.yaml"}
        plans["none"].write_text(yaml.safe_dump({"transforms": []}))
        plans["fig3"].write_text(yaml.safe_dump({"transforms": FIG3}))
        times: dict[str, list[float]] = {k: [] for k in plans}
        cpu: dict[str, list[float]] = {k: [] for k in plans}
        for i in range(repeats):
            for k, plan in (plans.items() if i % 2 == 0 else reversed(plans.items())):
                out = Path(tmp) / f"out_{k}_{i}"
                cmd = [sys.executable, "-c", CHILD,
                       "generate", "--model", str(model), "--config", str(plan), "--seeds", f"0-{seeds - 1}",
                       "--batch-size", str(batch), "--out", str(out)]
                t0, c0 = time.perf_counter(), _child_cpu()
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "NETBEND_THREADS": "1"})
                times[k].append(time.perf_counter() - t0)
                cpu[k].append(_child_cpu() - c0)
        print(f"whole process, {size} px, {seeds} seeds, batch {batch}, 1 thread, median of {repeats} "
              "alternating runs (CPU time = user + system of the process: steadier on a shared machine)")
        for label, data in (("wall", times), ("CPU", cpu)):
            med = {k: statistics.median(v) for k, v in data.items()}
            print(f"  {label:>4}: empty plan {med['none']:6.2f} s, fig3 plan {med['fig3']:6.2f} s, "
                  f"ratio {med['fig3'] / med['none']:.3f}   (runs: "
                  + "; ".join(f"{k} {' '.join(f'{t:.2f}' for t in v)}" for k, v in data.items()) + ")")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--processes", type=int, default=0,
                    help="measure N whole processes per plan instead (see above)")
    args = ap.parse_args()
    if args.processes:
        whole_process(args.sizes[0], args.processes)
        return
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, device cpu; "
          f"median of {args.repeats} interleaved runs")
    print(f"{'size':>5} {'batch':>5} {'unbent s':>9} {'fig3 s':>8} {'fig3 ratio':>10} "
          f"{'heavy s':>8} {'heavy ratio':>11}")
    for size in args.sizes:
        torch.manual_seed(0)
        model = StyleGAN2Model(Generator(size, channel_multiplier=2), name=f"random-{size}")
        plans = {"none": Plan(), "fig3": Plan.from_dict({"transforms": FIG3}),
                 "heavy": Plan.from_dict({"transforms": heavy(len(model.paper_layers))})}
        t0 = time.perf_counter()
        resolved = {k: resolve_plan(p, model, seed=0) for k, p in plans.items()}
        first, t0 = time.perf_counter() - t0, time.perf_counter()
        dry_run_layers(model)
        print(f"{size} px: resolving the plans took {first:.3f} s (layer shapes from the architecture's "
              f"table); a dry forward pass, as before, {time.perf_counter() - t0:.3f} s", flush=True)
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
