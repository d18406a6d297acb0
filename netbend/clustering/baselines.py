"""Groupings to compare the paper's CNN clusters against, each with the *same cluster sizes*.

* **raw**: k-means (same Lloyd/Forgy code) on the raw maps themselves: each feature is the
  vector of its downsampled maps for the same N latents, concatenated ``[C, N*h*w]``. k-means
  finds its own sizes; to match the CNN clusters' sizes, its clusters are ranked by size, the
  i-th largest is given the i-th largest CNN size, and features are assigned to those capacity
  slots by a minimum-total-squared-distance assignment (Hungarian method, scipy).
* **random**: a seeded random permutation of the features cut into the CNN clusters' sizes.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from netbend.clustering.kmeans import best_of
from netbend.errors import NetbendError

Clusters = tuple[tuple[int, ...], ...]


def random_groups(sizes: Sequence[int], seed: int) -> Clusters:
    """Features ``0..sum(sizes)-1`` shuffled (seeded) and cut into groups of ``sizes``."""
    perm = torch.randperm(sum(sizes), generator=torch.Generator().manual_seed(int(seed))).tolist()
    out, start = [], 0
    for s in sizes:
        out.append(tuple(sorted(perm[start:start + s])))
        start += s
    return tuple(out)


def sized_assignment(x: torch.Tensor, centres: torch.Tensor, sizes: Sequence[int]) -> Clusters:
    """Assign points ``x [C, D]`` to ``centres [K, D]`` with exactly ``sizes[k]`` points each,
    minimising the total squared distance."""
    try:
        from scipy.optimize import linear_sum_assignment
    except ImportError:
        raise NetbendError("the raw-map baseline needs scipy (pip install scipy)") from None
    dist = torch.cdist(x.double(), centres.double()).pow(2)  # [C, K]
    slots = np.repeat(np.arange(len(sizes)), sizes)           # one column per capacity slot
    rows, cols = linear_sum_assignment(dist.numpy()[:, slots])
    groups: list[list[int]] = [[] for _ in sizes]
    for r, c in zip(rows, cols):
        groups[slots[c]].append(int(r))
    return tuple(tuple(sorted(g)) for g in groups)


def raw_map_groups(maps: torch.Tensor, sizes: Sequence[int], *, seed: int = 0,
                   restarts: int = 1) -> Clusters:
    """k-means on raw maps ``[N, C, h, w]`` (features as vectors), forced to ``sizes``."""
    n, c = maps.shape[:2]
    x = maps.permute(1, 0, 2, 3).reshape(c, -1).double()  # [C, N*h*w]
    res = best_of(x, len(sizes), seed=seed, restarts=restarts)
    natural = torch.bincount(res.labels, minlength=len(sizes))
    order = sorted(range(len(sizes)), key=lambda k: -int(natural[k]))  # largest first
    ranked_sizes = sorted(sizes, reverse=True)
    groups = sized_assignment(x, res.centres[order], ranked_sizes)
    by_size = dict(zip(range(len(sizes)), groups))
    # hand back in the order of the requested sizes (matching sizes, any order within ties)
    out, used = [], set()
    for s in sizes:
        k = next(i for i in range(len(sizes)) if i not in used and len(by_size[i]) == s)
        used.add(k)
        out.append(by_size[k])
    return tuple(out)
