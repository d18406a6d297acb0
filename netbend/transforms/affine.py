"""Affine transforms of each feature map: flips, translation, scaling, rotation.

Conventions (the same as OpenCV ``warpAffine(..., INTER_LINEAR, BORDER_CONSTANT, 0)``):
image coordinates with x to the right and y *down*, pixel centres at integers, the centre
of an ``H x W`` map at ``((W-1)/2, (H-1)/2)``. Every output pixel samples the input at the
inverse-mapped position with bilinear interpolation; samples outside the map read 0
(zero fill). Maps may be rectangular (audio spectrogram layers are e.g. 17 x 65).

When every sample falls exactly on a pixel centre (flips, 90-degree rotations of square
maps, whole-pixel shifts, neutral parameters) the values are copied, bit for bit.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from netbend.transforms import _kernels as K
from netbend.transforms.registry import Param, register_transform

_EXACT_TOL = 1e-6  # sample positions this close to a pixel centre are taken as exact


def affine_matrix_rotate(h: int, w: int, degrees: float) -> np.ndarray:
    """Forward 2x3 matrix rotating counter-clockwise (as seen) about the map centre."""
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    t = math.radians(degrees)
    a, b = math.cos(t), math.sin(t)
    return np.array([[a, b, (1 - a) * cx - b * cy], [-b, a, b * cx + (1 - a) * cy]])


def affine_matrix_scale(h: int, w: int, kx: float, ky: float) -> np.ndarray:
    """Forward 2x3 matrix scaling by (kx, ky) about the map centre."""
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    return np.array([[kx, 0.0, (1 - kx) * cx], [0.0, ky, (1 - ky) * cy]])


def affine_matrix_translate(h: int, w: int, px: float, py: float) -> np.ndarray:
    """Forward 2x3 matrix moving content by (px*W, py*H) pixels (right, down)."""
    return np.array([[1.0, 0.0, px * w], [0.0, 1.0, py * h]])


def _taps(pos: np.ndarray, n: int):
    """Linear interpolation along one axis: ``[(idx0, w0), (idx1, w1)]`` for positions
    ``pos``; a tap outside ``0..n-1`` gets index 0 and weight 0 (zero fill, so activations
    are assumed finite)."""
    p0 = np.floor(pos)
    frac = pos - p0
    out = []
    for k, wt in ((0, 1 - frac), (1, frac)):
        src = p0 + k
        ok = (src >= 0) & (src < n)
        out.append((np.where(ok, src, 0).astype(np.int64), np.where(ok, wt, 0.0)))
    return out


@lru_cache(maxsize=128)
def _plan(h: int, w: int, m: tuple[float, ...], device: str):
    """Sampling table for one (map size, forward matrix, device), built once.

    ``("exact", idx, keep)``: every sample is a pixel centre; ``idx`` [H*W] source index,
    ``keep`` [H*W] bool (None when all inside). Otherwise ``("bilinear", idx, wts)``: four
    source indices and weights per output pixel, pixel-major ([H*W*4]); a corner outside
    the map has weight 0 (zero fill).
    """
    fwd = np.vstack([np.array(m, dtype=np.float64).reshape(2, 3), [0.0, 0.0, 1.0]])
    inv = np.linalg.inv(fwd)[:2]  # output pixel -> input position
    ys, xs = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    sx = (inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2]).ravel()  # [H*W]
    sy = (inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]).ravel()
    dev = torch.device(device)
    rx, ry = np.rint(sx), np.rint(sy)
    if np.abs(sx - rx).max() < _EXACT_TOL and np.abs(sy - ry).max() < _EXACT_TOL:
        inside = (rx >= 0) & (rx < w) & (ry >= 0) & (ry < h)
        idx = np.where(inside, ry * w + rx, 0).astype(np.int64)
        keep = None if inside.all() else torch.from_numpy(inside).to(dev)
        return "exact", torch.from_numpy(idx).to(dev), keep
    tx, ty = _taps(sx, w), _taps(sy, h)
    idx = np.stack([ty[a][0] * w + tx[b][0] for a in (0, 1) for b in (0, 1)], 1)  # [H*W, 4]
    wts = np.stack([ty[a][1] * tx[b][1] for a in (0, 1) for b in (0, 1)], 1)
    idx = torch.from_numpy(idx.ravel()).to(dev)  # [H*W*4]
    wts = torch.from_numpy(wts.ravel()).to(dev)  # [H*W*4] float64
    return "bilinear", idx, wts


def _bilinear_kernel(idx: torch.Tensor, wts: torch.Tensor):
    offsets = torch.arange(0, idx.numel(), 4, device=idx.device)

    def kernel(src: torch.Tensor, dst: torch.Tensor) -> None:  # [B, H, W] each
        b = src.shape[0]
        table = src.reshape(b, -1).t().contiguous()  # [H*W, B]: a row per pixel, maps side by side
        got = F.embedding_bag(idx, table, offsets, mode="sum",
                              per_sample_weights=wts.to(src.dtype))  # [H*W, B]
        dst.view(b, -1).copy_(got.t())

    return kernel


def _shift_taps(t: float) -> list[tuple[float, int]]:
    """Linear interpolation of a shift by ``t`` pixels: ``out[j] = sum c * in[j - d]`` over
    the returned ``(c, d)``; t = k + f (k whole, 0 <= f < 1) gives (1-f, k) and (f, k+1)."""
    k = math.floor(t)
    f = t - k
    return [(1.0 - f, k), (f, k + 1)] if f > _EXACT_TOL else [(1.0, k)]


def _shift_axis(src: torch.Tensor, dst: torch.Tensor, taps, axis: int) -> None:
    """``dst[j] = sum c * src[j - d]`` along ``axis`` (-1 or -2) of ``[B, H, W]``; zero fill.

    Each tap is one op on the maps flattened to ``[B, H*W]`` (a shift by ``d`` along x or
    ``d*W`` along y). Along x such a shift carries values across row ends, so the edge
    columns where some tap falls outside the map are then zeroed and summed again from
    their valid taps (thin strided ops).
    """
    b, n = src.shape[0], src.shape[axis]
    step = 1 if axis == -1 else src.shape[-1]
    sf, df = src.view(b, -1), dst.view(b, -1)  # [B, H*W]
    t = sf.shape[1]
    for i, (c, d) in enumerate(taps):  # loop over the (one or two) taps
        lo, hi = max(0, d * step), min(t, t + d * step)  # dst flat range with a source
        if lo >= hi:
            continue
        piece = sf[:, lo - d * step:hi - d * step]
        torch.mul(piece, c, out=df[:, lo:hi]) if i == 0 else df[:, lo:hi].add_(piece, alpha=c)
    first = min(n, max(0, max(d for _, d in taps)))  # columns/rows [first, last) are right
    last = max(first, min(n, n + min(d for _, d in taps)))
    for e0, e1 in ((0, first), (last, n)):
        _edge(src, dst, taps, axis, e0, e1)


def _edge(src, dst, taps, axis: int, e0: int, e1: int) -> None:
    """Recompute ``dst`` in the band ``e0:e1`` along ``axis`` from the taps that land inside."""
    if e0 >= e1:
        return
    n = src.shape[axis]
    band = dst.narrow(axis, e0, e1 - e0)
    band.zero_()
    for c, d in taps:
        j0, j1 = max(e0, d), min(e1, n + d)
        if j0 < j1:
            dst.narrow(axis, j0, j1 - j0).add_(src.narrow(axis, j0 - d, j1 - j0), alpha=c)


def _translate_kernel(tx: float, ty: float):
    """Kernel for a pure translation by (tx, ty) pixels: separable, one shift per axis."""
    taps_x, taps_y = _shift_taps(tx), _shift_taps(ty)

    def kernel(src: torch.Tensor, dst: torch.Tensor) -> None:  # [B, H, W] each
        tmp = torch.empty_like(src)
        _shift_axis(src, tmp, taps_x, -1)
        _shift_axis(tmp, dst, taps_y, -2)

    return kernel


def warp_affine(x: torch.Tensor, matrix) -> torch.Tensor:
    """Warp every map of ``x`` [N, C, H, W] by the forward 2x3 ``matrix`` (OpenCV's ``M``).

    ``matrix`` maps input (x, y) to output (x, y) in pixels. Bilinear, zero fill.

    >>> x = torch.arange(4.0).view(1, 1, 1, 4)
    >>> warp_affine(x, [[1, 0, 1], [0, 1, 0]])  # one pixel to the right
    tensor([[[[0., 0., 1., 2.]]]])
    """
    n, c, h, w = x.shape
    m = tuple(float(v) for v in np.asarray(matrix, dtype=np.float64).ravel())
    kind, a, b = _plan(h, w, m, str(x.device))
    maps = K.as_maps(x)  # [M, H, W]
    if kind == "exact":
        flat = maps.reshape(n * c, h * w)  # [M, H*W]
        out = torch.index_select(flat, 1, a, out=K.out_like(flat))
        if b is not None:
            out.mul_(b.to(out.dtype))
        return K.restore(out, x)
    if m[0] == 1 and m[1] == 0 and m[3] == 0 and m[4] == 1 and not K.tracking(x):
        kernel = _translate_kernel(m[2], m[5])  # a fractional shift
    else:
        kernel = _bilinear_kernel(a, b)
    return K.restore(K.run_slabs(kernel, maps.contiguous(), K.empty_like(maps)), x)


def _reverse(x: torch.Tensor, dim: int) -> torch.Tensor:
    """``x.flip(dim)`` for dim -1 or -2, written into a :func:`_kernels.empty` output."""
    if K.tracking(x):
        return x.flip(dim)
    if dim == -1 and x.device.type == "cpu":
        return _reverse_x_numpy(x)
    n = x.shape[dim]
    rev = torch.arange(n - 1, -1, -1, device=x.device)
    src = x.contiguous().view(-1, n) if dim == -1 else x.contiguous().view(-1, n, x.shape[-1])
    out = K.empty_like(x)
    torch.index_select(src, 1, rev, out=out.view(src.shape))
    return out


_SAME_SIZE_INT = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


def _reverse_x_numpy(x: torch.Tensor) -> torch.Tensor:
    """``x.flip(-1)`` on the CPU as one NumPy copy from a reversed view: a single strided
    pass, about twice as fast as ``index_select`` here. Works on the bits (an integer
    view of the same size), so every dtype, bfloat16 included, is copied exactly."""
    as_int = _SAME_SIZE_INT[x.element_size()]
    src = x.contiguous().view(as_int).numpy()
    out = K.empty_like(x)
    np.copyto(out.view(as_int).numpy(), src[..., ::-1])
    return out


@register_transform(
    "flip-h",
    description="Mirror each map left-right (x -> W-1-x).",
    aliases=("flip-horizontal",),
)
def flip_h(x: torch.Tensor) -> torch.Tensor:
    """Mirror left-right: column j takes column W-1-j. ``flip_h(x)`` equals ``x.flip(-1)``."""
    return _reverse(x, -1)


@register_transform(
    "flip-v",
    description="Mirror each map top-bottom (y -> H-1-y).",
    aliases=("flip-vertical",),
)
def flip_v(x: torch.Tensor) -> torch.Tensor:
    """Mirror top-bottom: row i takes row H-1-i. ``flip_v(x)`` equals ``x.flip(-2)``."""
    return _reverse(x, -2)


@register_transform(
    "translate",
    params=[
        Param("px", float, min=-1.0, max=1.0, unit="x width", doc="shift right (+) or left (-)"),
        Param("py", float, min=-1.0, max=1.0, unit="x height", doc="shift down (+) or up (-)"),
    ],
    description="Shift each map by (px*W, py*H) pixels; +px right, +py down; zero fill.",
)
def translate(x: torch.Tensor, *, px: float, py: float) -> torch.Tensor:
    """Move content by ``px`` widths to the right and ``py`` heights down (y points down).

    Uncovered pixels are 0; fractional pixel shifts interpolate bilinearly.
    Example: on a 1 x 4 map ``[0, 1, 2, 3]``, ``translate(px=0.25, py=0)`` gives
    ``[0, 0, 1, 2]``.
    """
    h, w = x.shape[-2:]
    return warp_affine(x, affine_matrix_translate(h, w, px, py))


@register_transform(
    "scale",
    params=[
        Param("kx", float, min=1e-6, unit="factor", doc="horizontal factor (> 0; > 1 enlarges)"),
        Param("ky", float, default=None, min=1e-6, unit="factor", doc="vertical factor (default kx)"),
    ],
    description="Scale each map about its centre by (kx, ky); k > 1 enlarges; zero fill.",
)
def scale(x: torch.Tensor, *, kx: float, ky: float | None = None) -> torch.Tensor:
    """Scale about the centre ((W-1)/2, (H-1)/2): output(p) = input(c + (p - c) / k).

    ``ky`` defaults to ``kx``. Shrinking (k < 1) leaves a zero border.
    Example: ``scale(x, kx=2)`` on a 1 x 3 map ``[1, 2, 3]`` gives ``[1.5, 2, 2.5]``.
    """
    h, w = x.shape[-2:]
    return warp_affine(x, affine_matrix_scale(h, w, kx, kx if ky is None else ky))


@register_transform(
    "rotate",
    params=[Param("angle", float, unit="degrees", doc="counter-clockwise as seen (y down)")],
    description="Rotate each map about its centre by angle degrees, counter-clockwise; zero fill.",
)
def rotate(x: torch.Tensor, *, angle: float) -> torch.Tensor:
    """Rotate counter-clockwise as seen on screen, about ((W-1)/2, (H-1)/2); OpenCV's
    ``getRotationMatrix2D(centre, angle, 1)``. Corners leaving the map are lost, uncovered
    pixels are 0. Multiples of 90 degrees on square maps equal ``torch.rot90`` exactly.
    Example: ``rotate(x, angle=90)`` on ``[[1, 2], [3, 4]]`` gives ``[[2, 4], [1, 3]]``.
    """
    h, w = x.shape[-2:]
    return warp_affine(x, affine_matrix_rotate(h, w, angle))
