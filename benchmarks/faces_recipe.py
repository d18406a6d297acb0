"""Which training recipe gets the default face model furthest per CPU-minute.

Trains several variants of ``netbend faces train`` side by side (one process and one torch thread
each, started together, so they share the machine equally and its noise alike) for the same wall
time on the same cached training faces, then scores each on held-out faces (mean PSNR against the
renderer and the eye/mouth/nose colour-class agreement of ``netbend faces evaluate``).

    .venv/bin/python benchmarks/faces_recipe.py --minutes 8 --data runs/faces/data \\
        --variant 'b32 lr2e-3={"batch": 32, "lr": 0.002}' \\
        --variant 'b8 lr1e-2={"batch": 8, "lr": 0.01}' \\
        --variant 'b8 lr4e-2={"batch": 8, "lr": 0.04}'

``--data`` is a folder of rendered training faces (``OUT/data`` of an earlier ``faces train``);
without it the faces are rendered first. Each variant is a JSON object of ``TrainConfig`` fields.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import tempfile
from pathlib import Path

import torch
from variants import parse_variants

from netbend.faces.dataset import build_cache
from netbend.faces.quality import evaluate
from netbend.faces.train import TrainConfig, train
from netbend.models import load_model


def run_variant(job: tuple[int, str, dict, str, str, float, int, int]) -> dict:
    index, name, fields, data, root, minutes, faces, n_eval = job
    out = Path(root) / f"variant{index}"
    out.mkdir(parents=True)
    os.symlink(Path(data).resolve(), out / "data")
    cfg = TrainConfig(**{"threads": 1, "checkpoint_minutes": 1e6, **fields, "faces": faces, "out": str(out),
                         "minutes": minutes})
    path = train(cfg, log=lambda _msg: None)
    result = evaluate(load_model(path), n=n_eval)
    steps = json.loads(path.with_suffix(".json").read_text())["steps"]
    return {"variant": name, "steps": steps, "images": steps * cfg.batch, **scores(result)}


def scores(result: dict) -> dict:
    """Held-out PSNR and each part's colour-class agreement of an ``evaluate`` result."""
    return {"psnr": result["psnr_mean_db"],
            **{part: r["colour_class_agreement"] for part, r in result["parts"].items()}}


def print_table(rows: list[dict], columns: tuple[str, ...]) -> None:
    """Markdown table of variants: ``columns`` of each row, then PSNR and the eye/mouth/nose agreement."""
    print("| " + " | ".join(columns) + " | PSNR dB | eyes | mouth | nose |")
    print("|---" * (len(columns) + 4) + "|")
    for r in rows:
        print("| " + " | ".join(str(r[c]) for c in columns)
              + f" | {r['psnr']:.2f} | {r['eyes']:.3f} | {r['mouth']:.3f} | {r['nose']:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--variant", action="append", required=True, help="'NAME=JSON of TrainConfig fields'")
    ap.add_argument("--minutes", type=float, default=8.0, help="Training wall time of every variant.")
    ap.add_argument("--data", help="Folder of rendered training faces (faces64_*.npz).")
    ap.add_argument("--faces", type=int, default=12288, help="Training faces (seeds 0..N-1; all in --data).")
    ap.add_argument("--n-eval", type=int, default=64, help="Held-out faces scored per variant.")
    args = ap.parse_args()
    variants = parse_variants(args.variant)
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory(prefix="faces_recipe_") as root:
        data = args.data or str(Path(root) / "data")
        if not args.data:
            build_cache(data, args.faces, 64, workers=2)
        jobs = [(i, name, fields, data, root, args.minutes, args.faces, args.n_eval)
                for i, (name, fields) in enumerate(variants)]
        with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
            rows = pool.map(run_variant, jobs)
    print(f"{len(rows)} variants side by side, {args.minutes:g} min each, {args.n_eval} held-out faces\n")
    print_table(rows, ("variant", "steps", "images"))


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
