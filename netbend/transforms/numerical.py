"""Numerical transforms: act on each activation value independently.

Values are taken as they are (the paper speaks of activations "in the range -1 to 1";
nothing is clamped).
"""
from __future__ import annotations

import torch

from netbend.transforms._kernels import empty_like, out_like
from netbend.transforms.registry import Param, register_transform


@register_transform("ablate", description="Set the features to zero: f(x) = 0·x.")
def ablate(x: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(x) if x.requires_grad else empty_like(x).zero_()


@register_transform("invert", description="Invert the features: f(x) = 1 - x.")
def invert(x: torch.Tensor) -> torch.Tensor:
    return torch.sub(1, x, out=out_like(x))


@register_transform(
    "scalar-multiply",
    params=[Param("p", float, unit="factor", doc="factor")],
    description="Multiply by a constant: f(x) = p·x (paper: -1, 0.1, 1.5, 2, 5).",
    aliases=("multiply",),
)
def scalar_multiply(x: torch.Tensor, *, p: float) -> torch.Tensor:
    return torch.mul(x, p, out=out_like(x))


@register_transform(
    "binary-thresh",
    params=[Param("t", float, unit="activation", doc="threshold on the raw activation value")],
    description="Posterise: f(x) = 1 if x >= t else 0 (paper: t = 0.5).",
    aliases=("binary-threshold",),
)
def binary_thresh(x: torch.Tensor, *, t: float) -> torch.Tensor:
    return empty_like(x).copy_(x >= t)


@register_transform(
    "add",
    params=[Param("c", float, unit="activation", doc="constant added")],
    description="Add a constant: f(x) = x + c.",
)
def add(x: torch.Tensor, *, c: float) -> torch.Tensor:
    return torch.add(x, c, out=out_like(x))
