"""netbend's StyleGAN3 forward against NVlabs' reference path, same weights, side by side on CPU.

Builds an NVlabs ``stylegan3`` Generator (config T or R, random weights) with NVlabs' own code from
a local clone given on the command line, pickles it as their training loop does, loads that pickle
with netbend's restricted loader, checks both give the same image, then times synthesis from the
same w, the two interleaved (so load from other processes hits both alike; the fastest of
``--repeats`` runs after ``--warmup`` untimed ones, in wall-clock and in CPU time of this process:
on a machine shared with other jobs the CPU time is the steadier measure of the work done). Each layer's input magnitude is calibrated first
(:func:`calibrate`), as training would have done. NVlabs falls back to its reference ops on CPU
(``filtered_lrelu`` -> ``_filtered_lrelu_ref``: zero-insertion upsampling and full-resolution FIR
filtering). Their ``dnnlib`` imports ``requests`` and ``conv2d_gradfix`` imports ``pkg_resources``:
give a folder with stubs of both as ``--stubs`` (nothing is downloaded). Example:

    .venv/bin/python benchmarks/stylegan3_speed.py --nvlabs /work/ref/NVlabs+stylegan3 \\
        --stubs /work/ref/stubs --configs t r --size 256 --batches 1 4 --threads 2
"""
from __future__ import annotations

import argparse
import copy
import pickle
import sys
import tempfile
import time
from pathlib import Path

import torch

CONFIGS = {"t": dict(conv_kernel=3, use_radial_filters=False, channel_base=32768, channel_max=512),
           "r": dict(conv_kernel=1, use_radial_filters=True, channel_base=65536, channel_max=1024)}


def nvlabs_generator(repo: Path, stubs: Path, config: str, size: int, scale: float):
    sys.path[:0] = [str(repo), str(stubs)]
    from training.networks_stylegan3 import Generator

    kw = dict(CONFIGS[config])
    kw["channel_base"], kw["channel_max"] = int(kw["channel_base"] * scale), int(kw["channel_max"] * scale)
    torch.manual_seed(0)
    G = Generator(z_dim=512, c_dim=0, w_dim=512, img_resolution=size, img_channels=3,
                  mapping_kwargs=dict(num_layers=2), **kw).eval().requires_grad_(False)
    calibrate(G)
    return G


def calibrate(G) -> None:
    """Set each layer's magnitude_ema to its input's mean square, as training would: at random init
    (magnitude_ema = 1) activations blow up and the clamps saturate, which would make the images
    agree trivially."""
    def set_magnitude(layer, inputs):
        layer.magnitude_ema.copy_(inputs[0].float().square().mean())

    handles = [getattr(G.synthesis, n).register_forward_pre_hook(set_magnitude) for n in G.synthesis.layer_names]
    with torch.no_grad():
        G(torch.randn(2, G.z_dim), None)
    for h in handles:
        h.remove()


def time_both(G, ours, ws, repeats: int, warmup: int) -> dict:
    """Fastest wall and CPU (process) time per implementation; runs interleaved."""
    runs = {"nvlabs": lambda: G.synthesis(ws, noise_mode="const", force_fp32=True),
            "netbend": lambda: ours.module(w=ws)}
    wall, cpu, outs = {k: [] for k in runs}, {k: [] for k in runs}, {}
    with torch.no_grad():
        for i in range(warmup + repeats):
            for name, fn in runs.items():
                w0, c0 = time.perf_counter(), time.process_time()
                outs[name] = fn()
                if i >= warmup:
                    wall[name].append(time.perf_counter() - w0)
                    cpu[name].append(time.process_time() - c0)
    return {k: (min(wall[k]), min(cpu[k]), outs[k]) for k in runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nvlabs", type=Path, required=True, help="local clone of NVlabs/stylegan3")
    parser.add_argument("--stubs", type=Path, required=True, help="folder with requests.py and pkg_resources.py stubs")
    parser.add_argument("--configs", nargs="+", default=["t", "r"], choices=sorted(CONFIGS))
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--channel-scale", type=float, default=1.0, help="scale channel_base/max (0.5 = half)")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    from netbend.models import load_model

    print(f"cpu threads={torch.get_num_threads()} torch={torch.__version__} size={args.size} "
          f"channel_scale={args.channel_scale} repeats={args.repeats} warmup={args.warmup} "
          "(fastest seconds per synthesis forward: wall clock, and CPU time of this process)")
    print(f"{'config':>6} {'batch':>5} {'nvlabs':>8} {'netbend':>8} {'speed-up':>8} "
          f"{'cpu nv':>8} {'cpu nb':>8} {'cpu sp.':>8} {'rel.diff':>9}")
    for config in args.configs:
        G = nvlabs_generator(args.nvlabs, args.stubs, config, args.size, args.channel_scale)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"sg3_{config}.pkl"
            with open(path, "wb") as f:
                pickle.dump({"G_ema": copy.deepcopy(G), "G": None, "D": None}, f)
            ours = load_model(path)
        for batch in args.batches:
            z = torch.randn(batch, 512, generator=torch.Generator().manual_seed(batch))
            ws = G.mapping(z, None)
            res = time_both(G, ours, ws, args.repeats, args.warmup)
            (t_ref, c_ref, ref), (t_ours, c_ours, out) = res["nvlabs"], res["netbend"]
            diff = float((out - ref).abs().max() / ref.abs().max())
            print(f"{config:>6} {batch:>5} {t_ref:>8.3f} {t_ours:>8.3f} {t_ref / t_ours:>7.2f}x "
                  f"{c_ref:>8.3f} {c_ours:>8.3f} {c_ref / c_ours:>7.2f}x {diff:>9.1e}", flush=True)


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
