"""A tiny StyleGAN2 and synthetic part masks for the clustering evaluation tests."""
from __future__ import annotations

import torch

from netbend.models.stylegan2 import Generator
from netbend.models.wrapper import StyleGAN2Model


def tiny_eval_model() -> StyleGAN2Model:
    """A 16 px random model (seed 5), made without touching the global RNG."""
    with torch.random.fork_rng():
        torch.manual_seed(5)
        return StyleGAN2Model(Generator(16, style_dim=8, n_mlp=1, channels={4: 8, 8: 8, 16: 6}), name="tiny")


def halves_masks(_model, seeds):
    """Two "parts": "eyes" the top half, "skin" the bottom half -> ([N, 2, 16, 16], names)."""
    masks = torch.zeros(len(seeds), 2, 16, 16)
    masks[:, 0, :8], masks[:, 1, 8:] = 1, 1
    return masks, ("eyes", "skin")
