"""Training windows: a folder of audio (or generated music) -> [N, 128, 513] unit spectrograms.

Every readable file is mixed to mono, resampled, turned into a scaled dB
spectrogram and cut into 128-frame windows (hop ``hop_frames``). Windows that
are almost all silence (mean below -0.98 on the [-1, 1] scale) are dropped.
Unreadable, empty and silent files are skipped and listed, never fatal; the run
fails only when no file yields a window. Windows are kept as float16.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from netbend.audio.io import read_audio, supported_extensions
from netbend.audio.spectrogram import SpecConfig, audio_to_unit, split_windows
from netbend.audio.synth_kinds import render_kind
from netbend.errors import NetbendError

SILENT_MEAN = -0.98


@dataclass
class WindowSet:
    """Training and validation windows, and the files that were skipped."""

    train: torch.Tensor  # [N, frames, bins] float16
    val: torch.Tensor  # [M, frames, bins] float16
    files: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)


def list_audio_files(folder: str | os.PathLike) -> list[Path]:
    """Audio files under ``folder`` (recursive, sorted) with a supported extension."""
    folder = Path(folder)
    if not folder.is_dir():
        raise NetbendError(f"{folder}: no such folder")
    exts = set(supported_extensions())
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in exts)


def signal_windows(y: np.ndarray, cfg: SpecConfig, hop_frames: int) -> torch.Tensor:
    """Mono signal -> non-silent windows [n, frames, bins] float16."""
    unit, _ = audio_to_unit(torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)), cfg)
    wins = split_windows(unit, cfg, hop_frames)  # [n, frames, bins]
    keep = wins.mean(dim=(1, 2)) > SILENT_MEAN
    return wins[keep].half()


def _split(per_source: list[torch.Tensor], val_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Hold out whole sources when there are several, else the last windows."""
    empty = torch.zeros(0, *per_source[0].shape[1:], dtype=torch.float16)
    if len(per_source) >= 2 and val_fraction > 0:
        order = np.random.default_rng(seed).permutation(len(per_source))
        n_val = max(1, int(round(val_fraction * len(per_source))))
        val = [per_source[i] for i in order[:n_val]]
        train = [per_source[i] for i in order[n_val:]]
        return torch.cat(train), torch.cat(val)
    wins = torch.cat(per_source)
    n_val = int(round(val_fraction * wins.shape[0])) if wins.shape[0] > 1 else 0
    return wins[: wins.shape[0] - n_val], (wins[wins.shape[0] - n_val:] if n_val else empty)


def folder_windows(folder: str | os.PathLike, cfg: SpecConfig, hop_frames: int = 64,
                   val_fraction: float = 0.1, seed: int = 0, progress=None) -> WindowSet:
    """Windows from every readable audio file under ``folder``."""
    files = list_audio_files(folder)
    if not files:
        raise NetbendError(f"{folder}: no audio files ({', '.join(supported_extensions())})")
    per_file, skipped = [], []
    for path in (progress(files) if progress else files):
        try:
            audio = read_audio(path, cfg.sample_rate)
        except NetbendError as err:
            skipped.append((str(path), str(err).split(": ", 1)[-1]))
            continue
        wins = signal_windows(audio.samples, cfg, hop_frames)
        if wins.shape[0] == 0:
            skipped.append((str(path), "silent (no window above the dB floor)"))
            continue
        per_file.append(wins)
    if not per_file:
        raise NetbendError(f"{folder}: none of the {len(files)} audio files could be used")
    train, val = _split(per_file, val_fraction, seed)
    return WindowSet(train, val, len(per_file), skipped)


def synth_windows(clips: int, seed: int, cfg: SpecConfig, seconds: float = 6.0, hop_frames: int = 64,
                  val_fraction: float = 0.1, progress=None, kind: str = "music") -> WindowSet:
    """Windows from ``clips`` generated clips of ``kind`` (see :mod:`netbend.audio.synth_kinds`)."""
    indices = range(clips)
    per_clip = [signal_windows(render_kind(kind, seed, i, seconds, cfg.sample_rate), cfg, hop_frames)
                for i in (progress(indices) if progress else indices)]
    per_clip = [w for w in per_clip if w.shape[0]]
    train, val = _split(per_clip, val_fraction, seed)
    return WindowSet(train, val, len(per_clip), [])
