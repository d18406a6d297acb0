"""Activation datasets: every feature map of every chosen layer for N seeded latents, on disk.

Layout of a dataset folder::

    meta.json                       settings, model, seeds per split, layers (+ mean/std)
    train/<layer key>/00000.npy     [latents in chunk, C, h, w] float16, one file per chunk
    test/<layer key>/00000.npy

The split is by latent: train seeds ``seed*10**6 + 0..n_train-1``, test seeds the next
``n_test``. Maps whose larger side exceeds ``max_side`` are area-averaged down (recorded in
``meta.json``). Chunks are written atomically, so an interrupted build resumes where it stopped.
"""
from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from tqdm.auto import tqdm

from netbend.clustering.capture import Layer, capture_seeds, choose_layers, stored_size
from netbend.errors import NetbendError
from netbend.fileio import atomic_path, atomic_write_text

FORMAT = "netbend-activations"
SPLITS = ("train", "test")
IN_MEMORY_BYTES = 1 << 30  # layers smaller than this are read into memory for training
# runs work(state, chunk) for every chunk and on_result(chunk, result) as results arrive
Executor = Callable[[Callable[[Any, Any], Any], Sequence[Any], Callable[[Any, Any], None]], None]


def model_family(model: Any) -> str:
    """'vae' for the spectrogram VAE (its own k/batch table), else 'stylegan2' rules."""
    names = (getattr(model, "family", ""), type(model).__name__,
             type(getattr(model, "module", None)).__name__)
    return "vae" if any("vae" in str(n).lower() for n in names) else "stylegan2"


def split_seeds(seed: int, n_train: int, n_test: int) -> dict[str, list[int]]:
    base = int(seed) * 10**6
    return {"train": list(range(base, base + n_train)),
            "test": list(range(base + n_train, base + n_train + n_test))}


def _layer_dir(root: Path, split: str, key: str) -> Path:
    return root / split / key.replace("/", "_")


def _meta(model: Any, layers: list[Layer], seeds: dict[str, list[int]], seed: int,
          max_side: int | None, chunk: int) -> dict[str, Any]:
    rows = []
    for l in layers:
        h, w = stored_size(l.height, l.width, max_side)
        rows.append({"key": l.key, "path": l.path, "number": l.number, "channels": l.channels,
                     "original_size": [l.height, l.width], "size": [h, w]})
    return {"format": FORMAT, "version": 1,
            "model": {"name": getattr(model, "name", "?"),
                      "hash": getattr(model, "model_hash", "?"), "family": model_family(model)},
            "seed": seed, "max_side": max_side, "dtype": "float16", "chunk_latents": chunk,
            "seeds": seeds, "layers": rows, "complete": False}


def build_dataset(model: Any, root: str | os.PathLike, *, n_train: int, n_test: int,
                  layers: Sequence[int | str] | None = None, max_side: int | None = None,
                  seed: int = 0, chunk: int = 8, progress: bool = True,
                  executor: Executor | None = None) -> "ActivationDataset":
    """Write (or finish writing) the activation dataset of ``model`` under ``root``.

    ``executor(work, chunks, on_result)`` runs ``work(model, chunk)`` for every chunk (default:
    here, in order); e.g. :func:`netbend.distributed.map_chunks` bound to Ray options and a model
    loader. The maps come back as arrays and are written here.
    """
    root = Path(root)
    chosen = choose_layers(model, layers)
    meta = _meta(model, chosen, split_seeds(seed, n_train, n_test), seed, max_side, chunk)
    _check_existing(root, meta)
    atomic_write_text(root / "meta.json", json.dumps(meta, indent=1))
    sizes = {row["path"]: tuple(row["size"]) for row in meta["layers"]}
    jobs = [(split, i) for split in SPLITS for i in range(0, len(meta["seeds"][split]), chunk)]
    todo = [(split, start) for split, start in jobs
            if not all((_layer_dir(root, split, l.key) / f"{start // chunk:05d}.npy").is_file() for l in chosen)]
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc="activations", disable=not progress,
               unit="chunk")

    def write(job: tuple[str, int], maps: dict[str, np.ndarray]) -> None:
        split, start = job
        for l in chosen:
            with atomic_path(_layer_dir(root, split, l.key) / f"{start // chunk:05d}.npy") as tmp:
                np.save(tmp, maps[l.path])  # [n, C, h, w] float16
        bar.update(1)

    (executor or local_executor(model))(partial(capture_chunk, meta["seeds"], sizes, chunk), todo, write)
    bar.close()
    dataset = ActivationDataset(root, meta)
    for row in meta["layers"]:
        row["mean"], row["std"] = dataset.statistics(row["key"])
    meta["complete"] = True
    atomic_write_text(root / "meta.json", json.dumps(meta, indent=1))
    return ActivationDataset(root)


def capture_chunk(seeds: dict[str, list[int]], sizes: dict[str, tuple[int, int] | None], chunk: int,
                  model: Any, job: tuple[str, int]) -> dict[str, np.ndarray]:
    """One chunk of a dataset: the maps of every layer for latents ``start..start+chunk`` of ``split``."""
    split, start = job
    maps, _ = capture_seeds(model, seeds[split][start:start + chunk], sizes)
    return {path: m.cpu().numpy().astype(np.float16) for path, m in maps.items()}  # [n, C, h, w]


def local_executor(state: Any) -> Executor:
    """Run every chunk here, in order: ``on_result(chunk, work(state, chunk))``."""
    def run(work, chunks, on_result) -> None:
        for c in chunks:
            on_result(c, work(state, c))
    return run


def _check_existing(root: Path, meta: dict[str, Any]) -> None:
    path = root / "meta.json"
    if not path.is_file():
        return
    old = json.loads(path.read_text())
    same = {k: old.get(k) for k in ("model", "seed", "max_side", "chunk_latents", "seeds", "layers")}
    new = {k: meta.get(k) for k in same}
    for row in same["layers"] or []:
        row.pop("mean", None), row.pop("std", None)
    if same != new:
        raise NetbendError(f"{path}: an activation dataset with other settings is already there; "
                           "choose another folder or delete it")


class ChunkedMaps:
    """A training :class:`~netbend.clustering.train.MapSource` over one layer's .npy chunks."""

    def __init__(self, files: list[Path], chunk: int, n_latents: int, n_features: int,
                 shape: tuple[int, int]):
        self.arrays = [np.load(f, mmap_mode="r") for f in files]
        self.chunk, self.n_latents, self.n_features, self.shape = chunk, n_latents, n_features, shape

    def gather(self, latents: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        out = np.empty((len(latents), *self.shape), dtype=np.float32)
        lat, feat = latents.numpy(), features.numpy()
        which = lat // self.chunk
        for c in np.unique(which):
            sel = np.nonzero(which == c)[0]
            out[sel] = self.arrays[c][lat[sel] % self.chunk, feat[sel]]
        return torch.from_numpy(out)


class ActivationDataset:
    """Read side of a dataset folder."""

    def __init__(self, root: str | os.PathLike, meta: dict[str, Any] | None = None):
        self.root = Path(root)
        if meta is None:
            path = self.root / "meta.json"
            if not path.is_file():
                raise NetbendError(f"{self.root}: not an activation dataset (no meta.json)")
            meta = json.loads(path.read_text())
            if meta.get("format") != FORMAT:
                raise NetbendError(f"{path}: not a netbend activation dataset")
            if not meta.get("complete"):
                raise NetbendError(f"{path}: dataset is incomplete; run `netbend cluster dataset` "
                                   "again to finish it")
        self.meta = meta
        self.layers = {row["key"]: row for row in meta["layers"]}

    def layer(self, key: str) -> dict[str, Any]:
        if key not in self.layers:
            raise NetbendError(f"{self.root}: no layer '{key}' in the dataset "
                               f"(layers: {', '.join(self.layers)})")
        return self.layers[key]

    def maps(self, key: str, split: str, *, in_memory: bool | None = None):
        """A map source for one layer and split (read into memory when small)."""
        from netbend.clustering.train import TensorMaps

        row = self.layer(key)
        n = len(self.meta["seeds"][split])
        chunk = self.meta["chunk_latents"]
        files = [_layer_dir(self.root, split, key) / f"{i:05d}.npy" for i in range(-(-n // chunk))]
        missing = [f for f in files if not f.is_file()]
        if missing:
            raise NetbendError(f"{missing[0]}: chunk missing; rebuild the dataset")
        src = ChunkedMaps(files, chunk, n, row["channels"], tuple(row["size"]))
        nbytes = n * row["channels"] * row["size"][0] * row["size"][1] * 4
        if in_memory or (in_memory is None and nbytes <= IN_MEMORY_BYTES):
            if n == 0:
                return TensorMaps(torch.zeros(0, row["channels"], *row["size"]))
            return TensorMaps(torch.from_numpy(np.concatenate(
                [np.asarray(a, dtype=np.float32) for a in src.arrays])))
        return src

    def statistics(self, key: str) -> tuple[float, float]:
        """Mean and standard deviation of every training map value of a layer (float64 sums)."""
        src = self.maps(key, "train", in_memory=False)
        total, sq, count = 0.0, 0.0, 0
        for arr in src.arrays:
            a = np.asarray(arr, dtype=np.float64)
            total, sq, count = total + a.sum(), sq + (a * a).sum(), count + a.size
        mean = total / max(1, count)
        std = float(np.sqrt(max(sq / max(1, count) - mean * mean, 0.0)))
        return float(mean), std if std > 1e-12 else 1.0
