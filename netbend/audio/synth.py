"""A procedural music generator: training data for the built-in audio model, no recordings needed.

Each clip is a loop of drums (kick, snare, closed/open hats), a bass line and
chords (pads or plucks) in a random key, scale, tempo (70-170 BPM) and timbre
(oscillator mix, filter cutoffs, envelopes, detune, gains); a stem is sometimes
left out. ``render_clip(seed, index)`` depends only on its arguments
(``numpy.random.default_rng([seed, index])``), so a data set is a seed and a
count. Everything is vectorised per note; a 6-second clip takes a few ms.
Other kinds of training audio (tones, melodies, noise, speech, mixtures) are in
:mod:`netbend.audio.synth_kinds`; this loop is its ``music`` kind, unchanged.
"""
from __future__ import annotations

import numpy as np

SCALES = {
    "major": [0, 2, 4, 5, 7, 9, 11], "minor": [0, 2, 3, 5, 7, 8, 10],
    "dorian": [0, 2, 3, 5, 7, 9, 10], "mixolydian": [0, 2, 4, 5, 7, 9, 10],
    "harmonic": [0, 2, 3, 5, 7, 8, 11],
}


def _hz(midi: np.ndarray | float) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69.0) / 12.0)


def _spectral_filter(x: np.ndarray, sr: int, low: float = 0.0, high: float | None = None,
                     order: int = 2) -> np.ndarray:
    """Zero-phase band-pass by smooth magnitude response in the frequency domain."""
    f = np.fft.rfftfreq(x.size, 1.0 / sr)
    gain = np.ones_like(f)
    if high is not None:
        gain /= np.sqrt(1.0 + (f / high) ** (2 * order))
    if low > 0:
        gain *= 1.0 / np.sqrt(1.0 + (low / np.maximum(f, 1e-3)) ** (2 * order))
    return np.fft.irfft(np.fft.rfft(x) * gain, n=x.size)


def _osc(freq: float, t: np.ndarray, mix: np.ndarray, detune: float = 0.0) -> np.ndarray:
    """Sine/saw/square/triangle blend (weights ``mix``) with an optional detuned twin."""
    out = np.zeros_like(t)
    for cents in ((0.0,) if detune == 0 else (-detune, detune)):
        phase = (freq * 2.0 ** (cents / 1200.0) * t) % 1.0
        waves = np.stack([np.sin(2 * np.pi * phase), 2 * phase - 1,
                          np.sign(0.5 - phase), 1 - 4 * np.abs(phase - 0.5)])
        out += mix @ waves
    return out / (1 if detune == 0 else 2)


def _pick(rng, options: list):
    return options[int(rng.integers(len(options)))]


def _add(buf: np.ndarray, start: int, sound: np.ndarray) -> None:
    end = min(buf.size, start + sound.size)
    if end > start:
        buf[start:end] += sound[: end - start]


def _drums(rng, n: int, sr: int, step: float, steps: int) -> np.ndarray:
    out = np.zeros(n)
    kick_steps = _pick(rng, [[0, 8], [0, 6, 8], [0, 4, 8, 12], [0, 7, 10], [0, 3, 8, 11]])
    snare_steps = _pick(rng, [[4, 12], [4, 12, 14], [8], [4, 11, 12]])
    hat_every = rng.choice([1, 2, 2, 4])
    k_f0, k_dec = rng.uniform(40, 70), rng.uniform(0.08, 0.35)
    s_tone, s_dec, s_bright = rng.uniform(160, 260), rng.uniform(0.08, 0.25), rng.uniform(2000, 7000)
    h_dec, h_low = rng.uniform(0.02, 0.08), rng.uniform(5000, 9000)
    t = np.arange(int(0.6 * sr)) / sr
    kick = np.sin(2 * np.pi * np.cumsum(k_f0 * (1 + 3 * np.exp(-t / 0.03))) / sr) * np.exp(-t / k_dec)
    snare_noise = _spectral_filter(rng.standard_normal(t.size), sr, 300, s_bright)
    snare = (0.7 * snare_noise / np.abs(snare_noise).max() + 0.5 * np.sin(2 * np.pi * s_tone * t)) * np.exp(-t / s_dec)
    hat_noise = _spectral_filter(rng.standard_normal(t.size), sr, h_low, None, 3)
    hat_noise /= np.abs(hat_noise).max()
    for s in range(steps):
        pos, bar_step = int(s * step * sr), s % 16
        if bar_step in kick_steps or rng.random() < 0.03:
            _add(out, pos, rng.uniform(0.8, 1.0) * kick)
        if bar_step in snare_steps or rng.random() < 0.02:
            _add(out, pos, rng.uniform(0.6, 0.9) * snare)
        if s % hat_every == 0:
            dec = h_dec * (6 if rng.random() < 0.1 else 1)
            _add(out, pos, rng.uniform(0.2, 0.45) * hat_noise * np.exp(-t / dec))
    return out


def _bass(rng, n: int, sr: int, step: float, steps: int, root: int, scale: list[int]) -> np.ndarray:
    out = np.zeros(n)
    mix = rng.dirichlet(np.ones(4) * 0.5)
    cutoff, decay = rng.uniform(250, 2000), rng.uniform(0.1, 0.6)
    s = 0
    while s < steps:
        length = int(rng.choice([1, 2, 2, 3, 4, 4, 8]))
        if rng.random() < 0.75:
            degree = int(rng.choice([0, 0, 0, 2, 4, 4, 5, 6]))
            midi = root + scale[degree % 7] + 12 * (degree // 7)
            t = np.arange(int(length * step * sr)) / sr
            env = np.exp(-t / decay) * np.minimum(1.0, (t[::-1] + 1e-3) / 0.01)
            _add(out, int(s * step * sr), _osc(_hz(midi), t, mix) * env)
        s += length
    return _spectral_filter(out, sr, 30, cutoff, 2)


def _chords(rng, n: int, sr: int, step: float, steps: int, root: int, scale: list[int]) -> np.ndarray:
    out = np.zeros(n)
    mix = rng.dirichlet(np.ones(4) * 0.5)
    attack, detune = rng.uniform(0.005, 0.4), rng.uniform(0, 15)
    pluck = rng.random() < 0.4
    bar = 16 if rng.random() < 0.7 else 32
    progression = rng.choice(7, size=4)
    octave = int(rng.choice([12, 24]))
    for i, s in enumerate(range(0, steps, bar)):
        degree = int(progression[i % 4])
        notes = [degree, degree + 2, degree + 4] + ([degree + 6] if rng.random() < 0.4 else [])
        t = np.arange(int(bar * step * sr)) / sr
        env = np.minimum(1.0, t / attack) * np.minimum(1.0, (t[::-1] + 1e-3) / 0.05)
        if pluck:
            env *= np.exp(-t / rng.uniform(0.15, 0.6))
        chord = sum(_osc(_hz(root + octave + scale[d % 7] + 12 * (d // 7)), t, mix, detune) for d in notes)
        _add(out, int(s * step * sr), chord * env / len(notes))
    return _spectral_filter(out, sr, 80, rng.uniform(1500, 8000), 1)


def render_clip(seed: int, index: int, seconds: float = 6.0, sample_rate: int = 22050) -> np.ndarray:
    """One clip of generated music, float32 in [-1, 1], fully determined by (seed, index)."""
    rng = np.random.default_rng([int(seed), int(index)])
    n = int(seconds * sample_rate)
    step = 60.0 / rng.uniform(70, 170) / 4  # one 16th note, seconds
    steps = int(np.ceil(n / (step * sample_rate)))
    root = int(rng.integers(28, 40))
    scale = SCALES[rng.choice(list(SCALES))]
    stems = {"drums": _drums(rng, n, sample_rate, step, steps),
             "bass": _bass(rng, n, sample_rate, step, steps, root, scale),
             "chords": _chords(rng, n, sample_rate, step, steps, root, scale)}
    gains = {"drums": rng.uniform(0.5, 1.0), "bass": rng.uniform(0.3, 0.8), "chords": rng.uniform(0.2, 0.7)}
    dropped = rng.choice(["", "", "", "drums", "bass", "chords"])
    mix = sum(gains[k] * v / max(np.abs(v).max(), 1e-9) for k, v in stems.items() if k != dropped)
    mix = mix / max(np.abs(mix).max(), 1e-9) * rng.uniform(0.3, 0.95)
    return mix.astype(np.float32)
