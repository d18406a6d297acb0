"""Morphological transforms of each feature map: erosion and dilation.

The structuring element of radius ``r`` is the ``(2r+1) x (2r+1)`` ellipse OpenCV builds
with ``getStructuringElement(MORPH_ELLIPSE, (2r+1, 2r+1))``: row ``dy`` (-r..r) covers the
columns ``|dx| <= round(sqrt(r^2 - dy^2))``. Pixels outside the map never win the min
(erode) or max (dilate), as with OpenCV's default border. ``r = 0`` is the identity.

How: the map is padded by ``r`` with +inf (erode) or -inf (dilate); for each half-width
the ellipse needs, a running min/max along rows is built by shifting; then the rows of
the ellipse are combined by shifting vertically. About 4r cheap passes, all in place.
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


def _extreme_kernel(r: int, dilate: bool):
    """Kernel for :func:`netbend.transforms._kernels.run_slabs` on ``[B, H, W]`` slabs."""
    op = torch.maximum if dilate else torch.minimum
    fill = -math.inf if dilate else math.inf
    widths = half_widths(r)

    def kernel(src: torch.Tensor, dst: torch.Tensor) -> None:
        b, h, w = src.shape
        pad = src.new_full((b, h + 2 * r, w + 2 * r), fill)  # [B, H+2r, W+2r]
        pad[:, r:r + h, r:r + w] = src
        rows = {0: pad[:, :, r:r + w]}  # half-width -> [B, H+2r, W] running extreme
        cur = rows[0]
        for k in range(1, max(widths) + 1):
            cur = op(cur, pad[:, :, r - k:r - k + w])
            op(cur, pad[:, :, r + k:r + k + w], out=cur)
            rows[k] = cur
        dst.copy_(rows[widths[r]][:, r:r + h])
        for dy in range(-r, r + 1):
            if dy:
                op(dst, rows[widths[r + dy]][:, r + dy:r + dy + h], out=dst)

    return kernel


def _morph(x: torch.Tensor, r: int, dilate: bool) -> torch.Tensor:
    if r == 0:
        return x.clone()
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
