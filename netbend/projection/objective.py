"""The weighted image distance a projection minimises, bound to its targets once.

``Objective(weights, targets, networks)(images) -> (total [N], terms {name: [N]})``. Feature
networks (the discriminator, VGG16) see the targets once, at construction.
"""
from __future__ import annotations

from typing import Callable, Mapping, Protocol

import torch

from netbend.errors import NetbendError
from netbend.projection import losses


class FeatureNet(Protocol):
    """A network whose activations define a distance: ``distance(x, target_features) -> [N]``."""

    def activations(self, x: torch.Tensor) -> list[torch.Tensor]: ...

    def distance(self, x: torch.Tensor, target_features: list[torch.Tensor]) -> torch.Tensor: ...


NETWORK_TERMS = {"disc": "a discriminator (the checkpoint has none)",
                 "lpips": "a VGG16 file (--perceptual vgg16.safetensors)"}


class Objective:
    """Per-image weighted sum of the chosen distances to fixed targets [N, 3, H, W] in [-1, 1]."""

    def __init__(self, weights: Mapping[str, float], targets: torch.Tensor,
                 networks: Mapping[str, FeatureNet] | None = None):
        networks = dict(networks or {})
        for name in weights:
            if name in NETWORK_TERMS and name not in networks:
                raise NetbendError(f"loss term '{name}' needs {NETWORK_TERMS[name]}")
        self.weights = dict(weights)
        self.targets = targets
        self.scales = losses.msssim_scales(min(targets.shape[-2:]))
        self._terms: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {}
        for name in self.weights:
            self._terms[name] = self._bind(name, networks.get(name))

    def _bind(self, name: str, net: FeatureNet | None) -> Callable[[torch.Tensor], torch.Tensor]:
        y = self.targets
        if name == "l1":
            return lambda x: losses.l1(x, y)
        if name == "l2":
            return lambda x: losses.l2(x, y)
        if name == "msssim":
            return lambda x: 1 - losses.msssim(x, y, self.scales)
        with torch.no_grad():
            target_features = [f.detach() for f in net.activations(y)]
        return lambda x: net.distance(x, target_features)

    def __call__(self, images: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        terms = {name: fn(images) for name, fn in self._terms.items()}
        total = sum(self.weights[name] * value for name, value in terms.items())
        return total, terms
