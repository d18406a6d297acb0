"""Time the two modulated-convolution forms of netbend's StyleGAN2 generator.

``grouped``: weights modulated/demodulated per sample, one grouped convolution (groups = N).
``scaled``: input scaled by the style, one shared convolution, output scaled by the
demodulation coefficients. Both give the same image (checked here too); this script measures
which is faster for whole-generator synthesis at each size and batch, to back the rule in
``netbend.models.stylegan2.choose_modconv``.

Random weights with the FFHQ-config channel table (channel_multiplier 2, 512 max) unless
``--channel-max`` says otherwise; constant noise; the fastest of ``--repeats`` timed runs after
``--warmup`` untimed ones, the two forms interleaved. Example:

    .venv/bin/python benchmarks/modconv.py --sizes 64 256 --batches 1 8 --threads 2
"""
from __future__ import annotations

import argparse
import time

import torch

from netbend.models.stylegan2 import Generator

FORMS = ("grouped", "scaled")


def time_forms(gen: Generator, w: torch.Tensor, repeats: int, warmup: int) -> dict:
    """Fastest time per form (runs interleaved, so load from other processes hits both alike)."""
    times, outs = {f: [] for f in FORMS}, {}
    with torch.no_grad():
        for i in range(warmup + repeats):
            for form in FORMS:
                gen.set_modconv(form)
                start = time.perf_counter()
                outs[form] = gen(w=w, noise="const")
                if i >= warmup:
                    times[form].append(time.perf_counter() - start)
    return {f: (min(t), outs[f]) for f, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--channel-max", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"device={args.device} threads={torch.get_num_threads()} torch={torch.__version__} "
          f"channel_max={args.channel_max} repeats={args.repeats} warmup={args.warmup} (fastest seconds per forward)")
    print(f"{'size':>5} {'batch':>5} {'grouped':>9} {'scaled':>9} {'faster':>8} {'ratio':>6} {'rel.diff':>9}")
    for size in args.sizes:
        torch.manual_seed(0)
        gen = Generator(size, channel_max=args.channel_max).eval().to(args.device)
        for batch in args.batches:
            w = gen.mapping(torch.randn(batch, gen.z_dim, device=args.device)).detach()
            res = time_forms(gen, w, args.repeats, args.warmup)
            (t_grouped, a), (t_scaled, b) = res["grouped"], res["scaled"]
            diff = float((a - b).abs().max() / a.abs().max())
            faster = "grouped" if t_grouped < t_scaled else "scaled"
            ratio = max(t_grouped, t_scaled) / min(t_grouped, t_scaled)
            print(f"{size:>5} {batch:>5} {t_grouped:>9.3f} {t_scaled:>9.3f} {faster:>8} {ratio:>6.2f} {diff:>9.1e}",
                  flush=True)


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
