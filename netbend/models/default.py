"""The built-in default model, used when no model file is given.

For now: a seeded random-weight StyleGAN2 at 64 px (its images are textures, not faces). To ship
trained weights instead, save them with :func:`netbend.models.save_native` into this package and
make :func:`default_model` return ``load_native(<that file>)``.
"""
from __future__ import annotations

import torch

from netbend.models.stylegan2 import Generator
from netbend.models.wrapper import StyleGAN2Model

NAME = "default-random-stylegan2-64"
SEED = 0
CONFIG = {"size": 64, "style_dim": 128, "n_mlp": 4, "channel_multiplier": 1, "channel_max": 128}


def default_model() -> StyleGAN2Model:
    """The default model on CPU (same weights on every call; the global RNG is left untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        gen = Generator(**CONFIG)
    return StyleGAN2Model(gen, name=NAME, source="default")
