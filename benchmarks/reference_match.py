"""Largest difference between netbend's images and NVlabs' reference images, per fixture model.

The fixtures in ``tests/fixtures/stylegan3/`` hold tiny generators and the images NVlabs' own code
made from them (``make_reference.py``); this writes each as an NVlabs-structured pickle, loads it
with netbend's restricted loader and prints |ours - reference|.max() / |reference|.max() for
truncation 1 and 0.5 (and StyleGAN3's translate/rotate view), both modulated-convolution forms.

    .venv/bin/python benchmarks/reference_match.py
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

NAMES = ("sg3_t", "sg3_r", "ada_cond", "ada_orig", "ada_resnet")


def main() -> None:
    from netbend.models import load_model
    from nvlabs_fixtures import REFERENCE, fixture, write_fixture_pickle

    torch.set_num_threads(1)
    print(f"{'model':<11} {'form':<8} {'psi1':>8} {'psi05':>8} {'view':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for name in NAMES:
            model, refs = load_model(write_fixture_pickle(name, Path(tmp) / f"{name}.pkl")), fixture(name)[2]
            if model.c_dim:
                model.set_class(REFERENCE["class"])
            z = model.latents_from_seeds(REFERENCE["seeds"])
            for form in ("grouped", "scaled"):
                model.module.set_modconv(form)
                row = {tag: model.synthesize(z=z, truncation=psi).numpy() for tag, psi in (("psi1", 1.0), ("psi05", 0.5))}
                if "view" in refs:
                    model.set_view(REFERENCE["view"]["translate"], REFERENCE["view"]["rotate"])
                    row["view"] = model.synthesize(z=z).numpy()
                    model.set_view((0, 0), 0)
                diff = {k: float(np.abs(v - refs[k]).max() / np.abs(refs[k]).max()) for k, v in row.items()}
                print(f"{name:<11} {form:<8} " + " ".join(f"{diff[k]:>8.1e}" if k in diff else f"{'-':>8}"
                                                          for k in ("psi1", "psi05", "view")))


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
