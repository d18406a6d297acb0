"""Polyphase resampling by a rational factor with a Kaiser-windowed sinc low-pass.

``resample(x, sr_in, sr_out)`` changes the rate of a 1-D signal. The ratio is
reduced to ``up / down``; conceptually the signal is upsampled by ``up`` (zeros
inserted), low-pass filtered at ``min(pi/up, pi/down)`` and every ``down``-th
sample kept. Only the filter taps that meet non-zero input samples are computed
(the polyphase form), so 48 kHz -> 22.05 kHz (147/320) costs about 44 taps per
output sample. Output sample ``n`` is aligned with input time ``n * down / up``
and the output has ``ceil(len(x) * up / down)`` samples; samples outside the
signal count as zeros. The design (a 2*10*max(up, down)+1 tap filter, Kaiser
beta 5, unit DC gain) is the one ``scipy.signal.resample_poly`` uses by
default, and the tests compare the two.
"""
from __future__ import annotations

from functools import lru_cache
from math import gcd

import numpy as np

_HALF_ZEROS = 10  # filter half-length, in zero crossings of the sinc
_KAISER_BETA = 5.0
_CHUNK = 1 << 16  # output samples computed at a time (bounds memory)


@lru_cache(maxsize=16)
def _polyphase_taps(up: int, down: int) -> np.ndarray:
    """Filter taps grouped by phase: ``[up, taps_per_phase]`` (float64)."""
    max_rate = max(up, down)
    half = _HALF_ZEROS * max_rate
    n = np.arange(2 * half + 1) - half
    cutoff = 1.0 / max_rate  # as a fraction of the upsampled Nyquist frequency
    h = cutoff * np.sinc(cutoff * n) * np.kaiser(2 * half + 1, _KAISER_BETA)
    h = h / h.sum() * up  # unit DC gain after the zero insertion
    per_phase = -(-h.size // up)
    padded = np.zeros(per_phase * up)
    padded[: h.size] = h
    return padded.reshape(per_phase, up).T.copy()  # [up, per_phase]: taps r, r+up, r+2up, ...


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample a 1-D float signal from ``sr_in`` to ``sr_out`` Hz (float32 out)."""
    x = np.asarray(x, dtype=np.float64)
    if sr_in == sr_out:
        return x.astype(np.float32)
    g = gcd(int(sr_in), int(sr_out))
    up, down = int(sr_out) // g, int(sr_in) // g
    taps = _polyphase_taps(up, down)  # [up, T]
    n_taps = taps.shape[1]
    centre = _HALF_ZEROS * max(up, down)
    n_out = -(-x.size * up // down)
    # x padded so that every gathered index is valid: T-1 zeros before, enough after.
    pad_after = n_taps + 2
    xp = np.concatenate([np.zeros(n_taps - 1), x, np.zeros(pad_after)])
    out = np.empty(n_out, dtype=np.float64)
    offsets = np.arange(n_taps)  # [T]
    for start in range(0, n_out, _CHUNK):
        n = np.arange(start, min(start + _CHUNK, n_out), dtype=np.int64)
        pos = n * down + centre  # position in the upsampled grid, filter centred
        kmax, phase = pos // up, pos % up  # newest input sample reached, tap phase
        idx = (kmax + n_taps - 1)[:, None] - offsets[None, :]  # [n, T] indices into xp
        out[start : start + n.size] = np.einsum("nt,nt->n", xp[idx], taps[phase])
    return out.astype(np.float32)
