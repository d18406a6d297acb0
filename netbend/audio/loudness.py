"""Output level: bring resynthesised audio back to a loudness, never clipping.

The VAE's decoded spectrograms come out quieter than what went in (the dB floor, the smoothing
of the decoder and Griffin-Lim's phase all lose energy): a plain autoencode of a real recording
measured -30 dB. :func:`match_level` scales a signal to a target RMS (the input's, for
autoencoding; :data:`SAMPLE_RMS` for sampling), plus an optional gain in dB, and then lowers the
scale where needed so that the peak stays within :data:`PEAK_LIMIT`: the result never clips,
so at times it is quieter than the target (``Level.limited``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PEAK_LIMIT = 10 ** (-0.1 / 20)  # -0.1 dBFS: below full scale, so 16-bit files never clip
SAMPLE_RMS = 10 ** (-17 / 20)  # -17 dBFS: the median level of the synthetic training music


def rms(y: np.ndarray) -> float:
    """Root mean square of a signal (0 for an empty one)."""
    y = np.asarray(y, dtype=np.float64)
    return float(np.sqrt(np.mean(y * y))) if y.size else 0.0


def db(x: float) -> float:
    """Amplitude ratio -> dB (-inf for 0)."""
    return 20 * float(np.log10(x)) if x > 0 else float("-inf")


@dataclass(frozen=True)
class Level:
    """What :func:`match_level` did: RMS before/after, the gain applied, whether the peak limited it."""

    rms_in: float
    rms_out: float
    gain_db: float
    limited: bool

    def to_dict(self) -> dict:
        return {"rms_before": round(self.rms_in, 6), "rms_after": round(self.rms_out, 6),
                "gain_db": round(self.gain_db, 2), "peak_limited": self.limited}


def match_level(y: np.ndarray, target_rms: float | None, gain_db: float = 0.0,
                peak_limit: float = PEAK_LIMIT) -> tuple[np.ndarray, Level]:
    """Scale ``y`` to ``target_rms`` (None: keep its level) times ``gain_db``, peak <= ``peak_limit``.

    A silent signal stays silent. Returns the scaled float32 signal and what was done.
    """
    y = np.asarray(y, dtype=np.float32)
    before, peak = rms(y), float(np.max(np.abs(y))) if y.size else 0.0
    if before == 0.0 or peak == 0.0:
        return y, Level(before, before, 0.0, False)
    scale = (target_rms / before if target_rms else 1.0) * 10 ** (gain_db / 20)
    limited = peak * scale > peak_limit
    if limited:
        scale = peak_limit / peak
    out = (y * np.float32(scale)).astype(np.float32)
    return out, Level(before, rms(out), db(scale), limited)
