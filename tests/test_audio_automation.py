"""Curves along a track: audio feature tracks, and `audio autoencode` bends that change per window."""
import numpy as np
import pytest
import torch
import yaml
from click.testing import CliRunner

from netbend.audio.features import analyse
from netbend.cli import main
from netbend.curves import Clock, parse_curve


def test_feature_tracks_follow_the_signal():
    sr = 22050
    t = np.arange(2 * sr) / sr
    quiet_then_loud = np.where(t < 1, 0.05, 0.8) * np.sin(2 * np.pi * 100 * t)  # a low tone
    feats = analyse(quiet_then_loud.astype(np.float32), sr)
    assert feats.value("rms", 0.5) < 0.1 and feats.value("rms", 1.5) > 0.9
    assert feats.value("low", 1.5) > 0.9 and feats.value("high", 1.5) < 0.05
    onset_at = np.argmax(feats.tracks["onsets"]) / feats.rate
    assert abs(onset_at - 1.0) < 0.1
    smooth = feats.value("rms", 1.05, smoothing=0.3)
    assert feats.value("rms", 0.5) < smooth < feats.value("rms", 1.05)  # lags behind the step
    a = np.sin(2 * np.pi * 440 * t).astype(np.float32)  # A: pitch class 9
    chroma = analyse(a, sr).tracks["chroma"]
    assert np.argmax(chroma[20]) == 9
    curve = parse_curve({"audio": "rms", "range": [10, 20], "gain": 2})
    assert np.isclose(curve.at(1.5, Clock(2.0, feats)), 20)  # clipped to the range's top
    with pytest.raises(Exception, match="needs an audio track"):
        curve.at(0.0)


def test_autoencode_bends_change_along_the_track(tmp_path):
    import soundfile as sf

    from netbend.audio.autoencode import decode_latents, encode_audio, window_plans
    from netbend.audio.io import read_audio
    from netbend.audio.model import load_audio_model
    from netbend.bending import bend
    from netbend.plan import Plan

    model = load_audio_model()
    sr = model.spec.sample_rate
    t = np.arange(int(3.5 * sr)) / sr
    sf.write(tmp_path / "in.wav", (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr)
    enc = encode_audio(model, read_audio(tmp_path / "in.wav", sr))
    plan = Plan.from_dict({"transforms": [{"layer": 2, "transform": "scalar-multiply",
                                           "params": [{"keyframes": [[0, 1], [3, -2]]}]}]})
    plans = window_plans(plan, model, enc)
    factors = [r.bends[0].params["p"] for r in plans]
    assert len(plans) == enc.latents.shape[0] >= 3 and factors == sorted(factors, reverse=True)
    assert len(set(factors)) == len(factors)
    out = decode_latents(model, enc.latents, plans)
    for i in (0, len(plans) - 1):
        with bend(model.module, plans[i]):
            alone = model.decode(enc.latents[i:i + 1])
        torch.testing.assert_close(out[i:i + 1], alone, rtol=1e-4, atol=1e-4)
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(plan.to_dict()))
    res = CliRunner().invoke(main, ["audio", "autoencode", str(tmp_path / "in.wav"), "--config", str(path),
                                    "--out", str(tmp_path / "o.wav"), "--iterations", "2"])
    assert res.exit_code == 0, res.output
    assert sf.info(str(tmp_path / "o.wav")).frames == t.size
