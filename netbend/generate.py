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
    job = Batches(latents, tuple(resolved), truncation, noise, noise_seed, batch_size)
    for chunk in job.chunks():
        yield job.render(model, chunk)


@dataclass(frozen=True)
class Batches:
    """A generate run cut into batches (chunks): (variation index, first latent). Each batch is
    rendered alone, with its variation's bends installed, so any subset of them, in any order or
    process, gives the same images as the whole run."""

    latents: Latents
    resolved: tuple[ResolvedPlan, ...]
    truncation: float = 1.0
    noise: Any = "const"
    noise_seed: int = 0
    batch_size: int = 8

    def chunks(self) -> list[tuple[int, int]]:
        return [(v, start) for v in range(len(self.resolved))
                for start in range(0, len(self.latents), self.batch_size)]

    def part(self, chunk: tuple[int, int]) -> Latents:
        return self.latents.batch(chunk[1], chunk[1] + self.batch_size)

    @torch.no_grad()
    def render(self, model: Any, chunk: tuple[int, int]) -> Rendered:
        r, start = self.resolved[chunk[0]], chunk[1]
        part = self.part(chunk)
        values = part.values.to(model.device)
        kw = {"z": values} if part.kind == "z" else {"w": values}
        maps = self.noise if isinstance(self.noise, str) else [
            n if len(n) == 1 else n[start:start + self.batch_size] for n in self.noise]
        with bend(model.module, r):
            images = model.synthesize(truncation=self.truncation, noise=maps, noise_seed=self.noise_seed, **kw)
        return Rendered(images, part, r.variation, r)


def render_arrays(job: Batches, model: Any, chunk: tuple[int, int], raw: bool = False) -> tuple:
    """One batch as arrays, for a remote worker: (uint8 [B, H, W, C], float [B, C, H, W] or None)."""
    from netbend.media import to_uint8

    images = job.render(model, chunk).images
    return to_uint8(images), images.float().cpu().numpy() if raw else None
