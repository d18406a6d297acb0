"""Training steps per second of the default face model, for the choices that change only speed.

Cumulative variants of one ``netbend faces train`` step (batch 8, 64 px, random targets; the data
does not change the arithmetic): the previous recipe (plain Adam, 256 channels at 4 px), then fused
Adam, then 128 channels at 4 px (the new default model), then ``torch.compile``. All variants live
in one process and are timed in interleaved blocks, so the machine's noise hits them alike; the
table gives each one's median images per second over the blocks, its ratio to the first, and (for
the compiled one) the one-off compile time, which a training run pays inside its time budget.

    .venv/bin/python benchmarks/faces_step.py --threads 2 --blocks 6 --steps 20
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

from netbend.faces.train import _adam, _compiled, model_config
from netbend.models.stylegan2 import Generator


def make_variant(fused: bool, channels4: int, compiled: bool, batch: int):
    """(one-off seconds, step function) of a training step with these choices."""
    cfg = model_config(64)
    cfg["channels"][4] = channels4
    gen = Generator(**cfg)
    params = list(gen.parameters())
    opt = _adam(params, 1e-3) if fused else torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.99))
    z, target = torch.randn(batch, gen.z_dim), torch.rand(batch, 3, 64, 64) * 2 - 1
    forward = gen
    start = time.perf_counter()
    if compiled:
        forward = _compiled(gen, batch, log=print)

    def step() -> None:
        loss = (forward(z, noise="none") - target).square().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(3):  # warm-up (and, compiled, the compilation itself)
        step()
    return time.perf_counter() - start, step


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--blocks", type=int, default=6, help="Timed blocks per variant (interleaved).")
    ap.add_argument("--steps", type=int, default=20, help="Training steps per block.")
    ap.add_argument("--no-compile", action="store_true", help="Leave out the torch.compile variant.")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    specs = [("plain Adam, 256 ch at 4 px (previous recipe)", False, 256, False),
             ("+ fused Adam", True, 256, False),
             ("+ 128 ch at 4 px (default model)", True, 128, False)]
    if not args.no_compile:
        specs.append(("+ torch.compile (--compile)", True, 128, True))
    variants = [(name, *make_variant(fused, ch, comp, args.batch)) for name, fused, ch, comp in specs]
    rates = {name: [] for name, _, _ in variants}
    for _ in range(args.blocks):
        for name, _, step in variants:
            start = time.perf_counter()
            for _ in range(args.steps):
                step()
            rates[name].append(args.steps * args.batch / (time.perf_counter() - start))
    base = statistics.median(rates[variants[0][0]])
    print(f"batch {args.batch}, {args.threads} threads, {args.blocks} interleaved blocks of {args.steps} steps\n")
    print("| variant | images/s (median) | ratio | one-off s (warm-up incl. compile) |\n|---|---|---|---|")
    for name, once, _ in variants:
        rate = statistics.median(rates[name])
        print(f"| {name} | {rate:.1f} | {rate / base:.2f} | {once:.1f} |")


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
