"""Clustering settings: the paper's tables, the rules that extend them, and the two presets.

The paper (SPEC §4) gives, per StyleGAN2 layer resolution, the metric CNN's depth (number of
ShuffleNet blocks), k for k-means and the training batch size; and per VAE decoder layer the
depth and k (batch 100). For any other layer we derive them from its output size ``H x W``:

* **CNN depth** = ``max(1, floor(log2(min(H, W))) - 2)``: each block halves the map, so the
  map leaving the CNN is about 4-7 pixels on its short side. This reproduces both tables exactly
  (8 -> 1, 16 -> 2, ..., 1024 -> 8; VAE 8x33 -> 1, 17x65 -> 2, 32x129 -> 3, 64x257 -> 4). The
  depth is taken from the size the CNN actually sees, i.e. after the dataset's downsampling.
* **k and batch size**: the StyleGAN2 row with the largest resolution not above ``min(H, W)``
  (the first row below 8 pixels). VAE decoder layers 1-4 use the VAE table. Both come from the
  layer's *original* size, so downsampling maps does not change k.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from netbend.errors import NetbendError, closest

# resolution -> (CNN depth, k, batch size), SPEC §4 (StyleGAN2, FFHQ / LSUN).
STYLEGAN2_ROWS: dict[int, tuple[int, int, int]] = {
    8: (1, 5, 500), 16: (2, 5, 500), 32: (3, 5, 500), 64: (4, 5, 200),
    128: (5, 4, 80), 256: (6, 4, 50), 512: (7, 3, 20), 1024: (8, 3, 10),
}
# paper layer number -> (CNN depth, k, batch size), SPEC §4/§5 (spectrogram VAE decoder).
VAE_ROWS: dict[int, tuple[int, int, int]] = {1: (1, 5, 100), 2: (2, 5, 100), 3: (3, 4, 100),
                                             4: (4, 4, 100)}


def cnn_depth(height: int, width: int) -> int:
    """Number of ShuffleNet blocks for maps of ``height x width`` (see module docstring)."""
    return max(1, int(math.floor(math.log2(max(1, min(height, width))))) - 2)


def stylegan2_row(height: int, width: int) -> tuple[int, int, int]:
    side = min(height, width)
    fitting = [r for r in STYLEGAN2_ROWS if r <= side]
    return STYLEGAN2_ROWS[max(fitting) if fitting else min(STYLEGAN2_ROWS)]


def table_k_and_batch(height: int, width: int, *, family: str = "stylegan2",
                      number: int | None = None) -> tuple[int, int]:
    """k and batch size for a layer of original size ``height x width``."""
    if family == "vae" and number in VAE_ROWS:
        _, k, batch = VAE_ROWS[number]
    else:
        _, k, batch = stylegan2_row(height, width)
    return k, batch


@dataclass(frozen=True)
class Preset:
    """Every number the clustering pipeline needs; ``None`` means "from the tables"."""

    name: str
    n_train: int            # latents whose maps form the training set
    n_test: int             # latents held out for validation accuracy
    max_side: int | None    # downsample maps whose larger side exceeds this (None: never)
    epochs: int
    batch_size: int | None  # None: the table's batch size for the layer
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    n_general: int | None = None  # latents averaged for general-purpose clusters (None: n_train)
    width: int = 50         # ShuffleNet "feature depth"
    bottleneck: int = 10
    kmeans_restarts: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}

    def with_overrides(self, **changes: Any) -> "Preset":
        """Copy with the given fields changed; ``None`` values leave the field as it is."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


PRESETS: dict[str, Preset] = {
    # The paper's numbers (SPEC §4): 1000/100 latents, full-size maps, 100 epochs, table batches.
    "paper": Preset("paper", n_train=1000, n_test=100, max_side=None, epochs=100,
                    batch_size=None, n_general=1000),
    # Finishes every layer of the default face model in minutes on 2 CPU cores. It trades away:
    # 16x fewer training latents (64/16 instead of 1000/100), maps downsampled to at most 16 px
    # (so CNN depth <= 2 instead of up to 4 on a 64 px model), 5 epochs instead of 100 with a
    # 100x larger learning rate (1e-2: on an early default-model checkpoint, layer 1 reached 41%
    # validation accuracy after 4 epochs where 1e-3 reached 13%), one batch size (256) for every
    # layer, and a 64-latent general-purpose mean instead of 1000.
    "default": Preset("default", n_train=64, n_test=16, max_side=16, epochs=5,
                      batch_size=256, lr=1e-2, n_general=64),
}


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise NetbendError(f"unknown clustering preset '{name}'{closest(name, PRESETS)} "
                           f"(presets: {', '.join(PRESETS)})")
    return PRESETS[name]
