"""A pure-PyTorch StyleGAN2 generator (config F: skip generator, modulated convolutions).

Module and parameter names equal those of rosinality's ``stylegan2-pytorch`` ``g_ema`` state dict
(``style.*``, ``input.input``, ``conv1.*``, ``to_rgb1.*``, ``convs.{i}.*``, ``to_rgbs.{i}.*``,
``noises.noise_{i}``), so such a state dict loads with ``strict=True``.

Layer numbering follows the paper: paper layer 1 is ``convs.0`` (the first 8x8 convolution; the
4x4 ``conv1`` is not counted), up to 16 at 1024 px. Each ``convs.{i}`` module returns its
activation (conv -> noise -> bias + leaky ReLU); that returned tensor, possibly replaced by a
forward hook, is what feeds both the next convolution and the ToRGB branch.

Example (a tiny trainable generator; ``forward`` is differentiable)::

    g = Generator(64, style_dim=128, n_mlp=4, channel_multiplier=1, channel_max=128)
    img = g(torch.randn(2, 128))            # [2, 3, 64, 64], noise drawn at random
    img = g(w=g.mapping(z), noise="const")  # w: [N, w_dim] or w+ [N, num_ws, w_dim]
"""
from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from netbend.models.ops import BLUR_KERNEL, Blur, EqualLinear, FusedLeakyReLU, PixelNorm, Upsample

MODCONV_FORMS = ("auto", "grouped", "scaled")
ARCHITECTURES = ("skip", "orig", "resnet")


def choose_modconv(device: torch.device, batch: int) -> str:
    """The faster modulated-convolution form for a device and batch size (``auto``).

    Rule: batch 1 -> ``grouped`` (then it is one ordinary convolution with the modulated weights,
    the same work as ``scaled``, and bit-identical to rosinality's code); batch > 1 on CPU ->
    ``scaled`` (``benchmarks/modconv.py``, FFHQ channel table, batch 8: 1.6x faster at 64 px,
    on par at 256 px); batch > 1 on other devices -> ``grouped`` (NVlabs' choice for float32
    inference; not measured here).
    """
    if batch == 1 or device.type != "cpu":
        return "grouped"
    return "scaled"


def default_channels(size: int, channel_multiplier: int = 2, channel_max: int = 512) -> dict[int, int]:
    """Channels per resolution: min(channel_max, 16384 * channel_multiplier / res).

    With the defaults this is rosinality's table (512 up to 64 px, then halving per octave).
    """
    log_size = int(math.log2(size))
    return {2 ** i: min(channel_max, 16384 * channel_multiplier // 2 ** i) for i in range(2, log_size + 1)}


class ModulatedConv2d(nn.Module):
    """Convolution whose input channels are scaled per sample by an affine map of the style.

    Two equivalent forms (``form`` attribute, see :func:`choose_modconv`):
    ``grouped`` modulates/demodulates the weights per sample and runs one grouped convolution
    (groups = N); ``scaled`` scales the input by the style, runs one shared convolution, and scales
    the output by the demodulation coefficients.
    """

    def __init__(self, in_channel: int, out_channel: int, kernel_size: int, style_dim: int,
                 demodulate: bool = True, upsample: bool = False, blur_kernel: Sequence[int] = BLUR_KERNEL):
        super().__init__()
        self.in_channel, self.out_channel, self.kernel_size = in_channel, out_channel, kernel_size
        self.demodulate, self.upsample = demodulate, upsample
        self.scale = 1 / math.sqrt(in_channel * kernel_size ** 2)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(torch.randn(1, out_channel, in_channel, kernel_size, kernel_size))
        self.modulation = EqualLinear(style_dim, in_channel, bias_init=1)
        self.form = "auto"
        if upsample:
            p = (len(blur_kernel) - 2) - (kernel_size - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2 + 1, p // 2 + 1), gain=4)

    def forward(self, x: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        s = self.modulation(style)  # [N, I]
        form = choose_modconv(x.device, x.shape[0]) if self.form == "auto" else self.form
        out = self._grouped(x, s) if form == "grouped" else self._scaled(x, s)
        return self.blur(out) if self.upsample else out

    def _grouped(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        n, cin, h, w = x.shape
        cout, k = self.out_channel, self.kernel_size
        weight = self.scale * self.weight * s.view(n, 1, cin, 1, 1)  # [N, O, I, k, k]
        if self.demodulate:
            demod = torch.rsqrt(weight.square().sum([2, 3, 4]) + 1e-8)  # [N, O]
            weight = weight * demod.view(n, cout, 1, 1, 1)
        x = x.reshape(1, n * cin, h, w)
        if self.upsample:
            weight = weight.transpose(1, 2).reshape(n * cin, cout, k, k)  # [N*I, O, k, k]
            out = F.conv_transpose2d(x, weight, stride=2, groups=n)
        else:
            out = F.conv2d(x, weight.reshape(n * cout, cin, k, k), padding=self.padding, groups=n)
        return out.reshape(n, cout, *out.shape[2:])  # [N, O, H', W']

    def _scaled(self, x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        weight = self.scale * self.weight[0]  # [O, I, k, k]
        x = x * s[:, :, None, None]
        if self.upsample:
            out = F.conv_transpose2d(x, weight.transpose(0, 1), stride=2)
        else:
            out = F.conv2d(x, weight, padding=self.padding)
        if self.demodulate:
            # sum_{i,k} (w_oik s_i)^2 = (s^2) @ (sum_k w_oik^2)^T
            demod = torch.rsqrt(s.square() @ weight.square().sum([2, 3]).t() + 1e-8)  # [N, O]
            out = out * demod[:, :, None, None]
        return out


class NoiseInjection(nn.Module):
    """Adds ``weight * noise``; ``noise=None`` adds nothing."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        return x if noise is None else x + self.weight * noise


class ConstantInput(nn.Module):
    """The learned 4x4 input, repeated over the batch of ``w``."""

    def __init__(self, channel: int, size: int = 4):
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channel, size, size))

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return self.input.repeat(w.shape[0], 1, 1, 1)  # [N, C, 4, 4]


class StyledConv(nn.Module):
    """Modulated conv -> noise -> bias + leaky ReLU (x sqrt 2, optional clamp). A bendable layer."""

    def __init__(self, in_channel: int, out_channel: int, style_dim: int, upsample: bool = False,
                 conv_clamp: float | None = None, gain: float = 1.0):
        super().__init__()
        self.conv = ModulatedConv2d(in_channel, out_channel, 3, style_dim, upsample=upsample)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_channel, clamp=conv_clamp, gain=gain)

    def forward(self, x: torch.Tensor, style: torch.Tensor, noise: torch.Tensor | None = None) -> torch.Tensor:
        return self.activate(self.noise(self.conv(x, style), noise))


class ToRGB(nn.Module):
    """1x1 modulated conv (no demodulation) to RGB + bias, added to the upsampled previous RGB."""

    def __init__(self, in_channel: int, style_dim: int, upsample: bool = True, conv_clamp: float | None = None):
        super().__init__()
        if upsample:
            self.upsample = Upsample()
        self.conv = ModulatedConv2d(in_channel, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))
        self.clamp = conv_clamp

    def forward(self, x: torch.Tensor, style: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        out = self.conv(x, style) + self.bias
        if self.clamp is not None:
            out = out.clamp(-self.clamp, self.clamp)
        return out if skip is None else out + self.upsample(skip)


class ResidualUp(nn.Module):
    """The ``resnet`` architecture's shortcut: 1x1 conv (no bias, x sqrt(1/2)) then 2x FIR upsampling."""

    def __init__(self, in_channel: int, out_channel: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channel, in_channel, 1, 1))
        self.upsample = Upsample()
        self.scale = math.sqrt(0.5 / in_channel)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.upsample(F.conv2d(x, self.weight * self.scale))  # [N, O, 2H, 2W]


class Generator(nn.Module):
    """StyleGAN2 generator (mapping ``style`` + synthesis), rosinality module names.

    Args:
        size: output resolution, a power of two >= 8.
        style_dim: W dimension (and Z dimension unless ``z_dim`` is given).
        n_mlp: number of mapping layers.
        channel_multiplier, channel_max: channel table, see :func:`default_channels`.
        channels: explicit {resolution: channels} table (overrides the two above).
        lr_mlp: learning-rate multiplier of the mapping layers.
        z_dim: Z dimension if different from ``style_dim`` (NVlabs models allow it).
        conv_clamp: clamp of conv/ToRGB outputs (NVlabs ``conv_clamp``), None = off.
        architecture: NVlabs StyleGAN2-ADA synthesis: ``skip`` (RGB summed over resolutions, the
            paper's config F), ``orig`` (one ``to_rgb`` at the end) or ``resnet`` (``orig`` plus a
            ``skips.{k}`` shortcut around each block; the block's second conv and the shortcut are
            scaled by sqrt(1/2) and summed after that conv's hook: a bend on it bends the residual).
        c_dim: number of classes of a conditional model: ``embed`` maps a one-hot class to w_dim
            features, normalised and concatenated to the normalised z.
    """

    def __init__(self, size: int, style_dim: int = 512, n_mlp: int = 8, channel_multiplier: int = 2,
                 channel_max: int = 512, channels: dict[int, int] | None = None, lr_mlp: float = 0.01,
                 z_dim: int | None = None, conv_clamp: float | None = None, architecture: str = "skip",
                 c_dim: int = 0):
        super().__init__()
        if architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {architecture!r}")
        self.architecture, self.c_dim = architecture, int(c_dim)
        if size < 8 or size & (size - 1):
            raise ValueError(f"size must be a power of two >= 8, got {size}")
        self.size, self.style_dim, self.n_mlp = size, style_dim, n_mlp
        self.z_dim = z_dim or style_dim
        self.lr_mlp, self.conv_clamp = lr_mlp, conv_clamp
        self.log_size = int(math.log2(size))
        table = channels or default_channels(size, channel_multiplier, channel_max)
        self.channels = {int(r): int(c) for r, c in table.items()}
        dims = [self.z_dim + (style_dim if self.c_dim else 0)] + [style_dim] * n_mlp
        self.style = nn.Sequential(PixelNorm(), *[
            EqualLinear(dims[i], style_dim, lr_mul=lr_mlp, activation=True) for i in range(n_mlp)])
        if self.c_dim:
            self.embed = EqualLinear(self.c_dim, style_dim)
        ch, skip = self.channels, architecture == "skip"
        self.input = ConstantInput(ch[4])
        self.conv1 = StyledConv(ch[4], ch[4], style_dim, conv_clamp=conv_clamp)
        if skip:
            self.to_rgb1 = ToRGB(ch[4], style_dim, upsample=False, conv_clamp=conv_clamp)
        self.convs, self.to_rgbs, self.noises = nn.ModuleList(), nn.ModuleList(), nn.Module()
        gain = math.sqrt(0.5) if architecture == "resnet" else 1.0
        if architecture == "resnet":
            self.skips = nn.ModuleList()
        for i in range(3, self.log_size + 1):
            self.convs.append(StyledConv(ch[2 ** (i - 1)], ch[2 ** i], style_dim, upsample=True,
                                         conv_clamp=conv_clamp))
            self.convs.append(StyledConv(ch[2 ** i], ch[2 ** i], style_dim, conv_clamp=conv_clamp, gain=gain))
            if skip:
                self.to_rgbs.append(ToRGB(ch[2 ** i], style_dim, conv_clamp=conv_clamp))
            if architecture == "resnet":
                self.skips.append(ResidualUp(ch[2 ** (i - 1)], ch[2 ** i]))
        if not skip:
            self.to_rgb = ToRGB(ch[size], style_dim, upsample=False, conv_clamp=conv_clamp)
        self.num_layers = len(self.convs) + 1  # noise inputs, 4x4 included
        for i, res in enumerate(self.noise_resolutions()):
            self.noises.register_buffer(f"noise_{i}", torch.randn(1, 1, res, res))
        self.n_latent = self.log_size * 2 - 2  # num_ws

    def noise_resolutions(self) -> list[int]:
        """Resolution of each noise input: 4, 8, 8, 16, 16, ..."""
        return [2 ** ((i + 5) // 2) for i in range(self.num_layers)]

    @property
    def paper_layers(self) -> dict[int, str]:
        """Paper layer number -> module path: {1: 'convs.0', 2: 'convs.1', ...}."""
        return {i + 1: f"convs.{i}" for i in range(len(self.convs))}

    def set_modconv(self, form: str) -> None:
        """Use ``auto``, ``grouped`` or ``scaled`` modulated convolutions everywhere."""
        if form not in MODCONV_FORMS:
            raise ValueError(f"unknown modconv form {form!r}; expected one of {MODCONV_FORMS}")
        for m in self.modules():
            if isinstance(m, ModulatedConv2d):
                m.form = form

    def mapping(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """Z [N, z_dim] (+ one-hot class c [N, c_dim] for a conditional model) -> W [N, w_dim]."""
        if not self.c_dim:
            return self.style(z)
        if c is None:
            raise ValueError("conditional mapping needs a class vector c")
        y = self.style[0](self.embed(c))  # PixelNorm of the class embedding
        return self.style[1:](torch.cat([self.style[0](z), y], dim=1))  # [N, z_dim + w_dim] -> [N, w_dim]

    def make_noise(self, mode, batch: int, device, dtype=torch.float32) -> list:
        """Noise per layer: 'random' (unseeded), 'const' (stored buffers), 'none', or a list."""
        if isinstance(mode, (list, tuple)):
            return list(mode)
        if mode == "const":
            return [getattr(self.noises, f"noise_{i}") for i in range(self.num_layers)]
        if mode == "none":
            return [None] * self.num_layers
        if mode == "random":
            return [torch.randn(batch, 1, r, r, device=device, dtype=dtype) for r in self.noise_resolutions()]
        raise ValueError(f"unknown noise mode {mode!r}; expected 'random', 'const', 'none' or a list")

    def forward(self, z: torch.Tensor | None = None, *, w: torch.Tensor | None = None,
                noise="random", c: torch.Tensor | None = None) -> torch.Tensor:
        """Image [N, 3, size, size] from ``z`` [N, z_dim] or ``w`` ([N, w_dim] or [N, num_ws, w_dim])."""
        if w is None:
            w = self.mapping(z, c)
        if w.ndim == 2:
            w = w[:, None, :].expand(-1, self.n_latent, -1)  # [N, num_ws, w_dim]
        noises = self.make_noise(noise, w.shape[0], w.device, w.dtype)
        out = self.conv1(self.input(w), w[:, 0], noises[0])
        if self.architecture != "skip":
            return self._forward_single_rgb(out, w, noises)
        skip = self.to_rgb1(out, w[:, 1])
        for i, to_rgb in enumerate(self.to_rgbs):
            out = self.convs[2 * i](out, w[:, 2 * i + 1], noises[2 * i + 1])
            out = self.convs[2 * i + 1](out, w[:, 2 * i + 2], noises[2 * i + 2])
            skip = to_rgb(out, w[:, 2 * i + 3], skip)
        return skip

    def layer_shapes(self) -> list[tuple[str, tuple[int, int, int]]]:
        """(module path, output shape [C, H, W]) of every module :meth:`forward` runs that outputs a
        4-D tensor, in call order: what a dry forward pass with hooks records, without computing.

        Follows :meth:`forward` step by step (tests compare it with a real pass for several
        architectures); subclasses that change the forward pass get the real pass instead.
        """
        ch, out = self.channels, []

        def styled(path: str, c: int, r: int, upsample: bool) -> None:
            out.extend([(f"{path}.conv.blur", (c, r, r))] if upsample else [])
            out.extend((f"{path}{part}", (c, r, r)) for part in (".conv", ".noise", ".activate", ""))

        out.append(("input", (ch[4], 4, 4)))
        styled("conv1", ch[4], 4, False)
        skip = self.architecture == "skip"
        if skip:
            out.extend([("to_rgb1.conv", (3, 4, 4)), ("to_rgb1", (3, 4, 4))])
        for i in range(len(self.convs) // 2):
            r = 2 ** (i + 3)
            styled(f"convs.{2 * i}", ch[r], r, True)
            styled(f"convs.{2 * i + 1}", ch[r], r, False)
            if skip:
                out.extend((f"to_rgbs.{i}{part}", (3, r, r)) for part in (".conv", ".upsample", ""))
            if self.architecture == "resnet":
                out.extend((f"skips.{i}{part}", (ch[r], r, r)) for part in (".upsample", ""))
        if not skip:
            out.extend([("to_rgb.conv", (3, self.size, self.size)), ("to_rgb", (3, self.size, self.size))])
        return out

    def _forward_single_rgb(self, out: torch.Tensor, w: torch.Tensor, noises: list) -> torch.Tensor:
        """``orig`` / ``resnet``: the blocks, then one ToRGB at full resolution."""
        for i in range(len(self.convs) // 2):
            x = out
            out = self.convs[2 * i](out, w[:, 2 * i + 1], noises[2 * i + 1])
            out = self.convs[2 * i + 1](out, w[:, 2 * i + 2], noises[2 * i + 2])
            if self.architecture == "resnet":
                out = self.skips[i](x) + out
        return self.to_rgb(out, w[:, self.n_latent - 1])

    def config(self) -> dict:
        """Constructor arguments (JSON-able) that rebuild this architecture."""
        return {"size": self.size, "style_dim": self.style_dim, "n_mlp": self.n_mlp,
                "channels": {str(r): c for r, c in self.channels.items()}, "lr_mlp": self.lr_mlp,
                "z_dim": self.z_dim, "conv_clamp": self.conv_clamp,
                **({"architecture": self.architecture} if self.architecture != "skip" else {}),
                **({"c_dim": self.c_dim} if self.c_dim else {})}
