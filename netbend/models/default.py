"""The built-in default model, used when no model file is given.

``netbend-faces64``: a 64 px StyleGAN2 trained by ``netbend faces train`` to draw the procedural
cartoon faces of :mod:`netbend.faces` (seed s draws the renderer's face for seed s). Its weights,
with the mean latent, ship beside this file in netbend's native format.
"""
from __future__ import annotations

from pathlib import Path

import torch

from netbend.models.loaders.native import load_native
from netbend.models.wrapper import StyleGAN2Model

NAME = "netbend-faces64"
WEIGHTS = Path(__file__).with_name(f"{NAME}.safetensors")


def default_model() -> StyleGAN2Model:
    """The default model on CPU (same weights on every call; the global RNG is left untouched)."""
    with torch.random.fork_rng(devices=[]):
        model = load_native(WEIGHTS)
    model.source = "default"
    return model
