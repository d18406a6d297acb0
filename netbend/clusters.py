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
from typing import Any, Callable, Mapping

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
    from netbend.examples import resolve

    path = resolve(path)
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


# -- the clusters that belong to a model ------------------------------------------------------------
BESIDE_SUFFIX = ".clusters.json"


def clusters_beside(model_path: str | os.PathLike) -> Path:
    """Where a checkpoint's own cluster file lives: ``CHECKPOINT.clusters.json`` beside the file
    (``ffhq.pkl`` -> ``ffhq.pkl.clusters.json``), or ``clusters.json`` inside a model folder."""
    path = Path(model_path)
    return path / "clusters.json" if path.is_dir() else path.with_name(path.name + BESIDE_SUFFIX)


def model_cluster_file(model: Any, model_path: str | os.PathLike | None) -> Path:
    """The cluster file that belongs to ``model`` (it may not exist): the shipped file for the
    built-in face model (no path, or its weights file given as a path with nothing beside it),
    else :func:`clusters_beside` the checkpoint (the audio model's too)."""
    from netbend.clustering import DEFAULT_CLUSTERS

    if model_path is None and getattr(model, "source", None) == "default":
        return DEFAULT_CLUSTERS
    if model_path is None:
        from netbend.audio.model import DEFAULT_MODEL

        model_path = DEFAULT_MODEL
    beside = clusters_beside(model_path)
    if not beside.is_file() and getattr(model, "model_hash", None) == _shipped_hash():
        return DEFAULT_CLUSTERS
    return beside


def _shipped_hash() -> str | None:
    """The model hash the shipped face clusters were made for."""
    from netbend.clustering import DEFAULT_CLUSTERS

    try:
        return str(json.loads(DEFAULT_CLUSTERS.read_text())["meta"]["model_hash"])
    except (OSError, ValueError, KeyError):
        return None


def check_model_hash(clusters: ClusterSet, model: Any) -> None:
    """Refuse a cluster file made for another model (files without a recorded hash pass)."""
    made_for, have = clusters.meta.get("model_hash"), getattr(model, "model_hash", None)
    if made_for and have and str(made_for) != str(have):
        raise NetbendError(f"{clusters.source}: made for model hash {made_for}, but the model's hash is "
                           f"{have}; re-run `netbend cluster` for this model or give --clusters FILE")


def plans_use_clusters(*plans: Any) -> bool:
    """Whether any entry of these plans selects features by cluster."""
    return any(e.features == "cluster" for plan in plans if plan is not None for e in plan.transforms)


def find_model_clusters(model: Any, model_path: str | os.PathLike | None) -> ClusterSet | None:
    """The model's own clusters (hash-checked), or None when no such file exists."""
    path = model_cluster_file(model, model_path)
    if not path.is_file():
        return None
    clusters = load_clusters(path)
    check_model_hash(clusters, model)
    return clusters


def clusters_for(model: Any, model_path: str | os.PathLike | None, clusters_path: str | os.PathLike | None,
                 plans: Any = None, *, say: Callable[[str], None] | None = None) -> ClusterSet | None:
    """The clusters a run uses: ``--clusters`` when given; else, when a plan selects by cluster (or
    ``plans`` is None: clusters are always needed), the model's own file (:func:`model_cluster_file`,
    hash-checked; ``say`` is told which one); else None."""
    if clusters_path:
        return load_clusters(clusters_path)
    if plans is not None and not plans_use_clusters(*plans):
        return None
    clusters = find_model_clusters(model, model_path)
    if clusters is None:
        raise NetbendError(("features: 'cluster' needs" if plans is not None else "this needs")
                           + " a cluster file: give --clusters FILE, or put the "
                           f"model's clusters at {model_cluster_file(model, model_path)} "
                           "(`netbend cluster` writes one)")
    if say is not None:
        say(f"clusters: {clusters.source} (the model's own, hash {clusters.meta.get('model_hash', '?')})")
    return clusters
