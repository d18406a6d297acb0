"""Training the default model: a StyleGAN2 generator regressed onto the face renderer.

For seed ``i`` the generator gets ``z_i = latents_for_seeds([i])`` and is trained to output the
renderer's image of ``params_from_latent(z_i)``, in two phases: first the L1 loss in [-1, 1] with
eye/eyebrow/nose/mouth pixels weighted ``1 + part_weight`` (learns the layout and the small parts
fastest), then, from progress ``l2_from`` on, the squared error (what PSNR scores) with those pixels
weighted ``1 + l2_part_weight``. Both choices were measured side by side
(``benchmarks/faces_recipe.py``, ``benchmarks/faces_final_phase.py``; README "Training"). Adam,
warm-up then cosine learning rate over the run, and an EMA copy of the weights that becomes the
shipped model. The run ends at ``steps`` steps or after ``minutes`` of training time, whichever
comes first; the learning-rate schedule follows the same progress (the larger of the two
fractions), so a run cut short by time still anneals.

A checkpoint (``checkpoint.pt``: weights, EMA, optimiser, step, training time so far, sampler state)
is written atomically every ``checkpoint_minutes``; ``resume=True`` continues from it. The finished
model is written as ``faces{size}.safetensors`` (netbend's native format, with the mean latent)
plus ``faces{size}.json`` (how it was trained).
"""
from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from netbend.errors import NetbendError
from netbend.faces.dataset import build_cache, load_cache
from netbend.faces.params import N_PARAMS, latents_for_seeds
from netbend.models.loaders.native import save_native
from netbend.models.stylegan2 import Generator
from netbend.models.wrapper import MEAN_W_SAMPLES, MEAN_W_SEED, StyleGAN2Model
from netbend.fileio import atomic_path, atomic_write_text

PART_LABELS = (3, 4, 5, 6)  # eyes, eyebrows, nose, mouth


def model_config(size: int = 64) -> dict:
    """Generator constructor arguments of the default model at ``size`` (64 or 128)."""
    channels = {4: 128, 8: 128, 16: 64, 32: 32, 64: 16, 128: 8}
    return {"size": size, "style_dim": 128, "n_mlp": 4, "lr_mlp": 0.5, "z_dim": N_PARAMS,
            "channels": {r: c for r, c in channels.items() if r <= size}}


@dataclass(frozen=True)
class TrainConfig:
    out: str = "runs/faces"
    faces: int = 32768
    size: int = 64
    batch: int = 8
    lr: float = 3e-2
    minutes: float = 52.0
    steps: int = 1_000_000
    seed: int = 0
    threads: int = 2
    workers: int = 2
    part_weight: float = 4.0
    l2_from: float = 0.75
    l2_part_weight: float = 1.0
    compile: bool = False
    ema_kimg: float = 4.0
    checkpoint_minutes: float = 3.0
    model: dict = field(default_factory=dict)

    def resolved(self) -> "TrainConfig":
        cfg = self.model or model_config(self.size)
        return TrainConfig(**{**asdict(self), "model": cfg})


class _State:
    """Everything a checkpoint holds."""

    def __init__(self, cfg: TrainConfig):
        torch.manual_seed(cfg.seed)
        self.gen = Generator(**cfg.model)
        self.ema = copy.deepcopy(self.gen).eval().requires_grad_(False)
        self.opt = _adam(list(self.gen.parameters()), cfg.lr)
        self.sampler = torch.Generator().manual_seed(cfg.seed)
        self.step, self.elapsed, self.loss = 0, 0.0, float("nan")

    def save(self, path: Path, cfg: TrainConfig) -> None:
        blob = {"gen": self.gen.state_dict(), "ema": self.ema.state_dict(), "opt": self.opt.state_dict(),
                "sampler": self.sampler.get_state(), "step": self.step, "elapsed": self.elapsed,
                "loss": self.loss, "config": json.dumps(asdict(cfg), default=str)}
        with atomic_path(path) as tmp:
            torch.save(blob, tmp)

    def load(self, path: Path) -> None:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        self.gen.load_state_dict(blob["gen"])
        self.ema.load_state_dict(blob["ema"])
        self.opt.load_state_dict(blob["opt"])
        self.sampler.set_state(blob["sampler"])
        self.step, self.elapsed, self.loss = int(blob["step"]), float(blob["elapsed"]), float(blob["loss"])


def _adam(params: list, lr: float) -> torch.optim.Adam:
    """Adam, the fused implementation where this torch has it (``benchmarks/faces_step.py``: 6 % more
    steps per second on this 2-core CPU), else the default one; both keep the same state."""
    try:
        return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.99), fused=True)
    except (RuntimeError, TypeError):
        return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.99))


def _compiled(gen: Generator, batch: int, log: Callable[[str], None]) -> Callable:
    """``torch.compile(gen)`` if it compiles and runs a training step here, else ``gen`` itself.

    Compiling (forward and backward) takes up to about two minutes once per process (less with a
    warm compiler cache) and then runs the training step about 1.7x faster on this CPU
    (``benchmarks/faces_step.py``). It needs a C++ compiler; where that or anything else fails,
    training goes on uncompiled and says so.
    """
    try:
        fn = torch.compile(gen, dynamic=False)
        z = torch.zeros(batch, gen.z_dim)
        fn(z, noise="none").square().mean().backward()  # compiles now, not inside the step
        gen.zero_grad(set_to_none=True)
        return fn
    except Exception as exc:  # noqa: BLE001 - any compiler failure: fall back, say why
        gen.zero_grad(set_to_none=True)
        log(f"torch.compile failed ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            "training uncompiled")
        return gen


def learning_rate(base: float, progress: float, warmup: float = 0.02, floor: float = 0.03) -> float:
    """Linear warm-up over the first ``warmup`` of the run, then cosine down to ``floor * base``."""
    if progress < warmup:
        return base * max(progress / warmup, 0.01)
    t = min(1.0, (progress - warmup) / (1.0 - warmup))
    return base * (floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * t)))


def train(cfg: TrainConfig, resume: bool = False, log: Callable[[str], None] = print) -> Path:
    """Run (or resume) training; returns the path of the exported model."""
    cfg = cfg.resolved()
    torch.set_num_threads(max(1, cfg.threads))
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "checkpoint.pt"
    state = _State(cfg)
    if resume and ckpt.exists():
        state.load(ckpt)
        log(f"resumed from {ckpt}: step {state.step}, {state.elapsed / 60:.1f} min trained")
    elif resume:
        log(f"no checkpoint at {ckpt}; starting a new run")
    t0 = time.time()
    paths = build_cache(out / "data", cfg.faces, cfg.size, cfg.workers,
                        progress=lambda d, n: log(f"data: {d}/{n} chunks ({time.time() - t0:.0f} s)"))
    seeds, images, labels = load_cache(paths)
    z = latents_for_seeds(seeds)  # [n, z_dim]
    images, labels = torch.from_numpy(images), torch.from_numpy(labels)
    (out / "train_config.json").write_text(json.dumps(asdict(cfg), indent=1, default=str))
    _loop(state, cfg, z, images, labels, ckpt, log)
    return export(state, cfg, out)


def _batch(state: _State, cfg: TrainConfig, z, images, labels, part_weight: float):
    idx = torch.randint(len(z), (cfg.batch,), generator=state.sampler)
    target = images[idx].permute(0, 3, 1, 2).float() / 127.5 - 1.0  # [B, 3, H, W]
    parts = torch.isin(labels[idx], torch.tensor(PART_LABELS))[:, None]  # [B, 1, H, W]
    return z[idx], target, 1.0 + part_weight * parts.float()


def regression_loss(err: torch.Tensor, weight: torch.Tensor, squared: bool) -> torch.Tensor:
    """Weighted mean of the squared (``squared``) or absolute error ``err`` [B, 3, H, W]."""
    return (weight * (err.square() if squared else err.abs())).mean()


def _loop(state: _State, cfg: TrainConfig, z, images, labels, ckpt: Path, log) -> None:
    start, last_ckpt, last_log = time.time() - state.elapsed, time.time(), 0.0
    forward = _compiled(state.gen, cfg.batch, log) if cfg.compile else state.gen
    log_every = 30.0
    while True:
        state.elapsed = time.time() - start
        progress = max(state.step / cfg.steps, state.elapsed / (cfg.minutes * 60.0))
        if progress >= 1.0:
            break
        lr = learning_rate(cfg.lr, progress)
        for group in state.opt.param_groups:
            group["lr"] = lr
        final = progress >= cfg.l2_from
        zb, target, weight = _batch(state, cfg, z, images, labels, cfg.l2_part_weight if final else cfg.part_weight)
        err = forward(zb, noise="none") - target
        loss = regression_loss(err, weight, squared=final)
        state.opt.zero_grad(set_to_none=True)
        if not torch.isfinite(loss):
            raise NetbendError(f"faces train: the loss became {float(loss)} at step {state.step}; "
                               "lower --lr and resume from the last checkpoint")
        loss.backward()
        state.opt.step()
        _update_ema(state, cfg)
        state.step += 1
        state.loss = float(loss.detach())
        if time.time() - last_log >= log_every:
            last_log = time.time()
            psnr = 10 * math.log10(4.0 / max(float(err.detach().square().mean()), 1e-12))
            log(f"step {state.step}  {state.elapsed / 60:5.1f}/{cfg.minutes:g} min  {'L2' if final else 'L1'} "
                f"loss {state.loss:.4f}"
                f"  batch PSNR {psnr:5.2f} dB  lr {lr:.2e}  {state.step * cfg.batch / max(state.elapsed, 1e-6):.1f} img/s")
        if time.time() - last_ckpt >= cfg.checkpoint_minutes * 60.0:
            state.save(ckpt, cfg)
            last_ckpt = time.time()
    state.save(ckpt, cfg)
    log(f"done: {state.step} steps in {state.elapsed / 60:.1f} min of training")


@torch.no_grad()
def _update_ema(state: _State, cfg: TrainConfig) -> None:
    seen = (state.step + 1) * cfg.batch
    half_life = min(cfg.ema_kimg * 1000.0, 0.1 * seen)  # short at first, so early EMA is not stale
    beta = 0.5 ** (cfg.batch / max(half_life, 1e-8))
    for p_ema, p in zip(state.ema.parameters(), state.gen.parameters()):
        p_ema.lerp_(p, 1.0 - beta)
    for b_ema, b in zip(state.ema.buffers(), state.gen.buffers()):
        b_ema.copy_(b)


@torch.no_grad()
def export(state: _State, cfg: TrainConfig, out: Path) -> Path:
    """Write the EMA generator (plus its mean latent) in netbend's format, and a JSON record."""
    gen = state.ema
    z = torch.from_numpy(np.random.RandomState(MEAN_W_SEED).randn(MEAN_W_SAMPLES, gen.z_dim)).float()
    mean_w = gen.mapping(z).mean(0, keepdim=True)  # [1, w_dim]
    name = f"netbend-faces{cfg.size}"
    path = save_native(StyleGAN2Model(copy.deepcopy(gen), name=name, mean_w=mean_w), out / f"{name}.safetensors")
    record = {"name": name, "steps": state.step, "train_minutes": round(state.elapsed / 60, 2),
              "final_loss": state.loss, "train_config": asdict(cfg)}
    atomic_write_text(out / f"{name}.json", json.dumps(record, indent=1, default=str))
    return path


def check_config(cfg: TrainConfig) -> None:
    if cfg.size not in (64, 128):
        raise NetbendError(f"faces train: --size must be 64 or 128, got {cfg.size}")
    if cfg.faces < cfg.batch:
        raise NetbendError(f"faces train: --faces ({cfg.faces}) must be at least --batch ({cfg.batch})")
    if not 0.0 <= cfg.l2_from:
        raise NetbendError(f"faces train: --l2-from must be at least 0, got {cfg.l2_from}")
