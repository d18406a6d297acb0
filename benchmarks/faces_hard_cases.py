"""Which held-out faces the default model draws worst: those near a discrete choice of the renderer.

The renderer picks the hair style (6), nose style (3) and glasses (present above 0.7) by thresholds
on unit parameters, so the face it draws jumps where a parameter crosses a threshold while the
generator, a smooth function of z, can only blend. This scores every held-out face (PSNR against
the renderer, as ``netbend faces evaluate``) and splits them by how close each of those parameters
is to a threshold.

    .venv/bin/python benchmarks/faces_hard_cases.py --n 256 --margin 0.03
"""
from __future__ import annotations

import argparse

import numpy as np

from netbend.faces.dataset import eval_seeds
from netbend.faces.params import INDEX, params_from_latent
from netbend.faces.quality import model_images, psnr
from netbend.faces.render import HAIR_STYLES, NOSE_STYLES, render_face
from netbend.models import load_model

THRESHOLDS = {"hair_style": [k / len(HAIR_STYLES) for k in range(1, len(HAIR_STYLES))],
              "nose_style": [k / len(NOSE_STYLES) for k in range(1, len(NOSE_STYLES))],
              "glasses": [0.7]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, help="Model file (default: the built-in default model).")
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--margin", type=float, default=0.03, help="'Near' = within this of a threshold.")
    args = ap.parse_args()
    model = load_model(args.model)
    z = model.latents_from_seeds(eval_seeds(args.n))
    u = params_from_latent(z.cpu())
    real = np.stack([render_face(p, model.resolution)[0] for p in u])
    scores = psnr(model_images(model, z), real)
    near_any = np.zeros(len(u), bool)
    print(f"{args.n} held-out faces, mean PSNR {scores.mean():.2f} dB\n")
    print("| parameter | faces within the margin | their PSNR | the others' PSNR |\n|---|---|---|---|")
    for name, cuts in THRESHOLDS.items():
        dist = np.min(np.abs(u[:, INDEX[name], None] - np.array(cuts)[None]), axis=1)
        near = dist < args.margin
        near_any |= near
        print(f"| {name} | {near.sum()} | {scores[near].mean():.2f} | {scores[~near].mean():.2f} |")
    print(f"| any of them | {near_any.sum()} | {scores[near_any].mean():.2f} | {scores[~near_any].mean():.2f} |")


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
