"""Speed of bent autoencoding on CPU, as a multiple of real time.

A 30-second generated track (44.1 kHz stereo FLAC, from a seed the default
model was not trained on) is autoencoded end to end with the paper's Figure 3
plan: read + mix + resample, STFT, encode, bent decode, Griffin-Lim, resample
back, write. Reports wall seconds per stage and ``track seconds / wall seconds``
(target: at least 5x real time with the default model). ``--input FILE`` times
the first ``--seconds`` of a recording instead (looped if shorter), kept at its
own rate and channels (written as FLAC first, like the generated track);
``--model`` times a trained model file.

    .venv/bin/python benchmarks/audio_speed.py --threads 2 --repeats 3
    .venv/bin/python benchmarks/audio_speed.py --threads 1 --repeats 3 --input /usr/share/games/abe/sounds/game.ogg
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from netbend.audio.autoencode import PhaseOptions, decode_latents, encode_audio, unit_to_audio
from netbend.audio.io import read_audio, write_audio
from netbend.audio.model import load_audio_model
from netbend.audio.resample import resample
from netbend.audio.spectrogram import join_windows
from netbend.audio.synth import render_clip
from netbend.bending import resolve_plan
from netbend.plan import load_plan

PLAN = Path(__file__).resolve().parent.parent / "examples" / "fig3_stochastic.yaml"


def one_run(model, path: Path, out: Path, plan, options: PhaseOptions) -> dict[str, float]:
    cpu0 = time.process_time()
    t = {"start": time.perf_counter()}
    audio = read_audio(path, model.spec.sample_rate)
    t["read"] = time.perf_counter()
    enc = encode_audio(model, audio)
    t["encode"] = time.perf_counter()
    windows = decode_latents(model, enc.latents, resolve_plan(plan, model, seed=0))
    unit = join_windows(windows, enc.unit.shape[0], model.spec, enc.hop_frames)
    t["bent decode"] = time.perf_counter()
    y = unit_to_audio(model, unit, audio.samples.size, options, enc.stft)
    t["phase"] = time.perf_counter()
    write_audio(out, resample(y, model.spec.sample_rate, audio.source_rate)[: audio.source_frames],
                audio.source_rate)
    t["resample+write"] = time.perf_counter()
    keys = list(t)
    times = {k: t[k] - t[p] for p, k in zip(keys, keys[1:])}
    times["cpu"] = time.process_time() - cpu0  # CPU seconds over all threads: robust to a busy machine
    return times


def input_track(path: str, seconds: float) -> tuple[np.ndarray, int]:
    """The first ``seconds`` of a recording ([frames, channels], its own rate), looped if shorter."""
    read_audio(path, 22050)  # the same checks (and one-line errors) as the command line
    y, rate = sf.read(path, dtype="float32", always_2d=True)
    n = int(round(seconds * rate))
    return np.tile(y, (int(np.ceil(n / y.shape[0])), 1))[:n], rate


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=None)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--iterations", type=int, default=32)
    p.add_argument("--phase", default="griffinlim", choices=["griffinlim", "original"])
    p.add_argument("--input", default=None, metavar="FILE", help="Time this recording instead of a generated track.")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    model = load_audio_model(args.model, "cpu")
    plan = load_plan(str(PLAN))
    options = PhaseOptions(args.phase, args.iterations, 0.99, 0)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "track.flac"
        if args.input:
            sf.write(src, *input_track(args.input, args.seconds))
        else:
            y = resample(render_clip(99, 0, args.seconds), 22050, 44100)
            sf.write(src, np.stack([y, y], 1), 44100)
        one_run(model, src, Path(tmp) / "warm.wav", plan, options)  # warm-up
        runs = [one_run(model, src, Path(tmp) / "out.wav", plan, options) for _ in range(args.repeats)]
    wall = [sum(v for k, v in r.items() if k != "cpu") for r in runs]
    best = runs[int(np.argmin(wall))]
    total = min(wall)
    source = args.input.split("/")[-1] if args.input else "generated"
    print(f"model {model.name} ({model.model_hash}, size {model.size}), {args.threads} threads, "
          f"{args.seconds:.0f} s track ({source}), phase {args.phase}, {args.iterations} iterations")
    print("  " + ", ".join(f"{k} {v:.2f} s" for k, v in best.items() if k != "cpu"))
    print(f"best of {args.repeats}: {total:.2f} s wall = {args.seconds / total:.1f}x real time "
          f"(all runs: {', '.join(f'{w:.2f}' for w in wall)} s); CPU time {best['cpu']:.2f} s "
          f"over all threads = {args.seconds / best['cpu']:.1f}x real time per core-second")


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
