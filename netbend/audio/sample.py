"""Sampling: random latents decoded to audio, one window (about 1.5 s) or a longer path.

A clip longer than one window decodes a *latent path*: keypoints drawn from the seed every
``key_every`` windows (the first one is the seed's usual latent, so a one-window clip is what
it always was), spherically interpolated for the windows between, decoded window by window
(hop ``hop_frames``) and blended with :func:`~netbend.audio.spectrogram.join_windows`, as
autoencoding blends a recording's windows.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from netbend.audio.autoencode import decode_latents
from netbend.audio.model import AudioModel
from netbend.audio.spectrogram import join_windows, window_starts
from netbend.bending import ResolvedPlan
from netbend.errors import NetbendError
from netbend.latent_path import slerp

KEY_EVERY = 4  # windows between keypoints: about 3 s at the default hop of 64 frames


def latent_path(model: AudioModel, seed: int, windows: int, key_every: int = KEY_EVERY) -> torch.Tensor:
    """[windows, latent]: the seed's path; row 0 is ``model.latents_from_seeds([seed])[0]``."""
    gen = torch.Generator().manual_seed(int(seed))
    keys = torch.stack([torch.randn(model.latent, generator=gen)
                        for _ in range((windows - 1) // key_every + 2)]).double().numpy()  # [K, latent]
    pos = np.arange(windows) / key_every
    i = np.floor(pos).astype(int)
    path = slerp(keys[i], keys[i + 1], (pos - i)[:, None])  # [windows, latent], float64
    return torch.from_numpy(path).float().to(model.device)


def clip_length(model: AudioModel, duration: float | None) -> int:
    """Samples of a clip of ``duration`` seconds (None: one window)."""
    if duration is None:
        return model.spec.window_samples
    if not math.isfinite(duration) or duration <= 0:
        raise NetbendError(f"--duration must be a positive number of seconds, got {duration}")
    return max(1, round(duration * model.spec.sample_rate))


def sample_units(model: AudioModel, seeds: list[int], resolved: ResolvedPlan | None, length: int,
                 hop_frames: int = 64) -> torch.Tensor:
    """Unit spectrograms [len(seeds), frames, bins] for clips of ``length`` samples."""
    n_frames = max(length // model.spec.hop + 1, model.spec.frames)
    n_windows = len(window_starts(n_frames, model.spec, hop_frames))
    z = torch.cat([latent_path(model, s, n_windows) for s in seeds])  # [S * W, latent]
    windows = decode_latents(model, z, resolved)  # [S * W, 128, bins]
    if n_windows == 1:
        return windows  # one window: exactly what the decoder made
    windows = windows.reshape(len(seeds), n_windows, *windows.shape[1:])
    return torch.stack([join_windows(w, n_frames, model.spec, hop_frames) for w in windows])
