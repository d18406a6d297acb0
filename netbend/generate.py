"""Generate images from a StyleGAN2-like model with a plan applied, in batches and variations.

A *variation* is one set of random draws for the plan's random selections (the paper's
stochastic chaining): variation v of run seed s is the same whichever latents it renders.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import torch

from netbend.bending import ResolvedPlan, bend, resolve_plan
from netbend.clusters import ClusterSet
from netbend.latents import Latents
from netbend.plan import Plan


@dataclass(frozen=True)
class Rendered:
    """One generated batch: images [B, C, H, W] float, their labels and variation."""

    images: torch.Tensor
    latents: Latents
    variation: int
    resolved: ResolvedPlan


def resolve_variations(plan: Plan, model: Any, *, seed: int, variations: int,
                       clusters: ClusterSet | None = None) -> list[ResolvedPlan]:
    return [resolve_plan(plan, model, seed=seed, variation=v, clusters=clusters)
            for v in range(variations)]


@torch.no_grad()
def render(model: Any, latents: Latents, resolved: list[ResolvedPlan], *, truncation: float = 1.0,
           noise="const", noise_seed: int = 0, batch_size: int = 8) -> Iterator[Rendered]:
    """Yield batches of images, variation by variation, with that variation's bends installed.

    ``noise``: a mode ('const', 'random', 'none') or noise maps, one per noise input, each
    [1, 1, r, r] (shared by all latents) or [len(latents), 1, r, r] (one per latent).
    """
    for r in resolved:
        with bend(model.module, r):
            for start in range(0, len(latents), batch_size):
                part = latents.batch(start, start + batch_size)
                values = part.values.to(model.device)
                kw = {"z": values} if part.kind == "z" else {"w": values}
                maps = noise if isinstance(noise, str) else [n if len(n) == 1 else n[start:start + batch_size]
                                                             for n in noise]
                images = model.synthesize(truncation=truncation, noise=maps, noise_seed=noise_seed, **kw)
                yield Rendered(images, part, r.variation, r)
