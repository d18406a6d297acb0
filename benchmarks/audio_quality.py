"""Reconstruction quality of an audio model: log-spectral distance and spectral convergence.

For every input file (at the model's rate, mono) it reports three rows:
``phase only`` (no model: Griffin-Lim on the true magnitudes, the ceiling of any
Griffin-Lim output), ``VAE + original phase`` and ``VAE + Griffin-Lim`` (plain
autoencoding, no bends). Held-out generated clips come from the synth with a
seed the default model was not trained on (it was trained on seed 0), of
``--synth-kind`` (default ``music``, the drum/bass/chords loop; see
docs/audio_data.md). ``--json FILE`` also writes every set's rows (LSD, SC) and
the per-clip values, atomically. ``--max-seconds`` measures only the start of
long recordings.

    .venv/bin/python benchmarks/audio_quality.py --synth-seed 1 --synth-clips 8 \\
        /usr/share/sounds/freedesktop/stereo/alarm-clock-elapsed.oga /usr/share/sounds/alsa/Front_Center.wav
    .venv/bin/python benchmarks/audio_quality.py --synth-seed 1 --synth-clips 8 --synth-kind mix \\
        --json out/quality.json /usr/share/games/abe/sounds/game.ogg
"""
from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from netbend.audio.autoencode import PhaseOptions, encode_audio, reconstruct
from netbend.audio.griffinlim import griffin_lim
from netbend.audio.io import Audio, read_audio
from netbend.audio.metrics import log_spectral_distance, spectral_convergence
from netbend.audio.model import load_audio_model
from netbend.audio.spectrogram import stft
from netbend.audio.synth_kinds import KINDS, render_kind
from netbend.errors import NetbendError
from netbend.fileio import atomic_write_text


def rows_for(model, audio: Audio, iterations: int) -> dict[str, tuple[float, float]]:
    cfg, ref = model.spec, audio.samples
    # compare at the model's rate: the Audio is already at it, so keep rates equal in reconstruct
    audio = Audio(ref, cfg.sample_rate, cfg.sample_rate, 1, ref.size, audio.path)
    enc = encode_audio(model, audio)
    mag = stft(torch.from_numpy(ref), cfg).abs()
    out = {"phase only (GL)": griffin_lim(mag, cfg, ref.size, iterations=iterations).numpy(),
           "VAE + original phase": reconstruct(model, enc, None, PhaseOptions("original"))[0],
           "VAE + Griffin-Lim": reconstruct(model, enc, None, PhaseOptions("griffinlim", iterations))[0]}
    return {k: (log_spectral_distance(ref, y, cfg), spectral_convergence(ref, y, cfg)) for k, y in out.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="*", help="Real recordings to measure.")
    p.add_argument("--model", default=None, help="Model file (default: the built-in model).")
    p.add_argument("--synth-seed", type=int, default=1)
    p.add_argument("--synth-clips", type=int, default=8)
    p.add_argument("--synth-kind", default="music", choices=KINDS, help="Kind of generated clips (default music).")
    p.add_argument("--max-seconds", type=float, default=None, help="Measure only the first seconds of each file.")
    p.add_argument("--json", default=None, metavar="FILE", help="Also write the results as JSON to FILE.")
    p.add_argument("--iterations", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    if args.max_seconds is not None and args.max_seconds <= 0:
        raise NetbendError(f"--max-seconds must be above 0, got {args.max_seconds:g}")
    torch.set_num_threads(args.threads)
    model = load_audio_model(args.model, "cpu")
    sr = model.spec.sample_rate
    sets = {}
    if args.synth_clips:
        clips = [Audio(render_kind(args.synth_kind, args.synth_seed, i, 6.0, sr), sr, sr, 1, int(6 * sr),
                       f"synth {i}") for i in range(args.synth_clips)]
        kind = "" if args.synth_kind == "music" else f" {args.synth_kind}"
        sets[f"generated{kind}, held out (seed {args.synth_seed}, {args.synth_clips} x 6 s)"] = clips
    for f in args.files:
        audio = read_audio(f, sr)
        if args.max_seconds:
            y = audio.samples[: int(args.max_seconds * sr)]
            audio = Audio(y, sr, sr, 1, y.size, audio.path)
        sets[f.split("/")[-1]] = [audio]
    print(f"model {model.name} ({model.model_hash}), Griffin-Lim {args.iterations} iterations, momentum 0.99")
    print("| input | reconstruction | LSD (dB) | spectral convergence |\n|---|---|---|---|")
    report = {"model": model.name, "model_hash": model.model_hash, "iterations": args.iterations,
              "momentum": 0.99, "synth_kind": args.synth_kind, "synth_seed": args.synth_seed, "sets": []}
    for name, clips in sets.items():
        results = [rows_for(model, a, args.iterations) for a in clips]
        rows = []
        for row in results[0]:
            lsd = float(np.mean([r[row][0] for r in results]))
            sc = float(np.mean([r[row][1] for r in results]))
            print(f"| {name} | {row} | {lsd:.2f} | {sc:.3f} |")
            rows.append({"reconstruction": row, "lsd_db": lsd, "sc": sc,
                         "per_clip": [{"lsd_db": float(r[row][0]), "sc": float(r[row][1])} for r in results]})
        seconds = sum(a.samples.size for a in clips) / sr
        report["sets"].append({"input": name, "clips": len(clips), "seconds": round(seconds, 3), "rows": rows})
    if args.json:
        atomic_write_text(args.json, json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
