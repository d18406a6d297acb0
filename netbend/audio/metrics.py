"""Reconstruction quality between two signals at the model's rate.

* Spectral convergence: ``|| |X| - |Y| ||_F / || |X| ||_F`` (0 is perfect).
* Log-spectral distance (dB): per frame, the RMS over bins of
  ``20 log10 |X| - 20 log10 |Y|``, averaged over frames; magnitudes are first
  raised to the model's dB floor so silence does not dominate.

``X`` is the STFT of the reference, ``Y`` of the reconstruction (same STFT
settings as the model).
"""
from __future__ import annotations

import numpy as np
import torch

from netbend.audio.spectrogram import SpecConfig, stft


def _mags(ref: np.ndarray, out: np.ndarray, cfg: SpecConfig) -> tuple[torch.Tensor, torch.Tensor]:
    n = min(ref.size, out.size)
    x = stft(torch.from_numpy(np.ascontiguousarray(ref[:n], dtype=np.float32)), cfg).abs()
    y = stft(torch.from_numpy(np.ascontiguousarray(out[:n], dtype=np.float32)), cfg).abs()
    return x, y  # [frames, bins]


def spectral_convergence(ref: np.ndarray, out: np.ndarray, cfg: SpecConfig) -> float:
    x, y = _mags(ref, out, cfg)
    return float(torch.linalg.norm(x - y) / torch.linalg.norm(x).clamp_min(1e-12))


def log_spectral_distance(ref: np.ndarray, out: np.ndarray, cfg: SpecConfig) -> float:
    x, y = _mags(ref, out, cfg)
    floor = cfg.db_ref * 10 ** (cfg.db_floor / 20)
    diff = 20 * torch.log10(x.clamp_min(floor)) - 20 * torch.log10(y.clamp_min(floor))  # [frames, bins] dB
    return float(diff.pow(2).mean(dim=1).sqrt().mean())
