"""Which features (channels) a plan entry touches: all, random, cluster, indices, or the complement.

Choosing channels is kept apart from transforming them: a selector returns sorted indices and the
bend transforms ``x[:, idx]`` in one vectorised call.
"""
from __future__ import annotations

import numpy as np

from netbend.clusters import ClusterSet
from netbend.errors import NetbendError
from netbend.plan import PlanEntry


def entry_rng(seed: int, variation: int, entry_index: int) -> np.random.Generator:
    """The random stream of one plan entry in one variation of a run (stable across versions)."""
    return np.random.Generator(np.random.PCG64([int(seed), int(variation), int(entry_index)]))


def random_count(fraction: float, n_features: int) -> int:
    """How many features a random selection of ``fraction`` takes (at least one)."""
    return max(1, min(n_features, int(round(fraction * n_features))))


def select_features(
    entry: PlanEntry,
    n_features: int,
    *,
    rng: np.random.Generator,
    clusters: ClusterSet | None = None,
    layer_path: str | None = None,
    where: str = "",
) -> np.ndarray:
    """Sorted int64 indices of the features ``entry`` selects from a layer of ``n_features``."""
    mode, param = entry.features, entry.feature_param
    if mode == "all":
        return np.arange(n_features, dtype=np.int64)
    if mode == "random":
        chosen = rng.choice(n_features, size=random_count(param, n_features), replace=False)
    elif mode == "indices":
        bad = [i for i in param if i >= n_features]
        if bad:
            raise NetbendError(f"{where}feature-param: index {bad[0]} is out of range: "
                               f"the layer has {n_features} features (0-{n_features - 1})")
        chosen = np.asarray(param)
    else:
        chosen = _cluster_members(entry, clusters, layer_path, n_features, where)
    chosen = np.unique(np.asarray(chosen, dtype=np.int64))
    if entry.except_:
        chosen = np.setdiff1d(np.arange(n_features, dtype=np.int64), chosen)
    return chosen


def _cluster_members(entry: PlanEntry, clusters: ClusterSet | None, layer_path: str | None,
                     n_features: int, where: str) -> np.ndarray:
    if clusters is None:
        raise NetbendError(f"{where}features: 'cluster' needs a cluster file (--clusters FILE)")
    try:
        groups = clusters.clusters_of(entry.layer, layer_path)
    except NetbendError as err:
        raise NetbendError(f"{where}layer: {err}") from None
    missing = [k for k in entry.feature_param if k >= len(groups)]
    if missing:
        raise NetbendError(f"{where}feature-param: no cluster {missing[0]} in layer {entry.layer} of "
                           f"{clusters.source} (it has clusters 0-{len(groups) - 1})")
    members = np.asarray([f for k in entry.feature_param for f in groups[k]], dtype=np.int64)
    if members.size and members.max() >= n_features:
        raise NetbendError(f"{where}: {clusters.source} lists feature {members.max()} for layer "
                           f"{entry.layer}, which has only {n_features} features: wrong model?")
    return members
