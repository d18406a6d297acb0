"""Scripts (benchmarks/) end bad input with one line and exit code 2, as the command line does."""
import runpy
import sys
from pathlib import Path

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
