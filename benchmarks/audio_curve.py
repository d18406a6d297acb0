"""Quality of an audio model against training time: every kept epoch of one training run, scored.

``netbend audio train ... --snapshot-every N`` keeps ``epochNNN.safetensors`` beside the run's
checkpoint; this scores each on held-out generated music (synth seed 1, 8 x 6 s) and on any real
recordings given (their first ``--max-seconds``), like ``benchmarks/audio_quality.py``: spectral
convergence (SC) and log-spectral distance (LSD) of plain autoencoding with Griffin-Lim
(32 iterations), with the weights in float32 and rounded to float16 (as shipped).

    .venv/bin/python benchmarks/audio_curve.py runs/audio_v2 \\
        /usr/share/sounds/alsa/Front_Center.wav /usr/share/games/abe/sounds/game.ogg

Training minutes are read from the run's history (the end of each epoch, counted from the start
of the first; reading the data before it is not included).
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audio_recipe import held_out_sets, score  # noqa: E402  (same scoring as the recipe table)

from netbend.audio.spectrogram import SpecConfig  # noqa: E402


def score_one(job: tuple) -> dict:
    path, files, synth_seed, clips, iterations, max_seconds = job
    torch.set_num_threads(1)
    sets = held_out_sets(files, SpecConfig().sample_rate, synth_seed, clips, max_seconds)
    return {"file": path, "scores": score(Path(path), sets, iterations, False),
            "scores_half": score(Path(path), sets, iterations, True)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", help="Run folder of `netbend audio train` (checkpoint.pt, epochNNN.safetensors).")
    ap.add_argument("files", nargs="*", help="Real recordings to score on as well.")
    ap.add_argument("--synth-seed", type=int, default=1)
    ap.add_argument("--synth-clips", type=int, default=8)
    ap.add_argument("--iterations", type=int, default=32)
    ap.add_argument("--max-seconds", type=float, default=20.0, help="Score only the start of long recordings.")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", help="Also write the rows to this JSON file.")
    args = ap.parse_args()
    run = Path(args.run)
    snapshots = sorted(run.glob("epoch*.safetensors"))
    if not snapshots:
        raise SystemExit(f"{run}: no epochNNN.safetensors (train with --snapshot-every N)")
    history = json.loads(torch.load(run / "checkpoint.pt", weights_only=True)["history"])
    ends = {h["epoch"]: h["time"] for h in history}
    first = ends[1] - (ends[2] - ends[1] if 2 in ends else 0.0)  # the first epoch's start, by the second's length
    jobs = [(str(p), args.files, args.synth_seed, args.synth_clips, args.iterations, args.max_seconds)
            for p in snapshots]
    with multiprocessing.get_context("spawn").Pool(min(args.workers, len(jobs))) as pool:
        rows = pool.map(score_one, jobs)
    sets = list(rows[0]["scores"])
    print(f"{run}: VAE + Griffin-Lim, {args.iterations} iterations; SC / LSD dB per set; "
          "float16 weights' SC in brackets\n")
    print("| epoch | minutes | val. recon | " + " | ".join(sets) + " |")
    print("|---" * (3 + len(sets)) + "|")
    for r in rows:
        epoch = int(Path(r["file"]).stem[5:])
        val = next(h["val"].get("recon", float("nan")) for h in history if h["epoch"] == epoch)
        cells = [f"{r['scores'][s][1]:.3f} / {r['scores'][s][0]:.2f} ({r['scores_half'][s][1]:.3f})" for s in sets]
        print(f"| {epoch} | {(ends[epoch] - first) / 60:.1f} | {val:.4f} | " + " | ".join(cells) + " |")
        r.update(epoch=epoch, minutes=(ends[epoch] - first) / 60, val_recon=val)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
