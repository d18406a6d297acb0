"""Refining a layer's clusters so that each one's ablation changes its own parts of the output.

For a layer and a set of latents: the *part distribution* of an ablation is where it changes the
output (``|bent - plain|`` summed over channels) split over unsupervised parts (:mod:`.segments`)
and pooled over the latents. A cluster's *specificity* is the total-variation distance of its
ablation's part distribution from ablating the whole layer: 0 when it changes the output like
the whole layer does, in the same proportions; high when it owns parts the layer's other
clusters do not. It is :mod:`.evaluate`'s measure, taken on the model's own segments instead of
the renderer's part masks and on other latents than the evaluation's, so it needs no labels.

:func:`refine` climbs it: starting from given clusters, it visits the features in a seeded order
and moves each to the cluster where the layer's objective gains most (the cluster it leaves and
the one it joins are ablated again), sweep after sweep until a sweep moves nothing or ``sweeps``
are done. The objective is the clusters' summed specificity plus ``alignment_weight`` times their
summed log *alignment* (the share of a cluster's mean-map energy in its best segment over that
segment's area, :func:`.evaluate.alignment`): without it, moves that own a part by its ablation
could leave clusters whose activations lie nowhere in particular. A cluster never shrinks below
``min_size`` (default: half the mean size, at least 2), so no cluster degenerates into one
idiosyncratic feature. Cost: about ``C * k`` ablations of ``len(seeds)`` latents per sweep.

:func:`choose_k` picks the number of clusters of a layer the same way, without labels: for each
candidate k, the clusters after one sweep against random groups of the same sizes over the same
latents and segments; the k whose specificity is the largest multiple of the random groups' wins,
among those whose mean alignment is ahead of the random groups' (none: the largest k).
Everything is deterministic for a given seed and thread count.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch

from netbend.clustering.baselines import random_groups
from netbend.clustering.capture import capture_seeds, resize_maps
from netbend.clustering.effects import bent_output, cluster_maps
from netbend.clustering.evaluate import MIN_PRESENCE, alignment, change_distribution, part_sums, total_variation
from netbend.clustering.kmeans import canonical_clusters
from netbend.clustering.segments import N_SEGMENTS, fit_segmenter
from netbend.clustering.signatures import change_maps

SWEEPS = 3
ALIGNMENT_WEIGHT = 0.1
K_MIN = 3           # choose_k tries K_MIN..the table's k
RANDOM_DRAWS = 8    # random groupings choose_k compares with
MIN_GAIN = 1e-6
Clusters = tuple[tuple[int, ...], ...]


def k_candidates(table_k: int, k: int | None = None) -> list[int]:
    """The ks :func:`refine_layer` tries: ``k`` when given, else K_MIN..the table's k."""
    return [k] if k else list(range(min(K_MIN, table_k), table_k + 1))


def default_min_size(n_features: int, k: int) -> int:
    return max(2, round(n_features / k / 2))


class PartChange:
    """Ablations of one layer's features, scored over fixed latents and segment masks."""

    def __init__(self, model: Any, path: str, layer: int | str, seeds: Sequence[int], masks: torch.Tensor):
        from netbend.layers import layer_layouts

        self.model, self.path, self.layer, self.seeds = model, path, layer, list(seeds)
        self.layout = layer_layouts(model).get(path, "NCHW")
        self.masks = masks
        self.keep = torch.ones(masks.shape[1], dtype=torch.bool)
        self.present = (masks.sum((2, 3)) > 0).double().mean(0) >= MIN_PRESENCE
        maps, self.plain = capture_seeds(model, self.seeds, {path: None})
        self.maps = maps[path].double()
        self.n_features = self.maps.shape[1]
        self.whole = self.distribution(range(self.n_features))

    def distribution(self, features: Sequence[int]) -> torch.Tensor:
        """Part distribution ``[S + 1]`` of ablating ``features`` (the change area-pooled to the
        masks' size; last bin: outside every part, 0 when the masks cover the output)."""
        bent = bent_output(self.model, self.seeds, self.path, self.layer, features, "ablate", layout=self.layout)
        change = resize_maps(change_maps((bent - self.plain).abs()), tuple(self.masks.shape[-2:]))[:, 0]
        return change_distribution(part_sums(change, self.masks, self.keep))

    def specificity(self, features: Sequence[int]) -> float:
        return float(total_variation(self.distribution(features), self.whole))

    def log_alignment(self, features: Sequence[int]) -> float:
        """Log of the cluster's alignment with its best segment present in enough latents."""
        ratios = alignment(cluster_maps(self.maps, [list(features)]), self.masks)[0]
        return math.log(float(ratios[self.present].nan_to_num(0.0).max().clamp_min(1e-12)))


@dataclass
class _Cluster:
    features: list[int]
    specificity: float
    log_alignment: float

    @classmethod
    def of(cls, parts: PartChange, features: Sequence[int], weight: float) -> "_Cluster":
        feats = sorted(int(f) for f in features)
        return cls(feats, parts.specificity(feats), parts.log_alignment(feats) if weight else 0.0)

    def objective(self, weight: float) -> float:
        return self.specificity + weight * self.log_alignment


def refine(parts: PartChange, clusters: Sequence[Sequence[int]], *, sweeps: int = SWEEPS,
           min_size: int | None = None, seed: int = 0, alignment_weight: float = ALIGNMENT_WEIGHT,
           progress: Callable[[str], None] | None = None) -> tuple[Clusters, list[float]]:
    """Clusters of the layer moved feature by feature to raise the objective (see module docs);
    returns them in canonical order and their mean specificity after each sweep (first: before)."""
    w = alignment_weight
    groups = [_Cluster.of(parts, g, w) for g in clusters]
    k, n = len(groups), sum(len(g.features) for g in groups)
    min_size = default_min_size(n, k) if min_size is None else min_size
    history = [sum(g.specificity for g in groups) / k]
    for sweep in range(sweeps if k > 1 else 0):
        moved = 0
        order = torch.randperm(n, generator=torch.Generator().manual_seed(int(seed) + sweep)).tolist()
        for f in order:
            a = next(i for i, g in enumerate(groups) if f in g.features)
            if len(groups[a].features) <= min_size:
                continue
            rest = _Cluster.of(parts, [x for x in groups[a].features if x != f], w)
            best = None
            for b in range(k):
                if b == a:
                    continue
                joined = _Cluster.of(parts, groups[b].features + [f], w)
                gain = (rest.objective(w) + joined.objective(w)
                        - groups[a].objective(w) - groups[b].objective(w))
                if gain > MIN_GAIN and (best is None or gain > best[0]):
                    best = (gain, b, joined)
            if best is not None:
                groups[a], groups[best[1]] = rest, best[2]
                moved += 1
        history.append(sum(g.specificity for g in groups) / k)
        if progress:
            progress(f"sweep {sweep + 1}: {moved} moves, mean specificity {history[-1]:.3f}")
        if not moved:
            break
    labels = torch.empty(n, dtype=torch.int64)
    for i, g in enumerate(groups):
        labels[g.features] = i
    return canonical_clusters(labels, k), history


def against_random(parts: PartChange, clusters: Sequence[Sequence[int]], *, draws: int = RANDOM_DRAWS,
                   seed: int = 0) -> dict[str, float]:
    """Mean specificity and alignment of ``clusters`` and of random groups of the same sizes
    (``draws`` seeded draws) over ``parts``' latents and segments."""
    def means(groups):
        return (sum(parts.specificity(g) for g in groups) / len(groups),
                sum(math.exp(parts.log_alignment(g)) for g in groups) / len(groups))

    spec, align = means(clusters)
    sizes = [len(g) for g in clusters]
    rnd = [means(random_groups(sizes, seed + d)) for d in range(draws)]
    return {"specificity": spec, "alignment": align,
            "random_specificity": sum(r[0] for r in rnd) / draws,
            "random_alignment": sum(r[1] for r in rnd) / draws}


def choose_k(parts: PartChange, start: Callable[[int], Clusters], ks: Sequence[int], *, seed: int = 0,
             alignment_weight: float = ALIGNMENT_WEIGHT) -> tuple[int, Clusters, dict[int, dict[str, float]]]:
    """The k of ``ks`` whose clusters (``start(k)`` refined for one sweep) are most specific against
    random groups of the same sizes, among those aligned better than them (see module docs);
    returns it, its clusters and every k's scores."""
    trials, scores = {}, {}
    for k in ks:
        trials[k], _ = refine(parts, start(k), sweeps=1, seed=seed, alignment_weight=alignment_weight)
        s = against_random(parts, trials[k], seed=seed)
        scores[k] = {**s, "ratio": s["specificity"] / max(s["random_specificity"], 1e-12)}
    aligned = [k for k in ks if scores[k]["alignment"] > scores[k]["random_alignment"]]
    best = max(aligned, key=lambda k: (scores[k]["ratio"], k)) if aligned else max(ks)
    return best, trials[best], scores


def refine_layer(parts: PartChange, start: Callable[[int], Clusters], ks: Sequence[int], *,
                 sweeps: int = SWEEPS, seed: int = 0, alignment_weight: float = ALIGNMENT_WEIGHT,
                 progress: Callable[[str], None] | None = None) -> tuple[Clusters, dict[str, Any]]:
    """One layer: ``start(k)`` for the one k of ``ks``, or for the k :func:`choose_k` picks among
    several, refined; returns the clusters and what to record of them."""
    info: dict[str, Any] = {}
    if len(ks) > 1:
        k, groups, scores = choose_k(parts, start, ks, seed=seed, alignment_weight=alignment_weight)
        info["k_scores"] = {str(kk): {m: round(v, 4) for m, v in s.items()} for kk, s in scores.items()}
        rest_sweeps, first = sweeps - 1, seed + 1  # choose_k did the first sweep
    else:
        k, groups, rest_sweeps, first = ks[0], start(ks[0]), sweeps, seed
    clusters, history = refine(parts, groups, sweeps=rest_sweeps, seed=first, alignment_weight=alignment_weight,
                               progress=progress)
    return clusters, {"k": k, **info, "specificity_by_sweep": [round(h, 4) for h in history]}


def refine_layers(model: Any, paths: dict[str, str], start: Callable[[str, int], Clusters],
                  ks: dict[str, Sequence[int]], seeds: Sequence[int], *, n_segments: int | None = None,
                  sweeps: int = SWEEPS, seed: int = 0, alignment_weight: float | None = None,
                  segment_paths: Sequence[str] | None = None,
                  progress: Callable[[str], None] | None = None) -> tuple[dict[str, Clusters], dict[str, Any]]:
    """:func:`refine_layer` for every layer (``paths``: layer key -> module path; ``start(key, k)``:
    its starting clusters) over segments fitted to the outputs of ``seeds`` (``alignment_weight``
    None: :data:`ALIGNMENT_WEIGHT`); returns the clusters and what to record in the cluster file's meta."""
    alignment_weight = ALIGNMENT_WEIGHT if alignment_weight is None else alignment_weight
    seeds = list(seeds)
    segmenter, masks = fit_segmenter(model, seeds, n_segments=n_segments or N_SEGMENTS, seed=seed,
                                     paths=segment_paths)
    out, layers = {}, {}
    for key, path in paths.items():
        parts = PartChange(model, path, int(key) if key.isdigit() else key, seeds, masks)
        say = (lambda m, key=key: progress(f"layer {key}: {m}")) if progress else None
        out[key], layers[key] = refine_layer(parts, lambda k, key=key: start(key, k), ks[key], sweeps=sweeps,
                                             seed=seed, alignment_weight=alignment_weight, progress=say)
        if say:
            curve = layers[key]["specificity_by_sweep"]
            say(f"k {layers[key]['k']}, specificity {curve[0]:.3f} -> {curve[-1]:.3f}")
    meta = {"segments": len(segmenter.centres), "segment_features": list(segmenter.paths),
            "latents": len(seeds), "sweeps": sweeps, "alignment_weight": alignment_weight, "layers": layers}
    return out, meta
