"""StyleGAN3's filtered leaky ReLU and modulated convolution in plain PyTorch (nothing compiled).

Same mathematics as NVlabs' reference path (``filtered_lrelu`` with ``impl='ref'``: bias, 2-D
upsampling by zero insertion + FIR low-pass, leaky ReLU, clamp, FIR low-pass + decimation), written
so no work is spent on the inserted zeros or on samples the decimation drops:

* upsampling is polyphase per axis (separable filters, gain ``up`` per axis): ``up`` short
  sub-filters run on the input grid in one grouped convolution and their outputs are interleaved;
* downsampling is a strided convolution, per axis for a separable filter, in 2-D for a radial one.

Filters are true convolutions (NVlabs' ``flip_filter=False``). Padding ``[x0, x1, y0, y1]`` is
applied after upsampling; negative values crop.
"""
from __future__ import annotations

import math

import torch
from torch.nn import functional as F

SQRT2 = math.sqrt(2.0)


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
    """One axis (3 = W, 2 = H) of :func:`upsample_fir`, polyphase: no multiply touches an inserted zero.

    With s = K - 1 - p0, output n is sum_i x[i] f[n + s - up*i]. Writing n + s = up*q + phase,
    that is a plain convolution of x with the sub-filter g_phase[j] = f[up*j + phase]; the ``up``
    phases come out of one grouped convolution as ``up`` channels per input channel and are
    interleaved along the axis.
    """
    c, length, k = x.shape[1], x.shape[dim], f.numel()
    taps = -(-k // up)  # J: taps per phase
    g = F.pad(f * up, [0, taps * up - k]).reshape(taps, up).t().flip(1)  # [up, J], flipped for correlation
    g = g.to(x.dtype).repeat(c, 1)  # [C*up, J]
    if dim == 3:
        z = F.conv2d(x, g[:, None, None, :], padding=(0, taps - 1), groups=c)  # [N, C*up, H, L+J-1]
        n, _, h, q = z.shape
        z = z.reshape(n, c, up, h, q).permute(0, 1, 3, 4, 2).reshape(n, c, h, q * up)
    else:
        z = F.conv2d(x, g[:, None, :, None], padding=(taps - 1, 0), groups=c)  # [N, C*up, L+J-1, W]
        n, _, q, w = z.shape
        z = z.reshape(n, c, up, q, w).permute(0, 1, 3, 2, 4).reshape(n, c, q * up, w)
    n_out = length * up + p0 + p1 - k + 1
    start = k - 1 - p0  # output n is the interleaved z at n + start
    pad = [-start, n_out + start - z.shape[dim]]
    return F.pad(z, pad if dim == 3 else [0, 0, *pad])


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

