"""Levers for more meaningful clusters, side by side, scored by alignment and specificity against
random groups of the same sizes (the measures of `netbend cluster evaluate`).

Every candidate clusters the same CNN embeddings (the shipped CNNs' general-purpose mean over
``--n-general`` latents), so the comparison isolates the clustering step:

* ``paper`` (or ``kmeans``): the paper's method, ``--method paper``: k-means (Forgy, one start,
  seed 0, the paper's table k) on ``--cnn``'s embeddings (for the shipped CNNs: the clusters shipped
  before the joint method, ``tests/fixtures/default_faces_clusters_paper.json``);
* ``kmeans10``: k-means, best of 10 starts, table k;
* ``ward``: agglomerative clustering (Ward linkage), table k;
* ``spectral``: spectral clustering on a 10-nearest-neighbour graph, table k;
* ``silhouette``: k-means with k in 3..8 chosen by the best silhouette;
* ``balanced``: k-means centres, then features assigned to them in equal sizes;
* ``raw``: k-means on the raw maps (the evaluation's baseline), sizes of ``paper``;
* ``effect``: not the paper's embedding: each feature's *ablation-effect signature* (where ablating
  that feature alone changes the image: ``|bent - plain|`` summed over RGB, pooled to an 8x8 grid
  and over ``--effect-latents`` general-purpose latents, normalised to sum 1; square-rooted, so
  Euclidean k-means approximates the Hellinger distance), clustered by k-means with the table k.
  Needs no part masks; costs one forward pass per feature.
* ``act``: each feature's *activation signature* (where its squared map lies, pooled the same
  way); ``effact``: both; ``cnn-effect``, ``cnn-effect-act``: the CNN embedding joined with them
  (:func:`netbend.clustering.signatures.joint`, each block scaled to unit mean squared norm);
  k-means best of 10 starts, or spectral clustering with the suffix ``-sp``;
* ``joint``: the library's ``--method joint`` (cnn-effect-act, spectral);
* ``parts``: the library's ``--method parts``, the default: ``joint``'s clusters refined so that
  each cluster's ablation changes its own unsupervised segments of the image, k chosen per layer
  in 3..table k the same way (:mod:`netbend.clustering.refine`); ``parts@table``: with the table's k.

k per layer: the table's (``--k-rule table``), or by a rule; ``eigengap:2`` takes the k in 2..table k
at the largest eigengap of the clustered rows' 10-nearest-neighbour graph Laplacian. A candidate
may carry its own rule: ``effect-sp@eigengap:2``.

Usage (the machine's load changes the times, never the scores)::

    python benchmarks/clustering_levers.py --layers 1-8 --n-latents 24 --random-draws 8 --out runs/levers.json

Needs scikit-learn and scipy (``pip install -e '.[test]'``).
"""
from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np
import torch

from netbend.clustering import DEFAULT_CLUSTERS, DEFAULT_CNN
from netbend.clustering.baselines import random_groups, raw_map_groups, sized_assignment
from netbend.clustering.capture import capture_seeds, stored_size
from netbend.clustering.embed import embed_seeds, load_embedders
from netbend.clustering.evaluate import EVAL_SEED_BASE, face_masks, layer_change, score_groups
from netbend.clustering.kmeans import best_of, canonical_clusters
from netbend.clustering.methods import cluster_features
from netbend.clustering.pipeline import GENERAL_SEED_BASE
from netbend.clustering.segments import fit_segmenter
from netbend.clustering.refine import PartChange, k_candidates, refine_layer
from netbend.clustering.signatures import activation_signatures, effect_signatures, joint
from netbend.clusters import load_clusters
from netbend.errors import run_script
from netbend.latents import parse_seeds
from netbend.models import load_model

try:
    from sklearn.cluster import AgglomerativeClustering, SpectralClustering
    from sklearn.metrics import silhouette_score
except ImportError:  # reported by main()
    AgglomerativeClustering = None

CANDIDATES = ("paper", "kmeans", "kmeans10", "ward", "spectral", "silhouette", "balanced", "raw")
# signature candidates (need --effect-latents forward passes per feature): what the features do
# (effect), where they are (act), and the CNN embedding joined with them (joint-*), each by
# k-means (best of 10 starts) or spectral clustering (*-sp)
# (``joint`` is the library's ``--method joint``: cnn-effect-act, spectral). A candidate may carry
# its own k rule after '@' (``effect-sp@eigengap:2``), else ``--k-rule``'s.
EXTRA = ("effect", "act", "effact", "cnn-effect", "cnn-effect-act", "effect-sp", "act-sp", "effact-sp",
         "cnn-effect-sp", "cnn-effect-act-sp", "joint", "parts")
SIGNATURE_BLOCKS = {"effect": ("effect",), "act": ("act",), "effact": ("effect", "act"),
                    "cnn-effect": ("cnn", "effect"), "cnn-effect-act": ("cnn", "effect", "act"),
                    "joint": ("cnn", "effect", "act"), "parts": ("cnn", "effect", "act")}


def _labels_to_groups(labels, k: int):
    return canonical_clusters(torch.as_tensor(np.asarray(labels), dtype=torch.int64), k)


def candidate_groups(name: str, x: torch.Tensor, k: int, shipped, raw_maps) -> tuple:
    """Clusters of one layer's embeddings ``x [C, D]`` by candidate ``name``."""
    xn = x.numpy()
    if name in ("paper", "kmeans"):
        return canonical_clusters(best_of(x, k, seed=0, restarts=1).labels, k)
    if name == "kmeans10":
        return canonical_clusters(best_of(x, k, seed=0, restarts=10).labels, k)
    if name == "ward":
        return _labels_to_groups(AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(xn), k)
    if name == "spectral":
        sc = SpectralClustering(n_clusters=k, affinity="nearest_neighbors", n_neighbors=min(10, len(xn) - 1),
                                random_state=0, assign_labels="cluster_qr")
        with warnings.catch_warnings():  # square inputs (C == D) only trigger an API notice
            warnings.filterwarnings("ignore", message="The spectral clustering API has changed")
            warnings.filterwarnings("ignore", message="Graph is not fully connected")
            return _labels_to_groups(sc.fit_predict(xn), k)
    if name == "silhouette":
        best = None
        for kk in range(3, min(8, len(xn) - 1) + 1):
            labels = best_of(x, kk, seed=0, restarts=10).labels
            score = silhouette_score(xn, labels.numpy())
            if best is None or score > best[0]:
                best = (score, labels, kk)
        return canonical_clusters(best[1], best[2])
    if name == "balanced":
        c = len(xn)
        sizes = [c // k + (1 if i < c % k else 0) for i in range(k)]
        centres = best_of(x, k, seed=0, restarts=10).centres
        return tuple(sorted(sized_assignment(x, centres, sizes), key=lambda g: (-len(g), g)))
    if name == "raw":
        return raw_map_groups(raw_maps, [len(g) for g in shipped], seed=0)
    raise ValueError(name)


def signature_groups(name: str, blocks: dict[str, torch.Tensor], k: int, weights: dict[str, float]) -> tuple:
    """Clusters of one layer's joined signatures (``name`` in :data:`EXTRA`)."""
    if name == "joint":  # exactly the library's method
        return cluster_features(joint([blocks["cnn"], blocks["effect"], blocks["act"]], [1.0, 1.0, 1.0]), k,
                                method="joint")
    base = name.removesuffix("-sp")
    parts = SIGNATURE_BLOCKS[base]
    x = joint([blocks[p] for p in parts], [weights.get(p, 1.0) for p in parts])
    if name.endswith("-sp"):
        return candidate_groups("spectral", x, k, None, None)
    return candidate_groups("kmeans10", x, k, None, None)


def eigengap_k(x: torch.Tensor, k_min: int, k_max: int) -> int:
    """k in ``k_min..k_max`` at the largest gap between consecutive eigenvalues of the normalised
    Laplacian of the rows' symmetrised 10-nearest-neighbour graph (the graph spectral clustering uses)."""
    from sklearn.neighbors import kneighbors_graph

    a = kneighbors_graph(x.numpy(), n_neighbors=min(10, len(x) - 1), include_self=True).toarray()
    a = 0.5 * (a + a.T)
    d = a.sum(1) ** -0.5
    lap = np.eye(len(a)) - d[:, None] * a * d[None, :]
    ev = np.linalg.eigvalsh(lap)
    ks = list(range(k_min, min(k_max, len(a) - 1) + 1))
    return max(ks, key=lambda k: (ev[k] - ev[k - 1], -k))


def choose_k(name: str, key: str, table_k: int, n_features: int, rule: str, x: torch.Tensor | None = None) -> int:
    """k for one layer: the table's, K on layers of at most 16 features ('small:K'), K everywhere
    ('fixed:K'), or by the eigengap of the clustered rows ``x`` in K..table k ('eigengap:K')."""
    if rule == "table":
        return table_k
    if rule.startswith("eigengap:"):
        return eigengap_k(x, int(rule.split(":")[1]), table_k)
    if rule.startswith("small:"):
        return int(rule.split(":")[1]) if n_features <= 16 else table_k
    if rule.startswith("fixed:"):
        return int(rule.split(":")[1])
    raise ValueError(rule)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--layers", default="1-8")
    ap.add_argument("--n-latents", type=int, default=24, help="held-out evaluation latents")
    ap.add_argument("--random-draws", type=int, default=8)
    ap.add_argument("--n-general", type=int, default=64)
    ap.add_argument("--candidates", default=",".join(CANDIDATES),
                    help=f"comma list of {', '.join(CANDIDATES + EXTRA)}")
    ap.add_argument("--effect-latents", type=int, default=16,
                    help="general-purpose latents for the 'effect' signatures")
    ap.add_argument("--weights", default="cnn=1,effect=1,act=1",
                    help="block weights of the joined signatures")
    ap.add_argument("--grid", type=int, default=8, help="grid side of the effect/activation signatures")
    ap.add_argument("--k-rule", default="table",
                    help="'table' (the paper's k), 'small:K' (K on layers of <= 16 features), 'fixed:K'")
    ap.add_argument("--cnn", default=str(DEFAULT_CNN))
    ap.add_argument("--clusters", default=str(DEFAULT_CLUSTERS))
    ap.add_argument("--out", default=None, help="JSON with every score")
    args = ap.parse_args()
    if AgglomerativeClustering is None:
        from netbend.errors import NetbendError

        raise NetbendError("this benchmark needs scikit-learn (pip install -e '.[test]')")
    torch.set_num_threads(1)
    model, shipped = load_model(None), load_clusters(args.clusters)
    keys = [str(k) for k in parse_seeds(args.layers, "--layers")]
    names = [n for n in args.candidates.split(",") if n]
    weights = {kv.split("=")[0]: float(kv.split("=")[1]) for kv in args.weights.split(",") if kv}
    embedders = load_embedders(args.cnn, keys)
    table_ks = {key: e.k for key, e in embedders.items()}
    emb = embed_seeds(model, embedders,
                      list(range(GENERAL_SEED_BASE, GENERAL_SEED_BASE + args.n_general)))
    seeds = list(range(EVAL_SEED_BASE, EVAL_SEED_BASE + args.n_latents))
    masks, parts = face_masks(model, seeds)
    raw_seeds = list(range(GENERAL_SEED_BASE, GENERAL_SEED_BASE + 64))
    rows: dict[str, dict[str, dict]] = {n: {} for n in names}
    sig_seeds = list(range(GENERAL_SEED_BASE, GENERAL_SEED_BASE + args.effect_latents))
    seg_masks = (fit_segmenter(model, sig_seeds)[1] if any(n.startswith("parts") for n in names) else None)
    times = {n: 0.0 for n in names}
    for key in keys:
        path, layer = shipped.meta["paths"][key], int(key)
        maps, plain = capture_seeds(model, seeds, {path: None})
        h, w = maps[path].shape[-2:]
        raw_maps, _ = capture_seeds(model, raw_seeds, {path: stored_size(h, w, 16)})
        layer_sums = layer_change(model, path, layer, maps[path].shape[1], masks, plain, seeds)
        random_cache: dict[tuple, dict] = {}
        blocks = {"cnn": emb[key]}
        for name in names:
            t = time.process_time()
            table_k = table_ks[key]
            base, _, rule = name.partition("@")
            rule = rule or args.k_rule
            if base in EXTRA:
                need = SIGNATURE_BLOCKS[base.removesuffix("-sp")]
                if "effect" in need and "effect" not in blocks:
                    blocks["effect"] = effect_signatures(model, path, layer, maps[path].shape[1], sig_seeds,
                                                         grid=args.grid)
                if "act" in need and "act" not in blocks:
                    blocks["act"] = activation_signatures(model, path, sig_seeds, grid=args.grid)
                # "parts" is exactly the library's method: equal block weights
                w = [1.0] * len(need) if base == "parts" else [weights.get(p, 1.0) for p in need]
                x = joint([blocks[p] for p in need], w)
                if base == "parts":
                    ks = k_candidates(table_k, table_k if "@" in name else None)
                    change = PartChange(model, path, layer, sig_seeds, seg_masks)
                    groups, _ = refine_layer(change, lambda kk: cluster_features(x, kk, method="parts"), ks)
                else:
                    k = choose_k(base, key, table_k, maps[path].shape[1], rule, x)
                    groups = signature_groups(base, blocks, k, weights)
            else:
                k = choose_k(base, key, table_k, maps[path].shape[1], rule, emb[key])
                groups = candidate_groups(base, emb[key], k, shipped.layers[key], raw_maps[path])
            times[name] += time.process_time() - t
            scores, _ = score_groups(model, path, layer, groups, maps[path], masks, parts, plain, seeds,
                                     layer_sums)
            sizes = tuple(len(g) for g in groups)
            if sizes not in random_cache:
                draws = [score_groups(model, path, layer, random_groups(sizes, d), maps[path], masks, parts,
                                      plain, seeds, layer_sums)[0] for d in range(args.random_draws)]
                random_cache[sizes] = {
                    "alignment": float(np.mean([s.alignment for d in draws for s in d])),
                    "specificity_draws": [float(np.mean([s.specificity for s in d])) for d in draws]}
                raw = raw_map_groups(raw_maps[path], list(sizes), seed=0)
                random_cache[sizes]["raw"] = score_groups(model, path, layer, raw, maps[path], masks, parts,
                                                          plain, seeds, layer_sums)[0]
            rnd = random_cache[sizes]
            rows[name][key] = {"sizes": list(sizes),
                               "alignment": float(np.mean([s.alignment for s in scores])),
                               "specificity": float(np.mean([s.specificity for s in scores])),
                               "random_alignment": rnd["alignment"],
                               "random_specificity": float(np.mean(rnd["specificity_draws"])),
                               "random_specificity_draws": rnd["specificity_draws"],
                               "raw_alignment": float(np.mean([s.alignment for s in rnd["raw"]])),
                               "raw_specificity": float(np.mean([s.specificity for s in rnd["raw"]]))}
        print(f"layer {key}: " + "  ".join(
            f"{n} spec {rows[n][key]['specificity']:.3f}/{rows[n][key]['random_specificity']:.3f} "
            f"align {rows[n][key]['alignment']:.1f}/{rows[n][key]['random_alignment']:.1f}" for n in names),
            flush=True)
    print(f"\n{args.n_latents} held-out latents, {args.random_draws} random draws per size vector, "
          f"layers {args.layers}, embeddings over {args.n_general} latents")
    print("| method | alignment wins | specificity wins | mean alignment (random; raw k-means) "
          "| mean specificity (random [5-95% of draws]; raw k-means) | specificity / random | clustering CPU s |")
    print("|---|---|---|---|---|---|---|")
    for n in names:
        r = rows[n]
        aw = sum(v["alignment"] > v["random_alignment"] for v in r.values())
        sw = sum(v["specificity"] > v["random_specificity"] for v in r.values())
        spec = np.mean([v["specificity"] for v in r.values()])
        per_draw = np.mean([v["random_specificity_draws"] for v in r.values()], 0)
        rspec = float(np.mean(per_draw))
        print(f"| {n} | {aw}/{len(r)} | {sw}/{len(r)} | {np.mean([v['alignment'] for v in r.values()]):.2f} "
              f"({np.mean([v['random_alignment'] for v in r.values()]):.2f}; "
              f"{np.mean([v['raw_alignment'] for v in r.values()]):.2f}) | {spec:.3f} ({rspec:.3f} "
              f"[{np.percentile(per_draw, 5):.3f}, {np.percentile(per_draw, 95):.3f}]; "
              f"{np.mean([v['raw_specificity'] for v in r.values()]):.3f}) | {spec / rspec:.2f}x "
              f"| {times[n]:.2f} |")
    if args.out:
        from pathlib import Path

        from netbend.fileio import atomic_write_text

        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.out, json.dumps({"args": vars(args), "rows": rows, "cpu_s": times}, indent=1))


if __name__ == "__main__":
    run_script(main)
