"""Are the clusters meaningful? Scores against the face renderer's part masks.

For every layer and cluster, over N evaluation latents (disjoint from the training and
general-purpose latents):

* **alignment** of a part: the share of the cluster's mean-activation *energy* (the square of the
  mean of the cluster's feature maps, bilinearly upsampled to the image) that falls inside the
  part's mask, divided by the part's share of the image (both averaged over the latents). 1 means
  no preference; the best part is the one with the highest ratio among parts present in at
  least a quarter of the latents.
* **edit locality**: ablate the cluster; of the pixel change (sum over RGB of ``|bent - plain|``,
  pooled over the latents), the share inside the best part's mask. ``lift`` divides it by that
  part's area share (what an edit spread evenly would score). Lift is biased towards random
  groups: any small ablation's change gathers on the small, high-contrast eyes, whose area share
  is tiny, so a random group's lift is high without owning any part.
* **specificity**: where the cluster's ablation changes the image (the share of the pooled pixel
  change in each part present in most faces, the rest pooled as "other"), as a total-variation
  distance from the same distribution for ablating the whole layer. A random group acts like a
  small copy of the layer and scores near 0; clusters that each own a part score high (at most 1).
  The layer's score is the mean over its clusters; :func:`bootstrap_specificity` gives an
  interval over the latents.

Three groupings with the same cluster sizes are scored: the CNN clusters under test, k-means on
the raw maps, and random groups (several seeded draws, averaged); see :mod:`.baselines`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch

from netbend.clustering.baselines import random_groups, raw_map_groups
from netbend.clustering.capture import capture_seeds, stored_size
from netbend.clustering.effects import bent_output, cluster_maps, upsample
from netbend.clusters import ClusterSet
from netbend.errors import NetbendError

EVAL_SEED_BASE = 900_000_000
MIN_PRESENCE = 0.25
MOST_FACES = 0.5    # specificity counts the parts present in more than half of the faces
BOOTSTRAP = 200     # latent resamples for the specificity interval


@dataclass(frozen=True)
class ClusterScore:
    cluster: int
    size: int
    best_part: str
    alignment: float      # best part's energy share / area share
    locality: float       # share of the ablation's pixel change inside the best part
    area: float           # best part's mean share of the image
    eyes_alignment: float
    eyes_locality: float
    specificity: float = float("nan")  # TV distance of the change's part distribution from the layer's

    @property
    def lift(self) -> float:
        return self.locality / self.area if self.area > 0 else float("nan")


def part_masks_check(model: Any) -> None:
    """Evaluation needs the renderer's part masks: only for the default face model."""
    from netbend.faces import N_PARAMS

    if getattr(model, "z_dim", None) != N_PARAMS:
        raise NetbendError(f"{getattr(model, 'name', 'model')}: evaluation needs part masks, which "
                           "only the default face model has (its z maps to renderer parameters)")


def face_masks(model: Any, seeds: Sequence[int]) -> tuple[torch.Tensor, tuple[str, ...]]:
    """Part masks ``[N, P, H, W]`` of the renderer faces the default face model draws."""
    from netbend.faces import LABELS, faces_for_latents

    part_masks_check(model)
    z = model.latents_from_seeds(list(seeds)).cpu()
    _, labels = faces_for_latents(z, size=model.resolution)
    lab = torch.from_numpy(labels.astype(np.int64))  # [N, H, W]
    return (lab[:, None] == torch.arange(len(LABELS))[None, :, None, None]).float(), LABELS


def alignment(cmaps: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Cluster mean maps ``[N, K, h, w]``, masks ``[N, P, H, W]`` -> ratios ``[K, P]``."""
    energy = upsample(cmaps.double(), tuple(masks.shape[-2:])).pow(2)  # [N, K, H, W]
    total = energy.sum((2, 3)).clamp_min(1e-30)  # [N, K]
    share = torch.einsum("nkhw,nphw->nkp", energy, masks.double()) / total[..., None]
    area = masks.double().mean((2, 3)).mean(0)  # [P]
    return share.mean(0) / torch.where(area > 0, area, torch.nan)


def locality(delta: torch.Tensor, mask: torch.Tensor) -> float:
    """Share of the change ``[N, H, W]`` inside ``mask [N, H, W]``, pooled over N."""
    total = float(delta.sum())
    return float((delta * mask).sum()) / total if total > 0 else float("nan")


def part_sums(delta: torch.Tensor, masks: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """Change ``[N, H, W]`` summed per latent inside each kept part ``masks[:, keep]`` and, last,
    everywhere else: ``[N, Q]`` (Q = kept parts + 1)."""
    inside = torch.einsum("nhw,nphw->np", delta.double(), masks[:, keep].double())
    other = delta.double().sum((1, 2)) - inside.sum(1)
    return torch.cat([inside, other.clamp_min(0.0)[:, None]], 1)


def change_distribution(sums: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    """Per-latent part sums ``[..., N, Q]`` -> share of the pooled change per part ``[..., Q]``
    (``weights [N]``: how often each latent counts, for resampling)."""
    if weights is not None:
        sums = sums * weights.to(sums.dtype)[:, None]
    total = sums.sum(-2)
    return total / total.sum(-1, keepdim=True).clamp_min(1e-30)


def total_variation(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Total-variation distance of distributions ``p`` and ``q`` over their last dimension."""
    return 0.5 * (p - q).abs().sum(-1)


def specificity(cluster_sums: torch.Tensor, layer_sums: torch.Tensor,
                weights: torch.Tensor | None = None) -> torch.Tensor:
    """Total-variation distance of each cluster's change distribution ``[K, N, Q]`` from the
    whole layer's ``[N, Q]``: ``[K]`` in [0, 1]."""
    return total_variation(change_distribution(cluster_sums, weights), change_distribution(layer_sums, weights))


def bootstrap_specificity(cluster_sums: torch.Tensor, layer_sums: torch.Tensor, *, draws: int = BOOTSTRAP,
                          seed: int = 0) -> torch.Tensor:
    """The layer's mean specificity for ``draws`` resamples of the latents (with replacement)."""
    n = layer_sums.shape[0]
    gen = torch.Generator().manual_seed(int(seed))
    idx = torch.randint(n, (draws, n), generator=gen)
    counts = torch.zeros(draws, n, dtype=torch.float64).scatter_add_(1, idx, torch.ones(draws, n, dtype=torch.float64))
    return torch.stack([specificity(cluster_sums, layer_sums, w).mean() for w in counts])


def kept_parts(masks: torch.Tensor) -> torch.Tensor:
    """Parts present in more than half of the faces ``[P]`` (bool)."""
    return (masks.sum((2, 3)) > 0).double().mean(0) > MOST_FACES


def layer_change(model: Any, path: str, layer: int | str, n_features: int, masks: torch.Tensor,
                 plain: torch.Tensor, seeds: Sequence[int]) -> torch.Tensor:
    """Per-latent part sums ``[N, Q]`` of the change when the whole layer is ablated."""
    delta = (bent_output(model, seeds, path, layer, range(n_features), "ablate") - plain).abs().sum(1)
    return part_sums(delta, masks, kept_parts(masks))


def score_groups(model: Any, path: str, layer: int | str, groups: Sequence[Sequence[int]],
                 maps: torch.Tensor, masks: torch.Tensor, parts: Sequence[str],
                 plain: torch.Tensor, seeds: Sequence[int],
                 layer_sums: torch.Tensor | None = None) -> tuple[list[ClusterScore], torch.Tensor]:
    """Scores of each group of one layer (``maps``: the layer's full maps for ``seeds``), and the
    groups' per-latent part sums ``[K, N, Q]`` (for :func:`bootstrap_specificity`)."""
    ratios = alignment(cluster_maps(maps, groups), masks)  # [K, P]
    present = (masks.sum((2, 3)) > 0).double().mean(0) >= MIN_PRESENCE  # [P]
    area = masks.mean((2, 3)).mean(0)
    eyes = parts.index("eyes")
    keep = kept_parts(masks)
    if layer_sums is None:
        layer_sums = layer_change(model, path, layer, maps.shape[1], masks, plain, seeds)
    out, sums = [], []
    for k, feats in enumerate(groups):
        r = torch.where(present, ratios[k].nan_to_num(-1.0), torch.tensor(-1.0, dtype=ratios.dtype))
        best = int(torch.argmax(r))
        delta = (bent_output(model, seeds, path, layer, feats, "ablate") - plain).abs().sum(1)
        sums.append(part_sums(delta, masks, keep))
        spec = float(specificity(sums[-1][None], layer_sums)[0])
        out.append(ClusterScore(k, len(feats), parts[best], float(ratios[k, best]),
                                locality(delta, masks[:, best]), float(area[best]),
                                float(ratios[k, eyes]), locality(delta, masks[:, eyes]), spec))
    return out, torch.stack(sums)


def evaluate(model: Any, clusters: ClusterSet, *, n_latents: int = 32, random_draws: int = 8,
             raw_seeds: Sequence[int] | None = None, max_side: int = 16, seed: int = 0,
             keys: Sequence[str] | None = None,
             masks_fn: Callable[[Any, Sequence[int]], tuple[torch.Tensor, Sequence[str]]] = face_masks,
             progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Score the CNN clusters, raw-map k-means and random groups of every layer."""
    seeds = list(range(EVAL_SEED_BASE, EVAL_SEED_BASE + n_latents))
    raw_seeds = list(raw_seeds or range(500_000_000, 500_000_000 + 64))
    masks, parts = masks_fn(model, seeds)
    report: dict[str, Any] = {"n_latents": n_latents, "random_draws": random_draws,
                              "raw_latents": len(raw_seeds), "raw_max_side": max_side,
                              "parts": list(parts), "layers": {}}
    for key in keys or list(clusters.layers):
        groups = clusters.clusters_of(key)
        path = _path(model, clusters, key)
        layer = int(key) if key.isdigit() else key
        maps, plain = capture_seeds(model, seeds, {path: None})
        sizes = [len(g) for g in groups]
        h, w = maps[path].shape[-2:]
        raw_maps, _ = capture_seeds(model, raw_seeds, {path: stored_size(h, w, max_side)})
        groupings = {"cnn": [groups], "raw": [raw_map_groups(raw_maps[path], sizes, seed=seed)],
                     "random": [random_groups(sizes, seed + d) for d in range(random_draws)]}
        layer_sums = layer_change(model, path, layer, maps[path].shape[1], masks, plain, seeds)
        row, boot = {}, {}
        for name, draws in groupings.items():
            row[name], boot[name] = [], []
            for d, g in enumerate(draws):
                scores, sums = score_groups(model, path, layer, g, maps[path], masks, parts, plain, seeds,
                                            layer_sums)
                row[name].append([asdict(s) | {"lift": s.lift} for s in scores])
                boot[name].append(bootstrap_specificity(sums, layer_sums, seed=seed + d).tolist())
        report["layers"][key] = {"path": path, "sizes": sizes, "groupings": row,
                                 "summary": summarise(row), "specificity_bootstrap": boot}
        if progress:
            progress(f"layer {key}: " + _line(report["layers"][key]["summary"]))
    return report


def _path(model: Any, clusters: ClusterSet, key: str) -> str:
    from netbend.layers import find_layer

    known = (clusters.meta.get("paths") or {}).get(key)
    return known or find_layer(model, int(key) if key.isdigit() else key).path


def summarise(row: dict[str, list[list[dict[str, Any]]]]) -> dict[str, dict[str, float]]:
    """Per grouping: mean best-part alignment, locality, lift and specificity over clusters (and
    draws); for specificity also each draw's layer mean."""
    out = {}
    for name, draws in row.items():
        flat = [s for d in draws for s in d]
        out[name] = {m: float(np.nanmean([s[m] for s in flat]))
                     for m in ("alignment", "locality", "lift", "eyes_alignment", "specificity")}
        out[name]["specificity_draws"] = [float(np.nanmean([s["specificity"] for s in d])) for d in draws]
    return out


def _line(summary: dict[str, dict[str, float]]) -> str:
    return "  ".join(f"{n}: align {s['alignment']:.2f} loc {s['locality']:.2f} spec {s['specificity']:.3f}"
                     for n, s in summary.items())


def plan_part_change(model: Any, plan: Any, clusters: ClusterSet, *, n_latents: int = 32,
                     masks_fn: Callable = face_masks) -> dict[str, dict[str, float]]:
    """How a plan's pixel change splits over the parts: for each part, the mean change
    (sum over RGB of ``|bent - plain|``) on its pixels, elsewhere, and their ratio."""
    from netbend.bending import bend, resolve_plan
    from netbend.clustering.capture import run_seeds

    seeds = list(range(EVAL_SEED_BASE, EVAL_SEED_BASE + n_latents))
    masks, parts = masks_fn(model, seeds)
    plain = run_seeds(model, seeds)
    with bend(model.module, resolve_plan(plan, model, clusters=clusters)):
        delta = (run_seeds(model, seeds) - plain).abs().sum(1)  # [N, H, W]
    out = {}
    for p, name in enumerate(parts):
        m = masks[:, p]
        if m.sum() == 0 or m.sum() == m.numel():
            continue
        inside = float((delta * m).sum() / m.sum())
        outside = float((delta * (1 - m)).sum() / (1 - m).sum())
        out[name] = {"inside": inside, "outside": outside, "ratio": inside / max(outside, 1e-12)}
    return out
