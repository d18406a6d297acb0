"""Transforms: pure, vectorised tensor functions on [N, C, H, W] and their registry."""
from netbend.transforms.registry import (
    REQUIRED,
    TRANSFORMS,
    Param,
    TransformSpec,
    get_transform,
    register_transform,
)
from netbend.transforms import numerical  # noqa: F401  (registers)
from netbend.transforms import affine, filters, morphology  # noqa: F401  (register)

__all__ = ["REQUIRED", "TRANSFORMS", "Param", "TransformSpec", "get_transform", "register_transform"]
