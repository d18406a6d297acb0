"""Waveform <-> normalised dB spectrogram windows, each step with its exact inverse.

Conventions (stored in every model's config, never estimated per clip):

* STFT: periodic Hann window of ``n_fft`` = 1024 samples, hop 256, centred
  frames (zero padding at both ends), 513 bins. Spectrograms are laid out
  ``[frames, bins]`` (time down, frequency across), as the model sees them.
* dB: ``db = 20 log10(max(|X| / db_ref, 10^(db_floor/20)))``. ``db_ref`` = 512
  is the Hann window's sum, the largest magnitude a signal within [-1, 1] can
  reach, so 0 dB is the top of the scale; ``db_floor`` = -80 dB. Magnitudes
  below the floor are raised to it: the only lossy step apart from the phase.
* Scaling: ``x = 2 (db - db_floor) / (0 - db_floor) - 1`` maps [floor, 0 dB] to [-1, 1].
* Windows: 128 frames. ``split_windows`` cuts overlapping windows (the tail is
  padded at the floor); ``join_windows`` blends them back with a sin^2 taper
  normalised by the summed weights, so joining unchanged windows is exact and
  joining changed ones has no seams.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from netbend.errors import NetbendError


@dataclass(frozen=True)
class SpecConfig:
    """Everything needed to go between audio and the model's [-1, 1] windows."""

    sample_rate: int = 22050
    n_fft: int = 1024
    hop: int = 256
    frames: int = 128
    db_ref: float = 512.0
    db_floor: float = -80.0

    @property
    def bins(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def window_samples(self) -> int:
        """Samples covered by one window of frames (centred STFT)."""
        return (self.frames - 1) * self.hop + 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "SpecConfig":
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


def _window(cfg: SpecConfig, device) -> torch.Tensor:
    return torch.hann_window(cfg.n_fft, periodic=True, dtype=torch.float32, device=device)


def stft(y: torch.Tensor, cfg: SpecConfig) -> torch.Tensor:
    """Complex STFT of ``y`` [..., T] -> [..., frames, bins], frames = T // hop + 1."""
    spec = torch.stft(y.float(), cfg.n_fft, cfg.hop, window=_window(cfg, y.device), center=True,
                      pad_mode="constant", return_complex=True)  # [..., bins, frames]
    return spec.transpose(-1, -2)  # [..., frames, bins]


def istft(spec: torch.Tensor, cfg: SpecConfig, length: int) -> torch.Tensor:
    """Inverse of :func:`stft`: [..., frames, bins] complex -> [..., length] real."""
    return torch.istft(spec.transpose(-1, -2), cfg.n_fft, cfg.hop, window=_window(cfg, spec.device),
                       center=True, length=length)


def magnitude_to_unit(mag: torch.Tensor, cfg: SpecConfig) -> torch.Tensor:
    """Magnitudes -> dB -> [-1, 1] (the floor maps to -1, ``db_ref`` to +1)."""
    floor_amp = 10.0 ** (cfg.db_floor / 20.0)
    db = 20.0 * torch.log10(torch.clamp(mag / cfg.db_ref, min=floor_amp))
    return 2.0 * (db - cfg.db_floor) / (-cfg.db_floor) - 1.0


def unit_to_magnitude(x: torch.Tensor, cfg: SpecConfig) -> torch.Tensor:
    """Exact inverse of :func:`magnitude_to_unit` (above the floor)."""
    db = (x + 1.0) * 0.5 * (-cfg.db_floor) + cfg.db_floor
    return cfg.db_ref * torch.pow(10.0, db / 20.0)


def audio_to_unit(y: torch.Tensor, cfg: SpecConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """Waveform [T] -> (unit spectrogram [frames, bins], complex STFT [frames, bins])."""
    spec = stft(y, cfg)
    return magnitude_to_unit(spec.abs(), cfg), spec


def window_starts(n_frames: int, cfg: SpecConfig, hop_frames: int) -> list[int]:
    """First frame of each window so that windows of ``cfg.frames`` cover ``n_frames``."""
    if hop_frames < 1 or hop_frames > cfg.frames:
        raise NetbendError(f"window hop must be in [1, {cfg.frames}] frames, got {hop_frames}")
    starts = [0]
    while starts[-1] + cfg.frames < n_frames:
        starts.append(starts[-1] + hop_frames)
    return starts


def split_windows(unit: torch.Tensor, cfg: SpecConfig, hop_frames: int) -> torch.Tensor:
    """[frames, bins] -> [N, frames_per_window, bins]; the tail is padded at the floor (-1)."""
    starts = window_starts(unit.shape[0], cfg, hop_frames)
    total = starts[-1] + cfg.frames
    padded = torch.full((total, unit.shape[1]), -1.0, dtype=unit.dtype, device=unit.device)
    padded[: unit.shape[0]] = unit
    idx = torch.tensor(starts, device=unit.device)[:, None] + torch.arange(cfg.frames, device=unit.device)
    return padded[idx]  # [N, frames, bins]


def _taper(cfg: SpecConfig, device) -> torch.Tensor:
    t = torch.arange(cfg.frames, dtype=torch.float32, device=device)
    return torch.sin(torch.pi * (t + 0.5) / cfg.frames) ** 2  # > 0 everywhere, 1 in the middle


def join_windows(windows: torch.Tensor, n_frames: int, cfg: SpecConfig, hop_frames: int) -> torch.Tensor:
    """Inverse of :func:`split_windows`: blend [N, frames, bins] back into [n_frames, bins]."""
    starts = window_starts(n_frames, cfg, hop_frames)
    if len(starts) != windows.shape[0]:
        raise NetbendError(f"expected {len(starts)} windows for {n_frames} frames, got {windows.shape[0]}")
    total = starts[-1] + cfg.frames
    w = _taper(cfg, windows.device)[None, :, None]  # [1, frames, 1]
    idx = (torch.tensor(starts, device=windows.device)[:, None]
           + torch.arange(cfg.frames, device=windows.device)).reshape(-1)  # [N * frames]
    acc = torch.zeros(total, windows.shape[2], dtype=windows.dtype, device=windows.device)
    acc.index_add_(0, idx, (windows * w).reshape(-1, windows.shape[2]))
    norm = torch.zeros(total, 1, dtype=windows.dtype, device=windows.device)
    norm.index_add_(0, idx, w.expand(windows.shape[0], -1, 1).reshape(-1, 1))
    return (acc / norm)[:n_frames]
