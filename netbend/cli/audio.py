"""``netbend audio ...``: train a spectrogram VAE, autoencode recordings through it (bent), sample it."""
from __future__ import annotations

from pathlib import Path

import click

from netbend.cli.common import apply_threads, clusters_option, overwrite_option, plugin_settings
from netbend.cli.ray_options import ray_options, ray_settings
from netbend.errors import NetbendError
from netbend.outdir import prepare_out_dir


@click.group("audio")
@click.option("--threads", type=click.IntRange(1), default=None, hidden=True,
              help="Old spelling of the global `netbend --threads N` (kept so old command lines run).")
def audio(threads: int | None) -> None:
    """Spectrogram VAE for audio: make-dataset, train, autoencode, sample, layers.

    \b
    Examples:
      netbend audio autoencode examples/audio/synth_seed2_0.flac --config fig3_stochastic --out out/bent.wav
      netbend audio --threads 1 sample --seeds 0-3 --out out/samples
    """
    if threads:
        apply_threads(threads)


@audio.command("make-dataset")
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--clips", type=click.IntRange(1), default=400, show_default=True, help="Number of clips.")
@click.option("--seconds", type=click.FloatRange(2.0, 60.0), default=6.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["flac", "wav"]), default="flac", show_default=True)
@click.option("--kind", type=click.Choice(["music", "mix", "tones", "melody", "noise", "speech"]),
              default="music", show_default=True,
              help="music: drums, bass, chords; tones: sustained harmonic notes; melody: sine, beep, bell, FM "
                   "tunes; noise: coloured, wind, crackle; speech: formant voices; mix: all of these and "
                   "mixtures (35% music), see docs/audio_data.md.")
@overwrite_option
@click.option("--dry-run", is_flag=True, help="Check the output folder, say what would be written, stop.")
def make_dataset(out_dir: str, clips: int, seconds: float, seed: int, fmt: str, kind: str, overwrite: bool,
                 dry_run: bool) -> None:
    """Write generated audio clips (by default music: drums, bass, chords) to OUT_DIR.

    \b
    Examples:
      netbend audio make-dataset data/synth --clips 400 --seed 0
      netbend audio make-dataset data/tiny --clips 4 --seconds 3 --format wav
      netbend audio make-dataset data/mix --clips 6 --seconds 3 --kind mix
    """
    from tqdm import tqdm

    from netbend.audio.io import write_audio
    from netbend.audio.synth_kinds import render_kind

    out = prepare_out_dir(out_dir, overwrite=overwrite, command="audio make-dataset", dry_run=dry_run)
    if dry_run:
        click.echo(f"would write {clips} {kind} clips of {seconds:g} s (clip_{seed}_00000.{fmt} ...) to {out}")
        return
    for i in tqdm(range(clips), desc="clips"):
        write_audio(out / f"clip_{seed}_{i:05d}.{fmt}", render_kind(kind, seed, i, seconds), 22050)
    click.echo(f"wrote {clips} {kind} clips to {out}")


@audio.command("train")
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Run folder: checkpoint.pt, model.safetensors, log. Rerun to resume.")
@click.option("--size", type=click.Choice(["small", "medium", "paper", "tiny"]), default="small", show_default=True)
@click.option("--epochs", type=click.IntRange(1), default=50, show_default=True)
@click.option("--batch", type=click.IntRange(1), default=64, show_default=True)
@click.option("--lr", type=float, default=3e-4, show_default=True)
@click.option("--kl-weight", type=click.FloatRange(0.0), default=1e-3, show_default=True,
              help="Weight of the per-dimension KL term (loss = reconstruction + kl_weight * KL).")
@click.option("--loss", type=click.Choice(["mse", "l1"]), default="mse", show_default=True,
              help="Per-pixel error on the dB scale (mse: the paper's).")
@click.option("--sc-weight", type=click.FloatRange(0.0), default=0.0, show_default=True,
              help="Add this times the spectral convergence on linear magnitudes (weights the loud bins).")
@click.option("--schedule", type=click.Choice(["constant", "cosine"]), default="constant", show_default=True,
              help="Learning rate over the run (cosine: decays to 0 at the last step).")
@click.option("--hop-frames", type=click.IntRange(1, 128), default=64, show_default=True,
              help="Hop between training windows, in frames.")
@click.option("--val-fraction", type=click.FloatRange(0.0, 0.5), default=0.1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--checkpoint-minutes", type=click.FloatRange(0.1), default=3.0, show_default=True)
@click.option("--snapshot-every", type=click.IntRange(0), default=0, show_default=True,
              help="Also keep the model of every N-th epoch (epochNNN.safetensors), for learning curves.")
@click.option("--max-steps", type=click.IntRange(0), default=0, hidden=True)
@overwrite_option
@click.option("--dry-run", is_flag=True, help="Read the folder and check the settings and the output, "
              "print the window counts, stop.")
def train_cmd(data_dir: str, out_dir: str, size: str, epochs: int, batch: int, lr: float, kl_weight: float,
              loss: str, sc_weight: float, schedule: str, hop_frames: int, val_fraction: float, seed: int,
              device: str, checkpoint_minutes: float, snapshot_every: int, max_steps: int, overwrite: bool, dry_run: bool) -> None:
    """Train a spectrogram VAE on every audio file under DATA_DIR.

    Unreadable files are skipped and listed. Killed runs resume when rerun with
    the same --out (--overwrite starts afresh).

    \b
    Examples:
      netbend audio train my_tracks/ --out runs/vae --epochs 50
      netbend audio train my_tracks/ --out runs/small --size tiny --epochs 2 --hop-frames 32
    """
    from tqdm import tqdm

    from netbend.audio.dataset import folder_windows
    from netbend.audio.spectrogram import SpecConfig
    from netbend.audio.train import TrainOptions, train

    spec = SpecConfig()
    options = TrainOptions(size=size, epochs=epochs, batch=batch, lr=lr, kl_weight=kl_weight, loss=loss,
                           sc_weight=sc_weight, schedule=schedule, seed=seed,
                           device=device, checkpoint_seconds=checkpoint_minutes * 60, max_steps=max_steps,
                           snapshot_every=snapshot_every)
    options.check()
    data = folder_windows(data_dir, spec, hop_frames, val_fraction, seed,
                          progress=lambda it: tqdm(it, desc="reading", leave=False))
    for path, reason in data.skipped:
        click.echo(f"skipped {path}: {reason}", err=True)
    click.echo(f"{data.files} files: {data.train.shape[0]} training and {data.val.shape[0]} validation windows"
               + (f"; {len(data.skipped)} files skipped" if data.skipped else ""), err=True)
    prepare_out_dir(out_dir, overwrite=overwrite, resume=not overwrite, command="audio train", dry_run=dry_run)
    if dry_run:
        return
    path = train(data, options, out_dir, spec, log=lambda m: click.echo(m, err=True),
                 progress=lambda **kw: tqdm(leave=False, **kw), name=Path(out_dir).name)
    click.echo(str(path))


_model_option = click.option("--model", "model_path", type=click.Path(), default=None,
                             help="Spectrogram VAE .safetensors (default: the built-in model).")
_device_option = click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")


def _phase_options(fn):
    for opt in reversed([
        click.option("--iterations", type=click.IntRange(0), default=32, show_default=True,
                     help="Griffin-Lim iterations."),
        click.option("--momentum", type=click.FloatRange(0.0, 1.5), default=0.99, show_default=True,
                     help="Griffin-Lim momentum (0: classic Griffin-Lim)."),
    ]):
        fn = opt(fn)
    return fn


def _level_options(fn):
    for opt in reversed([
        click.option("--match-loudness/--no-match-loudness", "match_loudness", default=True, show_default=True,
                     help="Bring the output to the input's RMS level (audio sample: -17 dBFS RMS), "
                          "lowered where needed so the peak stays below -0.1 dBFS: never clips."),
        click.option("--gain", "gain_db", type=float, default=0.0, show_default=True,
                     help="Extra gain in dB on top of that (still never clipping)."),
    ]):
        fn = opt(fn)
    return fn


def _load(model_path, device, plan_path, clusters_path):
    from netbend.audio.model import load_audio_model
    from netbend.clusters import clusters_for
    from netbend.plan import load_plan

    model = load_audio_model(model_path, device)
    plan = load_plan(plan_path)
    clusters = clusters_for(model, model_path, clusters_path, [plan],
                            say=lambda line: click.echo(line, err=True))
    return model, plan, clusters


def _resolve(plan, model, seed, variations, clusters):
    from netbend.bending import resolve_plan

    return [resolve_plan(plan, model, seed=seed, variation=v, clusters=clusters) for v in range(variations)]


def _dump_plans(resolved) -> str:
    import yaml

    return yaml.safe_dump({f"variation {r.variation}": r.to_plan_dict() for r in resolved},
                          sort_keys=False, default_flow_style=None)


def _write_run(path: Path, settings: dict, resolved, outputs: list[str]) -> None:
    import yaml

    from netbend.fileio import atomic_write_text

    run = {**settings, "outputs": outputs,
           "resolved_plans": {f"variation {r.variation}": r.to_plan_dict() for r in resolved}}
    atomic_write_text(path, yaml.safe_dump(run, sort_keys=False, default_flow_style=None))


def _describe_levels(levels: dict) -> str:
    after = [v["rms_after"] for v in levels.values()]
    limited = sum(v["peak_limited"] for v in levels.values())
    text = f"RMS {min(after):.3f}" + (f"-{max(after):.3f}" if max(after) != min(after) else "")
    return text + (f"; {limited} limited by the peak" if limited else "")


def _earlier_outputs(record: Path) -> list[str]:
    """The outputs an earlier `audio autoencode` to the same OUT listed in OUT.yaml (plain names)."""
    import yaml

    try:
        data = yaml.safe_load(record.read_text()) if record.is_file() else None
    except (yaml.YAMLError, UnicodeDecodeError):
        return []
    if not isinstance(data, dict) or data.get("command") != "audio autoencode":
        return []
    return [n for n in data.get("outputs") or [] if isinstance(n, str) and Path(n).name == n]


def _numbered(out: Path, variation: int, count: int) -> Path:
    return out if count == 1 else out.with_name(f"{out.stem}_var{variation:02d}{out.suffix}")


@audio.command("autoencode")
@click.argument("in_path", metavar="IN", type=click.Path())
@click.option("--out", "out_path", type=click.Path(), required=True,
              help="Output audio (.wav, .flac, .ogg); with --variations N, OUT_varNN.wav. For a folder IN: "
                   "a folder (OUTDIR/NAME.wav per input, same sub-folders).")
@click.option("--config", "plan_path", type=click.Path(), help="Plan YAML (default: no bending).")
@clusters_option
@click.option("--variations", type=click.IntRange(1), default=1, show_default=True,
              help="Random draws of the plan's random selections (stochastic variations).")
@click.option("--seed", type=int, default=0, show_default=True, help="Run seed for random selections.")
@click.option("--phase", type=click.Choice(["griffinlim", "original"]), default="griffinlim", show_default=True,
              help="Rebuild the phase by Griffin-Lim or reuse the input's own phase.")
@_phase_options
@click.option("--hop-frames", type=click.IntRange(1, 128), default=64, show_default=True,
              help="Hop between the 128-frame windows (64: half overlap).")
@click.option("--spectrogram-png", "png_path", type=click.Path(dir_okay=False),
              help="Write original, plain and bent spectrograms side by side to this PNG "
                   "(original and plain without a plan).")
@_level_options
@_model_option
@_device_option
@overwrite_option
@click.option("--resume", is_flag=True, help="Folder IN: keep the outputs an earlier run of the same settings "
              "wrote and do the rest.")
@ray_options
@click.option("--dry-run", is_flag=True, help="Print the resolved plan(s) and stop.")
def autoencode_cmd(in_path, out_path, plan_path, clusters_path, variations, seed, phase, iterations, momentum,
                   hop_frames, png_path, match_loudness, gain_db, model_path, device, overwrite, resume,
                   ray_address, workers, dry_run) -> None:
    """Autoencode a recording through the VAE with a plan's bends in the decoder.

    The output keeps the input's length and sample rate (mono) and, by default, its
    loudness (RMS), never clipping. OUT.yaml beside it records the settings, the
    level of every output and the resolved plan of every variation. IN may be a
    folder: every recording under it goes to the folder --out (run.yaml there),
    with --resume to continue and --ray to spread the files over Ray workers.

    \b
    Examples:
      netbend audio autoencode drums.wav --config fig3_stochastic --out bent.wav --variations 4
      netbend audio autoencode song.flac --out plain.wav --phase original --spectrogram-png s.png
      netbend audio autoencode examples/audio/synth_seed2_0.flac --config examples/audio_automation.yaml --out out/automated.wav
      netbend audio autoencode my_tracks/ --out out/autoencoded/ --config fig3_stochastic --variations 2

    Any number in the plan may be a curve (docs/animate.md): it is read at each window's centre
    time, so the bend changes along the track; 'audio:' curves follow the input recording.
    """
    from netbend.audio.autoencode import PhaseOptions, describe, encode_audio, reconstruct
    from netbend.audio.io import read_audio, write_audio
    from netbend.audio.loudness import match_level, rms
    from netbend.examples import resolve

    model, plan, clusters = _load(model_path, device, plan_path, clusters_path)
    options = PhaseOptions(phase, iterations, momentum, seed)
    options.check()
    timed = bool(plan.curves) or any(e.redraw is not None for e in plan.transforms)
    if timed and variations > 1:
        raise NetbendError(f"{plan.source}: a plan that changes along the track takes --variations 1")
    resolved = None if timed else _resolve(plan, model, seed, variations, clusters)
    in_path = str(resolve(in_path))  # or a shipped clip / folder by its clone path (examples/audio/)
    if Path(in_path).is_dir():
        from netbend.audio.batch import FolderJob
        from netbend.cli.audio_batch import autoencode_folder

        if png_path:
            raise NetbendError("--spectrogram-png: only for a single input file, not a folder IN")
        job = FolderJob((), tuple(resolved or [None]), options, hop_frames, plan, clusters, timed,
                        match_loudness, gain_db)
        return autoencode_folder(in_path, out_path, job, model=model, model_path=model_path, plan_path=plan_path,
                                 resume=resume, overwrite=overwrite, dry_run=dry_run,
                                 distributed=ray_settings(ray_address, workers, model.device))
    if ray_address or resume or overwrite:
        raise NetbendError("--ray, --resume and --overwrite work on a folder IN (many files); "
                           f"{in_path} is one file")
    out = Path(out_path)
    if timed or not dry_run:
        audio_in = read_audio(in_path, model.spec.sample_rate)
        enc = encode_audio(model, audio_in, hop_frames)
    if timed:
        from netbend.audio.autoencode import window_plans
        from netbend.bending import ResolvedPlan

        per_window = window_plans(plan, model, enc, seed=seed, clusters=clusters)
        resolved = [ResolvedPlan(per_window[0].bends, seed, 0)]  # window 0's bends, for the records
    if dry_run:
        click.echo(_dump_plans(resolved), nl=False)
        return
    target = rms(audio_in.samples) if match_loudness else None
    outputs, levels, panels = [], {}, [("original", enc.unit)]
    kind = "bent" if plan.transforms else "plain"  # without a plan the output is the plain panel
    if png_path and plan.transforms:
        panels.append(("plain", reconstruct(model, enc, None, options)[1]))
    for r in resolved:
        y, unit = reconstruct(model, enc, per_window if timed else r, options)
        y, level = match_level(y, target, gain_db)
        path = write_audio(_numbered(out, r.variation, variations), y, audio_in.source_rate)
        outputs.append(path.name)
        levels[path.name] = level.to_dict()
        panels.append((f"{kind} v{r.variation}" if variations > 1 else kind, unit))
    if png_path:
        from netbend.audio.figures import spectrogram_png

        spectrogram_png(png_path, panels)
    settings = {"command": "audio autoencode", "model": str(model_path or "default"), "model_name": model.name,
                "model_hash": model.model_hash, "plan": str(plan_path) if plan_path else None, "seed": seed,
                "variations": variations, "phase": phase, "iterations": iterations, "momentum": momentum,
                **describe(enc, model), "match_loudness": match_loudness, "gain_db": gain_db,
                "input_rms": round(rms(audio_in.samples), 6), "levels": levels, **plugin_settings()}
    stale = set(_earlier_outputs(out.with_suffix(".yaml"))) - set(outputs)
    _write_run(out.with_suffix(".yaml"), settings, resolved, outputs)
    for name in stale:  # an earlier run's OUT_varNN files that this run did not rewrite
        (out.parent / name).unlink(missing_ok=True)
    click.echo(f"wrote {', '.join(outputs)} to {out.parent}/ ({_describe_levels(levels)})")


@audio.command("sample")
@click.option("--seeds", default="0-3", show_default=True, help="Latent seeds, e.g. '0-7,12'.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/audio", show_default=True)
@click.option("--config", "plan_path", type=click.Path(), help="Plan YAML (default: no bending).")
@clusters_option
@click.option("--variations", type=click.IntRange(1), default=1, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Run seed for random selections.")
@_phase_options
@click.option("--duration", type=float, default=None,
              help="Seconds per clip [default: one 128-frame window, 1.49 s]; longer clips decode a "
                   "path through latent space, window by window, blended as autoencode blends them.")
@click.option("--spectrogram-png", "png_path", type=click.Path(dir_okay=False),
              help="Write every sample's spectrogram side by side to this PNG.")
@_level_options
@_model_option
@_device_option
@overwrite_option
@click.option("--dry-run", is_flag=True, help="Print the resolved plan(s) and stop.")
def sample_cmd(seeds, out_dir, plan_path, clusters_path, variations, seed, iterations, momentum, duration,
               png_path, match_loudness, gain_db, model_path, device, overwrite, dry_run) -> None:
    """Decode random latents to audio: one 128-frame window (1.49 s) each, or --duration seconds.

    Clips are brought to -17 dBFS RMS (the training music's median level), never
    clipping; --no-match-loudness keeps the decoder's own level.

    \b
    Examples:
      netbend audio sample --seeds 0-7 --config plan.yaml --out out/samples
      netbend audio sample --seeds 3 --config fig3_stochastic --variations 4 --out out/fig3
      netbend audio sample --seeds 0-1 --duration 8 --out out/long
    """
    from netbend.audio.autoencode import PhaseOptions, unit_to_audio
    from netbend.audio.io import write_audio
    from netbend.audio.loudness import SAMPLE_RMS, match_level
    from netbend.audio.sample import clip_length, sample_units
    from netbend.latents import parse_seeds

    model, plan, clusters = _load(model_path, device, plan_path, clusters_path)
    seed_list = parse_seeds(seeds)
    options = PhaseOptions("griffinlim", iterations, momentum, seed)
    options.check()
    resolved = _resolve(plan, model, seed, variations, clusters)
    length = clip_length(model, duration)
    out = prepare_out_dir(out_dir, overwrite=overwrite, command="audio sample", dry_run=dry_run)
    if dry_run:
        click.echo(_dump_plans(resolved), nl=False)
        return
    outputs, levels, panels = [], {}, []
    for r in resolved:
        units = sample_units(model, seed_list, r, length)  # [S, frames, bins]
        for s, unit in zip(seed_list, units):
            name = f"seed{s:04d}_var{r.variation:02d}.wav"
            full = max(length, model.spec.window_samples)  # a shorter clip: one window, trimmed
            y, level = match_level(unit_to_audio(model, unit, full, options)[:length],
                                   SAMPLE_RMS if match_loudness else None, gain_db)
            write_audio(out / name, y, model.spec.sample_rate)
            outputs.append(name)
            levels[name] = level.to_dict()
            panels.append((name[:-4], unit))
    if png_path:
        from netbend.audio.figures import spectrogram_png

        spectrogram_png(png_path, panels)
    settings = {"command": "audio sample", "model": str(model_path or "default"), "model_name": model.name,
                "model_hash": model.model_hash, "plan": str(plan_path) if plan_path else None, "seed": seed,
                "seeds": seed_list, "variations": variations, "iterations": iterations, "momentum": momentum,
                "duration": length / model.spec.sample_rate, "match_loudness": match_loudness,
                "gain_db": gain_db, "levels": levels, **plugin_settings()}
    _write_run(out / "run.yaml", settings, resolved, outputs)
    click.echo(f"wrote {len(outputs)} clips to {out}/ ({_describe_levels(levels)})")


@audio.command("layers")
@_model_option
@_device_option
@click.option("--all", "show_all", is_flag=True, help="Also list the inner modules (convolution, "
              "batch norm, activation) and the whole decoder.")
def layers_cmd(model_path, device, show_all) -> None:
    """List the decoder's bendable layers: paper number, module path, output shape, features.

    The same table as `netbend layers --model MODEL.safetensors`.

    \b
    Examples:
      netbend audio layers
      netbend audio layers --all
    """
    from netbend.audio.model import load_audio_model
    from netbend.cli.layers import echo_model_layers

    model = load_audio_model(model_path, device)
    echo_model_layers(model, show_all, f"{model.name} ({model.model_hash}), size {model.size}")


COMMANDS = [audio]
