"""``netbend audio ...``: train a spectrogram VAE, autoencode recordings through it (bent), sample it."""
from __future__ import annotations

from pathlib import Path

import click

from netbend.errors import NetbendError


@click.group("audio")
def audio() -> None:
    """Spectrogram VAE for audio: make-dataset, train, autoencode, sample."""


@audio.command("make-dataset")
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--clips", type=click.IntRange(1), default=400, show_default=True, help="Number of clips.")
@click.option("--seconds", type=click.FloatRange(2.0, 60.0), default=6.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["flac", "wav"]), default="flac", show_default=True)
def make_dataset(out_dir: str, clips: int, seconds: float, seed: int, fmt: str) -> None:
    """Write generated music clips (drums, bass, chords) to OUT_DIR.

    \b
    Example:  netbend audio make-dataset data/synth --clips 400 --seed 0
    """
    from tqdm import tqdm

    from netbend.audio.io import write_audio
    from netbend.audio.synth import render_clip

    out = Path(out_dir)
    for i in tqdm(range(clips), desc="clips"):
        write_audio(out / f"clip_{seed}_{i:05d}.{fmt}", render_clip(seed, i, seconds), 22050)
    click.echo(f"wrote {clips} clips to {out}")


@audio.command("train")
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Run folder: checkpoint.pt, model.safetensors, log. Rerun to resume.")
@click.option("--size", type=click.Choice(["small", "paper", "tiny"]), default="small", show_default=True)
@click.option("--epochs", type=click.IntRange(1), default=50, show_default=True)
@click.option("--batch", type=click.IntRange(1), default=64, show_default=True)
@click.option("--lr", type=float, default=3e-4, show_default=True)
@click.option("--kl-weight", type=click.FloatRange(0.0), default=1e-3, show_default=True,
              help="loss = per-pixel MSE + kl_weight * per-dimension KL.")
@click.option("--hop-frames", type=click.IntRange(1, 128), default=64, show_default=True,
              help="Hop between training windows, in frames.")
@click.option("--val-fraction", type=click.FloatRange(0.0, 0.5), default=0.1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--checkpoint-minutes", type=click.FloatRange(0.1), default=3.0, show_default=True)
@click.option("--max-steps", type=click.IntRange(0), default=0, hidden=True)
def train_cmd(data_dir: str, out_dir: str, size: str, epochs: int, batch: int, lr: float, kl_weight: float,
              hop_frames: int, val_fraction: float, seed: int, device: str, checkpoint_minutes: float,
              max_steps: int) -> None:
    """Train a spectrogram VAE on every audio file under DATA_DIR.

    Unreadable files are skipped and listed. Killed runs resume when rerun with
    the same --out.

    \b
    Example:  netbend audio train my_tracks/ --out runs/vae --epochs 50
    """
    from tqdm import tqdm

    from netbend.audio.dataset import folder_windows
    from netbend.audio.spectrogram import SpecConfig
    from netbend.audio.train import TrainOptions, train

    spec = SpecConfig()
    options = TrainOptions(size=size, epochs=epochs, batch=batch, lr=lr, kl_weight=kl_weight, seed=seed,
                           device=device, checkpoint_seconds=checkpoint_minutes * 60, max_steps=max_steps)
    options.check()
    data = folder_windows(data_dir, spec, hop_frames, val_fraction, seed,
                          progress=lambda it: tqdm(it, desc="reading", leave=False))
    for path, reason in data.skipped:
        click.echo(f"skipped {path}: {reason}", err=True)
    click.echo(f"{data.files} files: {data.train.shape[0]} training and {data.val.shape[0]} validation windows"
               + (f"; {len(data.skipped)} files skipped" if data.skipped else ""), err=True)
    path = train(data, options, out_dir, spec, log=lambda m: click.echo(m, err=True),
                 progress=lambda **kw: tqdm(leave=False, **kw), name=Path(out_dir).name)
    click.echo(str(path))


COMMANDS = [audio]
