"""A netbend plugin: custom transforms for plans, loaded by `netbend --plugin examples/my_transforms.py ...`.

Each transform is a pure tensor function on the selected channels [N, C, H, W] that returns a
tensor of the same shape, dtype and device.
"""
import torch

from netbend.transforms import Param, register_transform


@register_transform("clip", params=[Param("limit", float, min=0.0, doc="clip to [-limit, limit]")],
                    description="Clamp activations to a symmetric range.")
def clip(x: torch.Tensor, *, limit: float) -> torch.Tensor:
    return x.clamp(-limit, limit)


@register_transform("flip-sign", description="Negate activations (x -> -x).")
def flip_sign(x: torch.Tensor) -> torch.Tensor:
    return -x
