"""Morphological transforms of each feature map: erosion and dilation.

The structuring element of radius ``r`` is the ``(2r+1) x (2r+1)`` ellipse OpenCV builds
with ``getStructuringElement(MORPH_ELLIPSE, (2r+1, 2r+1))``: row ``dy`` (-r..r) covers the
columns ``|dx| <= round(sqrt(r^2 - dy^2))``. Pixels outside the map never win the min
(erode) or max (dilate), as with OpenCV's default border. ``r = 0`` is the identity.

How: the map is padded by ``r`` with +inf (erode) or -inf (dilate); running min/max
along x are built for each half-width up to r (one shifted op per half-width), then the
2r+1 rows of the ellipse are combined by shifting vertically: about 3r+2 passes over
the data, on cache-sized slabs of maps.
"""
from __future__ import annotations

import math
from functools import lru_cache

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


def _row_extremes(flat: torch.Tensor, most: int, op) -> list[torch.Tensor]:
    """Running min/max along x over half-widths 0..most, on flattened padded maps.

    ``flat`` is ``[B, T]`` (padded maps, rows one after another). ``rows[k][:, i]`` holds
    the extreme over flat positions ``i .. i+2k`` (centred on ``i+k``); the padding
    (>= k columns each side) keeps every window that matters inside its own row. Half-width
    k comes from half-width a = ceil((2k-1)/4) in one op: the windows ``[c-k, c-k+2a]`` and
    ``[c+k-2a, c+k]`` overlap, so one pass per half-width. All ops are contiguous 1-D.
    """
    rows = [flat]
    t = flat.shape[1]
    for k in range(1, most + 1):
        n = t - 2 * k
        if k == 1:
            cur = op(flat[:, 0:n], flat[:, 1:1 + n])
            op(cur, flat[:, 2:2 + n], out=cur)
        else:
            a = (2 * k + 2) // 4  # ceil((2k - 1) / 4)
            cur = op(rows[a][:, 0:n], rows[a][:, 2 * (k - a):2 * (k - a) + n])
        rows.append(cur)
    return rows


def _extreme_kernel(r: int, dilate: bool):
    """Kernel for :func:`netbend.transforms._kernels.run_slabs` on ``[B, H, W]`` slabs."""
    op = torch.maximum if dilate else torch.minimum
    fill = -math.inf if dilate else math.inf
    widths = half_widths(r)

    def kernel(src: torch.Tensor, dst: torch.Tensor) -> None:
        b, h, w = src.shape
        wp = w + 2 * r
        pad = torch.nn.functional.pad(src, (r, r, r, r), value=fill)  # [B, H+2r, W+2r]
        rows = _row_extremes(pad.view(b, -1), max(widths), op)  # flat [B, T - 2k] each
        n = h * wp  # output rows r..r+H-1 of the padded maps, pad columns included

        def band(dy: int) -> torch.Tensor:  # footprint row dy for every output: [B, H*Wp]
            k = widths[r + dy]
            start = (r + dy) * wp - k
            return rows[k][:, start:start + n]

        acc = op(band(0), band(1))
        for dy in range(-r, r + 1):
            if dy not in (0, 1):
                op(acc, band(dy), out=acc)
        dst.copy_(acc.view(b, h, wp)[:, :, r:r + w])

    return kernel


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
    maps = x.reshape(-1, *x.shape[-2:])  # [M, H, W]; min/max are exact in any dtype
    out = K.empty_like(maps)
    return K.run_slabs(_extreme_kernel(r, dilate), maps, out).view(x.shape)


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
