"""List a model's bendable layers: path, output shape, channels and paper layer number.

One dry forward pass with a hook on every submodule records each module whose output is a
4-D ``[N, C, H, W]`` or 3-D ``[N, C, L]`` / ``[N, T, D]`` tensor (layouts: :mod:`netbend.layouts`):
those are the layers a plan can bend. A model whose
architecture knows those shapes itself (``model.layer_shapes()``, netbend's StyleGAN2) skips
the pass: a 256 px generator's pass costs about as much as rendering one image.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import torch
from torch import nn

from netbend.errors import NetbendError, closest
from netbend.layouts import LAYOUTS, LayoutTracker, feature_count


@dataclass(frozen=True)
class LayerInfo:
    path: str
    shape: tuple[int, ...]  # output shape without the batch dimension: (C, H, W), (C, L) or (T, D)
    number: int | None = None  # the paper's layer number, where the model has one
    layout: str = "NCHW"  # NCHW, NCL or NTD: see netbend.layouts

    @property
    def channels(self) -> int:
        """Number of features (C, or D for token layers)."""
        return feature_count(self.shape, self.layout)


class ModuleModel:
    """Wrap any ``nn.Module`` so that plans and ``list_layers`` work on it.

    ``example`` is a callable returning the positional inputs for one small forward pass.
    """

    def __init__(self, module: nn.Module, example: Callable[[], tuple[Any, ...]],
                 paper_layers: Mapping[int, str] | None = None, name: str = "module",
                 layouts: Mapping[str, str] | None = None):
        self.module = module
        self.layer_layouts = dict(layouts or {})  # module path -> NCL / NTD, overriding the rule
        for path, layout in self.layer_layouts.items():
            if layout not in LAYOUTS:
                raise NetbendError(f"layout of '{path}' must be one of {', '.join(LAYOUTS)}, got {layout!r}")
        self.example = example
        self.paper_layers = dict(paper_layers or {})
        self.name = name
        self.model_hash = "none"

    @torch.no_grad()
    def dry_run(self) -> None:
        self.module(*self.example())


_CACHE: "weakref.WeakKeyDictionary[nn.Module, tuple[LayerInfo, ...]]" = weakref.WeakKeyDictionary()


def list_layers(model: Any, *, refresh: bool = False) -> tuple[LayerInfo, ...]:
    """Every module of ``model.module`` whose output is [N, C, H, W], [N, C, L] or [N, T, D], in call order."""
    module: nn.Module = model.module
    if not refresh and module in _CACHE:
        return _CACHE[module]
    numbers = {path: n for n, path in getattr(model, "paper_layers", {}).items()}
    table = model.layer_shapes() if hasattr(model, "layer_shapes") else None
    if table is not None:  # the architecture's own table: no forward pass at all
        layers = tuple(LayerInfo(path, tuple(shape), numbers.get(path)) for path, shape in table)
    else:
        layers = dry_run_layers(model)
    _CACHE[module] = layers
    return layers


def layer_layouts(model: Any) -> dict[str, str]:
    """Module path -> layout (NCHW, NCL or NTD) of every layer :func:`list_layers` finds."""
    return {info.path: info.layout for info in list_layers(model)}


def dry_run_layers(model: Any) -> tuple[LayerInfo, ...]:
    """:func:`list_layers` learnt the slow way: ``model.dry_run()`` with a hook on every module."""
    module: nn.Module = model.module
    numbers = {path: n for n, path in getattr(model, "paper_layers", {}).items()}
    seen: dict[str, LayerInfo] = {}
    handles = []
    tracker = LayoutTracker(getattr(model, "layer_layouts", None))
    for path, sub in module.named_modules():
        if not path:
            continue

        def record(m, inp, out, path=path):
            if isinstance(out, torch.Tensor) and out.dim() in (3, 4) and path not in seen:
                layout = tracker.layout(path, m, inp, out)
                seen[path] = LayerInfo(path, tuple(out.shape[1:]), numbers.get(path), layout)

        handles.append(sub.register_forward_hook(record))
    try:
        model.dry_run()
    finally:
        for h in handles:
            h.remove()
    return tuple(seen.values())


def find_layer(model: Any, layer: int | str, *, where: str = "") -> LayerInfo:
    """The layer a plan names, by paper number or dotted module path."""
    layers = list_layers(model)
    by_path = {info.path: info for info in layers}
    paper = getattr(model, "paper_layers", {})
    if isinstance(layer, int) and layer not in paper and str(layer) in by_path and not paper:
        layer = str(layer)  # a numbered child of an nn.Sequential, in a model without paper numbers
    if isinstance(layer, int):
        if layer not in paper:
            span = f"layers {min(paper)}-{max(paper)}" if paper else "no numbered layers: use a module path"
            raise NetbendError(f"{where}layer: {getattr(model, 'name', 'the model')} has no layer {layer} "
                               f"({span})")
        layer = paper[layer]
    if layer not in by_path:
        raise NetbendError(f"{where}layer: no bendable layer '{layer}' in {getattr(model, 'name', 'the model')}"
                           + closest(layer, by_path) + " (see `netbend layers`)")
    return by_path[layer]
