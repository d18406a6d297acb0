"""Are real recordings in the domain of the generated training audio? Ear-free descriptors.

For every synth kind (``--clips`` held-out clips of 6 s, seed ``--seed``) and every real file,
six descriptors are measured on the model's own spectrogram (22050 Hz, STFT 1024/256, dB with
reference 512 and floor -80, the scale the VAE sees):

* ``level``: mean dB over all bins and frames (-80 = silence);
* ``dyn``: frame loudness range, 95th minus 10th percentile of frame energy (dB): pauses, decays;
* ``centroid``: median spectral centroid of the loud frames (Hz);
* ``flat``: median spectral flatness of the loud frames (1 = white noise, ~0 = pure tones);
* ``peak``: median over loud frames of (loudest bin - median bin) in dB: how sharp partials stand out;
* ``high``: share of the energy above 4 kHz.

Printed: each kind's median [5th-95th percentile] per descriptor, then each real file's values
with, per kind, how many descriptors fall inside that kind's [min, max] over its clips
(6/6: the file looks like some clip of that kind by all six numbers).

    .venv/bin/python benchmarks/synth_vs_real.py --clips 40 /usr/share/sounds/alsa/Front_Center.wav \\
        /usr/share/sounds/freedesktop/stereo/alarm-clock-elapsed.oga /usr/share/games/abe/sounds/game.ogg
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

from netbend.audio.io import read_audio
from netbend.audio.spectrogram import SpecConfig, audio_to_unit
from netbend.audio.synth_kinds import KINDS, render_kind

NAMES = ("level", "dyn", "centroid", "flat", "peak", "high")


def descriptors(y: np.ndarray, cfg: SpecConfig) -> np.ndarray:
    unit, spec = audio_to_unit(torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)), cfg)
    db = ((unit.numpy() + 1) * 0.5 * -cfg.db_floor + cfg.db_floor).astype(np.float64)  # [frames, bins]
    power = spec.abs().numpy().astype(np.float64) ** 2 + 1e-20
    f = np.fft.rfftfreq(cfg.n_fft, 1.0 / cfg.sample_rate)
    energy = 10 * np.log10(power.sum(1))
    loud = energy > energy.max() - 30
    p = power[loud]
    centroid = np.median((p * f).sum(1) / p.sum(1))
    flat = np.median(np.exp(np.log(p).mean(1)) / p.mean(1))
    peak = np.median(db[loud].max(1) - np.median(db[loud], 1))
    high = power[:, f > 4000].sum() / power.sum()
    dyn = np.percentile(energy, 95) - np.percentile(energy, 10)
    return np.array([db.mean(), dyn, centroid, flat, peak, high])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="*", help="Real recordings.")
    p.add_argument("--clips", type=int, default=40)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    cfg = SpecConfig()
    kinds = [k for k in KINDS if k != "mix"] + ["mix"]
    table = {k: np.stack([descriptors(render_kind(k, args.seed, i, 6.0, cfg.sample_rate), cfg)
                          for i in range(args.clips)]) for k in kinds}
    print(f"{args.clips} clips of 6 s per kind, seed {args.seed}: median [5th-95th percentile]")
    print("| kind | " + " | ".join(NAMES) + " |\n|---|" + "---|" * len(NAMES))
    for k, d in table.items():
        lo, mid, hi = np.percentile(d, [5, 50, 95], axis=0)
        print(f"| {k} | " + " | ".join(f"{fmt(m)} [{fmt(a)}-{fmt(b)}]" for a, m, b in zip(lo, mid, hi)) + " |")
    if not args.files:
        return
    print("\n| file | " + " | ".join(NAMES) + " | descriptors inside each kind's range |\n|---|"
          + "---|" * (len(NAMES) + 1))
    for path in args.files:
        d = descriptors(read_audio(path, cfg.sample_rate).samples, cfg)
        inside = {k: int(((t.min(0) <= d) & (d <= t.max(0))).sum()) for k, t in table.items()}
        print(f"| {path.split('/')[-1]} | " + " | ".join(fmt(v) for v in d) + " | "
              + ", ".join(f"{k} {n}/{len(NAMES)}" for k, n in inside.items()) + " |")


def fmt(v: float) -> str:
    return f"{v:.0f}" if abs(v) >= 100 else f"{v:.1f}" if abs(v) >= 1 else f"{v:.3f}"


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
