"""Spectrogram pictures: panels (original, plain, bent ...) side by side in one PNG.

Each panel shows a unit spectrogram ([-1, 1], i.e. the dB floor to 0 dB) with
time to the right and frequency up (low frequencies at the bottom), on a
black-purple-orange-yellow scale. A label sits above each panel.
"""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw

from netbend.media import save_png

_ANCHORS = np.array([[0, 0, 4], [80, 18, 123], [182, 54, 121], [251, 136, 97], [252, 253, 191]], float)
_LABEL_HEIGHT = 14
_GAP = 6


def colorize(unit: torch.Tensor) -> np.ndarray:
    """[frames, bins] in [-1, 1] -> [bins, frames, 3] uint8, low frequencies at the bottom."""
    v = ((unit.detach().float().cpu().clamp(-1, 1) + 1) / 2).numpy().T[::-1]  # [bins, frames]
    pos = v * (len(_ANCHORS) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(_ANCHORS) - 2)
    frac = (pos - lo)[..., None]
    rgb = _ANCHORS[lo] * (1 - frac) + _ANCHORS[lo + 1] * frac  # [bins, frames, 3]
    return rgb.round().astype(np.uint8)


def spectrogram_png(path: str | os.PathLike, panels: Sequence[tuple[str, torch.Tensor]]) -> None:
    """Write labelled spectrogram panels side by side to ``path``."""
    images = [colorize(unit) for _, unit in panels]
    height = max(i.shape[0] for i in images) + _LABEL_HEIGHT
    width = sum(i.shape[1] for i in images) + _GAP * (len(images) - 1)
    canvas = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    x = 0
    for (label, _), img in zip(panels, images):
        canvas.paste(Image.fromarray(img), (x, _LABEL_HEIGHT))
        draw.text((x + 2, 1), label, fill=(0, 0, 0))
        x += img.shape[1] + _GAP
    save_png(path, np.asarray(canvas))
