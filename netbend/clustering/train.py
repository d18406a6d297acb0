"""Training one layer's metric CNN: softmax over feature indices, Adam, checkpoints, resume.

A checkpoint is plain tensors plus a small config (loaded with ``weights_only=True``): the CNN's
config and weights, the optimiser state, the epoch and step reached, the per-epoch history
(train loss, validation accuracy) and the settings that must match to resume. It is written
atomically after every epoch and every ``checkpoint_every`` steps, so a killed run resumes from
the last one. The order of samples in an epoch depends only on ``(seed, epoch)``, so a resumed
run sees exactly the batches the uninterrupted run would have seen.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from netbend.clustering.model import CNNConfig, MetricCNN
from netbend.errors import NetbendError
from netbend.fileio import atomic_path


class MapSource(Protocol):
    """Activation maps of one layer: ``n_latents x n_features`` maps of ``shape``."""

    n_latents: int
    n_features: int
    shape: tuple[int, int]

    def gather(self, latents: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Maps ``[B, H, W]`` float32 for index pairs ``latents[b], features[b]``."""


class TensorMaps:
    """A :class:`MapSource` over an in-memory tensor ``[n_latents, n_features, H, W]``."""

    def __init__(self, maps: torch.Tensor):
        self.maps = maps
        self.n_latents, self.n_features = maps.shape[:2]
        self.shape = tuple(maps.shape[2:])

    def gather(self, latents: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        return self.maps[latents, features].float()


@dataclass(frozen=True)
class TrainSettings:
    epochs: int
    batch_size: int
    lr: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.999)
    seed: int = 0
    norm: tuple[float, float] = (0.0, 1.0)  # layer mean and std used to standardise maps
    checkpoint_every: int = 0               # steps between mid-epoch checkpoints (0: epochs only)

    def resume_key(self) -> dict[str, Any]:
        """What must match to continue a checkpoint (epochs may grow)."""
        return {"batch_size": self.batch_size, "lr": self.lr, "betas": list(self.betas),
                "seed": self.seed, "norm": [float(v) for v in self.norm]}


@dataclass
class TrainResult:
    model: MetricCNN
    history: list[dict[str, float]] = field(default_factory=list)
    resumed_from: tuple[int, int] | None = None


def build_model(config: CNNConfig, seed: int) -> MetricCNN:
    """A freshly initialised CNN; the global RNG is left untouched."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return MetricCNN(config)


def epoch_order(n_items: int, seed: int, epoch: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(epoch))
    return torch.randperm(n_items, generator=gen)


def standardise(maps: torch.Tensor, norm: tuple[float, float]) -> torch.Tensor:
    """``[B, H, W]`` raw maps -> ``[B, 1, H, W]`` standardised CNN input."""
    return ((maps - norm[0]) / norm[1]).unsqueeze(1)


@torch.no_grad()
def accuracy(model: MetricCNN, source: MapSource, norm: tuple[float, float],
             batch_size: int = 512) -> float:
    """Top-1 accuracy of predicting each map's feature index, over every map of ``source``."""
    if source.n_latents == 0:
        return float("nan")
    was_training = model.training
    model.eval()
    n = source.n_latents * source.n_features
    correct = 0
    for start in range(0, n, batch_size):
        idx = torch.arange(start, min(n, start + batch_size))
        feats = idx % source.n_features
        logits = model(standardise(source.gather(idx // source.n_features, feats), norm))
        correct += int((logits.argmax(1) == feats).sum())
    model.train(was_training)
    return correct / n


def save_checkpoint(path: Path, model: MetricCNN, optim: torch.optim.Optimizer, epoch: int,
                    step: int, history: list[dict[str, float]], settings: TrainSettings,
                    extra: dict[str, Any] | None = None) -> None:
    state = {"config": model.config.to_dict(), "model": model.state_dict(),
             "optim": optim.state_dict(), "epoch": epoch, "step": step, "history": history,
             "settings": settings.resume_key(), "epochs": settings.epochs, "extra": extra or {}}
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise NetbendError(f"{path}: checkpoint not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure is a bad file
        raise NetbendError(f"{path}: not a netbend clustering checkpoint ({err})") from None


def load_trained(path: str | os.PathLike) -> MetricCNN:
    """The CNN stored in a checkpoint, in eval mode."""
    ckpt = load_checkpoint(path)
    model = MetricCNN(CNNConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["model"])
    return model.eval()


def _resume(path: Path | None, model: MetricCNN, optim: torch.optim.Optimizer,
            settings: TrainSettings) -> tuple[int, int, list[dict[str, float]]] | None:
    if path is None or not path.is_file():
        return None
    ckpt = load_checkpoint(path)
    if ckpt["config"] != model.config.to_dict() or ckpt["settings"] != settings.resume_key():
        raise NetbendError(f"{path}: checkpoint was made with other settings "
                           f"({ckpt['settings']}, {ckpt['config']}); delete it or use --restart")
    model.load_state_dict(ckpt["model"])
    optim.load_state_dict(ckpt["optim"])
    return int(ckpt["epoch"]), int(ckpt["step"]), list(ckpt["history"])


def train_layer(train: MapSource, test: MapSource, config: CNNConfig, settings: TrainSettings,
                *, checkpoint: str | os.PathLike | None = None, progress: bool = True,
                desc: str = "train", max_steps: int | None = None,
                extra: dict[str, Any] | None = None) -> TrainResult:
    """Train (or resume training) one layer's CNN; ``max_steps`` stops early (for tests).

    ``extra`` (plain values) is stored in the checkpoint, e.g. which layer the CNN is for.
    """
    path = Path(checkpoint) if checkpoint is not None else None
    model = build_model(config, settings.seed)
    optim = torch.optim.Adam(model.parameters(), lr=settings.lr, betas=settings.betas)
    resumed = _resume(path, model, optim, settings)
    epoch, step, history = resumed if resumed else (0, 0, [])
    n_items = train.n_latents * train.n_features
    steps_per_epoch = -(-n_items // settings.batch_size)
    steps_done = 0
    while epoch < settings.epochs:
        order = epoch_order(n_items, settings.seed, epoch)
        model.train()
        losses = []
        bar = tqdm(range(step, steps_per_epoch), desc=f"{desc} epoch {epoch + 1}/{settings.epochs}",
                   disable=not progress, leave=False)
        for step in bar:
            idx = order[step * settings.batch_size:(step + 1) * settings.batch_size]
            feats = idx % train.n_features
            maps = standardise(train.gather(idx // train.n_features, feats), settings.norm)
            loss = F.cross_entropy(model(maps), feats)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            losses.append(float(loss.detach()))
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
            steps_done += 1
            last = step + 1 == steps_per_epoch
            if path and not last and settings.checkpoint_every and \
                    (step + 1) % settings.checkpoint_every == 0:
                save_checkpoint(path, model, optim, epoch, step + 1, history, settings, extra)
            if max_steps is not None and steps_done >= max_steps and not last:
                return TrainResult(model.eval(), history, resumed and resumed[:2])
        epoch, step = epoch + 1, 0
        val = accuracy(model, test, settings.norm)
        history.append({"epoch": epoch, "train_loss": sum(losses) / max(1, len(losses)),
                        "val_accuracy": val})
        if progress:
            tqdm.write(f"{desc}: epoch {epoch}/{settings.epochs} loss "
                       f"{history[-1]['train_loss']:.4f} val accuracy {val:.3f} "
                       f"(chance {1 / train.n_features:.3f})")
        if path:
            save_checkpoint(path, model, optim, epoch, 0, history, settings, extra)
        if max_steps is not None and steps_done >= max_steps:
            break
    return TrainResult(model.eval(), history, resumed and resumed[:2])
