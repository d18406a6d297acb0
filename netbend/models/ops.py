"""Pure-PyTorch building blocks of StyleGAN2: FIR resampling, equalised-lr layers, biased leaky ReLU.

Nothing here is compiled; every op runs on CPU and GPU alike and is differentiable.
Buffer and parameter names follow rosinality's ``stylegan2-pytorch`` so its state dicts load as is.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

BLUR_KERNEL = (1, 3, 3, 1)


def make_kernel(taps: Sequence[float], gain: float = 1.0) -> torch.Tensor:
    """Separable 2-D FIR kernel from 1-D taps, normalised to sum ``gain``. Returns [K, K]."""
    k = torch.tensor(list(taps), dtype=torch.float32)
    k = k[None, :] * k[:, None] if k.ndim == 1 else k
    return k / k.sum() * gain


def upfirdn2d(x: torch.Tensor, kernel: torch.Tensor, up: int = 1, down: int = 1,
              pad: tuple[int, int] = (0, 0)) -> torch.Tensor:
    """Upsample by zero insertion, pad, filter with ``kernel`` (true convolution), downsample.

    ``pad = (p0, p1)`` is applied to both axes after upsampling (negative values crop).
    Output size per axis: (in * up + p0 + p1 - K) // down + 1. x: [N, C, H, W].
    """
    n, c, h, w = x.shape
    if up > 1:
        spread = x.new_zeros(n, c, h * up, w * up)  # [N, C, H*up, W*up]
        spread[:, :, ::up, ::up] = x  # fresh tensor: differentiable w.r.t. x
        x = spread
    x = F.pad(x, [pad[0], pad[1], pad[0], pad[1]])
    weight = torch.flip(kernel, [0, 1]).to(x.dtype)[None, None].expand(c, 1, *kernel.shape)
    x = F.conv2d(x, weight, groups=c)  # depthwise FIR, [N, C, H', W']
    if down > 1:
        x = x[:, :, ::down, ::down]
    return x


def fused_leaky_relu(x: torch.Tensor, bias: torch.Tensor | None, negative_slope: float = 0.2,
                     scale: float = math.sqrt(2.0), clamp: float | None = None) -> torch.Tensor:
    """(x + bias) -> leaky ReLU -> times ``scale`` -> optional clamp to [-clamp, clamp].

    ``bias`` is per channel (dim 1). The clamp is the NVlabs ``conv_clamp`` (None = off).
    """
    if bias is not None:
        x = x + bias.reshape(1, -1, *([1] * (x.ndim - 2)))
    x = F.leaky_relu(x, negative_slope) * scale
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return x


class PixelNorm(nn.Module):
    """Normalise each latent to unit mean square over dim 1."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + 1e-8)


class FusedLeakyReLU(nn.Module):
    """Per-channel bias + scaled leaky ReLU (+ optional clamp); parameter ``bias`` [C].

    ``gain`` multiplies the sqrt(2) scale and the clamp (NVlabs' ``gain`` argument of a layer).
    """

    def __init__(self, channels: int, clamp: float | None = None, gain: float = 1.0):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(channels))
        self.clamp = None if clamp is None else clamp * gain
        self.scale = math.sqrt(2.0) * gain

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return fused_leaky_relu(x, self.bias, scale=self.scale, clamp=self.clamp)


class EqualLinear(nn.Module):
    """Linear layer with equalised learning rate: stored weight [out, in] times lr_mul/sqrt(in).

    ``activation=True`` applies the biased scaled leaky ReLU instead of a plain bias.
    """

    def __init__(self, in_dim: int, out_dim: int, bias_init: float = 0.0, lr_mul: float = 1.0,
                 activation: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.activation:
            return fused_leaky_relu(F.linear(x, self.weight * self.scale), self.bias * self.lr_mul)
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class Blur(nn.Module):
    """FIR low-pass filter with padding ``pad``; buffer ``kernel`` [K, K]."""

    def __init__(self, taps: Sequence[float], pad: tuple[int, int], gain: float = 1.0):
        super().__init__()
        self.register_buffer("kernel", make_kernel(taps, gain))
        self.pad = pad

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, pad=self.pad)


class Upsample(nn.Module):
    """2x FIR upsampling (used on the RGB skip path); buffer ``kernel`` [K, K]."""

    def __init__(self, taps: Sequence[float] = BLUR_KERNEL, factor: int = 2):
        super().__init__()
        self.register_buffer("kernel", make_kernel(taps, factor ** 2))
        self.factor = factor
        p = len(taps) - factor
        self.pad = ((p + 1) // 2 + factor - 1, p // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upfirdn2d(x, self.kernel, up=self.factor, pad=self.pad)
