"""StyleGAN3's filtered leaky ReLU and modulated convolution in plain PyTorch (nothing compiled).

Same mathematics as NVlabs' reference path (``filtered_lrelu`` with ``impl='ref'``: bias, 2-D
upsampling by zero insertion + FIR low-pass, leaky ReLU, clamp, FIR low-pass + decimation), written
so no work is spent on the inserted zeros or on samples the decimation drops:

* upsampling is a strided transposed convolution per axis (separable filters, gain ``up`` per axis);
* downsampling is a strided convolution, per axis for a separable filter, in 2-D for a radial one.

Filters are true convolutions (NVlabs' ``flip_filter=False``). Padding ``[x0, x1, y0, y1]`` is
applied after upsampling; negative values crop.
"""
from __future__ import annotations

import math

import torch
from torch.nn import functional as F


def upsample_fir(x: torch.Tensor, f: torch.Tensor | None, up: int, padding: list[int]) -> torch.Tensor:
    """Zero-insertion upsampling by ``up``, pad, separable FIR ``f`` [K] (gain up^2 overall).

    x: [N, C, H, W] -> [N, C, H*up + y0 + y1 - K + 1, W*up + x0 + x1 - K + 1].
    """
    x0, x1, y0, y1 = padding
    if f is None:
        f = torch.ones(1, device=x.device)
    x = _up_axis(x, f, up, x0, x1, dim=3)
    return _up_axis(x, f, up, y0, y1, dim=2)


def _up_axis(x: torch.Tensor, f: torch.Tensor, up: int, p0: int, p1: int, dim: int) -> torch.Tensor:
    c, length, k = x.shape[1], x.shape[dim], f.numel()
    shape = (c, 1, 1, k) if dim == 3 else (c, 1, k, 1)
    weight = (f * up).to(x.dtype).reshape(1, 1, *shape[2:]).expand(shape)
    stride = (1, up) if dim == 3 else (up, 1)
    if up == 1 and k == 1:
        y = x * weight[0, 0, 0, 0]
    else:
        y = F.conv_transpose2d(x, weight, stride=stride, groups=c)  # [.., (L-1)*up + K along dim]
    n_out = length * up + p0 + p1 - k + 1
    start = k - 1 - p0  # y[n] of the padded true convolution is the transposed output at n + start
    pad = [-start, n_out + start - y.shape[dim]]
    return F.pad(y, pad if dim == 3 else [0, 0, *pad])


def downsample_fir(x: torch.Tensor, f: torch.Tensor | None, down: int) -> torch.Tensor:
    """FIR ``f`` ([K] separable or [K, K]) then keep every ``down``-th sample. x: [N, C, H, W]."""
    if f is None:
        return x[:, :, ::down, ::down] if down > 1 else x
    c = x.shape[1]
    w = f.flip(list(range(f.ndim))).to(x.dtype)  # true convolution = correlation with the flip
    if f.ndim == 2:
        return F.conv2d(x, w[None, None].expand(c, 1, *w.shape), stride=down, groups=c)
    k = w.numel()
    x = F.conv2d(x, w.reshape(1, 1, 1, k).expand(c, 1, 1, k), stride=(1, down), groups=c)
    return F.conv2d(x, w.reshape(1, 1, k, 1).expand(c, 1, k, 1), stride=(down, 1), groups=c)


def filtered_lrelu(x: torch.Tensor, bias: torch.Tensor, fu: torch.Tensor | None, fd: torch.Tensor | None,
                   up: int, down: int, padding: list[int], gain: float, slope: float,
                   clamp: float | None) -> torch.Tensor:
    """bias -> upsample (fu) -> leaky ReLU x gain -> clamp -> downsample (fd). x: [N, C, H, W]."""
    x = x + bias.to(x.dtype).reshape(1, -1, 1, 1)
    x = upsample_fir(x, fu, up, padding)
    x = F.leaky_relu(x, slope) if slope != 1 else x
    if gain != 1:
        x = x * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return downsample_fir(x, fd, down)


def modulated_conv(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor, *, demodulate: bool,
                   padding: int, input_gain: torch.Tensor, form: str) -> torch.Tensor:
    """StyleGAN3's modulated convolution. x [N, I, H, W], weight [O, I, k, k], styles [N, I].

    With ``demodulate`` the weight and styles are first normalised to unit mean square (per sample
    for the styles: the batch then never changes a sample's image; NVlabs takes that mean over the
    whole batch, a scale the demodulation removes again up to its 1e-8 epsilon).
    ``form``: ``grouped`` (per-sample weights, one grouped convolution) or ``scaled`` (scale the
    input, one shared convolution, scale the output); see :func:`netbend.models.stylegan2.choose_modconv`.
    """
    n, cin = styles.shape
    if demodulate:
        weight = weight * weight.square().mean([1, 2, 3], keepdim=True).rsqrt()
        styles = styles * styles.square().mean(1, keepdim=True).rsqrt()
    if form == "scaled":
        out = F.conv2d(x * (styles * input_gain)[:, :, None, None], weight, padding=padding)
        if demodulate:
            demod = (styles.square() @ weight.square().sum([2, 3]).t() + 1e-8).rsqrt()  # [N, O]
            out = out * demod[:, :, None, None]
        return out
    w = weight[None] * styles[:, None, :, None, None]  # [N, O, I, k, k]
    if demodulate:
        w = w * (w.square().sum([2, 3, 4]) + 1e-8).rsqrt()[:, :, None, None, None]
    w = w * input_gain
    out = F.conv2d(x.reshape(1, n * cin, *x.shape[2:]), w.reshape(-1, cin, *w.shape[3:]),
                   padding=padding, groups=n)
    return out.reshape(n, -1, *out.shape[2:])  # [N, O, H', W']


SQRT2 = math.sqrt(2.0)
