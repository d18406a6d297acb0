"""Filters of each feature map: seeded Gaussian noise and Gaussian blur."""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from netbend.transforms import _kernels as K
from netbend.transforms.registry import Param, register_transform


@register_transform(
    "noise",
    params=[
        Param("std", float, min=0.0, unit="activation", doc="standard deviation"),
        Param("seed", int, default=0, doc="random seed"),
    ],
    description="Add seeded Gaussian noise: f(x) = x + std * N(0, 1).",
)
def noise(x: torch.Tensor, *, std: float, seed: int = 0) -> torch.Tensor:
    """Add ``std`` times standard normal noise, drawn in float32 from a generator seeded
    with ``seed`` on ``x``'s device: the same seed, shape and device give the same noise.
    ``std = 0`` returns an exact copy.
    Example: ``noise(torch.zeros(1, 1, 2, 2), std=0.5, seed=3)`` is 0.5 * N(0, 1) noise.
    """
    if std == 0:
        return x.clone()
    gen = torch.Generator(device=x.device)
    gen.manual_seed(seed)
    eps = K.empty(tuple(x.shape), torch.float32, x.device)
    torch.randn(x.shape, generator=gen, out=eps)
    return eps.mul_(std).add_(x).to(x.dtype)


def _reflect101(i: np.ndarray, n: int) -> np.ndarray:
    """Fold indices into 0..n-1 mirroring about the edge pixels (OpenCV BORDER_REFLECT_101)."""
    if n == 1:
        return np.zeros_like(i)
    period = 2 * (n - 1)
    i = np.mod(i, period)
    return np.where(i < n, i, period - i)


def gaussian_radius(sigma: float, n: int) -> int:
    """Kernel radius ceil(3 sigma), clipped to n - 1 so the mirror needs one fold."""
    return max(0, min(math.ceil(3 * sigma), n - 1))


def _taps(sigma: float, r: int) -> list[float]:
    """The 2r+1 normalised Gaussian taps."""
    t = np.exp(-(np.arange(-r, r + 1) ** 2) / (2 * sigma * sigma))
    return (t / t.sum()).tolist()


@lru_cache(maxsize=64)
def _blur_matrix(n: int, sigma: float, device: str, dtype: torch.dtype) -> torch.Tensor:
    """[n, n] matrix of the 1-D Gaussian blur with mirrored (reflect-101) borders."""
    r = gaussian_radius(sigma, n)
    taps = _taps(sigma, r)
    mat = np.zeros((n, n))
    rows = np.arange(n)
    for t, k in zip(range(-r, r + 1), taps):  # loop over the 2r+1 kernel taps
        np.add.at(mat, (rows, _reflect101(rows + t, n)), k)
    return torch.from_numpy(mat).to(device=device, dtype=dtype)


@register_transform(
    "blur",
    params=[Param("sigma", float, min=0.0, max=100.0, unit="pixels", doc="Gaussian std dev")],
    description="Gaussian blur of each map (sigma pixels, mirrored borders; 0: identity).",
)
def blur(x: torch.Tensor, *, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with standard deviation ``sigma`` pixels along both axes.

    Kernel radius ceil(3 sigma), clipped to the map size minus one; taps normalised to
    sum 1; borders mirrored about the edge pixel (OpenCV's default BORDER_REFLECT_101,
    so ``cv2.GaussianBlur(m, (2R+1, 2R+1), sigma)`` gives the same). ``sigma = 0`` returns
    an exact copy. Example: ``blur(x, sigma=1.0)`` on a 64 x 64 map uses a 7-tap kernel.
    """
    if sigma == 0:
        return x.clone()
    n, c, h, w = x.shape
    maps = K.as_maps(x)  # [M, H, W]
    rh, rw = gaussian_radius(sigma, h), gaussian_radius(sigma, w)
    # Few taps: shift-and-add (cost ~ taps); many: banded matrices (cost ~ map size).
    if 7 * (2 * max(rh, rw) + 1) <= max(h, w):
        kernel = _shift_kernel(_taps(sigma, rh), _taps(sigma, rw))
    else:
        kernel = _matrix_kernel(_blur_matrix(h, sigma, str(x.device), maps.dtype),
                                _blur_matrix(w, sigma, str(x.device), maps.dtype))
    return K.restore(K.run_slabs(kernel, maps, K.empty_like(maps)), x)


def _shift_kernel(th: list[float], tw: list[float]):
    rh, rw = len(th) // 2, len(tw) // 2

    def kernel(src: torch.Tensor, dst: torch.Tensor) -> None:  # [B, H, W] each
        h, w = src.shape[1:]
        pad = F.pad(src.unsqueeze(1), (rw, rw, rh, rh), mode="reflect")[:, 0]  # [B, H+2rh, W+2rw]
        tmp = torch.mul(pad[:, :, :w], tw[0])  # along x: [B, H+2rh, W]
        for i in range(1, len(tw)):  # loop over the kernel taps
            tmp.add_(pad[:, :, i:i + w], alpha=tw[i])
        torch.mul(tmp[:, :h], th[0], out=dst)  # along y
        for i in range(1, len(th)):
            dst.add_(tmp[:, i:i + h], alpha=th[i])

    return kernel


def _matrix_kernel(rows: torch.Tensor, cols: torch.Tensor):
    def kernel(src: torch.Tensor, dst: torch.Tensor) -> None:
        dst.copy_(K.separable(src, rows, cols))

    return kernel
