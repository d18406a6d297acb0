"""A pure-PyTorch StyleGAN3 (alias-free) generator, configs T and R, at any resolution.

Module names are NVlabs' own, flattened out of ``synthesis``: ``mapping.fc{i}`` (+ ``mapping.embed``
for conditional models), ``input`` (the Fourier features), then one module per synthesis layer named
``L{i}_{size}_{channels}`` as NVlabs names it (``L0_36_512`` ... ``L14_1024_3``, the last one being
ToRGB). So an NVlabs state dict loads after dropping its ``synthesis.`` prefix.

Paper layer numbers: layer ``L{i}`` is paper layer ``i + 1`` for i < num_layers, i.e. 1-14 for the
standard 14-layer config (the paper's count excludes the Fourier features and ToRGB, which plans
address by path: ``input``, ``L14_1024_3``). Each numbered layer outputs [N, C, H, W] with the
margin pixels NVlabs keeps around the image (``L0_36_512`` is 36x36 for a 16x16 sampling grid).

Everything runs in float32 (fp16 layers of the checkpoint included: NVlabs' own CPU path does the
same). ``noise`` arguments are accepted and ignored: StyleGAN3 has no noise inputs.

Example (a tiny generator built from a config dict, see :func:`layer_config`)::

    g = StyleGAN3Generator(config)
    img = g(w=g.mapping(z))    # [N, 3, R, R]
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from netbend.models.alias_free_ops import SQRT2, filtered_lrelu, modulated_conv
from netbend.models.ops import EqualLinear
from netbend.models.stylegan2 import MODCONV_FORMS, choose_modconv


def normalize(x: torch.Tensor) -> torch.Tensor:
    """Unit mean square over dim 1 (NVlabs ``normalize_2nd_moment``)."""
    return x * (x.square().mean(1, keepdim=True) + 1e-8).rsqrt()


class MappingNetwork(nn.Module):
    """z (+ one-hot class c) -> w. ``fc{i}`` layers, optional ``embed``, buffer ``w_avg``."""

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_layers: int, lr_mul: float = 0.01):
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_layers = z_dim, c_dim, w_dim, num_layers
        if c_dim > 0:
            self.embed = EqualLinear(c_dim, w_dim)
        dims = [z_dim + (w_dim if c_dim else 0)] + [w_dim] * num_layers
        for i in range(num_layers):
            setattr(self, f"fc{i}", EqualLinear(dims[i], dims[i + 1], lr_mul=lr_mul, activation=True))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        x = normalize(z.float())
        if self.c_dim > 0:
            if c is None:
                raise ValueError("conditional mapping needs a class vector c")
            x = torch.cat([x, normalize(self.embed(c.float()))], dim=1)  # [N, z_dim + w_dim]
        for i in range(self.num_layers):
            x = getattr(self, f"fc{i}")(x)
        return x  # [N, w_dim]


class SynthesisInput(nn.Module):
    """Fourier features on a sampling grid, rotated/translated by w and a user transform.

    ``transform`` (buffer, 3x3) is the checkpoint's inverse transform of the image; ``view``
    (attribute: None, [3, 3], or [N, 3, 3] one per sample) replaces it without touching the
    weights (``--translate/--rotate``).
    """

    def __init__(self, w_dim: int, channels: int, size: tuple[int, int], sampling_rate: float, bandwidth: float):
        super().__init__()
        self.channels, self.size = channels, (int(size[0]), int(size[1]))
        self.sampling_rate, self.bandwidth = float(sampling_rate), float(bandwidth)
        self.weight = nn.Parameter(torch.randn(channels, channels))
        self.affine = EqualLinear(w_dim, 4)
        self.register_buffer("transform", torch.eye(3))
        self.register_buffer("freqs", torch.zeros(channels, 2))
        self.register_buffer("phases", torch.zeros(channels))
        self.view: torch.Tensor | None = None

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        n = w.shape[0]
        user = self.transform if self.view is None else self.view.to(w.device, torch.float32)
        user = user if user.ndim == 3 else user[None]  # [1 or N, 3, 3]
        t = self.affine(w)  # [N, 4] = (r_c, r_s, t_x, t_y)
        t = t / t[:, :2].norm(dim=1, keepdim=True)
        m_r = torch.eye(3, device=w.device).repeat(n, 1, 1)  # inverse rotation of the image
        m_r[:, 0, 0], m_r[:, 0, 1], m_r[:, 1, 0], m_r[:, 1, 1] = t[:, 0], -t[:, 1], t[:, 1], t[:, 0]
        m_t = torch.eye(3, device=w.device).repeat(n, 1, 1)  # inverse translation of the image
        m_t[:, 0, 2], m_t[:, 1, 2] = -t[:, 2], -t[:, 3]
        transforms = m_r @ m_t @ user  # [N, 3, 3]
        phases = self.phases[None] + (self.freqs[None] @ transforms[:, :2, 2:]).squeeze(2)  # [N, C]
        freqs = self.freqs[None] @ transforms[:, :2, :2]  # [N, C, 2]
        amplitudes = (1 - (freqs.norm(dim=2) - self.bandwidth)
                      / (self.sampling_rate / 2 - self.bandwidth)).clamp(0, 1)  # [N, C]
        theta = torch.eye(2, 3, device=w.device)
        theta[0, 0] = 0.5 * self.size[0] / self.sampling_rate
        theta[1, 1] = 0.5 * self.size[1] / self.sampling_rate
        grid = F.affine_grid(theta[None], [1, 1, self.size[1], self.size[0]], align_corners=False)  # [1, H, W, 2]
        x = (grid.unsqueeze(3) @ freqs.permute(0, 2, 1)[:, None, None]).squeeze(3)  # [N, H, W, C]
        x = torch.sin((x + phases[:, None, None]) * (math.pi * 2)) * amplitudes[:, None, None]
        x = x @ (self.weight / math.sqrt(self.channels)).t()
        return x.permute(0, 3, 1, 2)  # [N, C, H, W]


class SynthesisLayer(nn.Module):
    """Modulated conv -> bias -> filtered leaky ReLU (up, lrelu, clamp, down). A bendable layer."""

    def __init__(self, w_dim: int, cfg: dict[str, Any]):
        super().__init__()
        self.cfg = cfg
        cin, cout, k = cfg["in_channels"], cfg["out_channels"], cfg["conv_kernel"]
        self.is_torgb, self.conv_kernel = bool(cfg["is_torgb"]), k
        self.up, self.down, self.padding = cfg["up"], cfg["down"], list(cfg["padding"])
        self.conv_clamp = cfg["conv_clamp"]
        self.affine = EqualLinear(w_dim, cin, bias_init=1)
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout))
        self.register_buffer("magnitude_ema", torch.ones([]))
        up, down = cfg["up_taps"], cfg["down_taps"]
        self.register_buffer("up_filter", torch.zeros(up) if up > 1 else None)
        self.register_buffer("down_filter", (torch.zeros(down, down) if cfg["down_radial"] else torch.zeros(down))
                             if down > 1 else None)
        self.form = "auto"

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        styles = self.affine(w)  # [N, I]
        if self.is_torgb:
            styles = styles / math.sqrt(self.weight.shape[1] * self.conv_kernel ** 2)
        form = choose_modconv(x.device, x.shape[0]) if self.form == "auto" else self.form
        x = modulated_conv(x, self.weight, styles, demodulate=not self.is_torgb, padding=self.conv_kernel - 1,
                           input_gain=self.magnitude_ema.rsqrt(), form=form)
        gain, slope = (1.0, 1.0) if self.is_torgb else (SQRT2, 0.2)
        return filtered_lrelu(x, self.bias, self.up_filter, self.down_filter, self.up, self.down,
                              self.padding, gain, slope, self.conv_clamp)


class StyleGAN3Generator(nn.Module):
    """Mapping + Fourier input + synthesis layers, built from a JSON-able config (see :meth:`config`)."""

    def __init__(self, config: dict[str, Any]):
        super().__init__()
        self._config = config
        self.z_dim, self.c_dim = int(config["z_dim"]), int(config["c_dim"])
        self.style_dim, self.size = int(config["w_dim"]), int(config["img_resolution"])
        self.output_scale = float(config["output_scale"])
        self.mapping = MappingNetwork(self.z_dim, self.c_dim, self.style_dim, int(config["mapping_layers"]),
                                      float(config["lr_mlp"]))  # called as g.mapping(z, c)
        inp = config["input"]
        self.input = SynthesisInput(self.style_dim, inp["channels"], inp["size"], inp["sampling_rate"],
                                    inp["bandwidth"])
        self.layer_names = [cfg["name"] for cfg in config["layers"]]
        for cfg in config["layers"]:
            self.add_module(cfg["name"], SynthesisLayer(self.style_dim, cfg))
        self.n_latent = len(self.layer_names) + 1  # num_ws: the input's w and one per layer

    # rosinality-style names the wrapper uses
    @property
    def paper_layers(self) -> dict[int, str]:
        """{1: 'L0_36_512', ...}: every synthesis layer but ToRGB (see the module docstring)."""
        return {i + 1: name for i, name in enumerate(self.layer_names[:-1])}

    def noise_resolutions(self) -> list[int]:
        return []

    def set_modconv(self, form: str) -> None:
        if form not in MODCONV_FORMS:
            raise ValueError(f"unknown modconv form {form!r}; expected one of {MODCONV_FORMS}")
        for m in self.modules():
            if isinstance(m, SynthesisLayer):
                m.form = form

    def forward(self, z: torch.Tensor | None = None, *, w: torch.Tensor | None = None, noise: Any = None,
                c: torch.Tensor | None = None) -> torch.Tensor:
        """Image [N, 3, R, R] from ``z`` or ``w`` ([N, w_dim] or [N, num_ws, w_dim]); no noise inputs."""
        if w is None:
            w = self.mapping(z, c)
        if w.ndim == 2:
            w = w[:, None, :].expand(-1, self.n_latent, -1)  # [N, num_ws, w_dim]
        x = self.input(w[:, 0])
        for i, name in enumerate(self.layer_names):
            x = getattr(self, name)(x, w[:, i + 1])
        return x * self.output_scale if self.output_scale != 1 else x

    def config(self) -> dict[str, Any]:
        return self._config


def plain(value: Any) -> Any:
    """numpy scalars/arrays from a checkpoint -> Python numbers/lists (JSON-able)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value
