"""Training the spectrogram VAE, with checkpoints that survive being killed.

``train(windows, options, out_dir)`` runs Adam (lr 3e-4, betas (0, 0.99), batch
64 by default) over shuffled windows. Every ``checkpoint_seconds`` and at the
end of every epoch it writes ``out_dir/checkpoint.pt`` atomically (weights,
optimiser, epoch, batch position, RNG state, history); at the end of every epoch
it also computes the validation loss and exports ``out_dir/model.safetensors``.
Run again with the same ``out_dir`` and it resumes where the checkpoint left off:
the shuffle of each epoch is a function of (seed, epoch), so the resumed run
sees the batches the killed one would have seen.
"""
from __future__ import annotations

import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import torch

from netbend.audio.dataset import WindowSet
from netbend.audio.model import AudioModel, pick_device
from netbend.audio.spectrogram import SpecConfig
from netbend.audio.vae import SIZES, SpectrogramVAE, vae_loss
from netbend.errors import NetbendError
from netbend.fileio import atomic_path


@dataclass(frozen=True)
class TrainOptions:
    size: str = "small"
    epochs: int = 50
    batch: int = 64
    lr: float = 3e-4
    beta1: float = 0.0
    beta2: float = 0.99
    kl_weight: float = 1e-3
    loss: str = "mse"  # per-pixel error on the dB scale: "mse" (the paper's) or "l1"
    sc_weight: float = 0.0  # weight of the linear-magnitude spectral-convergence term (0: off)
    schedule: str = "constant"  # learning rate over the run: "constant" or "cosine" (to 0 at the last step)
    seed: int = 0
    device: str = "auto"
    checkpoint_seconds: float = 180.0
    snapshot_every: int = 0  # also keep the model of every N-th epoch as epochNNN.safetensors (0: off)
    max_steps: int = 0  # stop after this many optimiser steps in this run (0: no limit; for tests)

    def check(self) -> None:
        if self.size not in SIZES:
            raise NetbendError(f"unknown model size '{self.size}'; choose from {', '.join(SIZES)}")
        for key in ("epochs", "batch"):
            if getattr(self, key) < 1:
                raise NetbendError(f"--{key} must be at least 1")
        if self.loss not in ("mse", "l1"):
            raise NetbendError(f"unknown loss '{self.loss}'; choose mse or l1")
        if self.schedule not in ("constant", "cosine"):
            raise NetbendError(f"unknown learning-rate schedule '{self.schedule}'; choose constant or cosine")
        if self.sc_weight < 0 or self.kl_weight < 0:
            raise NetbendError("--sc-weight and --kl-weight must not be negative")

    def loss_terms(self, spec: SpecConfig) -> dict:
        """Keyword arguments of :func:`vae_loss` for these options."""
        return {"l1": self.loss == "l1", "sc_weight": self.sc_weight, "db_floor": spec.db_floor}

    def lr_at(self, step: int, total: int) -> float:
        """Learning rate for optimiser step ``step`` (0-based) of ``total``."""
        if self.schedule == "constant" or total <= 1:
            return self.lr
        return self.lr * 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))


def _save_checkpoint(path: Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _load_checkpoint(path: Path, options: TrainOptions, spec: SpecConfig) -> dict | None:
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a damaged checkpoint is a user-facing problem, not a crash
        raise NetbendError(f"{path}: cannot read checkpoint ({type(err).__name__}); delete it to start over") from None
    saved = json.loads(state["options"])
    defaults = asdict(TrainOptions())  # checkpoints written before a field existed had its default
    keys = ["size", "batch", "seed", "loss", "sc_weight", "schedule"]
    keys += ["epochs", "lr"] if options.schedule == "cosine" else []  # the schedule depends on both
    for key in keys:
        if saved.get(key, defaults[key]) != getattr(options, key):
            raise NetbendError(f"{path}: checkpoint was trained with {key}={saved.get(key, defaults[key])!r}, "
                               f"not {getattr(options, key)!r}; use another --out or the same options")
    if json.loads(state["spec"]) != spec.to_dict():
        raise NetbendError(f"{path}: checkpoint uses different spectrogram settings")
    return state


@torch.no_grad()
def _init_output_bias(vae: SpectrogramVAE, windows: torch.Tensor) -> None:
    """Start the output layer at the data's mean level (its bias = atanh(mean)).

    Adam moves each weight by about ``lr`` per step, so from a zero bias the
    tanh output would need hundreds of steps just to reach the mostly-quiet
    mean level of spectrograms; starting there spends them on structure.
    """
    mean = float(windows[: 4096].float().mean().clamp(-0.95, 0.95))
    vae.decoder.deconv5[0].bias.fill_(float(torch.atanh(torch.tensor(mean))))


@torch.no_grad()
def evaluate(vae: SpectrogramVAE, windows: torch.Tensor, options: TrainOptions, device,
             spec: SpecConfig = SpecConfig()) -> dict:
    """Mean loss over ``windows`` with the mean latent (no sampling noise)."""
    vae.eval()
    totals, count = torch.zeros(3), 0
    for start in range(0, windows.shape[0], options.batch):
        x = windows[start:start + options.batch].to(device, torch.float32)[:, None]  # [B, 1, F, bins]
        mean, logvar = vae.encoder(x)
        parts = vae_loss(x, vae.decoder(mean), mean, logvar, options.kl_weight, **options.loss_terms(spec))
        totals += torch.stack([p.cpu() for p in parts]) * x.shape[0]
        count += x.shape[0]
    vae.train()
    t = (totals / max(count, 1)).tolist()
    return {"loss": t[0], "recon": t[1], "kl": t[2]}


def train(data: WindowSet, options: TrainOptions, out_dir: str | os.PathLike, spec: SpecConfig,
          log: Callable[[str], None] = print, progress=None, name: str = "spectrogram-vae") -> Path:
    """Train (or resume) and return the path of the exported model file."""
    options.check()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ckpt_path = out / "checkpoint.pt"
    device = pick_device(options.device)
    torch.manual_seed(options.seed)
    vae = SpectrogramVAE(options.size).to(device, memory_format=torch.channels_last).train()
    opt = torch.optim.Adam(vae.parameters(), lr=options.lr, betas=(options.beta1, options.beta2))
    epoch, position, history, running = 0, 0, [], [0.0, 0]  # running: (loss sum, batches) this epoch
    state = _load_checkpoint(ckpt_path, options, spec)
    if state is None:
        _init_output_bias(vae, data.train)
    else:
        vae.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        epoch, position, history = int(state["epoch"]), int(state["position"]), json.loads(state["history"])
        running = json.loads(state.get("running", "[0.0, 0]"))
        torch.set_rng_state(state["rng"])
        log(f"resuming from {ckpt_path}: epoch {epoch + 1}, batch {position}")
    n = data.train.shape[0]
    if n == 0:
        raise NetbendError("no training windows")
    batches = -(-n // options.batch)

    def snapshot() -> dict:
        return {"model": vae.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
                "position": position, "history": json.dumps(history), "running": json.dumps(running),
                "rng": torch.get_rng_state(),
                "options": json.dumps(asdict(options)), "spec": json.dumps(spec.to_dict())}

    steps, last_save = 0, time.monotonic()
    while epoch < options.epochs:
        order = torch.randperm(n, generator=torch.Generator().manual_seed(options.seed * 100003 + epoch))
        bar = progress(total=batches, initial=position, desc=f"epoch {epoch + 1}/{options.epochs}") if progress else None
        while position < batches:
            idx = order[position * options.batch:(position + 1) * options.batch]
            x = data.train[idx].to(device, torch.float32)[:, None]  # [B, 1, frames, bins]
            x = x.contiguous(memory_format=torch.channels_last)  # faster convolutions on CPU
            for group in opt.param_groups:
                group["lr"] = options.lr_at(epoch * batches + position, options.epochs * batches)
            recon, mean, logvar = vae(x)
            loss, rec, kl = vae_loss(x, recon, mean, logvar, options.kl_weight, **options.loss_terms(spec))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            position, steps = position + 1, steps + 1
            running = [running[0] + loss.item(), running[1] + 1]
            if bar:
                bar.update(1)
                bar.set_postfix(loss=f"{loss.item():.4f}", recon=f"{rec.item():.4f}", kl=f"{kl.item():.2f}")
            if time.monotonic() - last_save > options.checkpoint_seconds:
                _save_checkpoint(ckpt_path, snapshot())
                last_save = time.monotonic()
            if options.max_steps and steps >= options.max_steps:
                _save_checkpoint(ckpt_path, snapshot())
                if bar:
                    bar.close()
                log(f"stopped after {steps} steps (max_steps); checkpoint at {ckpt_path}")
                return ckpt_path
        if bar:
            bar.close()
        val = evaluate(vae, data.val, options, device, spec) if data.val.shape[0] else {}
        train_loss = running[0] / max(running[1], 1)
        history.append({"epoch": epoch + 1, "train_loss": train_loss, "val": val, "time": time.time()})
        log(f"epoch {epoch + 1}: train loss {train_loss:.5f}"
            + (f", val loss {val['loss']:.5f} (recon {val['recon']:.5f}, kl {val['kl']:.3f})" if val else ""))
        epoch, position, running = epoch + 1, 0, [0.0, 0]
        AudioModel(vae, spec, name, device=device).save(out / "model.safetensors")
        if options.snapshot_every and epoch % options.snapshot_every == 0:
            shutil.copyfile(out / "model.safetensors", out / f"epoch{epoch:03d}.safetensors")
        vae.train()
        _save_checkpoint(ckpt_path, snapshot())
        last_save = time.monotonic()
    return out / "model.safetensors"
