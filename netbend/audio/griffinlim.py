"""Phase reconstruction: fast Griffin-Lim (with momentum), in torch, on any device.

Perraudin, Balazs and Sondergaard's accelerated Griffin-Lim: alternate between
the set of spectrograms with the wanted magnitude and the set of consistent
spectrograms (STFTs of some signal), extrapolating each step by ``momentum``
times the last change. ``momentum=0`` is the classic algorithm. The random
initial phase comes from ``seed`` so results are reproducible.
"""
from __future__ import annotations

import torch

from netbend.audio.spectrogram import SpecConfig, istft, stft


def spectral_convergence(mag: torch.Tensor, y: torch.Tensor, cfg: SpecConfig) -> float:
    """|| |STFT(y)| - mag ||_F / || mag ||_F: how well the signal ``y`` matches ``mag``."""
    rebuilt = stft(y, cfg).abs()[: mag.shape[0]]
    return float(torch.linalg.norm(rebuilt - mag) / torch.linalg.norm(mag).clamp_min(1e-12))


def griffin_lim(mag: torch.Tensor, cfg: SpecConfig, length: int, *, iterations: int = 64,
                momentum: float = 0.99, seed: int = 0, phase: torch.Tensor | None = None) -> torch.Tensor:
    """Waveform [length] whose STFT magnitude approximates ``mag`` [frames, bins].

    ``phase`` (complex unit phasors or None) sets the starting phase; the default
    is uniform random phase drawn from ``seed``.
    """
    mag = mag.float()
    if phase is None:
        gen = torch.Generator(device="cpu").manual_seed(int(seed))
        angles = torch.rand(mag.shape, generator=gen).to(mag.device) * (2 * torch.pi)
        phase = torch.polar(torch.ones_like(mag), angles)
    target = mag * phase
    previous = torch.zeros_like(target)
    for _ in range(iterations):
        consistent = stft(istft(target, cfg, length), cfg)  # [frames, bins] complex
        step = consistent + momentum * (consistent - previous)
        previous = consistent
        target = mag * step / step.abs().clamp_min(1e-12)
    return istft(target, cfg, length)
