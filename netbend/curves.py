"""Curves: plan values that vary over time, as pure functions of t (seconds).

Anywhere a plan takes a number (a transform parameter, a random fraction) it may take a curve,
written as a mapping whose first key names the kind::

    angle: {keyframes: [[0, 0], [2, 90], [4, 0]], easing: smooth}   # time (s) -> value
    angle: {lfo: 0.5, range: [-30, 30], phase: 0.25}                 # sine, 0.5 Hz, phase in cycles
    angle: {noise: 1.0, range: [0, 45], seed: 3, octaves: 2}        # 1-D Perlin noise, 1 Hz
    angle: {audio: rms, range: [0, 45], smoothing: 0.1, gain: 2}    # follows --audio TRACK

A curve's value at t depends on t and the :class:`Clock` (clip duration, audio features) alone,
so frame i of a clip is the same whichever frames are rendered with it. Noise loops over the clip
(``loop: true``, the default) by wrapping its lattice at the clip's duration: a looped clip has
no seam. LFOs loop when ``frequency * duration`` is whole (pass ``cycles:`` instead to say so).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from netbend.errors import NetbendError, closest

CURVE_KINDS = ("keyframes", "lfo", "noise", "audio")
EASINGS = ("linear", "smooth", "hold")
AUDIO_FEATURES = ("rms", "onsets", "low", "mid", "high", "chroma")
NOISE_TABLE = 256  # gradients per noise stream (the lattice repeats after this many cells)


@dataclass(frozen=True)
class Clock:
    """What a curve may read besides t: the clip's duration (s) and the audio's feature tracks."""

    duration: float = 1.0
    audio: Any = None  # netbend.audio_features.AudioFeatures, when --audio is given


# -- the curve kinds ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Keyframes:
    """Piecewise curve through (time, value) keyframes; held flat before the first and after the last."""

    times: tuple[float, ...]
    values: tuple[float, ...]
    easing: str = "linear"  # linear | smooth (smoothstep between keys) | hold (step)

    def at(self, t, clock: Clock = Clock()) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        times, values = np.asarray(self.times), np.asarray(self.values)
        k = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1)
        k1 = np.minimum(k + 1, len(times) - 1)
        span = np.where(k1 > k, times[k1] - times[k], 1.0)
        u = np.clip((t - times[k]) / span, 0.0, 1.0)
        if self.easing == "smooth":
            u = u * u * (3 - 2 * u)
        elif self.easing == "hold":
            u = np.zeros_like(u)
        return values[k] + (values[k1] - values[k]) * u

    def extremes(self) -> tuple[float, float]:
        return min(self.values), max(self.values)

    def to_dict(self) -> dict[str, Any]:
        return {"keyframes": [[t, v] for t, v in zip(self.times, self.values)], "easing": self.easing}


@dataclass(frozen=True)
class LFO:
    """Sine oscillator: ``lo + (hi - lo) * (1 + sin(2 pi (f t + phase))) / 2``; phase in cycles."""

    frequency: float | None  # Hz; None: ``cycles`` per clip
    range: tuple[float, float] = (0.0, 1.0)
    phase: float = 0.0
    cycles: float | None = None

    def at(self, t, clock: Clock = Clock()) -> np.ndarray:
        f = self.frequency if self.frequency is not None else self.cycles / clock.duration
        s = np.sin(2 * np.pi * (f * np.asarray(t, dtype=np.float64) + self.phase))
        lo, hi = self.range
        return lo + (hi - lo) * (1 + s) / 2

    def extremes(self) -> tuple[float, float]:
        return min(self.range), max(self.range)

    def to_dict(self) -> dict[str, Any]:
        main = {"lfo": self.frequency} if self.frequency is not None else {"lfo": None, "cycles": self.cycles}
        return {**main, "range": list(self.range), "phase": self.phase}


@dataclass(frozen=True)
class Noise:
    """1-D Perlin (gradient) noise, ``octaves`` summed (each twice the frequency, half the weight),
    mapped from [-1, 1] to ``range``. ``loop``: the lattice wraps at the clip's duration."""

    frequency: float  # lattice cells per second (first octave)
    range: tuple[float, float] = (0.0, 1.0)
    seed: int = 0
    octaves: int = 1
    loop: bool = True

    def at(self, t, clock: Clock = Clock()) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        grads = noise_gradients(self.seed, 1, self.octaves)  # [1, octaves, NOISE_TABLE]
        s = fractal_noise(t[..., None], self.frequency, grads, clock.duration if self.loop else None)[..., 0]
        lo, hi = self.range
        return lo + (hi - lo) * (np.clip(s, -1, 1) + 1) / 2

    def extremes(self) -> tuple[float, float]:
        return min(self.range), max(self.range)

    def to_dict(self) -> dict[str, Any]:
        return {"noise": self.frequency, "range": list(self.range), "seed": self.seed,
                "octaves": self.octaves, "loop": self.loop}


@dataclass(frozen=True)
class AudioCurve:
    """A feature of the ``--audio`` track at t, smoothed, times ``gain``, clipped to [0, 1], mapped to
    ``range``. ``band`` picks the pitch class (0 = C ... 11 = B) for ``chroma``."""

    feature: str
    range: tuple[float, float] = (0.0, 1.0)
    smoothing: float = 0.0  # seconds (one-pole attack/release time constant)
    gain: float = 1.0
    band: int = 0

    def at(self, t, clock: Clock = Clock()) -> np.ndarray:
        if clock.audio is None:
            raise NetbendError(f"an 'audio: {self.feature}' curve needs an audio track (--audio TRACK)")
        x = clock.audio.value(self.feature, np.asarray(t, dtype=np.float64), smoothing=self.smoothing,
                              band=self.band)
        lo, hi = self.range
        return lo + (hi - lo) * np.clip(x * self.gain, 0, 1)

    def extremes(self) -> tuple[float, float]:
        return min(self.range), max(self.range)

    def to_dict(self) -> dict[str, Any]:
        return {"audio": self.feature, "range": list(self.range), "smoothing": self.smoothing,
                "gain": self.gain, **({"band": self.band} if self.feature == "chroma" else {})}


Curve = Keyframes | LFO | Noise | AudioCurve


# -- noise, vectorised: shared by Noise curves and the Perlin feature selection -----------------
@lru_cache(maxsize=64)
def noise_gradients(seed: int, streams: int, octaves: int) -> np.ndarray:
    """Gradients in [-1, 1], [streams, octaves, NOISE_TABLE], from (seed, stream) alone (read-only)."""
    rows = [np.random.Generator(np.random.PCG64([int(seed), s])).uniform(-1, 1, (octaves, NOISE_TABLE))
            for s in range(streams)]
    table = np.stack(rows)
    table.flags.writeable = False
    return table


def perlin1d(x: np.ndarray, grads: np.ndarray, period: int | None) -> np.ndarray:
    """Gradient noise at positions ``x`` [..., S] for S streams with ``grads`` [S, T]; about [-1, 1].

    ``period``: the lattice wraps every ``period`` cells (seamless loop), else every T cells.
    """
    # each stream starts at its own offset within a cell: Perlin noise is 0 on lattice points, and
    # streams all 0 at once would tie (a constant shift keeps a looped lattice seamless)
    x = x + np.modf((np.arange(grads.shape[0]) + 1) * 0.6180339887498949)[0]
    cell = np.floor(x)
    d = x - cell  # [..., S]
    wrap = period if period else grads.shape[-1]
    i0 = (cell.astype(np.int64) % wrap) % grads.shape[-1]
    i1 = ((cell.astype(np.int64) + 1) % wrap) % grads.shape[-1]
    s = np.arange(grads.shape[0])
    g0, g1 = grads[s, i0], grads[s, i1]
    fade = d * d * d * (d * (d * 6 - 15) + 10)
    return 2.0 * (g0 * d + (g1 * (d - 1) - g0 * d) * fade)


def fractal_noise(t: np.ndarray, frequency: float, grads: np.ndarray, loop: float | None) -> np.ndarray:
    """Octaves of :func:`perlin1d` at times ``t`` [..., 1 or S]; grads [S, octaves, T]; loop: duration."""
    total, norm = 0.0, 0.0
    for o in range(grads.shape[1]):
        f = frequency * 2 ** o
        period = None
        if loop:
            period = max(1, int(round(f * loop)))
            f = period / loop
        total = total + perlin1d(t * f, grads[:, o], period) / 2 ** o
        norm += 1 / 4 ** o
    return total / np.sqrt(norm)  # keeps the spread of one octave (summing would shrink it)


# -- reading curves from plan values -------------------------------------------------------------
_OPTIONS = {
    "keyframes": {"easing"},
    "lfo": {"range", "phase", "cycles"},
    "noise": {"range", "seed", "octaves", "loop"},
    "audio": {"range", "smoothing", "gain", "band"},
}


def is_curve(value: Any) -> bool:
    """True for a mapping whose first key is a curve kind (or any mapping: then it must be one)."""
    return isinstance(value, Mapping)


def parse_curve(value: Any, where: str = "") -> Curve:
    """A curve from its YAML form; bad input raises a NetbendError naming ``where`` and the key."""
    if isinstance(value, (Keyframes, LFO, Noise, AudioCurve)):
        return value
    if not isinstance(value, Mapping) or not value:
        raise _err(where, "a curve is a mapping such as {lfo: 0.5, range: [0, 1]}")
    kinds = [k for k in value if k in CURVE_KINDS]
    if len(kinds) != 1:
        first = str(next(iter(value)))
        raise _err(where, f"a curve needs exactly one of {', '.join(CURVE_KINDS)}"
                           + (f" (got {', '.join(map(str, kinds))})" if kinds else f" (got '{first}')")
                           + ("" if kinds else closest(first, CURVE_KINDS)))
    kind = kinds[0]
    for key in value:
        if key != kind and key not in _OPTIONS[kind]:
            raise _err(_j(where, str(key)), f"unknown key for a '{kind}' curve (keys: "
                               f"{', '.join([kind, *sorted(_OPTIONS[kind])])})"
                               + closest(str(key), _OPTIONS[kind]))
    return _BUILDERS[kind](dict(value), where)


def _j(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _err(where: str, message: str) -> NetbendError:
    return NetbendError(f"{where}: {message}" if where else message)


def _num(value: Any, where: str, *, lo: float | None = None, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _err(where, f"must be a number, got {value!r}")
    if positive and value <= 0:
        raise _err(where, f"must be > 0, got {value!r}")
    if lo is not None and value < lo:
        raise _err(where, f"must be >= {lo:g}, got {value!r}")
    return float(value)


def _range(d: dict, where: str) -> tuple[float, float]:
    r = d.get("range", [0, 1])
    if not isinstance(r, (list, tuple)) or len(r) != 2:
        raise _err(_j(where, "range"), f"must be [low, high], got {r!r}")
    return (_num(r[0], _j(where, "range")), _num(r[1], _j(where, "range")))


def _int(value: Any, where: str, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise _err(where, f"must be a whole number >= {lo}, got {value!r}")
    return int(value)


def _keyframes(d: dict, where: str) -> Keyframes:
    raw = d["keyframes"]
    if isinstance(raw, Mapping):
        raw = list(raw.items())
    if not isinstance(raw, (list, tuple)) or not raw:
        raise _err(_j(where, "keyframes"), "must be a list of [time, value] pairs")
    times, values = [], []
    for i, pair in enumerate(raw):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise _err(_j(where, f"keyframes[{i}]"), f"must be a [time, value] pair, got {pair!r}")
        times.append(_num(pair[0], _j(where, f"keyframes[{i}] time"), lo=0))
        values.append(_num(pair[1], _j(where, f"keyframes[{i}] value")))
        if i and times[i] <= times[i - 1]:
            raise _err(_j(where, f"keyframes[{i}]"), f"keyframes out of order (time {times[i]:g} "
                               f"after {times[i - 1]:g}); times must increase")
    easing = d.get("easing", "linear")
    if easing not in EASINGS:
        raise _err(_j(where, "easing"), f"must be one of {', '.join(EASINGS)}, got {easing!r}"
                           + closest(str(easing), EASINGS))
    return Keyframes(tuple(times), tuple(values), easing)


def _lfo(d: dict, where: str) -> LFO:
    freq, cycles = d.get("lfo"), d.get("cycles")
    if (freq is None) == (cycles is None):
        raise _err(_j(where, "lfo"), "give a frequency in Hz ({lfo: 0.5}) or whole cycles per "
                           "clip ({lfo: null, cycles: 2})")
    return LFO(None if freq is None else _num(freq, _j(where, "lfo"), positive=True), _range(d, where),
               _num(d.get("phase", 0.0), _j(where, "phase")),
               None if cycles is None else _num(cycles, _j(where, "cycles"), positive=True))


def _noise(d: dict, where: str) -> Noise:
    loop = d.get("loop", True)
    if not isinstance(loop, bool):
        raise _err(_j(where, "loop"), f"must be true or false, got {loop!r}")
    return Noise(_num(d["noise"], _j(where, "noise"), positive=True), _range(d, where),
                 _int(d.get("seed", 0), _j(where, "seed"), 0), _int(d.get("octaves", 1), _j(where, "octaves"), 1),
                 loop)


def _audio(d: dict, where: str) -> AudioCurve:
    feature = d["audio"]
    if feature not in AUDIO_FEATURES:
        raise _err(_j(where, "audio"), f"must be one of {', '.join(AUDIO_FEATURES)}, got {feature!r}"
                           + closest(str(feature), AUDIO_FEATURES))
    band = _int(d.get("band", 0), _j(where, "band"), 0)
    if band > 11:
        raise _err(_j(where, "band"), f"a pitch class 0-11 (C-B), got {band}")
    return AudioCurve(feature, _range(d, where), _num(d.get("smoothing", 0.0), _j(where, "smoothing"), lo=0),
                      _num(d.get("gain", 1.0), _j(where, "gain"), lo=0), band)


_BUILDERS = {"keyframes": _keyframes, "lfo": _lfo, "noise": _noise, "audio": _audio}


def parse_value(text: str, where: str) -> float | Curve:
    """A command-line value: a number, or a curve in YAML flow form (``"{lfo: 0.2, range: [0.5, 1]}"``)."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        raise _err(where, f"cannot read {text!r} (a number or a curve such as "
                           "'{lfo: 0.2, range: [0.5, 1]}')") from None
    if isinstance(value, Mapping):
        return parse_curve(value, where)
    return _num(value, where)


def value_at(value: float | Curve, t, clock: Clock = Clock()):
    """A number as is, or a curve's value at t."""
    if isinstance(value, (Keyframes, LFO, Noise, AudioCurve)):
        return value.at(t, clock)
    return value if np.ndim(t) == 0 else np.full(np.shape(t), float(value))


def curve_to_yaml(value: float | Curve) -> Any:
    return value.to_dict() if isinstance(value, (Keyframes, LFO, Noise, AudioCurve)) else value


