"""Scripts (benchmarks/) end bad input with one line and exit code 2, as the command line does."""
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_with_a_missing_file_says_one_line(monkeypatch, capsys, tmp_path):
    missing = tmp_path / "missing.wav"
    monkeypatch.setattr(sys, "argv", ["audio_quality.py", str(missing)])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(ROOT / "benchmarks" / "audio_quality.py"), run_name="__main__")
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err == f"audio_quality.py: error: {missing}: no such audio file\n"


def test_every_benchmark_main_goes_through_run_script():
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        text = path.read_text()
        if "def main(" in text:
            assert "run_script(main)" in text, path.name


def test_audio_quality_json_and_synth_kind(monkeypatch, capsys, tmp_path):
    import json

    import soundfile as sf

    from netbend.audio.synth_kinds import render_kind

    wav = tmp_path / "voice.wav"
    sf.write(wav, render_kind("speech", 9, 0, 3.0), 22050)
    out = tmp_path / "q" / "quality.json"
    monkeypatch.setattr(sys, "argv", ["audio_quality.py", "--synth-clips", "2", "--synth-kind", "speech",
                                      "--iterations", "2", "--threads", "1", "--max-seconds", "2",
                                      "--json", str(out), str(wav)])
    runpy.run_path(str(ROOT / "benchmarks" / "audio_quality.py"), run_name="__main__")
    table = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| generated")]
    report = json.loads(out.read_text())
    assert report["synth_kind"] == "speech" and [s["input"] for s in report["sets"]] == [
        "generated speech, held out (seed 1, 2 x 6 s)", "voice.wav"]
    assert report["sets"][1]["seconds"] == 2.0 and report["sets"][0]["clips"] == 2
    rows = report["sets"][0]["rows"]
    assert [r["reconstruction"] for r in rows] == ["phase only (GL)", "VAE + original phase", "VAE + Griffin-Lim"]
    name = report["sets"][0]["input"]
    for line, row in zip(table, rows):  # the JSON holds the printed figures, and their per-clip values
        assert line == f"| {name} | {row['reconstruction']} | {row['lsd_db']:.2f} | {row['sc']:.3f} |"
        assert abs(np.mean([c["sc"] for c in row["per_clip"]]) - row["sc"]) < 1e-12


def test_audio_speed_input_track_is_cut_or_looped(tmp_path):
    import soundfile as sf

    wav = tmp_path / "two.wav"
    y = np.stack([np.linspace(-0.5, 0.5, 16000), np.zeros(16000)], 1)
    sf.write(wav, y, 8000, subtype="FLOAT")
    input_track = runpy.run_path(str(ROOT / "benchmarks" / "audio_speed.py"))["input_track"]
    looped, rate = input_track(str(wav), 5.0)
    assert rate == 8000 and looped.shape == (40000, 2)
    assert np.array_equal(looped[16000:32000], looped[:16000]) and np.allclose(looped[:16000], y, atol=1e-7)
    cut, _ = input_track(str(wav), 1.5)
    assert cut.shape == (12000, 2)
