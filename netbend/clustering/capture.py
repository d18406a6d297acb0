"""Capturing the activation maps of chosen layers with forward hooks.

Works on any model wrapper whose ``.module`` holds the layers (addressed by dotted path) and that
can run seeded latents: a wrapper with ``latents_from_seeds(seeds)`` and ``synthesize(z=...)``
(StyleGAN2), or one with ``run_seeds(seeds)`` (any other generator).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import torch
import torch.nn.functional as F

from netbend.bending import forward_hooks
from netbend.errors import NetbendError
from netbend.layers import LayerInfo, find_layer, layer_layouts, list_layers
from netbend.layouts import map_shape, to_maps


@dataclass(frozen=True)
class Layer:
    """A layer to cluster: its cluster-file key, module path, channels and output size."""

    key: str
    path: str
    number: int | None
    channels: int
    height: int
    width: int

    @classmethod
    def from_info(cls, info: LayerInfo) -> "Layer":
        c, h, w = map_shape(info.shape, info.layout)  # 1-D layers: 1-pixel-high maps (C, 1, L)
        key = str(info.number) if info.number is not None else info.path
        return cls(key, info.path, info.number, c, h, w)


def choose_layers(model: Any, layers: Sequence[int | str] | None = None) -> list[Layer]:
    """The named layers (paper numbers or paths); by default the paper's layers, else all,
    leaving out layers with a single feature (nothing to cluster: the VAE's output layer)."""
    paper = getattr(model, "paper_layers", {}) or {}
    if layers:
        # a number names a paper layer where the model has one, else a module path ("3")
        infos = [find_layer(model, int(l) if str(l).isdigit() and int(l) in paper else str(l),
                            where="--layers: ") for l in layers]
    else:
        infos = ([find_layer(model, n) for n in sorted(paper)] if paper
                 else list(list_layers(model)))
        infos = [i for i in infos if i.channels > 1]
    if not infos:
        raise NetbendError(f"{getattr(model, 'name', 'the model')}: no layers to cluster")
    return [Layer.from_info(i) for i in infos]


def stored_size(height: int, width: int, max_side: int | None) -> tuple[int, int]:
    """Map size after downsampling so that the larger side is at most ``max_side``."""
    if max_side is None or max(height, width) <= max_side:
        return height, width
    scale = max_side / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def resize_maps(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Area-average ``[N, C, H, W]`` maps down to ``size`` (no-op when already that size)."""
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    return F.adaptive_avg_pool2d(x, size)


def run_seeds(model: Any, seeds: Sequence[int]) -> torch.Tensor:
    """One forward pass of ``model`` on the latents of ``seeds``; returns its output."""
    with torch.no_grad():
        if hasattr(model, "run_seeds"):
            return model.run_seeds(list(seeds))
        if hasattr(model, "latents_from_seeds") and hasattr(model, "synthesize"):
            return model.synthesize(z=model.latents_from_seeds(list(seeds)))
    raise NetbendError(f"{getattr(model, 'name', type(model).__name__)}: cannot sample latents: "
                       "the model wrapper needs run_seeds(seeds) or latents_from_seeds + synthesize")


@contextmanager
def capture(module: torch.nn.Module, sizes: dict[str, tuple[int, int] | None],
            layouts: dict[str, str] | None = None) -> Iterator[dict[str, torch.Tensor]]:
    """Record the output ``[N, C, h, w]`` (float32, resized to ``sizes[path]``) of each path;
    a 1-D layer (``layouts[path]`` NCL or NTD) is recorded as 1-pixel-high maps [N, C, 1, L]."""
    out: dict[str, torch.Tensor] = {}

    def hook_for(path: str, size: tuple[int, int] | None):
        layout = (layouts or {}).get(path, "NCHW")

        def record(_m, _inp, y):
            y = to_maps(y.detach().float(), layout)
            out[path] = y if size is None else resize_maps(y, size)
        return record

    with forward_hooks(module, {path: hook_for(path, size) for path, size in sizes.items()}):
        yield out


def capture_seeds(model: Any, seeds: Sequence[int], sizes: dict[str, tuple[int, int] | None]
                  ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Maps of every path in ``sizes`` for ``seeds``, and the model's output."""
    layouts = layer_layouts(model)
    with capture(model.module, sizes, layouts) as maps:
        output = run_seeds(model, seeds)
    return dict(maps), output
