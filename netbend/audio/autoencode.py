"""Autoencoding: a recording -> windows -> encoder -> (bent) decoder -> spectrogram -> audio.

The track is cut into 128-frame windows with a hop of ``hop_frames`` (64:
half-overlapping), every window is encoded to its mean latent and decoded with
the plan's bends installed, and the decoded windows are blended back with
:func:`join_windows`. The phase is then rebuilt once for the whole track, by
Griffin-Lim or from the input's own STFT (``phase="original"``), so there is no
seam between windows. The result is resampled back to the file's rate and
trimmed to its exact length. Tracks shorter than one window are padded at the
dB floor and trimmed back. Sampling (``sample``) decodes random latents.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from netbend.audio.griffinlim import griffin_lim
from netbend.audio.io import Audio
from netbend.audio.model import AudioModel
from netbend.audio.resample import resample
from netbend.audio.spectrogram import audio_to_unit, istft, join_windows, split_windows, unit_to_magnitude
from netbend.bending import ResolvedPlan, bend
from netbend.errors import NetbendError

PHASES = ("griffinlim", "original")


@dataclass(frozen=True)
class PhaseOptions:
    """How spectrograms become audio again."""

    phase: str = "griffinlim"  # or "original" (autoencoding only)
    iterations: int = 32
    momentum: float = 0.99
    seed: int = 0

    def check(self) -> None:
        if self.phase not in PHASES:
            raise NetbendError(f"unknown phase '{self.phase}'; choose {' or '.join(PHASES)}")
        if self.iterations < 0:
            raise NetbendError("Griffin-Lim iterations must be >= 0")


@dataclass
class Encoded:
    """A recording ready to decode: its latents and what is needed to rebuild audio."""

    audio: Audio
    latents: torch.Tensor  # [N, latent]
    unit: torch.Tensor  # [frames, bins] input spectrogram in [-1, 1]
    stft: torch.Tensor  # [frames, bins] complex input STFT
    hop_frames: int


def encode_audio(model: AudioModel, audio: Audio, hop_frames: int = 64, batch: int = 16) -> Encoded:
    """Cut ``audio`` (at the model's rate) into windows and encode each to its mean latent."""
    if audio.sample_rate != model.spec.sample_rate:
        raise NetbendError(f"audio at {audio.sample_rate} Hz given to a {model.spec.sample_rate} Hz model")
    y = torch.from_numpy(audio.samples).to(model.device)
    unit, spec = audio_to_unit(y, model.spec)  # [frames, bins]
    windows = split_windows(unit, model.spec, hop_frames)  # [N, 128, bins]
    latents = torch.cat([model.encode(windows[i:i + batch])[0] for i in range(0, windows.shape[0], batch)])
    return Encoded(audio, latents, unit, spec, hop_frames)


def decode_latents(model: AudioModel, latents: torch.Tensor, resolved: ResolvedPlan | list | None,
                   batch: int = 16) -> torch.Tensor:
    """Latents [N, latent] -> unit windows [N, 128, bins], with ``resolved`` bends installed.

    ``resolved`` may be a list with one resolved plan per window (a plan that changes along the
    track, see :func:`window_plans`).
    """
    if isinstance(resolved, (list, tuple)):
        from netbend.frames import bend_frames

        parts = []
        for i in range(0, latents.shape[0], batch):
            with bend_frames(model.module, resolved[i:i + batch]):
                parts.append(model.decode(latents[i:i + batch]))
        return torch.cat(parts)
    with bend(model.module, resolved):
        return torch.cat([model.decode(latents[i:i + batch]) for i in range(0, latents.shape[0], batch)])


def window_times(enc: "Encoded", model: AudioModel) -> np.ndarray:
    """The time (s) of each window's centre: where a curve is read for that window's bends."""
    spec = model.spec
    starts = np.arange(enc.latents.shape[0]) * enc.hop_frames
    return (starts + spec.frames / 2) * spec.hop / spec.sample_rate


def window_plans(plan: Any, model: AudioModel, enc: "Encoded", *, seed: int = 0, clusters: Any = None) -> list:
    """One resolved plan per window of ``enc``: the plan's curves read at each window's centre time
    (``audio:`` curves follow the input recording itself)."""
    from netbend.audio.features import analyse
    from netbend.curves import Clock
    from netbend.frames import resolve_at

    a = enc.audio
    clock = Clock(duration=a.seconds, audio=analyse(a.samples, a.sample_rate, a.path))
    return [resolve_at(plan, model, t=float(t), frame=i, clock=clock, seed=seed, clusters=clusters)
            for i, t in enumerate(window_times(enc, model))]


def unit_to_audio(model: AudioModel, unit: torch.Tensor, length: int, options: PhaseOptions,
                  original: torch.Tensor | None = None) -> np.ndarray:
    """Unit spectrogram [frames, bins] -> waveform [length] at the model's rate."""
    options.check()
    mag = unit_to_magnitude(unit, model.spec)
    if options.phase == "original":
        if original is None:
            raise NetbendError("--phase original needs an input recording (use griffinlim for sampling)")
        phase = torch.polar(torch.ones_like(mag), torch.angle(original))
        y = istft(mag * phase, model.spec, length)
    else:
        y = griffin_lim(mag, model.spec, length, iterations=options.iterations,
                        momentum=options.momentum, seed=options.seed)
    return y.cpu().numpy().astype(np.float32)


def reconstruct(model: AudioModel, enc: Encoded, resolved: ResolvedPlan | None,
                options: PhaseOptions) -> tuple[np.ndarray, torch.Tensor]:
    """(waveform at the file's own rate and length, decoded unit spectrogram [frames, bins])."""
    windows = decode_latents(model, enc.latents, resolved)
    unit = join_windows(windows, enc.unit.shape[0], model.spec, enc.hop_frames)  # [frames, bins]
    y = unit_to_audio(model, unit, enc.audio.samples.size, options, enc.stft)
    y = resample(y, model.spec.sample_rate, enc.audio.source_rate)
    return _fit(y, enc.audio.source_frames), unit


def sample_latents(model: AudioModel, seeds: list[int]) -> torch.Tensor:
    """One standard-normal latent per seed: [len(seeds), latent]."""
    return model.latents_from_seeds(seeds)


def _fit(y: np.ndarray, length: int) -> np.ndarray:
    """Trim or zero-pad to exactly ``length`` samples (resampling can be off by one)."""
    if y.size >= length:
        return y[:length]
    return np.concatenate([y, np.zeros(length - y.size, dtype=y.dtype)])


def describe(enc: Encoded, model: AudioModel) -> dict[str, Any]:
    a = enc.audio
    return {"input": a.path, "source_rate": a.source_rate, "source_channels": a.source_channels,
            "source_frames": a.source_frames, "model_rate": model.spec.sample_rate,
            "windows": int(enc.latents.shape[0]), "hop_frames": enc.hop_frames}
