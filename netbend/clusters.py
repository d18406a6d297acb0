"""Cluster files: which features of each layer belong to which cluster.

Our format (JSON)::

    {"format": "netbend-clusters", "version": 1,
     "meta": {"model_hash": "...", "seed": 0, "settings": {...}},
     "layers": {"1": [[3, 7, 12], [0, 1, ...], ...],      # layer key -> cluster -> feature indices
                "decoder.deconv2": [[...], ...]}}

Layer keys are the paper's layer number (as a string) where the model has one, else the module's
dotted path. The original project's YAML format ``{layer: [{cluster_index, feature_index}, ...]}``
is read and written too.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from netbend.errors import NetbendError, closest
from netbend.fileio import atomic_write_text

FORMAT = "netbend-clusters"


@dataclass(frozen=True)
class ClusterSet:
    """Layer key -> list of clusters, each a sorted tuple of feature indices."""

    layers: Mapping[str, tuple[tuple[int, ...], ...]]
    meta: Mapping[str, Any] = field(default_factory=dict)
    source: str = "<clusters>"

    def clusters_of(self, layer: int | str, path: str | None = None) -> tuple[tuple[int, ...], ...]:
        """Clusters of a layer given by paper number and/or module path."""
        for key in (str(layer), path):
            if key is not None and key in self.layers:
                return self.layers[key]
        raise NetbendError(
            f"{self.source}: no clusters for layer {layer}"
            + closest(str(layer), self.layers) + f" (layers: {', '.join(self.layers)})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": 1, "meta": dict(self.meta),
                "layers": {k: [list(c) for c in v] for k, v in self.layers.items()}}

    def to_original(self) -> dict[Any, list[dict[str, int]]]:
        """The original project's YAML layout: {layer: [{cluster_index, feature_index}, ...]}."""
        out: dict[Any, list[dict[str, int]]] = {}
        for key, clusters in self.layers.items():
            rows = [{"cluster_index": ci, "feature_index": f}
                    for ci, members in enumerate(clusters) for f in members]
            rows.sort(key=lambda r: r["feature_index"])
            out[int(key) if key.isdigit() else key] = rows
        return out


def _from_original(data: Mapping[Any, Any], source: str) -> ClusterSet:
    layers: dict[str, tuple[tuple[int, ...], ...]] = {}
    for layer, rows in data.items():
        if not isinstance(rows, list):
            raise NetbendError(f"{source}: layer {layer}: expected a list of "
                               "{cluster_index, feature_index} entries")
        groups: dict[int, list[int]] = {}
        for i, row in enumerate(rows):
            try:
                groups.setdefault(int(row["cluster_index"]), []).append(int(row["feature_index"]))
            except (KeyError, TypeError, ValueError):
                raise NetbendError(f"{source}: layer {layer}, entry {i}: needs integer "
                                   "'cluster_index' and 'feature_index'") from None
        n = max(groups) + 1 if groups else 0
        layers[str(layer)] = tuple(tuple(sorted(groups.get(k, []))) for k in range(n))
    return ClusterSet(layers, {"imported_from": "original-yaml"}, source)


def _from_ours(data: Mapping[str, Any], source: str) -> ClusterSet:
    raw = data.get("layers")
    if not isinstance(raw, Mapping):
        raise NetbendError(f"{source}: key 'layers' must map layer -> list of clusters")
    layers = {}
    for key, clusters in raw.items():
        try:
            layers[str(key)] = tuple(tuple(sorted(int(f) for f in c)) for c in clusters)
        except (TypeError, ValueError):
            raise NetbendError(f"{source}: layers.{key}: clusters must be lists of "
                               "feature indices") from None
    return ClusterSet(layers, dict(data.get("meta") or {}), source)


def load_clusters(path: str | os.PathLike) -> ClusterSet:
    """Read a cluster file in our JSON format or the original project's YAML format."""
    path = Path(path)
    if not path.is_file():
        raise NetbendError(f"{path}: cluster file not found")
    try:
        data = yaml.safe_load(path.read_text())  # JSON is YAML too
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise NetbendError(f"{path}: not a JSON/YAML cluster file ({str(err).splitlines()[0]})") from None
    if not isinstance(data, Mapping):
        raise NetbendError(f"{path}: expected a mapping at the top level")
    if data.get("format") == FORMAT:
        return _from_ours(data, str(path))
    if "transforms" in data or "all-transforms" in data:
        raise NetbendError(f"{path}: this is a plan, not a cluster file (plans go to --config)")
    if not data:
        raise NetbendError(f"{path}: the cluster file has no layers")
    return _from_original(data, str(path))


def save_clusters(clusters: ClusterSet, path: str | os.PathLike, *, original: bool = False) -> None:
    """Write atomically: our JSON format, or the original YAML format with ``original=True``."""
    path = Path(path)
    if original:
        text = yaml.safe_dump(clusters.to_original(), default_flow_style=None, sort_keys=True)
    else:
        text = json.dumps(clusters.to_dict(), indent=1)
    atomic_write_text(path, text)
