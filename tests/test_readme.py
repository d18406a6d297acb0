"""The README's Python API example runs as written."""
import re
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def test_python_api_example_runs(monkeypatch):
    text = (ROOT / "README.md").read_text()
    section = text.split("## Python API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(ROOT)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    images = scope["images"]
    assert images.shape == (4, 3, 64, 64) and torch.isfinite(images).all()
    assert all(len(m._forward_hooks) == 0 for m in scope["model"].module.modules())
