"""The whole clustering pipeline: dataset -> one CNN per layer -> embeddings -> k-means -> file.

Python use::

    from netbend.models import load_model
    from netbend.clustering.pipeline import run_pipeline
    clusters = run_pipeline(load_model(None), "runs/faces", preset="default")

writes ``runs/faces/{dataset,cnn}/``, ``runs/faces/cnn.safetensors`` (every layer's trained CNN
in one file, for per-sample clustering) and ``runs/faces/clusters.json``. Every step resumes: the
dataset's chunks and the CNN checkpoints already on disk are kept.
"""
from __future__ import annotations

import os
import sys
import time
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

from netbend.clustering.dataset import (ActivationDataset, Executor, build_dataset, local_executor,
                                       model_family)
from netbend.clustering.embed import (checkpoint_file, cluster_embeddings, embed_seeds,
                                      load_embedders, save_embedders)
from netbend.clustering.model import CNNConfig
from netbend.clustering.methods import (DEFAULT_METHOD, REFINED_METHODS, SIGNATURE_METHODS, check_method,
                                       cluster_features)
from netbend.clustering.presets import Preset, cnn_depth, get_preset, table_k_and_batch
from netbend.clustering.refine import k_candidates, refine_layers
from netbend.clustering.signatures import joint_signatures
from netbend.clustering.train import TrainSettings, train_layer
from netbend.clusters import ClusterSet, save_clusters
from netbend.errors import NetbendError
from tqdm.auto import tqdm

MODES = ("general", "sample")
GENERAL_SEED_BASE = 500_000_000  # general-purpose latents: disjoint from dataset seeds
SIGNATURE_LATENTS = 16  # general-purpose latents for the 'joint' method's signatures


def layer_settings(row: dict[str, Any], preset: Preset, family: str) -> dict[str, int]:
    """CNN depth (from the stored map size), k and batch size (from the original size)."""
    k, batch = table_k_and_batch(*row["original_size"], family=family, number=row["number"])
    return {"depth": cnn_depth(*row["size"]), "k": k,
            "batch_size": preset.batch_size or batch}


def describe(model: Any, preset: Preset | str, layers: Sequence[int | str] | None = None
             ) -> list[dict[str, Any]]:
    """What the pipeline would do per layer (for ``--dry-run``): sizes, depth, k, batch."""
    from netbend.clustering.capture import choose_layers, stored_size

    preset, family = _resolve(preset), model_family(model)
    rows = []
    for l in choose_layers(model, layers):
        row = {"key": l.key, "path": l.path, "number": l.number, "channels": l.channels,
               "original_size": [l.height, l.width],
               "size": list(stored_size(l.height, l.width, preset.max_side))}
        rows.append({**row, **layer_settings(row, preset, family)})
    return rows


def _resolve(preset: Preset | str) -> Preset:
    return get_preset(preset) if isinstance(preset, str) else preset


def train_all(dataset: ActivationDataset, cnn_dir: str | os.PathLike, preset: Preset | str, *,
              seed: int = 0, keys: Sequence[str] | None = None,
              progress: bool = True, restart: bool = False,
              executor: Executor | None = None) -> dict[str, dict[str, Any]]:
    """Train (or resume) the CNN of every dataset layer; returns per-layer timing and accuracy.

    The layers are independent: ``executor(work, keys, on_result)`` may train them anywhere that
    sees ``dataset`` and ``cnn_dir`` (see :func:`netbend.clustering.dataset.build_dataset`).
    """
    preset = _resolve(preset)
    keys = list(keys or dataset.layers)
    for key in keys:
        dataset.layer(key)  # unknown keys fail here, before any training
        if restart and checkpoint_file(cnn_dir, key).is_file():
            checkpoint_file(cnn_dir, key).unlink()
    report: dict[str, dict[str, Any]] = {}
    work = partial(train_one, str(dataset.root), str(cnn_dir), preset, seed, progress and executor is None)
    bar = tqdm(total=len(keys), desc="layers", unit="layer", disable=not progress or executor is None)

    def done(key: str, row: dict[str, Any]) -> None:
        report[key] = row
        bar.update(1)

    (executor or local_executor(None))(work, keys, done)
    bar.close()
    return {key: report[key] for key in keys}


def train_one(root: str, cnn_dir: str, preset: Preset, seed: int, progress: bool, _state: Any,
              key: str) -> dict[str, Any]:
    """Train (or resume) one layer's CNN from the dataset at ``root``; checkpoints go to ``cnn_dir``."""
    dataset = ActivationDataset(root)
    family = dataset.meta["model"].get("family", "stylegan2")
    row = dataset.layer(key)
    lay = layer_settings(row, preset, family)
    cfg = CNNConfig(*row["size"], n_features=row["channels"], depth=lay["depth"],
                    width=preset.width, bottleneck=preset.bottleneck)
    settings = TrainSettings(epochs=preset.epochs, batch_size=lay["batch_size"], lr=preset.lr,
                             betas=preset.betas, seed=seed, norm=(row["mean"], row["std"]),
                             checkpoint_every=200)
    start = time.process_time(), time.perf_counter()
    res = train_layer(dataset.maps(key, "train"), dataset.maps(key, "test"), cfg, settings,
                      checkpoint=checkpoint_file(cnn_dir, key), progress=progress, desc=f"layer {key}",
                      extra={"key": key, "path": row["path"], "k": lay["k"]})
    return {**lay, "cpu_s": time.process_time() - start[0], "wall_s": time.perf_counter() - start[1],
            "val_accuracy": res.history[-1]["val_accuracy"] if res.history else None,
            "chance": 1 / row["channels"]}


def assign(model: Any, cnn_dir: str | os.PathLike, keys: Sequence[str] | None = None, *, mode: str = "general",
           n_general: int = 64, latent_seed: int = 0, k: int | None = None, seed: int = 0,
           restarts: int = 1, settings: dict[str, Any] | None = None, method: str = DEFAULT_METHOD,
           signature_latents: int = SIGNATURE_LATENTS, alignment_weight: float | None = None,
           segment_layers: Sequence[str] | None = None,
           progress: Callable[[str], None] | None = None) -> ClusterSet:
    """Embed every layer's features and cluster them (``mode``: 'general' or 'sample';
    ``method``: how the embeddings are clustered, see :mod:`.methods`; the ``joint`` and ``parts``
    methods join each embedding with the features' signatures over the first ``signature_latents``
    general-purpose latents, or the one latent in 'sample' mode; ``parts`` then refines the clusters
    over the same latents (:mod:`.refine`: ``alignment_weight``, and ``segment_layers``, the
    feature layers of the segments), choosing k per layer unless ``k`` is given)."""
    if mode not in MODES:
        raise NetbendError(f"--mode: must be one of {', '.join(MODES)}, got '{mode}'")
    check_method(method)  # before the embedding work, not after it
    embedders = load_embedders(cnn_dir, keys)
    seeds = ([latent_seed] if mode == "sample"
             else list(range(GENERAL_SEED_BASE, GENERAL_SEED_BASE + n_general)))
    emb = embed_seeds(model, embedders, seeds)
    ks = {key: k or e.k for key, e in embedders.items()}
    sig_seeds = seeds[:max(1, signature_latents)]
    if method in SIGNATURE_METHODS:
        emb = {key: joint_signatures(model, e.path, int(key) if key.isdigit() else key, emb[key], sig_seeds)
               for key, e in embedders.items()}
    refined = None
    if method not in REFINED_METHODS:
        clusters = cluster_embeddings(emb, ks, seed=seed, restarts=restarts, method=method)
    else:
        clusters, refined = refine_layers(
            model, {key: e.path for key, e in embedders.items()},
            lambda key, kk: cluster_features(emb[key], kk, method=method, seed=seed, restarts=restarts),
            {key: k_candidates(e.k, k) for key, e in embedders.items()}, sig_seeds, seed=seed,
            alignment_weight=alignment_weight, segment_paths=segment_layers, progress=progress)
        ks = {key: row["k"] for key, row in refined["layers"].items()}
    meta = {"model": getattr(model, "name", "?"), "model_hash": getattr(model, "model_hash", "?"),
            "method": "cnn-embedding", "mode": mode, "seed": seed,
            "latents": ({"seed": latent_seed} if mode == "sample"
                        else {"seeds": f"{seeds[0]}-{seeds[-1]}", "n": len(seeds)}),
            "k": ks, "paths": {key: e.path for key, e in embedders.items()},
            "val_accuracy": {key: e.val_accuracy for key, e in embedders.items()},
            "settings": settings or {}}
    if method != "paper":  # paper-method files stay byte for byte what they were
        meta["clustering"] = method
    if method in SIGNATURE_METHODS:
        meta["signature_latents"] = len(sig_seeds)
    if refined is not None:
        meta["refine"] = refined
    return ClusterSet(clusters, meta, source=str(cnn_dir))


def run_pipeline(model: Any, out_dir: str | os.PathLike, *, preset: Preset | str = "default",
                 layers: Sequence[int | str] | None = None, seed: int = 0, mode: str = "general",
                 latent_seed: int = 0, k: int | None = None, progress: bool = True,
                 out: str | os.PathLike | None = None, method: str = DEFAULT_METHOD,
                 executors: tuple[Executor, Executor] | None = None) -> tuple[ClusterSet, dict[str, Any]]:
    """All steps; writes the cluster file (default ``out_dir/clusters.json``).

    ``executors``: (dataset chunks, layer trainings), see :func:`train_all`; default: here.
    """
    executors = executors or (None, None)
    preset = _resolve(preset)
    out_dir = Path(out_dir)
    timing: dict[str, Any] = {}
    t0 = time.perf_counter()
    ds = build_dataset(model, out_dir / "dataset", n_train=preset.n_train, n_test=preset.n_test,
                       layers=layers, max_side=preset.max_side, seed=seed, progress=progress,
                       executor=executors[0])
    timing["dataset_wall_s"] = time.perf_counter() - t0
    timing["layers"] = train_all(ds, out_dir / "cnn", preset, seed=seed, progress=progress,
                                 executor=executors[1])
    save_embedders(load_embedders(out_dir / "cnn"), out_dir / "cnn.safetensors")
    t1 = time.perf_counter()
    clusters = assign(model, out_dir / "cnn", list(ds.layers), mode=mode,
                      n_general=preset.n_general or preset.n_train, latent_seed=latent_seed, k=k,
                      seed=seed, restarts=preset.kmeans_restarts, method=method,
                      progress=(lambda m: tqdm.write(m, file=sys.stderr)) if progress else None,
                      settings={"preset": preset.to_dict(), "dataset_seed": seed})
    timing["assign_wall_s"] = time.perf_counter() - t1
    timing["total_wall_s"] = time.perf_counter() - t0
    save_clusters(clusters, out or out_dir / "clusters.json")
    return clusters, timing


def settings_table(preset: Preset | str, rows: list[dict[str, Any]]) -> str:
    """:func:`describe`'s rows as a text table, under one line of the preset's settings."""
    p = _resolve(preset)
    lines = [f"preset {p.name}: {p.n_train} train / {p.n_test} test latents, maps "
             + (f"downsampled to <= {p.max_side} px" if p.max_side else "full size")
             + f", {p.epochs} epochs, Adam lr {p.lr:g} betas {tuple(p.betas)}, "
             f"{p.n_general or p.n_train} general-purpose latents, k-means restarts {p.kmeans_restarts}",
             f"{'layer':>5}  {'path':<20} {'features':>8}  {'maps':>9}  {'stored':>9}  {'depth':>5}  "
             f"{'k':>3}  {'batch':>5}"]
    for r in rows:
        num = "-" if r["number"] is None else str(r["number"])
        size, stored = ("x".join(map(str, r[k])) for k in ("original_size", "size"))
        lines.append(f"{num:>5}  {r['path']:<20} {r['channels']:>8}  {size:>9}  {stored:>9}  "
                     f"{r['depth']:>5}  {r['k']:>3}  {r['batch_size']:>5}")
    return "\n".join(lines)
