"""More kinds of generated training audio, so real recordings are in-domain.

``render_kind(kind, seed, index, seconds, sample_rate)`` is the one entry point:

* ``music``: the drum/bass/chords loop of :func:`netbend.audio.synth.render_clip`, unchanged.
* ``tones``: 1-3 voices of sustained notes with rich harmonics (spectral tilt -3 to -18
  dB/octave, sometimes odd harmonics only), vibrato, tremolo, glides between notes, breath.
* ``melody``: pure-tone, beep (switched steady tones), bell (inharmonic partials) or FM
  melodies, often a repeated motif with rests (an alarm-clock chime), sometimes with a
  harmony voice or an echo.
* ``noise``: 1-3 layers of coloured noise (white to brown), wind (a band that wanders, in
  gusts), crackle (sparse clicks) and hiss.
* ``speech``: speech-like phrases: a glottal pulse train on an F0 contour (declination,
  accents, a final fall or rise) through five formants that move per syllable (ten vowel
  targets, scaled for the speaker), fricative and plosive noise, pauses between phrases.
* ``mix``: one of the kinds above or a mixture (a melody or voice over the music loop, ...)
  picked per clip from (seed, index) with the proportions in :data:`MIX`; 35% is the plain
  music loop.

Every kind but ``music`` ends with a random peak level (0.05-0.95, log-uniform) and, in a
third of clips, slow level changes of up to -35 dB (quiet passages); some get a room
(exponentially decaying noise reverb). A clip depends only on its arguments
(``numpy.random.default_rng([seed, index, kind number])``) and is float32 in [-1, 1].
"""
from __future__ import annotations

import numpy as np

from netbend.audio.synth import SCALES, _hz, _spectral_filter, render_clip
from netbend.errors import NetbendError

TABLE = 4096  # samples in one wavetable period
N_FFT, HOP = 1024, 256  # STFT used to shape noise and formants (hop n_fft/4)

# (name, share of the mix, layers): each layer is a kind; the first is the foreground.
MIX = (("music", 0.35, ("music",)), ("tones", 0.14, ("tones",)), ("speech", 0.14, ("speech",)),
       ("melody", 0.10, ("melody",)), ("noise", 0.05, ("noise",)),
       ("melody over music", 0.07, ("melody", "music")), ("speech over music", 0.05, ("speech", "music")),
       ("tones over music", 0.04, ("tones", "music")), ("speech over noise", 0.03, ("speech", "noise")),
       ("melody over tones", 0.03, ("melody", "tones")))

# Vowel targets F1, F2, F3 in Hz (adult male averages); scaled per speaker.
VOWELS = np.array([[270, 2290, 3010], [390, 1990, 2550], [530, 1840, 2480], [660, 1720, 2410],
                   [730, 1090, 2440], [570, 840, 2410], [440, 1020, 2240], [300, 870, 2240],
                   [640, 1190, 2390], [490, 1350, 1690]], dtype=np.float64)


# ---- shared pieces ---------------------------------------------------------------------------

def _wavetable(amps: np.ndarray, phases: np.ndarray) -> np.ndarray:
    """One period (TABLE samples) of sum_k amps[k-1] * sin(2 pi k x + phases[k-1])."""
    x = np.arange(TABLE) / TABLE
    k = np.arange(1, amps.size + 1)[:, None]
    return amps @ np.sin(2 * np.pi * k * x + phases[:, None])


def _play(table: np.ndarray, f0: np.ndarray, sr: int, phase0: float = 0.0) -> np.ndarray:
    """Read ``table`` at the per-sample frequency ``f0`` (Hz), linear interpolation."""
    pos = ((phase0 + np.cumsum(f0) / sr) % 1.0) * TABLE
    i = pos.astype(np.int64)
    frac = pos - i
    return table[i % TABLE] * (1 - frac) + table[(i + 1) % TABLE] * frac


def _harmonics(rng, f0_max: float, sr: int, tilt_db: float, even: float) -> np.ndarray:
    """Harmonic amplitudes up to 0.45 sr at ``f0_max``: a tilt in dB/octave, even ones scaled."""
    k = np.arange(1, max(1, min(80, int(0.45 * sr / f0_max))) + 1)
    amps = 10 ** (tilt_db * np.log2(k) / 20) * 10 ** (rng.normal(0, 3, k.size) / 20)
    amps[1::2] *= even
    return amps


def _stft_shape(x: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Multiply the STFT of ``x`` (Hann, N_FFT, HOP, centred) by ``gain`` [frames, bins]; overlap-add."""
    n = x.size
    frames = n // HOP + 1
    xp = np.pad(x, (N_FFT // 2, N_FFT // 2 + HOP * 4))
    win = np.hanning(N_FFT + 1)[:-1]
    idx = np.arange(N_FFT)[None, :] + HOP * np.arange(frames)[:, None]
    seg = np.fft.irfft(np.fft.rfft(xp[idx] * win) * gain, n=N_FFT) * win  # [frames, N_FFT]
    out = np.zeros(xp.size + N_FFT * 4)
    step = N_FFT // HOP
    for r in range(step):  # frames r, r+4, ... do not overlap: lay them end to end
        block = seg[r::step].reshape(-1)
        out[HOP * r: HOP * r + block.size] += block
    return out[N_FFT // 2: N_FFT // 2 + n] / 1.5  # sum of Hann^2 at 75% overlap


def _frame_times(n: int, sr: int) -> np.ndarray:
    return np.arange(n // HOP + 1) * HOP / sr


def _bins(sr: int) -> np.ndarray:
    return np.fft.rfftfreq(N_FFT, 1.0 / sr)


def _resonances(freqs: np.ndarray, widths: np.ndarray, amps: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Sum of resonance peaks: freqs/widths/amps [frames, K], f [bins] -> [frames, bins]."""
    d = (f[None, None, :] - freqs[:, :, None]) / (widths[:, :, None] / 2)
    return (amps[:, :, None] / (1 + d ** 2)).sum(axis=1)


def _smooth_random(rng, n: int, sr: int, every: float, low: float, high: float) -> np.ndarray:
    """A random value in [low, high] every ``every`` s, linearly joined, per sample."""
    xs = np.arange(0, n / sr + 2 * every, every)
    return np.interp(np.arange(n) / sr, xs, rng.uniform(low, high, xs.size))


def _room(rng, y: np.ndarray, sr: int) -> np.ndarray:
    """Reverb by an exponentially decaying noise response (RT60 0.2-1.5 s), wet 10-40%."""
    rt = rng.uniform(0.2, 1.5)
    t = np.arange(int(rt * sr)) / sr
    ir = rng.standard_normal(t.size) * 10 ** (-3 * t / rt)
    ir = _spectral_filter(ir, sr, 100, rng.uniform(2000, 8000), 1)
    size = y.size + ir.size
    wet = np.fft.irfft(np.fft.rfft(y, size) * np.fft.rfft(ir, size), size)[: y.size]
    wet *= np.sqrt(np.mean(y ** 2) / max(np.mean(wet ** 2), 1e-20))
    mix = rng.uniform(0.1, 0.4)
    return (1 - mix) * y + mix * wet


def _finish(rng, y: np.ndarray, sr: int, room: float = 0.35) -> np.ndarray:
    """Room (sometimes), a noise floor (half), quiet passages (a third), a log-uniform peak 0.05-0.95."""
    if rng.random() < room:
        y = _room(rng, y, sr)
    if rng.random() < 0.5:  # hiss or hum of a real recording, -70 to -30 dB below the peak
        floor = _coloured(rng, y.size, sr)
        y = y + floor / max(np.abs(floor).max(), 1e-9) * np.abs(y).max() * 10 ** (rng.uniform(-70, -30) / 20)
    if rng.random() < 1 / 3:
        every = rng.uniform(0.5, 2.0)
        db = _smooth_random(rng, y.size, sr, every, -35.0, 0.0)
        y = y * 10 ** (db / 20)
    y = y / max(np.abs(y).max(), 1e-9) * 10 ** rng.uniform(-1.3, np.log10(0.95))
    return y.astype(np.float32)


def _note_env(t: np.ndarray, attack: float, release: float, decay: float = np.inf) -> np.ndarray:
    dur = t[-1] if t.size else 0.0
    return (np.minimum(1.0, t / attack) * np.minimum(1.0, np.maximum(dur - t, 0) / release)
            * np.exp(-t / decay))


# ---- tones -----------------------------------------------------------------------------------

def _tone_voice(rng, n: int, sr: int, low: int, high: int) -> np.ndarray:
    """Legato/detached notes of one instrument: f0 track with glides and vibrato, ADSR, tremolo."""
    starts, midis, s = [], [], 0.0
    midi = rng.uniform(low, high)
    while s < n / sr:
        starts.append(s)
        midi = float(np.clip(midi + rng.integers(-7, 8), low, high)) + rng.choice([0, 0, 0, 0.5 * rng.normal()])
        midis.append(midi)
        s += rng.uniform(0.4, 3.0)
    starts.append(s)
    glide = rng.uniform(0.02, 0.4) if rng.random() < 0.4 else 0.005
    xs = np.repeat(starts[:-1], 2) + np.tile([0.0, glide], len(midis))
    ys = np.repeat(midis, 2)
    ys[::2] = np.r_[midis[0], midis[:-1]]
    t = np.arange(n) / sr
    track = np.interp(t, xs, ys)
    vib_rate, vib_cents = rng.uniform(4.0, 7.0), rng.choice([0.0, rng.uniform(5, 60)])
    track = track + vib_cents / 100 * np.sin(2 * np.pi * vib_rate * t + rng.uniform(0, 6.3))
    f0 = _hz(track)
    tilt = rng.uniform(-18, -3)
    amps = _harmonics(rng, float(f0.max()), sr, tilt, rng.uniform(0, 0.3) if rng.random() < 0.35 else 1.0)
    table = _wavetable(amps, rng.uniform(0, 2 * np.pi, amps.size))
    y = _play(table, f0, sr)
    env = np.zeros(n)
    attack, release, legato = rng.uniform(0.01, 0.3), rng.uniform(0.05, 0.5), rng.random() < 0.5
    for a, b in zip(starts[:-1], starts[1:]):
        i, j = int(a * sr), min(n, int((a + (b - a) * (1.0 if legato else rng.uniform(0.6, 1.0))) * sr))
        if j > i:
            env[i:j] = np.maximum(env[i:j], rng.uniform(0.5, 1.0) * _note_env(t[: j - i], attack, release,
                                                                               rng.uniform(2, 20)))
    trem = 1 + rng.choice([0.0, rng.uniform(0.1, 0.5)]) * np.sin(2 * np.pi * rng.uniform(2, 8) * t)
    breath = _spectral_filter(rng.standard_normal(n), sr, 500, 6000, 1) * rng.choice([0.0, rng.uniform(0, 0.03)])
    return (y / max(np.abs(y).max(), 1e-9) + breath) * env * trem


def render_tones(rng, n: int, sr: int) -> np.ndarray:
    voices = int(rng.integers(1, 4))
    out = sum(rng.uniform(0.4, 1.0) * _tone_voice(rng, n, sr, *sorted(rng.integers(36, 90, 2) + [0, 6]))
              for _ in range(voices))
    return _spectral_filter(out, sr, rng.uniform(20, 150), rng.uniform(2500, 10000), 1)


# ---- melody ----------------------------------------------------------------------------------

def _bell_note(rng_params, f: float, t: np.ndarray, sr: int) -> np.ndarray:
    timbre, ratios, amps, decays, fm_ratio, fm_index, fm_decay = rng_params
    if timbre == "fm":
        index = fm_index * np.exp(-t / fm_decay)
        y = np.sin(2 * np.pi * f * t + index * np.sin(2 * np.pi * f * fm_ratio * t))
        return y * np.exp(-t / decays[0])
    ok = (ratios * f < 0.45 * sr) & (amps > 0)
    parts = np.sin(2 * np.pi * f * ratios[ok, None] * t) * np.exp(-t / decays[ok, None])
    return amps[ok] @ parts


def render_melody(rng, n: int, sr: int) -> np.ndarray:
    timbre = ["sine", "beep", "bell", "fm"][int(rng.integers(4))]
    if timbre in ("sine", "beep"):
        # a beep is pure half the time; else its overtones can be as loud as its fundamental (a buzzer)
        loud = {"sine": 1.0, "beep": float(rng.choice([0.0, 3.0]))}[timbre]
        ratios, amps = np.array([1.0, 2.0, 3.0]), np.array([1.0, *rng.uniform(0, [0.4 * loud, 0.2 * loud])])
    else:
        ratios = np.array([0.5, 1.0, 1.19, 1.5, 2.0, 2.52, 2.76, 3.0, 4.07, 5.4])
        amps = rng.uniform(0, 1, ratios.size) * (rng.random(ratios.size) < 0.6)
        amps[1] = 1.0
    base_decay = rng.uniform(0.15, 1.5)
    decays = base_decay / ratios ** rng.uniform(0.3, 1.0)
    params = (timbre, ratios, amps, decays, float(rng.choice([1.0, 2.0, 3.0, 3.5, 1.4, 0.5])),
              rng.uniform(0.5, 6.0), rng.uniform(0.05, 0.6))
    scale = SCALES[list(SCALES)[int(rng.integers(len(SCALES)))]]
    root, step = int(rng.integers(84, 110) if timbre == "beep" else rng.integers(55, 85)), rng.uniform(0.08, 0.45)
    motif = rng.integers(-3, 8, int(rng.integers(3, 9)))
    repeat, rest = rng.random() < 0.6, int(rng.integers(0, 6))
    harmony = int(rng.choice([0, 0, 2, 4, -3]))
    out, tail = np.zeros(n), int(min(5 * base_decay, 2.5) * sr)
    gate = np.ones(tail)  # a beep is a steady tone switched off after 30-90% of a step
    if timbre == "beep":
        decays[:] = 30.0
        tail = int(step * sr)
        gate = np.clip((rng.uniform(0.3, 0.9) * step - np.arange(tail) / sr) / 0.004, 0, 1)
    t = np.arange(tail) / sr
    s, notes = 0, {}
    while s * step * sr < n:
        for i, d in enumerate(motif if repeat else rng.integers(-3, 10, motif.size)):
            pos = int((s + i) * step * sr)
            if pos >= n:
                break
            for deg in [int(d)] + ([int(d) + harmony] if harmony else []):
                if deg not in notes:  # a motif repeats: render each pitch once
                    f = float(_hz(min(121, root + scale[deg % 7] + 12 * (deg // 7))))
                    notes[deg] = _bell_note(params, f, t, sr) * np.minimum(1.0, t / 0.003) * gate
                note, end = notes[deg], min(n, pos + tail)
                out[pos:end] += rng.uniform(0.6, 1.0) * note[: end - pos] / (2 if harmony else 1)
        s += motif.size + rest
    if rng.random() < 0.3:  # echo
        d, g = int(rng.uniform(0.1, 0.4) * sr), rng.uniform(0.2, 0.5)
        out = out + sum(g ** k * np.r_[np.zeros(k * d), out[: max(0, n - k * d)]][:n] for k in (1, 2, 3))
    return out


# ---- noise -----------------------------------------------------------------------------------

def _coloured(rng, n: int, sr: int) -> np.ndarray:
    f = np.fft.rfftfreq(n, 1.0 / sr)
    spec = np.fft.rfft(rng.standard_normal(n)) / np.maximum(f, 20.0) ** (rng.uniform(0, 2) / 2)
    y = np.fft.irfft(spec, n=n)
    return y * _smooth_random(rng, n, sr, rng.uniform(0.3, 3.0), rng.uniform(0.2, 1.0), 1.0)


def _wind(rng, n: int, sr: int) -> np.ndarray:
    times = _frame_times(n, sr)
    every = rng.uniform(0.4, 2.0)
    centre = 10 ** _smooth_random(rng, times.size * HOP, sr, every, np.log10(150), np.log10(2500))[::HOP]
    width = centre * rng.uniform(0.2, 1.0)
    gust = _smooth_random(rng, times.size * HOP, sr, every, 0.1, 1.0)[::HOP]
    gain = _resonances(centre[:, None], width[:, None], gust[:, None], _bins(sr))
    return _stft_shape(rng.standard_normal(n), gain)


def _crackle(rng, n: int, sr: int) -> np.ndarray:
    clicks = np.zeros(n)
    count = int(rng.uniform(5, 300) * n / sr)
    clicks[rng.integers(0, n, count)] = rng.pareto(2.0, count) * rng.choice([-1, 1], count)
    t = np.arange(int(0.008 * sr)) / sr
    kernel = rng.standard_normal(t.size) * np.exp(-t / rng.uniform(0.0005, 0.003))
    size = n + kernel.size
    y = np.fft.irfft(np.fft.rfft(clicks, size) * np.fft.rfft(kernel, size), size)[:n]
    return _spectral_filter(y, sr, rng.uniform(100, 1500), rng.uniform(3000, 10000), 1)


def _hiss(rng, n: int, sr: int) -> np.ndarray:
    return _spectral_filter(rng.standard_normal(n), sr, rng.uniform(1000, 5000), None, 2)


def render_noise(rng, n: int, sr: int) -> np.ndarray:
    makers = [_coloured, _wind, _crackle, _hiss]
    chosen = rng.choice(len(makers), size=int(rng.integers(1, 4)), replace=False)
    out = np.zeros(n)
    for c in chosen:
        y = makers[int(c)](rng, n, sr)
        out += rng.uniform(0.2, 1.0) * y / max(np.abs(y).max(), 1e-9)
    return out


# ---- speech ----------------------------------------------------------------------------------

def _syllables(rng, seconds: float):
    """Timeline: per syllable (consonant start, vowel start, vowel end, consonant kind), phrase ends."""
    sylls, phrase_ends, s = [], [], rng.uniform(0.0, min(0.4, seconds / 2))
    while s < seconds:
        for _ in range(int(rng.integers(2, 9))):
            kind = ["", "", "fric", "plos", "fric", "plos"][int(rng.integers(6))]
            cons = {"": 0.0, "fric": rng.uniform(0.05, 0.14), "plos": rng.uniform(0.04, 0.1)}[kind]
            vowel = rng.uniform(0.07, 0.28)
            sylls.append((s, s + cons, s + cons + vowel, kind))
            s += cons + vowel + rng.uniform(0.0, 0.04)
        phrase_ends.append(len(sylls))
        s += rng.uniform(0.15, 0.7)
    return sylls, phrase_ends


def _speech_plan(rng, seconds: float, f0_base: float, vtl: float) -> dict[str, tuple[list, list]]:
    """Breakpoints (times in s, values) of F0, formants F1-F3, voicing, consonant noise and its band.

    F0: declination per phrase, accents, a final fall or rise; formants: vowel targets.
    """
    sylls, phrase_ends = _syllables(rng, seconds)
    f0_x, f0_y, fx, fy = [0.0], [f0_base], [], []
    voiced_x, voiced_y, noise_x, noise_y, band_x, band_y = [0.0], [0.0], [0.0], [0.0], [0.0], [4000.0]
    start = 0
    for end in phrase_ends:
        for i in range(start, end):
            c0, v0, v1, kind = sylls[i]
            pos = (i - start) / max(1, end - start - 1)
            semis = -3 * pos + (rng.uniform(1, 4) if rng.random() < 0.3 else 0) + rng.normal(0, 0.7)
            if i == end - 1:
                semis += rng.choice([-4, -4, -4, 5])
            f0_x.append((v0 + v1) / 2)
            f0_y.append(f0_base * 2 ** (semis / 12))
            target = VOWELS[int(rng.integers(len(VOWELS)))] * vtl
            second = VOWELS[int(rng.integers(len(VOWELS)))] * vtl if rng.random() < 0.2 else target
            fx += [v0 + 0.3 * (v1 - v0), v1 - 0.3 * (v1 - v0)]
            fy += [target, second]
            level = rng.uniform(0.5, 1.0)
            voiced_x += [v0, v0 + 0.02, v1 - 0.03, v1]
            voiced_y += [0.0, level, 0.8 * level, 0.0]
            if kind:
                burst = 0.015 if kind == "plos" else v0 - c0 - 0.01
                a = c0 + (v0 - c0 - burst if kind == "plos" else 0.0)
                noise_x += [a, a + 0.005, a + burst, a + burst + 0.005]
                noise_y += [0.0, rng.uniform(0.3, 1.0), rng.uniform(0.2, 0.6), 0.0]
                band_x.append(a)
                band_y.append(rng.uniform(2500, 8000) if kind == "fric" else rng.uniform(800, 4000))
        start = end
    return {"f0": (f0_x, f0_y), "formants": (fx, fy), "voiced": (voiced_x, voiced_y),
            "noise": (noise_x, noise_y), "band": (band_x, band_y)}


def render_speech(rng, n: int, sr: int) -> np.ndarray:
    f0_base = rng.uniform(85, 260)
    vtl = (1.0 + 0.3 * np.clip((f0_base - 100) / 160, 0, 1)) * rng.uniform(0.95, 1.05)  # vocal tract scale
    plan = _speech_plan(rng, n / sr, f0_base, vtl)
    t = np.arange(n) / sr
    f0 = np.interp(t, *plan["f0"]) * (1 + 0.01 * _smooth_random(rng, n, sr, 0.05, -1, 1))
    voiced = np.interp(t, *plan["voiced"])
    amps = _harmonics(rng, float(f0.max()), sr, rng.uniform(-12, -5), 1.0)  # glottal ~-12, lips +6 dB/oct
    table = _wavetable(amps, np.zeros(amps.size))
    source = _play(table, f0, sr) * voiced
    source += 0.03 * rng.standard_normal(n) * voiced  # aspiration
    frames = _frame_times(n, sr)
    fx, fy = plan["formants"]
    formants = np.stack([np.interp(frames, fx, np.array(fy)[:, k]) for k in range(3)], 1)  # [frames, 3]
    upper = np.broadcast_to(np.array([3500.0, 4500.0]) * vtl, (frames.size, 2))
    freqs = np.concatenate([formants, upper], 1)  # [frames, 5]
    widths = np.broadcast_to(np.array([80.0, 100.0, 150.0, 250.0, 300.0]) * rng.uniform(0.8, 1.3), freqs.shape)
    amps = np.broadcast_to(np.array([1.0, 0.6, 0.3, 0.15, 0.1]), freqs.shape)
    f = _bins(sr)
    voiced_out = _stft_shape(source, _resonances(freqs, widths, amps, f) + 0.005)
    band = np.interp(frames, *plan["band"])[:, None]
    noise_gain = 1.0 / (1 + ((f[None, :] - band) / (0.4 * band)) ** 4)  # fricatives: a band, steep sides
    noise_out = _stft_shape(rng.standard_normal(n) * np.interp(t, *plan["noise"]), noise_gain)
    y = voiced_out / max(np.abs(voiced_out).max(), 1e-9) + rng.uniform(0.3, 1.0) * noise_out / max(
        np.abs(noise_out).max(), 1e-9)
    return _spectral_filter(y, sr, rng.uniform(60, 120), None, 2)


# ---- entry point -----------------------------------------------------------------------------

RENDERERS = {"tones": render_tones, "melody": render_melody, "noise": render_noise, "speech": render_speech}
KIND_NUMBER = {"tones": 1, "melody": 2, "noise": 3, "speech": 4, "mix": 5}
KINDS = ("music", "mix", "tones", "melody", "noise", "speech")


def mix_choice(seed: int, index: int) -> tuple[str, tuple[str, ...]]:
    """The (name, layers) that the ``mix`` kind renders for (seed, index)."""
    rng = np.random.default_rng([int(seed), int(index), KIND_NUMBER["mix"]])
    shares = np.array([m[1] for m in MIX])
    name, _, layers = MIX[int(rng.choice(len(MIX), p=shares / shares.sum()))]
    return name, layers


def _render_mix(seed: int, index: int, seconds: float, sr: int) -> np.ndarray:
    _, layers = mix_choice(seed, index)
    if layers == ("music",):
        return render_clip(seed, index, seconds, sr)
    rng = np.random.default_rng([int(seed), int(index), KIND_NUMBER["mix"], 1])
    out = 0.0
    for i, layer in enumerate(layers):
        y = render_kind(layer, seed, index, seconds, sr).astype(np.float64)
        rms = np.sqrt(np.mean(y ** 2)) + 1e-9
        out = out + y / rms * (1.0 if i == 0 else 10 ** (rng.uniform(-20, -3) / 20))
    return _finish(rng, out, sr, room=0.0)


def render_kind(kind: str, seed: int, index: int, seconds: float = 6.0, sample_rate: int = 22050) -> np.ndarray:
    """One clip of generated audio of ``kind`` (see :data:`KINDS`), float32 in [-1, 1]."""
    if kind == "music":
        return render_clip(seed, index, seconds, sample_rate)
    if kind == "mix":
        return _render_mix(seed, index, seconds, sample_rate)
    if kind not in RENDERERS:
        raise NetbendError(f"unknown synth kind {kind!r} (kinds: {', '.join(KINDS)})")
    rng = np.random.default_rng([int(seed), int(index), KIND_NUMBER[kind]])
    n = int(seconds * sample_rate)
    return _finish(rng, RENDERERS[kind](rng, n, sample_rate), sample_rate)
