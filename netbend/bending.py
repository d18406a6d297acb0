"""Apply a plan to a model through removable forward hooks.

``resolve_plan`` turns a plan into concrete bends (module path, transform, parameters, feature
indices) for one run seed and variation; ``bend`` installs them as forward hooks for the duration
of a ``with`` block::

    resolved = resolve_plan(plan, model, seed=0)
    with bend(model.module, resolved):
        images = model.synthesize(z)

The model itself is never changed and hooks never accumulate: they are removed on exit, even
when the block raises. Several bends may target one layer; they apply in plan order.
"""
from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

import torch
from torch import nn

from netbend.clusters import ClusterSet
from netbend.errors import NetbendError
from netbend.layers import find_layer
from netbend.layouts import check_transform, from_maps, to_maps
from netbend.plan import Plan
from netbend.selection import entry_rng, select_features
from netbend.transforms import TransformSpec, get_transform


@dataclass(frozen=True)
class Bend:
    """One transform on chosen features of one module's output."""

    path: str
    layer: int | str
    transform: TransformSpec
    params: dict[str, Any]
    indices: tuple[int, ...] | None  # None: every feature of the layer
    layout: str = "NCHW"  # of the layer's output; 1-D layouts are bent as [N, C, 1, L] maps

    def apply(self, out: torch.Tensor) -> torch.Tensor:
        maps = to_maps(out, self.layout)  # [N, C, H, W]
        if self.indices is None:
            return from_maps(self._call(maps), self.layout)
        idx = torch.as_tensor(self.indices, device=out.device)
        new = self._call(maps.index_select(1, idx))  # [N, k, H, W]
        return from_maps(maps.index_copy(1, idx, new), self.layout)

    def _call(self, x: torch.Tensor) -> torch.Tensor:
        y = self.transform.fn(x, **self.params)
        if not isinstance(y, torch.Tensor) or y.shape != x.shape:
            raise NetbendError(f"transform '{self.transform.name}' returned "
                               f"{getattr(y, 'shape', type(y).__name__)} for input {tuple(x.shape)}")
        return y.to(x.dtype)


@dataclass(frozen=True)
class ResolvedPlan:
    """A plan with every layer and feature selection made concrete (for one variation)."""

    bends: tuple[Bend, ...]
    seed: int = 0
    variation: int = 0

    def to_plan_dict(self) -> dict[str, Any]:
        """A plan (YAML form) that re-renders exactly this variation: selections as indices."""
        rows = []
        for b in self.bends:
            row = {"layer": b.layer, "transform": b.transform.name, "params": dict(b.params)}
            if b.indices is None:
                row.update({"features": "all", "feature-param": None})
            else:
                row.update({"features": "indices", "feature-param": list(b.indices)})
            rows.append(row)
        return {"transforms": rows}


def resolve_plan(plan: Plan, model: Any, *, seed: int = 0, variation: int = 0,
                 clusters: ClusterSet | None = None) -> ResolvedPlan:
    """Resolve layers and draw selections; random draws depend only on (seed, variation, entry).

    A plan with curves is refused: resolve ``plan.at(t)`` (``netbend animate`` does, per frame).
    """
    if plan.curves or any(e.redraw is not None for e in plan.transforms):
        where = plan.curves[0] if plan.curves else next(
            f"transforms[{i}].redraw" for i, e in enumerate(plan.transforms) if e.redraw is not None)
        raise NetbendError(f"{plan.source}: {where}: this plan changes over time, and this command renders "
                           "a single moment; use `netbend animate` (or plan.at(t) in Python)")
    bends = []
    for i, entry in enumerate(plan.transforms):
        where = f"{plan.source}: transforms[{i}]."
        info = find_layer(model, entry.layer, where=where)
        check_transform(entry.transform, dict(entry.params), info.layout, info.path, where)
        idx = select_features(entry, info.channels, rng=entry_rng(seed, variation, i),
                              clusters=clusters, layer_path=info.path, where=where)
        if idx.size == 0:
            raise NetbendError(f"{where}features: the selection is empty")
        full = idx.size == info.channels and entry.features == "all"
        bends.append(Bend(info.path, entry.layer, get_transform(entry.transform), dict(entry.params),
                          None if full else tuple(int(i) for i in idx), info.layout))
    return ResolvedPlan(tuple(bends), seed, variation)


@contextmanager
def bend(module: nn.Module, resolved: ResolvedPlan | None) -> Iterator[nn.Module]:
    """Install the bends as forward hooks on ``module``'s submodules; remove them on exit."""
    by_path: dict[str, list[Bend]] = defaultdict(list)
    for b in (resolved.bends if resolved else ()):
        by_path[b.path].append(b)
    with forward_hooks(module, {path: _hook(path, tuple(bends), bends[0].layout)
                                for path, bends in by_path.items()}):
        yield module


@contextmanager
def forward_hooks(module: nn.Module, hooks: dict[str, Any]) -> Iterator[nn.Module]:
    """Install ``hooks[path]`` as the forward hook of each submodule ``path``; remove all on exit
    (also when the block, or installing a later hook, raises)."""
    handles = []
    try:
        for path, hook in hooks.items():
            try:
                target = module.get_submodule(path)
            except AttributeError:
                raise NetbendError(f"no module '{path}' in {type(module).__name__}") from None
            handles.append(target.register_forward_hook(hook))
        yield module
    finally:
        for h in handles:
            h.remove()


def _hook(path: str, bends: tuple[Bend, ...], layout: str = "NCHW"):
    rank = 4 if layout == "NCHW" else 3

    def apply(_module: nn.Module, _inputs: Any, out: Any) -> torch.Tensor:
        if not isinstance(out, torch.Tensor) or out.dim() != rank:
            raise NetbendError(f"layer '{path}' does not output a {rank}-D ({layout}) tensor")
        for b in bends:
            out = b.apply(out)
        return out

    return apply
