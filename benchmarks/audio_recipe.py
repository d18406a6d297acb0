"""Which training recipe gets the audio model furthest per CPU-minute.

Trains several variants of ``netbend audio train`` side by side (one process and one torch thread
each, started together, so they share the machine and its noise alike) on the same training
windows, then scores each on held-out generated music (synth seed 1, 8 x 6 s, as
``benchmarks/audio_quality.py``) and on any real recordings given: spectral convergence (SC) and
log-spectral distance (LSD) of plain autoencoding with Griffin-Lim (32 iterations).

    .venv/bin/python benchmarks/audio_recipe.py --data runs/audio_data \\
        --variant 'paper={"epochs": 4}' \\
        --variant 'kl1e-5 sc1={"epochs": 4, "kl_weight": 1e-5, "sc_weight": 1.0}' \\
        /usr/share/sounds/alsa/Front_Center.wav

``--data`` is a folder of audio (e.g. ``netbend audio make-dataset`` output); the windows are read
once and shared. Each variant is a JSON object of ``TrainOptions`` fields (``epochs`` sets the
budget: the table reports each variant's wall time and steps, so compare rows of similar time).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audio_quality import rows_for  # noqa: E402  (the README benchmark's scoring, shared)
from variants import parse_variants  # noqa: E402

from netbend.audio.dataset import WindowSet, folder_windows  # noqa: E402
from netbend.audio.io import Audio, read_audio  # noqa: E402
from netbend.audio.model import load_audio_model  # noqa: E402
from netbend.audio.spectrogram import SpecConfig  # noqa: E402
from netbend.audio.synth import render_clip  # noqa: E402
from netbend.audio.train import TrainOptions, train  # noqa: E402

ROW = "VAE + Griffin-Lim"


def held_out_sets(files: list[str], sr: int, synth_seed: int, clips: int,
                  max_seconds: float | None = None) -> dict[str, list[Audio]]:
    """Generated music (``clips`` x 6 s of ``synth_seed``) and each recording (its first ``max_seconds``)."""
    sets = {"synth": [Audio(render_clip(synth_seed, i, 6.0, sr), sr, sr, 1, int(6 * sr), f"synth {i}")
                      for i in range(clips)]}
    for f in files:
        a = read_audio(f, sr)
        if max_seconds:
            a = Audio(a.samples[: int(max_seconds * sr)], sr, a.source_rate, a.source_channels, a.source_frames, f)
        sets[Path(f).name] = [a]
    return sets


def score(model_path: Path, sets: dict[str, list[Audio]], iterations: int, half: bool) -> dict:
    model = load_audio_model(str(model_path), "cpu")
    if half:  # what shipping in float16 does: round the weights, compute in float32
        for p in model.module.parameters():
            p.data = p.data.half().float()
    out = {}
    for name, clips in sets.items():
        rows = [rows_for(model, a, iterations)[ROW] for a in clips]
        out[name] = (float(np.mean([r[0] for r in rows])), float(np.mean([r[1] for r in rows])))
    return out


def run_variant(job: tuple) -> dict:
    index, name, fields, windows_file, root, files, synth_seed, clips, iterations, max_seconds = job
    torch.set_num_threads(1)
    data = WindowSet(**torch.load(windows_file, weights_only=True))
    options = TrainOptions(**{"checkpoint_seconds": 1e9, "device": "cpu", **fields})
    out = Path(root) / f"variant{index}"
    start = time.monotonic()
    path = train(data, options, out, SpecConfig(), log=lambda _m: None, name=f"recipe-{index}")
    minutes = (time.monotonic() - start) / 60
    sets = held_out_sets(files, SpecConfig().sample_rate, synth_seed, clips, max_seconds)
    steps = options.epochs * -(-data.train.shape[0] // options.batch)
    return {"variant": name, "minutes": minutes, "steps": steps, "scores": score(path, sets, iterations, False),
            "scores_half": score(path, sets, iterations, True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", help="Real recordings to score on as well.")
    ap.add_argument("--variant", action="append", required=True, help="'NAME=JSON of TrainOptions fields'")
    ap.add_argument("--data", required=True, help="Folder of training audio.")
    ap.add_argument("--hop-frames", type=int, default=64)
    ap.add_argument("--synth-seed", type=int, default=1)
    ap.add_argument("--synth-clips", type=int, default=8)
    ap.add_argument("--iterations", type=int, default=32)
    ap.add_argument("--max-seconds", type=float, default=20.0, help="Score only the start of long recordings.")
    ap.add_argument("--json", help="Also write the rows to this JSON file.")
    ap.add_argument("--keep", help="Keep every variant's run folder (variantN/) under this folder.")
    args = ap.parse_args()
    variants = parse_variants(args.variant)
    torch.set_num_threads(2)
    data = folder_windows(args.data, SpecConfig(), args.hop_frames)
    print(f"{data.files} files: {data.train.shape[0]} training, {data.val.shape[0]} validation windows", flush=True)
    with tempfile.TemporaryDirectory(prefix="audio_recipe_") as tmp:
        root = args.keep or tmp
        Path(root).mkdir(parents=True, exist_ok=True)
        windows_file = Path(root) / "windows.pt"
        torch.save({"train": data.train, "val": data.val, "files": data.files}, windows_file)
        jobs = [(i, name, fields, str(windows_file), root, args.files, args.synth_seed, args.synth_clips,
                 args.iterations, args.max_seconds) for i, (name, fields) in enumerate(variants)]
        with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
            rows = pool.map(run_variant, jobs)
    sets = list(rows[0]["scores"])
    print(f"\n{len(rows)} variants side by side (one thread each), {ROW}, {args.iterations} iterations; "
          f"SC / LSD dB per set; float16 weights in brackets\n")
    print("| variant | minutes | steps | " + " | ".join(sets) + " |")
    print("|---" * (3 + len(sets)) + "|")
    for r in rows:
        cells = [f"{r['scores'][s][1]:.3f} / {r['scores'][s][0]:.2f} ({r['scores_half'][s][1]:.3f})" for s in sets]
        print(f"| {r['variant']} | {r['minutes']:.1f} | {r['steps']} | " + " | ".join(cells) + " |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
