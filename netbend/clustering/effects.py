"""What a cluster does: its mean activation map, and the output with the cluster transformed.

Shared by ``cluster show`` (pictures) and ``cluster evaluate`` (numbers).
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from netbend.bending import Bend, ResolvedPlan, bend
from netbend.clustering.capture import run_seeds
from netbend.transforms import get_transform


def cluster_maps(maps: torch.Tensor, clusters: Sequence[Sequence[int]]) -> torch.Tensor:
    """Layer maps ``[N, C, h, w]`` -> mean map of each cluster's features ``[N, K, h, w]``."""
    n, c = maps.shape[:2]
    member = torch.zeros(len(clusters), c, dtype=maps.dtype)  # [K, C] averaging weights
    for k, feats in enumerate(clusters):
        if feats:
            member[k, list(feats)] = 1.0 / len(feats)
    return torch.einsum("kc,nchw->nkhw", member, maps)


def upsample(maps: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``[N, K, h, w]`` -> ``[N, K, H, W]`` (bilinear; identity at the same size)."""
    if tuple(maps.shape[-2:]) == tuple(size):
        return maps
    return F.interpolate(maps, size=size, mode="bilinear", align_corners=False)


def bent_output(model: Any, seeds: Sequence[int], path: str, layer: int | str,
                features: Sequence[int], transform: str = "ablate",
                params: Sequence[float] | None = None, layout: str = "NCHW") -> torch.Tensor:
    """The model's output for ``seeds`` with ``transform`` applied to ``features`` of a layer
    whose output has ``layout`` (no features: the unmodified output)."""
    if not len(features):
        return run_seeds(model, seeds)
    spec = get_transform(transform)
    plan = ResolvedPlan((Bend(path, layer, spec, spec.bind(list(params or [])),
                              tuple(int(f) for f in features), layout),))
    with bend(model.module, plan):
        return run_seeds(model, seeds)
