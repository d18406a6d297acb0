"""Morphological transforms of each feature map: erosion and dilation.

The structuring element of radius ``r`` is the ``(2r+1) x (2r+1)`` ellipse OpenCV builds
with ``getStructuringElement(MORPH_ELLIPSE, (2r+1, 2r+1))``: row ``dy`` (-r..r) covers the
columns ``|dx| <= round(sqrt(r^2 - dy^2))``. Pixels outside the map never win the min
(erode) or max (dilate), as with OpenCV's default border. ``r = 0`` is the identity.

How: running min/max along x are built for each half-width up to r (one op per
half-width, by overlapping two windows of a smaller half-width), then the footprint's
rows are combined by shifting vertically, two rows (dy and -dy) per step. No padding:
a window sliced off by the map's edge is replaced by the window at the edge pixel
(clamped index), which lies inside the true window and so changes no extreme. On the
CPU the ops are NumPy calls on slabs of maps (a NumPy call costs ~1 us, a torch op
~5-10 us, and there are dozens per slab); elsewhere the same code runs on torch tensors.
"""
from __future__ import annotations

import math
import threading
from functools import lru_cache

import numpy as np
import torch

from netbend.transforms import _kernels as K
from netbend.transforms.registry import Param, register_transform


@lru_cache(maxsize=64)
def half_widths(r: int) -> tuple[int, ...]:
    """Half-width of each footprint row dy = -r..r (OpenCV's elliptical element)."""
    return tuple(int(round(math.sqrt(r * r - dy * dy))) for dy in range(-r, r + 1))


def footprint(r: int) -> torch.Tensor:
    """The ``(2r+1) x (2r+1)`` bool structuring element of radius ``r``."""
    cols = torch.arange(-r, r + 1).abs()
    return torch.stack([cols <= hw for hw in half_widths(r)])


def _along(axis: int, start: int, stop: int) -> tuple:
    """Index taking ``start:stop`` along ``axis`` (-1: x, -2: y) of a ``[B, H, W]`` array."""
    return (Ellipsis, slice(start, stop)) if axis == -1 else (Ellipsis, slice(start, stop), slice(None))


def _pair(op, src, s: int, axis: int, dst, acc: bool) -> None:
    """``dst[j] = op(src[clamp(j - s)], src[clamp(j + s)])`` along ``axis`` (s >= 1).

    With ``acc`` the pair is combined into ``dst`` instead (``dst[j] = op(dst[j], ...)``).
    ``src`` and ``dst`` are ``[B, H, W]`` NumPy arrays or torch tensors, contiguous.
    """
    n = src.shape[axis]
    if 2 * s >= n:  # tiny maps: gather the clamped indices
        lo = [min(max(j - s, 0), n - 1) for j in range(n)]
        hi = [min(j + s, n - 1) for j in range(n)]
        pick = (lambda ix: (Ellipsis, ix)) if axis == -1 else (lambda ix: (Ellipsis, ix, slice(None)))
        both = op(src[pick(lo)], src[pick(hi)])
        dst[...] = op(dst, both) if acc else both
        return
    pieces = [  # (dst range, left src range, right src range): middle, left edge, right edge
        ((s, n - s), (0, n - 2 * s), (2 * s, n)),
        ((0, s), (0, 1), (s, 2 * s)),
        ((n - s, n), (n - 2 * s, n - s), (n - 1, n)),
    ]
    if axis == -1 and not acc:  # the middle as one flat op; wrong near row ends, redone below
        b = src.shape[0]
        flat, out = src.reshape(b, -1), dst.reshape(b, -1)  # [B, H*W]
        t = flat.shape[1]
        op(flat[:, :t - 2 * s], flat[:, 2 * s:], out=out[:, s:t - s])
        # The 2s edge columns one at a time: a single column is one long strided loop,
        # where an [B, H, s] block is B*H tiny ones (~10x slower in NumPy).
        pieces = [((j, j + 1), (0, 1), (j + s, j + s + 1)) for j in range(s)]
        pieces += [((j, j + 1), (j - s, j - s + 1), (n - 1, n)) for j in range(n - s, n)]
    for (d0, d1), (l0, l1), (r0, r1) in pieces:
        out = dst[_along(axis, d0, d1)]
        left, right = src[_along(axis, l0, l1)], src[_along(axis, r0, r1)]
        if acc:
            op(out, left, out=out)
            op(out, right, out=out)
        else:
            op(left, right, out=out)


def _row_extremes(op, src, most: int, keep: set[int], new) -> dict:
    """Running extremes along x of half-width 0..most (``rows[k][..., j]`` covers
    ``j-k..j+k`` clipped to the map). Half-width k comes from a = ceil((2k-1)/4) in one op:
    the windows centred at ``j-(k-a)`` and ``j+(k-a)`` overlap and cover ``j-k..j+k``.

    ``new(slot)`` gives scratch array number ``slot``; a half-width that is not in ``keep``
    hands its array on once no later one is built from it (fewer arrays stay in cache).
    """
    source = {k: (2 * k + 2) // 4 for k in range(2, most + 1)}
    last_use = {k: max([j for j, a in source.items() if a == k], default=0) for k in range(most + 1)}
    rows, slot_of, free = {0: src}, {}, []
    for k in range(1, most + 1):
        for j in [j for j in slot_of if j not in keep and last_use[j] < k]:
            free.append(slot_of.pop(j))
        slot_of[k] = free.pop() if free else len(slot_of) + len(free)
        cur = new(slot_of[k])
        if k == 1:
            _pair(op, src, 1, -1, cur, acc=False)
            op(cur, src, out=cur)
        else:
            _pair(op, rows[source[k]], k - source[k], -1, cur, acc=False)
        rows[k] = cur
    return rows


def _extreme_kernel(r: int, dilate: bool):
    """Kernel for :func:`netbend.transforms._kernels.run_slabs` on ``[B, H, W]`` slabs."""
    widths = half_widths(r)
    buffers = {}  # (thread, slot, slab shape) -> scratch array, reused by that thread's slabs

    def kernel(src: torch.Tensor, dst: torch.Tensor) -> None:
        if src.device.type == "cpu":
            src, dst = src.numpy(), dst.numpy()
            op, like = (np.maximum if dilate else np.minimum), np.empty_like
        else:
            op, like = (torch.maximum if dilate else torch.minimum), torch.empty_like

        def new(slot: int):
            key = (threading.get_ident(), slot, tuple(src.shape))
            if key not in buffers:
                buffers[key] = like(src)
            return buffers[key]

        extreme(op, src, dst, widths, new)

    return kernel


def extreme(op, src, dst, widths: tuple[int, ...], new) -> None:
    """``dst = op`` over the footprint with row half-widths ``widths`` (dy = -r..r) of
    ``src`` ``[B, H, W]``; ``new(slot)`` gives scratch array number ``slot`` like ``src``."""
    r = len(widths) // 2
    rows = _row_extremes(op, src, max(widths), set(widths), new)
    centre = rows[widths[r]]
    first = 1
    if widths[r + 1] == widths[r]:  # rows -1, 0, 1 share the centre's width
        _pair(op, centre, 1, -2, dst, acc=False)
        op(dst, centre, out=dst)
        first = 2
    else:
        dst[...] = centre
    for dy in range(first, r + 1):  # rows -dy and +dy
        _pair(op, rows[widths[r + dy]], dy, -2, dst, acc=True)


def reference_morph(x: torch.Tensor, r: int, dilate: bool) -> torch.Tensor:
    """Plain, differentiable min/max over the footprint's shifted copies (used under autograd)."""
    h, w = x.shape[-2:]
    pad = torch.nn.functional.pad(x, (r, r, r, r), value=-math.inf if dilate else math.inf)
    shifts = [pad[..., dy:dy + h, dx:dx + w] for dy, dx in footprint(r).nonzero().tolist()]
    stacked = torch.stack(shifts)  # [K, N, C, H, W]
    return stacked.amax(0) if dilate else stacked.amin(0)


def _morph(x: torch.Tensor, r: int, dilate: bool) -> torch.Tensor:
    if r == 0:
        return x.clone()
    if K.tracking(x):
        return reference_morph(x, r, dilate)
    maps = K.as_maps(x).contiguous()  # [M, H, W]; min/max are exact, so float32 for halves is too
    out = K.empty_like(maps)
    return K.restore(K.run_slabs(_extreme_kernel(r, dilate), maps, out), x)


_R = Param("r", int, min=0, max=64, unit="pixels", doc="radius of the elliptical element")


@register_transform(
    "erode",
    params=[_R],
    description="Erode each map: min over an ellipse of radius r pixels (r=0: identity).",
    aliases=("erosion",),
)
def erode(x: torch.Tensor, *, r: int) -> torch.Tensor:
    """Grey-scale erosion: each pixel becomes the minimum over the elliptical footprint
    of radius ``r`` around it (out-of-map pixels ignored). Shrinks bright regions.
    Example: ``erode(x, r=1)`` on a 3 x 3 map of ones with a 0 in the centre gives
    zeros in the centre cross and ones in the corners.
    """
    return _morph(x, r, dilate=False)


@register_transform(
    "dilate",
    params=[_R],
    description="Dilate each map: max over an ellipse of radius r pixels (r=0: identity).",
    aliases=("dilation",),
)
def dilate(x: torch.Tensor, *, r: int) -> torch.Tensor:
    """Grey-scale dilation: each pixel becomes the maximum over the elliptical footprint
    of radius ``r`` around it (out-of-map pixels ignored). Grows bright regions.
    Example: ``dilate(x, r=1)`` on a 3 x 3 map of zeros with a 1 in the centre gives
    ones in the centre cross and zeros in the corners.
    """
    return _morph(x, r, dilate=True)
