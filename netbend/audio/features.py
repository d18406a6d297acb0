"""Feature tracks of a recording for audio-reactive curves: RMS, onsets, band energy, chroma.

Each track is computed once for the whole recording (STFT: 2048-sample Hann window, hop 512, at
the file's rate) and scaled to [0, 1] by its maximum over the track:

- ``rms``: root-mean-square level of each window;
- ``onsets``: spectral flux (the summed rise of log-magnitude from one window to the next);
- ``low`` / ``mid`` / ``high``: square root of the power below 250 Hz, 250-2000 Hz, above 2000 Hz;
- ``chroma``: power per pitch class (C, C#, ... B; partials of 55-4200 Hz), each window's 12 values
  scaled by their maximum.

``smoothing`` is a one-pole low-pass with that time constant (seconds), run over the whole track;
a value at time t is read by linear interpolation between windows (held at the ends), so it is a
pure function of t and the recording.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from netbend.audio.io import read_audio

N_FFT, HOP = 2048, 512
BANDS = {"low": (0.0, 250.0), "mid": (250.0, 2000.0), "high": (2000.0, float("inf"))}


@dataclass(frozen=True, eq=False)
class AudioFeatures:
    """Feature tracks [frames] (chroma [frames, 12]) at ``rate`` windows per second."""

    tracks: dict
    rate: float
    seconds: float
    path: str = ""
    _smoothed: dict = field(default_factory=dict, repr=False)

    def value(self, feature: str, t, *, smoothing: float = 0.0, band: int = 0) -> np.ndarray:
        track = self.track(feature, smoothing)
        if feature == "chroma":
            track = track[:, band]
        pos = np.asarray(t, dtype=np.float64) * self.rate
        return np.interp(pos, np.arange(len(track)), track)

    def track(self, feature: str, smoothing: float) -> np.ndarray:
        key = (feature, float(smoothing))
        if key not in self._smoothed:
            x = self.tracks[feature]
            self._smoothed[key] = one_pole(x, smoothing * self.rate) if smoothing > 0 else x
        return self._smoothed[key]


def one_pole(x: np.ndarray, steps: float) -> np.ndarray:
    """Exponential smoothing along axis 0 with a time constant of ``steps`` samples."""
    a = 1.0 - np.exp(-1.0 / steps)
    out = np.empty_like(x, dtype=np.float64)
    acc = x[0].astype(np.float64)
    for i in range(len(x)):
        acc = acc + a * (x[i] - acc)
        out[i] = acc
    return out


def analyse(samples: np.ndarray, sample_rate: int, path: str = "") -> AudioFeatures:
    """Every feature track of a mono signal [T]."""
    y = np.asarray(samples, dtype=np.float64)
    y = np.pad(y, (N_FFT // 2, N_FFT // 2 + (-len(y)) % HOP))
    n = 1 + (len(y) - N_FFT) // HOP
    frames = np.lib.stride_tricks.as_strided(y, (n, N_FFT), (y.strides[0] * HOP, y.strides[0]))  # [n, N_FFT]
    rms = np.sqrt(np.mean(frames ** 2, axis=1))
    power = np.abs(np.fft.rfft(frames * np.hanning(N_FFT), axis=1)) ** 2  # [n, bins]
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / sample_rate)
    logmag = np.log1p(np.sqrt(power))
    flux = np.concatenate([[0.0], np.maximum(np.diff(logmag, axis=0), 0).sum(axis=1)])
    tracks = {"rms": rms, "onsets": flux}
    for name, (lo, hi) in BANDS.items():
        tracks[name] = np.sqrt(power[:, (freqs >= lo) & (freqs < hi)].sum(axis=1))
    usable = (freqs >= 55) & (freqs <= 4200)
    pitch = np.round(12 * np.log2(freqs[usable] / 440.0) + 9).astype(np.int64) % 12  # 0 = C
    chroma = np.stack([power[:, usable][:, pitch == k].sum(axis=1) for k in range(12)], axis=1)
    tracks = {k: v / v.max() if v.max() > 0 else v for k, v in tracks.items()}
    peak = chroma.max(axis=1, keepdims=True)
    tracks["chroma"] = np.divide(chroma, peak, out=np.zeros_like(chroma), where=peak > 0)
    return AudioFeatures(tracks, sample_rate / HOP, len(samples) / sample_rate, path)


@lru_cache(maxsize=4)
def _load(path: str, mtime: float) -> AudioFeatures:
    audio = read_audio(path)
    return analyse(audio.samples, audio.sample_rate, path)


def load_features(path: str | os.PathLike) -> AudioFeatures:
    """The feature tracks of an audio file (WAV, FLAC, OGG, ...; unreadable files raise NetbendError)."""
    path = os.fspath(path)
    return _load(path, os.path.getmtime(path) if os.path.exists(path) else 0.0)
