"""The Python API example (examples/python_api.py, quoted in the README) runs and saves its images."""
import re
import runpy
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "python_api.py"


def test_readme_quotes_the_example_file_verbatim():
    section = (ROOT / "README.md").read_text().split("## Python API", 1)[1]
    quoted = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert quoted == EXAMPLE.read_text()


def test_python_api_example_runs_from_another_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the plan is found by name, not by a path relative to a clone
    monkeypatch.setattr(sys, "argv", [str(EXAMPLE), str(tmp_path / "imgs")])
    scope = runpy.run_path(str(EXAMPLE), run_name="__main__")
    images = scope["images"]
    assert images.shape == (4, 3, 64, 64) and torch.isfinite(images).all()
    assert all(len(m._forward_hooks) == 0 for m in scope["model"].module.modules())
    pngs = sorted((tmp_path / "imgs").glob("*.png"))
    assert len(pngs) == 16 and capsys.readouterr().out == f"wrote 16 images to {tmp_path / 'imgs'}/\n"
    last = np.asarray(Image.open(tmp_path / "imgs" / "seed0003_var03.png"))
    expected = ((images[3].clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(1, 2, 0).numpy()
    assert np.array_equal(last, expected)
