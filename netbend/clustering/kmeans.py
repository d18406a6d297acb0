"""k-means: Lloyd's method with Forgy initialisation, seeded, in torch (float64).

* **Forgy**: the initial centres are ``k`` distinct data points drawn by a seeded permutation.
* **Lloyd**: assign every point to its nearest centre (ties go to the lower centre index), move
  each centre to the mean of its points, repeat until no assignment changes (or ``max_iter``).
* **Empty clusters** are re-seeded deterministically: each empty cluster, in index order, takes
  the point that is farthest from its current centre (ties: lowest point index), one point each.
* **Canonical order**: :func:`canonical_clusters` numbers clusters by size (largest first), ties
  broken by the smallest member index, so cluster numbers do not depend on the initialisation's
  labelling and a plan's ``feature-param: 2`` keeps its meaning on re-runs with the same seed.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from netbend.errors import NetbendError


@dataclass(frozen=True)
class KMeansResult:
    labels: torch.Tensor   # [N] int64, cluster of each point (raw, not canonical)
    centres: torch.Tensor  # [k, D] float64
    inertia: float         # sum of squared distances to the assigned centres
    n_iter: int


def forgy_init(x: torch.Tensor, k: int, seed: int) -> torch.Tensor:
    """``k`` distinct points of ``x`` ``[N, D]`` chosen by a permutation seeded with ``seed``."""
    gen = torch.Generator().manual_seed(int(seed))
    pick = torch.randperm(x.shape[0], generator=gen)[:k]
    return x[pick].clone()


def _sq_distances(x: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
    """|x - c|^2 as |x|^2 - 2 x.c + |c|^2 (float64), ``[N, k]``."""
    d = (x * x).sum(1, keepdim=True) - 2 * x @ centres.T + (centres * centres).sum(1)[None, :]
    return d.clamp_min(0)


def _reseed_empty(x: torch.Tensor, labels: torch.Tensor, dist: torch.Tensor,
                  k: int) -> torch.Tensor:
    """Give each empty cluster the farthest point still unused; return the new labels."""
    counts = torch.bincount(labels, minlength=k)
    empty = torch.nonzero(counts == 0).flatten().tolist()
    if not empty:
        return labels
    own = dist.gather(1, labels[:, None]).squeeze(1)  # [N] distance to own centre
    # stable sort on descending distance: ties keep ascending point index
    order = torch.sort(-own, stable=True).indices
    labels = labels.clone()
    taken = 0
    for cluster in empty:
        while taken < len(order):
            point = order[taken]
            taken += 1
            if counts[labels[point]] > 1:  # never empty another cluster
                counts[labels[point]] -= 1
                labels[point] = cluster
                counts[cluster] += 1
                break
    return labels


def _update(x: torch.Tensor, labels: torch.Tensor, k: int, old: torch.Tensor) -> torch.Tensor:
    sums = torch.zeros(k, x.shape[1], dtype=x.dtype).index_add_(0, labels, x)
    counts = torch.bincount(labels, minlength=k).to(x.dtype)[:, None]
    return torch.where(counts > 0, sums / counts.clamp_min(1), old)


def kmeans(x: torch.Tensor, k: int, *, seed: int = 0, init: torch.Tensor | None = None,
           max_iter: int = 300) -> KMeansResult:
    """Cluster the rows of ``x`` ``[N, D]`` into ``k`` groups (see module docstring)."""
    if x.ndim != 2:
        raise NetbendError(f"k-means: expected [N, D] points, got shape {tuple(x.shape)}")
    if not 1 <= k <= x.shape[0]:
        raise NetbendError(f"k-means: k={k} must be between 1 and the number of points "
                           f"({x.shape[0]})")
    x = x.detach().to(torch.float64).cpu()
    centres = (forgy_init(x, k, seed) if init is None else init.detach().to(torch.float64).clone())
    labels = None
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        dist = _sq_distances(x, centres)
        new = _reseed_empty(x, torch.argmin(dist, dim=1), dist, k)
        if labels is not None and torch.equal(new, labels):
            break
        labels = new
        centres = _update(x, labels, k, centres)
    inertia = float(_sq_distances(x, centres).gather(1, labels[:, None]).sum())
    return KMeansResult(labels, centres, inertia, n_iter)


def best_of(x: torch.Tensor, k: int, *, seed: int = 0, restarts: int = 1) -> KMeansResult:
    """Run ``restarts`` Forgy initialisations (seeds ``seed``, ``seed+1``, ...); lowest inertia wins."""
    results = [kmeans(x, k, seed=seed + r) for r in range(max(1, restarts))]
    return min(results, key=lambda r: r.inertia)


def canonical_clusters(labels: torch.Tensor, k: int) -> tuple[tuple[int, ...], ...]:
    """Labels ``[N]`` -> clusters of point indices, largest first, ties by smallest member."""
    groups = [tuple(int(i) for i in torch.nonzero(labels == c).flatten()) for c in range(k)]
    groups.sort(key=lambda g: (-len(g), g[0] if g else float("inf")))
    return tuple(groups)


def labels_of(clusters: tuple[tuple[int, ...], ...], n: int) -> torch.Tensor:
    """Inverse of :func:`canonical_clusters`: cluster number of each of ``n`` points."""
    labels = torch.full((n,), -1, dtype=torch.long)
    for c, members in enumerate(clusters):
        labels[list(members)] = c
    return labels
