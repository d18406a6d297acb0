"""Whole-process time of `generate` for 256 plain seeds of the built-in model, by torch thread count.

Each run is a fresh process that sets the thread count (or leaves torch's default), renders the
seeds in batches of 8 and writes the PNGs, as ``netbend generate --seeds 0-255`` does. Settings
run in alternation; medians. This chose the default of the global ``netbend --threads``.

    python benchmarks/threads.py [--seeds 256] [--repeats 5] [--settings 1 2 torch]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time

CHILD = """
import sys, torch
if sys.argv[1] != "torch":
    torch.set_num_threads(int(sys.argv[1]))
from pathlib import Path
from netbend.bending import resolve_plan
from netbend.generate import render
from netbend.plan import Plan
from netbend.latents import from_seeds
from netbend.media import save_png, to_uint8
from netbend.models import load_model
model = load_model(None)
latents = from_seeds(model, list(range(int(sys.argv[2]))))
for batch in render(model, latents, [resolve_plan(Plan(), model, seed=0)], batch_size=8):
    for label, png in zip(batch.latents.labels, to_uint8(batch.images)):
        save_png(Path(sys.argv[3]) / f"{label}.png", png)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--settings", nargs="+", default=["1", "2", "torch"],
                    help="thread counts; 'torch' leaves torch's default")
    args = ap.parse_args()
    times: dict[str, list[float]] = {s: [] for s in args.settings}
    for _ in range(args.repeats):
        for s in args.settings:
            with tempfile.TemporaryDirectory() as out:
                t0 = time.perf_counter()
                subprocess.run([sys.executable, "-c", CHILD, s, str(args.seeds), out], check=True)
                times[s].append(time.perf_counter() - t0)
    print(f"{args.seeds} seeds, whole process, median of {args.repeats} alternating runs")
    for s, v in times.items():
        print(f"threads {s:>5}: {statistics.median(v):6.2f} s  (runs: {' '.join(f'{t:.2f}' for t in v)})")


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
