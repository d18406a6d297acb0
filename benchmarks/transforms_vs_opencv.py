"""Time every built-in transform against the original project's approach.

The original network-bending code applied OpenCV (``warpAffine``, ``erode``, ``dilate``) or
plain tensor ops to one feature map at a time. Here "theirs" does exactly that over all
N*C maps, writing into one freshly allocated output; "ours" is the registered netbend
transform on the whole [N, C, H, W] tensor (which also allocates one output). Repetitions
are interleaved (ours, theirs, theirs, ours, ...) and medians reported, with the same
thread count for torch and OpenCV.

    .venv/bin/python benchmarks/transforms_vs_opencv.py                 # CPU, 2 and 1 threads
    .venv/bin/python benchmarks/transforms_vs_opencv.py --device cuda   # ours on CUDA
    .venv/bin/python benchmarks/transforms_vs_opencv.py --only rotate erode --reps 9
"""
from __future__ import annotations

import argparse
import functools
import statistics
import time

import cv2
import numpy as np
import torch

from netbend.transforms import get_transform
from netbend.transforms.filters import gaussian_radius
from netbend.transforms.morphology import footprint

_WARP = dict(flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def _cv_per_map(op):
    """Theirs: ``op(map, dst, h, w)`` on each [H, W] float32 numpy map, writing into ``dst``
    of one new output array (the leanest loop: no per-map allocation). On CUDA each map
    is copied to the CPU and back, as the original did."""

    def run(x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        if x.is_cuda:
            out = torch.empty_like(x)
            src, dst = x.view(-1, h, w), out.view(-1, h, w)
            for i in range(src.shape[0]):  # the original's loop over maps
                res = np.empty((h, w), np.float32)
                op(src[i].cpu().numpy(), res, h, w)
                dst[i] = torch.from_numpy(res).to(x.device)
            return out
        src = x.numpy().reshape(-1, h, w)
        out = np.empty_like(src)
        for i in range(src.shape[0]):  # the original's loop over maps
            op(src[i], out[i], h, w)
        return torch.from_numpy(out).view(x.shape)

    return run


def _torch_per_map(op):
    """Theirs for the numerical transforms: a plain tensor op per map, into one output."""

    def run(x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        out = torch.empty_like(x)
        src, dst = x.view(-1, h, w), out.view(-1, h, w)
        for i in range(src.shape[0]):
            op(src[i], dst[i])
        return out

    return run


def _warp(matrix_fn):
    matrix = functools.lru_cache(maxsize=4)(matrix_fn)  # built once, not per map
    return _cv_per_map(lambda m, d, h, w: cv2.warpAffine(m, matrix(h, w), (w, h), dst=d, **_WARP))


def _morph(cv_op, r):
    kernel = footprint(r).numpy().astype(np.uint8)  # built once, not per map
    return _cv_per_map(lambda m, d, h, w: cv_op(m, kernel, dst=d))


def _gauss(sigma):
    def op(m, d, h, w):
        r = gaussian_radius(sigma, min(h, w))  # a few ns; cv2 builds its kernel per call anyway
        cv2.GaussianBlur(m, (2 * r + 1, 2 * r + 1), sigma, dst=d, sigmaY=sigma,
                         borderType=cv2.BORDER_REFLECT_101)
    return _cv_per_map(op)


def _noise_per_map(std, seed):
    def run(x):
        gen = torch.Generator(device=x.device)
        gen.manual_seed(seed)
        h, w = x.shape[-2:]
        return _torch_per_map(lambda m, d: torch.add(m, torch.randn(h, w, generator=gen, device=x.device),
                                                     alpha=std, out=d))(x)
    return run


def cases():
    """(transform name, params, theirs) for every built-in transform."""
    rot = lambda a: lambda h, w: cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), a, 1.0)  # noqa: E731
    scl = lambda k: lambda h, w: np.float64([[k, 0, (1 - k) * (w - 1) / 2], [0, k, (1 - k) * (h - 1) / 2]])  # noqa: E731
    return [
        ("ablate", [], _torch_per_map(lambda m, d: torch.mul(m, 0, out=d))),
        ("invert", [], _torch_per_map(lambda m, d: torch.sub(1, m, out=d))),
        ("scalar-multiply", [2.0], _torch_per_map(lambda m, d: torch.mul(m, 2.0, out=d))),
        ("binary-thresh", [0.5], _torch_per_map(lambda m, d: d.copy_(m >= 0.5))),
        ("add", [0.5], _torch_per_map(lambda m, d: torch.add(m, 0.5, out=d))),
        ("flip-h", [], _cv_per_map(lambda m, d, h, w: cv2.flip(m, 1, dst=d))),
        ("flip-v", [], _cv_per_map(lambda m, d, h, w: cv2.flip(m, 0, dst=d))),
        ("translate", [0.1, 0.05], _warp(lambda h, w: np.float64([[1, 0, 0.1 * w], [0, 1, 0.05 * h]]))),
        ("translate", [0.25, -0.5], _warp(lambda h, w: np.float64([[1, 0, 0.25 * w], [0, 1, -0.5 * h]]))),
        ("scale", [0.6], _warp(scl(0.6))),
        ("scale", [1.5], _warp(scl(1.5))),
        ("rotate", [45.0], _warp(rot(45.0))),
        ("rotate", [90.0], _warp(rot(90.0))),
        ("erode", [2], _morph(cv2.erode, 2)),
        ("dilate", [2], _morph(cv2.dilate, 2)),
        ("dilate", [5], _morph(cv2.dilate, 5)),
        ("blur", [1.0], _gauss(1.0)),
        ("blur", [3.0], _gauss(3.0)),
        ("noise", [0.5, 7], _noise_per_map(0.5, 7)),
    ]


def _timed(fn, x):
    if x.is_cuda:
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    y = fn(x)
    if x.is_cuda:
        torch.cuda.synchronize()
    return time.perf_counter() - t0, y


def bench(x, reps, only):
    rows = []
    for name, params, theirs in cases():
        if only and name not in only:
            continue
        spec = get_transform(name)
        kw = spec.bind(params)
        ours = lambda t: spec(t, **kw)  # noqa: E731
        _, a = _timed(ours, x)  # warm-up; also the agreement check below
        _, b = _timed(theirs, x)
        diff = (a.float() - b.float()).abs().max().item() if name != "noise" else float("nan")
        t_ours, t_theirs = [], []
        for i in range(reps):
            order = [(ours, t_ours), (theirs, t_theirs)]
            for fn, acc in order if i % 2 == 0 else order[::-1]:
                acc.append(_timed(fn, x)[0])
        mo, mt = statistics.median(t_ours) * 1e3, statistics.median(t_theirs) * 1e3
        rows.append((name, " ".join(f"{p:g}" for p in params), mo, mt, mo / mt, diff))
    return rows


def show(rows):
    head = f"{'transform':<16} {'params':<10} {'ours ms':>9} {'theirs ms':>10} {'ours/theirs':>12} {'max|diff|':>10}"
    print(head)
    print("-" * len(head))
    for name, params, mo, mt, ratio, diff in rows:
        print(f"{name:<16} {params:<10} {mo:>9.1f} {mt:>10.1f} {ratio:>12.2f} {diff:>10.2g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", type=int, nargs=4, default=[8, 512, 64, 64], metavar=("N", "C", "H", "W"))
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    ap.add_argument("--only", nargs="*", default=[], help="transform names to time")
    args = ap.parse_args()
    dev = args.device
    if dev == "auto":
        dev = "cuda" if torch.cuda.is_available() else "cpu"
    x = torch.randn(*args.shape, generator=torch.Generator().manual_seed(0)).to(dev)
    for t in args.threads:
        torch.set_num_threads(t)
        cv2.setNumThreads(t)
        print(f"\nshape {tuple(args.shape)} float32 on {dev}; torch.get_num_threads()={torch.get_num_threads()}"
              f" cv2.getNumThreads()={cv2.getNumThreads()}; median of {args.reps} interleaved runs;"
              f" torch {torch.__version__}, OpenCV {cv2.__version__}")
        show(bench(x, args.reps, set(args.only)))


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
