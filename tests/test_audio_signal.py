"""Audio signal path: file I/O and bad input, resampling, STFT/dB/windows and their inverses, Griffin-Lim."""
import numpy as np
import pytest
import scipy.signal
import soundfile as sf
import torch

from netbend.audio.griffinlim import griffin_lim, spectral_convergence
from netbend.audio.io import read_audio, supported_extensions, write_audio
from netbend.audio.resample import resample
from netbend.audio.spectrogram import (SpecConfig, audio_to_unit, istft, join_windows, magnitude_to_unit,
                                       split_windows, stft, unit_to_magnitude)
from netbend.audio.synth import render_clip
from netbend.errors import NetbendError

CFG = SpecConfig()


def tone(seconds=1.0, sr=22050, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    y = 0.4 * np.sin(2 * np.pi * 330 * t) * np.exp(-2 * t) + 0.05 * rng.standard_normal(t.size)
    return y.astype(np.float32)


# --- resampling -------------------------------------------------------------------------------

@pytest.mark.parametrize("sr_in,sr_out", [(44100, 22050), (48000, 22050), (16000, 22050), (22050, 44100)])
def test_resample_matches_scipy_resample_poly(sr_in, sr_out):
    x = np.random.default_rng(1).standard_normal(5000)
    g = np.gcd(sr_in, sr_out)
    ref = scipy.signal.resample_poly(x, sr_out // g, sr_in // g)
    ours = resample(x, sr_in, sr_out)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, atol=2e-6)


def test_resample_keeps_a_sine_in_band():
    t = np.arange(44100) / 44100
    y = resample(np.sin(2 * np.pi * 1000 * t), 44100, 22050)
    t2 = np.arange(y.size) / 22050
    np.testing.assert_allclose(y[500:-500], np.sin(2 * np.pi * 1000 * t2)[500:-500], atol=2e-3)


# --- spectrogram and its inverses ------------------------------------------------------------

def test_db_scale_fixed_points_and_floor():
    mags = torch.tensor([CFG.db_ref, CFG.db_ref * 10 ** (-40 / 20), CFG.db_ref * 10 ** (-80 / 20), 1e-9])
    np.testing.assert_allclose(magnitude_to_unit(mags, CFG).numpy(), [1.0, 0.0, -1.0, -1.0], atol=1e-6)


def test_magnitude_round_trip_exact_above_floor():
    y = torch.from_numpy(tone())
    unit, spec = audio_to_unit(y, CFG)
    assert unit.shape == (y.numel() // CFG.hop + 1, 513)
    mag = spec.abs()
    above = mag > CFG.db_ref * 10 ** (CFG.db_floor / 20) * 1.001
    back = unit_to_magnitude(unit, CFG)
    rel = ((back - mag).abs() / mag.clamp_min(1e-12))[above]
    assert above.float().mean() > 0.9 and rel.max() < 1e-5


def test_waveform_round_trip_with_original_phase():
    y = torch.from_numpy(tone(0.7))
    unit, spec = audio_to_unit(y, CFG)
    phase = torch.polar(torch.ones_like(spec.abs()), torch.angle(spec))
    back = istft(unit_to_magnitude(unit, CFG) * phase, CFG, y.numel())
    # only the few bins below the -80 dB floor (0.3% here, at the faded tail) differ
    assert (back - y).norm() / y.norm() < 1e-3


@pytest.mark.parametrize("frames,hop", [(300, 64), (300, 128), (128, 64), (50, 64), (513, 32)])
def test_split_join_windows_exact(frames, hop):
    unit = torch.rand(frames, 513) * 2 - 1
    wins = split_windows(unit, CFG, hop)
    assert wins.shape[1:] == (128, 513)
    assert wins.shape[0] == max(1, -(-(frames - 128) // hop) + 1)
    torch.testing.assert_close(join_windows(wins, frames, CFG, hop), unit, atol=1e-6, rtol=0)
    if frames < 128:
        assert (wins[0, frames:] == -1).all()  # padded at the floor


def test_join_blends_changed_windows_without_jumps():
    wins = torch.stack([torch.full((128, 513), 0.0), torch.full((128, 513), 1.0)])
    joined = join_windows(wins, 192, CFG, 64)[:, 0]  # [frames]
    assert joined[0] == 0 and joined[-1] == 1
    assert (joined.diff() >= -1e-6).all() and joined.diff().max() < 0.05  # a smooth cross-fade


def test_griffin_lim_improves_spectral_convergence():
    y = torch.from_numpy(tone(0.5))
    mag = stft(y, CFG).abs()
    sc = [spectral_convergence(mag, griffin_lim(mag, CFG, y.numel(), iterations=n, seed=3), CFG)
          for n in (0, 4, 16)]
    assert sc[0] > sc[1] > sc[2] and sc[2] < 0.5 * sc[0]
    classic = griffin_lim(mag, CFG, y.numel(), iterations=16, momentum=0.0, seed=3)
    assert spectral_convergence(mag, classic, CFG) < 0.7 * sc[0]  # classic Griffin-Lim (momentum 0) too


# --- files and bad input ----------------------------------------------------------------------

@pytest.mark.parametrize("ext", [e for e in (".wav", ".flac", ".ogg", ".mp3") if e in supported_extensions()])
def test_read_each_format_mono_and_resampled(tmp_path, ext):
    y = tone(0.5, sr=44100)
    path = tmp_path / f"a{ext}"
    if ext == ".mp3":
        sf.write(path, np.stack([y, y], 1), 44100, format="MP3")
    else:
        write_audio(path, y, 44100)
    audio = read_audio(path, 22050)
    assert audio.sample_rate == 22050 and audio.source_rate == 44100
    assert abs(audio.samples.size - y.size // 2) <= 1
    ref = resample(y, 44100, 22050)
    n = min(ref.size, audio.samples.size) - 2000  # mp3 decoders add a delay; compare energy
    assert np.corrcoef(ref[:n], audio.samples[:n])[0, 1] > (0.5 if ext == ".mp3" else 0.99)


def test_multichannel_is_mixed_to_mono(tmp_path):
    left, right = tone(0.3, seed=1), tone(0.3, seed=2)
    sf.write(tmp_path / "st.wav", np.stack([left, right, left], 1), 22050, subtype="FLOAT")
    audio = read_audio(tmp_path / "st.wav", 22050)
    assert audio.source_channels == 3
    np.testing.assert_allclose(audio.samples, (2 * left + right) / 3, atol=1e-6)


def test_silent_file_reads_as_silence(tmp_path):
    write_audio(tmp_path / "s.flac", np.zeros(5000), 22050)
    audio = read_audio(tmp_path / "s.flac", 22050)
    assert audio.samples.size == 5000 and not audio.samples.any()


@pytest.mark.parametrize("case,message", [
    ("corrupt.wav", "cannot decode"), ("empty.wav", "no audio samples"), ("notes.txt", "unsupported audio format"),
    ("missing.flac", "no such audio file"), ("nan.wav", "non-finite"), ("noext", "unsupported audio format"),
])
def test_bad_files_raise_netbend_error(tmp_path, case, message):
    path = tmp_path / case
    if case == "corrupt.wav":
        path.write_bytes(b"RIFF\x00\x01\x00\x00WAVEfmt " + bytes(range(200)))
    elif case == "empty.wav":
        sf.write(path, np.zeros((0, 1)), 22050)
    elif case in ("notes.txt", "noext"):
        path.write_text("hello")
    elif case == "nan.wav":
        sf.write(path, np.array([0.0, np.nan, 0.1]), 22050, subtype="FLOAT")
    with pytest.raises(NetbendError, match=message):
        read_audio(path, 22050)


def test_synth_is_deterministic_and_varied():
    a, b, c = render_clip(7, 0, 3.0), render_clip(7, 0, 3.0), render_clip(7, 1, 3.0)
    assert a.shape == (66150,) and np.array_equal(a, b) and not np.array_equal(a, c)
    assert 0.2 < np.abs(a).max() <= 1.0
    bins = np.abs(np.fft.rfft(a))
    low, high = bins[: bins.size // 20].sum(), bins[bins.size // 4:].sum()
    assert low > 0 and high > 0  # bass/kick and hats both present
