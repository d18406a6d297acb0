"""Audio output level: autoencode keeps the input's loudness, sample gets a sensible one, nothing clips."""
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from click.testing import CliRunner

from netbend.audio.autoencode import decode_latents, sample_latents
from netbend.audio.loudness import PEAK_LIMIT, SAMPLE_RMS, match_level, rms
from netbend.audio.model import load_audio_model
from netbend.audio.sample import latent_path, sample_units
from netbend.audio.synth import render_clip
from netbend.cli import main

CLIP = Path(__file__).resolve().parents[1] / "examples" / "audio" / "synth_seed2_0.flac"
FAST = ["--iterations", "4"]


def run(*args):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code == 0, res.output
    return res


def read(path):
    y, _ = sf.read(str(path), dtype="float32")
    return y


def test_match_level_reaches_the_target_and_never_clips():
    y = 0.01 * np.sin(np.linspace(0, 200, 8000, dtype=np.float32))
    out, level = match_level(y, 0.2)
    assert rms(out) == pytest.approx(0.2, rel=1e-4) and not level.limited
    assert level.gain_db == pytest.approx(20 * np.log10(0.2 / rms(y)), abs=1e-3)
    loud, level = match_level(y, 0.9)  # a sine at RMS 0.9 would peak at 1.27
    assert level.limited and np.abs(loud).max() == pytest.approx(PEAK_LIMIT, rel=1e-6)
    assert np.abs(loud).max() <= PEAK_LIMIT
    quiet, _ = match_level(y, 0.2, gain_db=-6.0)
    assert rms(quiet) == pytest.approx(0.2 * 10 ** (-6 / 20), rel=1e-4)
    same, level = match_level(y, None)
    assert np.array_equal(same, y) and level.gain_db == 0.0
    silent, _ = match_level(np.zeros(100, np.float32), 0.2)
    assert not silent.any()


def test_autoencode_restores_the_input_loudness(tmp_path):
    target = rms(read(CLIP))
    run("audio", "autoencode", CLIP, "--out", tmp_path / "plain.wav", *FAST)
    run("audio", "autoencode", CLIP, "--out", tmp_path / "raw.wav", "--no-match-loudness", *FAST)
    run("audio", "autoencode", CLIP, "--out", tmp_path / "soft.wav", "--gain", -6, *FAST)
    plain, raw, soft = (read(tmp_path / f"{n}.wav") for n in ("plain", "raw", "soft"))
    assert rms(plain) == pytest.approx(target, rel=0.01)
    assert rms(raw) < 0.8 * target  # what the decoder gives by itself is quieter
    assert rms(soft) == pytest.approx(target * 10 ** (-6 / 20), rel=0.01)
    assert np.abs(plain).max() <= PEAK_LIMIT + 1 / 32768
    info = yaml.safe_load((tmp_path / "plain.yaml").read_text())
    assert info["input_rms"] == pytest.approx(target, rel=1e-3)
    assert info["levels"]["plain.wav"]["rms_after"] == pytest.approx(target, rel=1e-3)


def test_autoencode_of_a_loud_input_is_limited_not_clipped(tmp_path):
    loud = np.clip(render_clip(5, 0, 3.0) * 4.0, -1, 1)  # driven hard: RMS far above typical
    sf.write(str(tmp_path / "loud.wav"), loud, 22050)
    run("audio", "autoencode", tmp_path / "loud.wav", "--out", tmp_path / "out.wav", "--gain", 12, *FAST)
    out = read(tmp_path / "out.wav")
    assert np.abs(out).max() <= PEAK_LIMIT + 1 / 32768
    assert np.mean(np.abs(out) >= 0.999) == 0  # no sample sits at full scale
    assert yaml.safe_load((tmp_path / "out.yaml").read_text())["levels"]["out.wav"]["peak_limited"]


def test_sample_level_and_duration(tmp_path):
    run("audio", "sample", "--seeds", "0-1", "--out", tmp_path / "a", *FAST)
    run("audio", "sample", "--seeds", "0", "--duration", 3.5, "--out", tmp_path / "b", *FAST)
    for y in (read(tmp_path / "a" / "seed0000_var00.wav"), read(tmp_path / "a" / "seed0001_var00.wav")):
        assert y.size == 32513 and rms(y) == pytest.approx(SAMPLE_RMS, rel=0.01)
    long = read(tmp_path / "b" / "seed0000_var00.wav")
    assert long.size == round(3.5 * 22050) and rms(long) == pytest.approx(SAMPLE_RMS, rel=0.01)
    assert yaml.safe_load((tmp_path / "b" / "run.yaml").read_text())["duration"] == pytest.approx(3.5)


def test_one_window_sample_is_what_it_always_was():
    model = load_audio_model(None, "cpu")
    units = sample_units(model, [0, 5], None, model.spec.window_samples)
    assert torch.equal(units, decode_latents(model, sample_latents(model, [0, 5]), None))


def test_long_sample_is_a_smooth_path_through_the_seed():
    model = load_audio_model(None, "cpu")
    path = latent_path(model, 7, 9)
    assert torch.equal(path[0], model.latents_from_seeds([7])[0])
    steps = (path[1:] - path[:-1]).norm(dim=1)
    assert steps.max() < 0.5 * (path[4] - path[0]).norm()  # neighbours are close, keypoints apart
    units = sample_units(model, [7], None, 5 * 22050)
    n_frames = 5 * 22050 // model.spec.hop + 1
    assert units.shape == (1, n_frames, model.spec.bins)
    assert torch.allclose(units[0, :64], decode_latents(model, path[:1], None)[0, :64], atol=1e-6)  # taper = 1 there


def test_a_sample_shorter_than_one_window(tmp_path):
    run("audio", "sample", "--seeds", "2", "--duration", 0.5, "--out", tmp_path / "s", *FAST)
    y = read(tmp_path / "s" / "seed0002_var00.wav")
    assert y.size == 11025 and rms(y) == pytest.approx(SAMPLE_RMS, rel=0.01)


def test_bad_duration_is_one_line(tmp_path):
    res = CliRunner().invoke(main, ["audio", "sample", "--duration", "0", "--out", str(tmp_path)])
    assert res.exit_code == 2 and "--duration must be a positive number" in res.output
