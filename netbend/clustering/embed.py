"""Embedding features with the trained CNNs and clustering the embeddings (paper §4.3).

* **per sample**: one unmodified forward pass for one latent; each feature's map -> its 10-d
  bottleneck vector; k-means on the layer's vectors.
* **general purpose**: each feature's vector averaged over N seeded latents; k-means on the means.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import torch

from netbend.clustering.capture import capture_seeds
from netbend.clustering.model import CNNConfig, MetricCNN
from netbend.clustering.train import load_checkpoint, standardise
from netbend.errors import NetbendError
from netbend.fileio import atomic_path

Clusters = tuple[tuple[int, ...], ...]


@dataclass
class Embedder:
    """One layer's trained CNN with what it needs to read raw maps."""

    key: str
    path: str
    cnn: MetricCNN
    norm: tuple[float, float]
    k: int
    val_accuracy: float | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.cnn.config.in_height, self.cnn.config.in_width

    @torch.no_grad()
    def __call__(self, maps: torch.Tensor, batch: int = 4096) -> torch.Tensor:
        """Maps ``[N, C, h, w]`` (at :attr:`size`) -> embeddings ``[N, C, D]``."""
        n, c, h, w = maps.shape
        flat = standardise(maps.reshape(n * c, h, w), self.norm)  # [N*C, 1, h, w]
        out = torch.cat([self.cnn.embed(flat[i:i + batch]) for i in range(0, n * c, batch)])
        return out.view(n, c, -1)


def checkpoint_file(cnn_dir: str | os.PathLike, key: str) -> Path:
    return Path(cnn_dir) / f"{key.replace('/', '_')}.pt"


def load_embedder(path: str | os.PathLike) -> Embedder:
    ckpt = load_checkpoint(path)
    extra = ckpt.get("extra") or {}
    if "key" not in extra:
        raise NetbendError(f"{path}: checkpoint does not say which layer it is for")
    if ckpt["epoch"] < ckpt["epochs"]:
        raise NetbendError(f"{path}: training is unfinished (epoch {ckpt['epoch']} of "
                           f"{ckpt['epochs']}); run `netbend cluster train` again to resume")
    cnn = MetricCNN(CNNConfig(**ckpt["config"]))
    cnn.load_state_dict(ckpt["model"])
    history = ckpt.get("history") or []
    return Embedder(extra["key"], extra["path"], cnn.eval(), tuple(ckpt["settings"]["norm"]),
                    int(extra["k"]), history[-1]["val_accuracy"] if history else None)


def save_embedders(embedders: dict[str, Embedder], path: str | os.PathLike) -> None:
    """All layers' trained CNNs in one ``.safetensors`` file (weights + JSON config, no code)."""
    from safetensors.torch import save_file

    tensors, info = {}, []
    for key, e in embedders.items():
        info.append({"key": key, "path": e.path, "norm": list(e.norm), "k": e.k,
                     "val_accuracy": e.val_accuracy, "config": e.cnn.config.to_dict()})
        for name, t in e.cnn.state_dict().items():
            tensors[f"{key}/{name}"] = t.contiguous()
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"netbend": json.dumps({"embedders": info})})


def load_embedders_file(path: str | os.PathLike) -> dict[str, Embedder]:
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            info = json.loads((f.metadata() or {})["netbend"])["embedders"]
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (KeyError, ValueError, OSError) as err:
        raise NetbendError(f"{path}: not a netbend CNN file ({err})") from None
    out = {}
    for row in info:
        cnn = MetricCNN(CNNConfig(**row["config"]))
        prefix = row["key"] + "/"
        cnn.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
        out[row["key"]] = Embedder(row["key"], row["path"], cnn.eval(), tuple(row["norm"]),
                                   int(row["k"]), row["val_accuracy"])
    return out


def load_embedders(cnn_dir: str | os.PathLike, keys: Iterable[str] | None = None
                   ) -> dict[str, Embedder]:
    """The trained CNNs of ``keys`` (default: all, by layer number), from a folder of training
    checkpoints or from one file written by :func:`save_embedders`."""
    if Path(cnn_dir).is_file():
        found = load_embedders_file(cnn_dir)
        missing = [k for k in keys or [] if k not in found]
        if missing:
            raise NetbendError(f"{cnn_dir}: no CNN for layer {missing[0]} (has {', '.join(found)})")
        return {k: found[k] for k in keys} if keys else found
    if keys is None:
        found = [load_embedder(p) for p in sorted(Path(cnn_dir).glob("*.pt"))]
        if not found:
            raise NetbendError(f"{cnn_dir}: no CNN checkpoints (*.pt) found")
        found.sort(key=lambda e: (0, int(e.key), "") if e.key.isdigit() else (1, 0, e.key))
        return {e.key: e for e in found}
    out = {}
    for key in keys:
        path = checkpoint_file(cnn_dir, key)
        if not path.is_file():
            raise NetbendError(f"{path}: no trained CNN for layer {key}; run `netbend cluster train`")
        out[key] = load_embedder(path)
    return out


def embed_seeds(model: Any, embedders: dict[str, Embedder], seeds: Sequence[int],
                batch: int = 8) -> dict[str, torch.Tensor]:
    """Mean embedding ``[C, D]`` of every feature over ``seeds`` (one seed: per-sample mode)."""
    sizes = {e.path: e.size for e in embedders.values()}
    sums: dict[str, torch.Tensor] = {}
    for i in range(0, len(seeds), batch):
        maps, _ = capture_seeds(model, seeds[i:i + batch], sizes)
        for key, e in embedders.items():
            part = e(maps[e.path]).double().sum(0)  # [C, D]
            sums[key] = part if key not in sums else sums[key] + part
    return {key: s / len(seeds) for key, s in sums.items()}


def cluster_embeddings(embeddings: dict[str, torch.Tensor], ks: dict[str, int], *, seed: int = 0,
                       restarts: int = 1, method: str = "paper") -> dict[str, Clusters]:
    """Cluster each layer's ``[C, D]`` vectors (``method``: see :mod:`.methods`; the paper's
    k-means by default); clusters in canonical order."""
    from netbend.clustering.methods import cluster_features

    return {key: cluster_features(x, ks[key], method=method, seed=seed, restarts=restarts)
            for key, x in embeddings.items()}
