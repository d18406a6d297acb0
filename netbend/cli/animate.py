"""`netbend animate`: a video of a latent path, bent by a plan whose values may change over time."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import click
import yaml
from tqdm import tqdm

from netbend.cli.common import (clusters_option, device_option, model_option, overwrite_option,
                                pick_device)
from netbend.cli.model_options import model_setup_options, parse_view, setup_model
from netbend.cli.ray_options import ray_options, ray_settings
from netbend.errors import NetbendError
from netbend.fileio import atomic_write_text

@click.command("animate")
@model_option
@click.option("--config", "plan_path", type=click.Path(), help="Plan YAML; numbers may be curves (docs/animate.md).")
@clusters_option
@click.option("--seeds", default=None, help="Keyframe seeds in path order, e.g. '0,7,3' (default 0); one seed: a still latent.")
@click.option("--latents", "z_path", type=click.Path(), help=".npy of keyframe z vectors [K, z_dim].")
@click.option("--w", "w_path", type=click.Path(), help=".npy of keyframe w [K, w_dim] or w+ [K, num_ws, w_dim].")
@click.option("--interp", type=click.Choice(["slerp", "lerp", "cubic"]), default=None,
              help="Between keyframes: slerp (default for z), lerp (default for w), cubic (spline in w).")
@click.option("--loop", is_flag=True, help="Return to the first keyframe: the clip loops without a seam.")
@click.option("--frames", "n_frames", type=int, default=None, help="Frames in the clip (default 48).")
@click.option("--duration", type=float, default=None, help="Clip length in seconds (instead of --frames).")
@click.option("--fps", default=24.0, show_default=True, type=float)
@click.option("--audio", "audio_path", type=click.Path(), default=None,
              help="Audio track: sets the duration, drives 'audio:' curves, and is muxed into an .mp4.")
@click.option("--truncation", default="1", show_default=True,
              help="Truncation psi: a number or a curve, e.g. '{lfo: 0.25, range: [0.5, 1]}'.")
@click.option("--noise", type=click.Choice(["const", "random", "interp", "none"]), default="const",
              show_default=True, help="Noise inputs: stored, new every frame, blended between keyframes, none.")
@click.option("--noise-file", "noise_path", type=click.Path(dir_okay=False),
              help="Noise maps for every frame (e.g. a projection's NAME_noise.safetensors); replaces --noise.")
@click.option("--seed", default=0, show_default=True, type=int, help="Run seed: random selections and noise.")
@click.option("--batch-size", default=8, show_default=True, type=click.IntRange(1))
@device_option
@click.option("--out", "out_path", type=click.Path(), default="out/animation.mp4", show_default=True,
              help="clip.mp4 (H.264), clip.gif, or DIR/ for PNG frames.")
@click.option("--frames-range", default=None, help="Render only frames START:STOP (STOP excluded) into the frames folder.")
@click.option("--resume", is_flag=True, help="Keep the frames already rendered (same settings) and render the rest.")
@overwrite_option
@ray_options
@click.option("--keep-frames", is_flag=True, help="Keep the PNG frames folder after encoding.")
@click.option("--dry-run", is_flag=True, help="Validate everything, print the clip and frame 0's plan, write nothing.")
@model_setup_options(curves=True)
def animate_cmd(model_path, plan_path, clusters_path, seeds, z_path, w_path, interp, loop, n_frames, duration,
                fps, audio_path, truncation, noise, noise_path, seed, batch_size, device, out_path, frames_range,
                resume, overwrite, ray_address, workers, keep_frames, dry_run, class_index, translate, rotate) -> None:
    """Render a video of bending over time.

    Frames follow a latent path through keyframes (--seeds in order, --latents or --w); any number
    in the plan, and --truncation, may be a curve (keyframes, lfo, noise): see docs/animate.md.
    Frames are written to a folder (DIR/, or CLIP.mp4.frames/ beside a video) atomically, so a
    killed render continues with --resume and --frames-range renders part of a clip; frame i is
    the same bits however it is rendered. run.yaml records everything needed to re-render.

    \b
    Examples:
      netbend animate --seeds 0,7,3 --loop --frames 48 --out out/walk.mp4
      netbend animate --config examples/teratome.yaml --seeds 5 --frames 24 --out out/teratome.gif
      netbend animate --config examples/fragments_of_self.yaml --seeds 2 --duration 4 --out out/fragments.mp4
      netbend animate --config examples/disembodied_gaze.yaml --seeds 1-6 --interp cubic --loop --duration 6 --out out/gaze.mp4
      netbend animate --seeds 0 --truncation "{lfo: 0.5, range: [0.3, 1]}" --frames 24 --out out/psi/
      netbend animate --config examples/audio_reactive.yaml --audio examples/audio/synth_seed2_0.flac --seeds 3,8 --loop --fps 12 --out out/audio.mp4
    """
    from netbend.animate import assemble, parse_range, render_to_folder
    from netbend.examples import resolve
    from netbend.video import output_kind, require_ffmpeg

    audio_path = str(resolve(audio_path)) if audio_path else None  # or a shipped clip
    kind = output_kind(out_path)
    if kind == "mp4":
        require_ffmpeg()
    out = Path(out_path)
    folder = out if kind == "png" else Path(f"{out_path}.frames")
    clip, model, settings = _build(model_path, plan_path, clusters_path, seeds, z_path, w_path, interp, loop,
                                   n_frames, duration, fps, audio_path, truncation, noise, seed, batch_size,
                                   device, class_index, translate, rotate, noise_path)
    wanted = parse_range(frames_range, clip.frames)
    distributed = ray_settings(ray_address, workers, model.device)
    _prepare(folder, out if kind != "png" else None, settings, resume=resume or bool(frames_range),
             overwrite=overwrite, dry_run=dry_run)
    if dry_run:
        _show(clip, model, settings, folder, out, kind)
        return
    atomic_write_text(folder / "run.yaml", yaml.safe_dump(settings, sort_keys=False, default_flow_style=None))
    bar = tqdm(total=len(wanted), unit="frame", desc="animate", disable=None)
    bar.update(len(wanted) - sum(1 for f in wanted if not (folder / f"frame{f:06d}.png").is_file()))
    meta = {"run": "run.yaml", "seed": seed}
    if distributed:
        from functools import partial

        from netbend.animate import frame_chunks, render_chunk, save_frames
        from netbend.distributed import map_chunks
        from netbend.models import load_model

        def write(_group, result) -> None:
            save_frames(folder, *result, meta)
            bar.update(len(result[0]))

        map_chunks(distributed, partial(load_model, model_path, str(model.device)),
                   partial(render_chunk, clip, batch_size), frame_chunks(folder, wanted, batch_size), write)
    else:
        render_to_folder(model, clip, folder, wanted, batch_size=batch_size, meta=meta, progress=bar.update)
    bar.close()
    if kind == "png":
        click.echo(f"wrote frames {wanted.start}-{wanted.stop - 1} of {clip.frames} to {folder}/")
        return
    if frames_range and len(wanted) < clip.frames:
        left = sum(1 for f in range(clip.frames) if not (folder / f"frame{f:06d}.png").is_file())
        if left:
            click.echo(f"wrote frames {wanted.start}-{wanted.stop - 1} to {folder}/; {left} frame(s) of "
                       f"{clip.frames} still missing (render them, then run with --resume to encode {out})")
            return
    count = assemble(folder, out, kind, clip.frames, fps, audio=audio_path)
    atomic_write_text(out.with_name(out.name + ".run.yaml"),
                      yaml.safe_dump(settings, sort_keys=False, default_flow_style=None))
    if not keep_frames:
        shutil.rmtree(folder)
    click.echo(f"wrote {out} ({count} frames, {clip.frames / fps:.2f} s at {fps:g} fps)")


def _build(model_path, plan_path, clusters_path, seeds, z_path, w_path, interp, loop, n_frames, duration,
           fps, audio_path, truncation, noise, seed, batch_size, device, class_index=None, translate=None,
           rotate=None, noise_path=None):
    """Validate every option and load what the clip needs: (clip, model, settings for run.yaml)."""
    import numpy as np

    from netbend.clusters import clusters_for
    from netbend.curves import curve_to_yaml, parse_value
    from netbend.frames import Clip
    from netbend.latent_path import LatentPath
    from netbend.latents import from_file, from_seeds, parse_seeds
    from netbend.models import load_model
    from netbend.plan import load_plan

    if sum(x is not None for x in (seeds, z_path, w_path)) > 1:
        raise NetbendError("give only one of --seeds, --latents and --w")
    if n_frames is not None and duration is not None:
        raise NetbendError("give --frames or --duration, not both")
    if fps <= 0:
        raise NetbendError(f"--fps must be > 0, got {fps:g}")
    audio = None
    if audio_path:
        from netbend.audio.features import load_features

        audio = load_features(audio_path)
        if duration is None and n_frames is None:
            duration = audio.seconds
    frames = n_frames if n_frames is not None else (round(duration * fps) if duration is not None else 48)
    if frames < 1:
        raise NetbendError(f"the clip would have {frames} frames (--frames/--duration); it needs at least one")
    psi = parse_value(truncation, "--truncation")
    plan = load_plan(plan_path)
    if audio is None:
        _need_audio(plan, psi)
    model = load_model(model_path, device=pick_device(device))
    if not hasattr(model, "synthesize"):
        raise NetbendError(f"--model {model_path}: {model.name} is an audio model; animate renders images")
    model_settings = setup_model(model, class_index, None, None)
    view = parse_view(model, translate, rotate)
    clusters = clusters_for(model, model_path, clusters_path, [plan],
                            say=lambda line: click.echo(line, err=True))
    if z_path or w_path:
        latents = from_file(model, z_path or w_path, "z" if z_path else "w")
    else:
        latents = from_seeds(model, parse_seeds(seeds or "0"))
    interp = interp or ("slerp" if latents.kind == "z" else "lerp")
    keys, kind = latents.values, latents.kind
    if interp == "cubic" and kind == "z":
        keys, kind = model.mapping(keys), "w"  # the spline runs through the keyframes' w
    path = LatentPath(kind, keys.detach().cpu().numpy(), interp, loop, frames)
    maps = _noise_file(noise_path, model) if noise_path else None
    clip = Clip(path, fps=fps, plan=plan, truncation=psi, noise=noise, seed=seed, clusters=clusters, audio=audio,
                view=view, noise_maps=maps)
    from netbend import __version__

    source = ({"seeds": [int(s) for s in latents.seeds]} if latents.seeds[0] is not None
              else {"file": str(z_path or w_path), "kind": latents.kind,
                    "sha256": hashlib.sha256(np.ascontiguousarray(latents.values.numpy())).hexdigest()[:16]})
    settings = {"netbend": __version__, "model": str(model_path or "default"), "model_name": model.name,
                "model_hash": model.model_hash, "plan": str(plan_path) if plan_path else None,
                "source_plan": plan.to_dict(), "clusters": clusters.source if clusters else None,
                "latents": source, "interp": interp, "loop": loop, "frames": frames, "fps": fps,
                "truncation": curve_to_yaml(psi), "noise": noise, "seed": seed, "batch_size": batch_size,
                "noise_file": None if noise_path is None else {"file": str(noise_path),
                                                               "sha256": _file_hash(noise_path)},
                "audio": None if audio is None else {"file": str(audio_path), "sha256": _file_hash(audio_path)},
                **model_settings,
                **({} if view is None else {"translate": [curve_to_yaml(v) for v in view[:2]],
                                            "rotate": curve_to_yaml(view[2])})}
    return clip, model, settings


def _need_audio(plan, psi) -> None:
    """Refuse 'audio:' curves without --audio (before any frame is rendered)."""
    from netbend.curves import AudioCurve

    found = [f"{plan.source}: transforms[{i}]." + (n if n == "feature-param" else f"params.{n}")
             for i, e in enumerate(plan.transforms) for n, c in e.curves.items() if isinstance(c, AudioCurve)]
    if isinstance(psi, AudioCurve) or found:
        where = "--truncation" if isinstance(psi, AudioCurve) else found[0]
        raise NetbendError(f"{where}: an 'audio:' curve needs an audio track (--audio TRACK)")


def _file_hash(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _noise_file(path, model) -> tuple:
    from netbend.noise_maps import load_noise_file

    maps = load_noise_file(path, model)
    if maps and maps[0].shape[0] != 1:
        raise NetbendError(f"--noise-file {path}: holds maps for {maps[0].shape[0]} latents; animate uses one set")
    return tuple(maps)


def _prepare(folder: Path, video: Path | None, settings: dict, *, resume: bool, overwrite: bool,
             dry_run: bool) -> None:
    """The output policy (netbend.outdir): refuse what netbend did not write; continue an earlier
    render of the same settings (--resume, --frames-range) or replace it (--overwrite)."""
    from netbend.animate import first_difference
    from netbend.outdir import prepare_out_dir

    if video is not None and video.exists() and not overwrite:
        raise NetbendError(f"{video} exists; pass --overwrite to replace it")
    resume = resume and not overwrite
    prepare_out_dir(folder, overwrite=overwrite, resume=resume, command="animate", dry_run=True, can_resume=True)
    run = folder / "run.yaml"
    if resume and run.is_file():
        old = yaml.safe_load(run.read_text()) or {}
        diff = first_difference(old, settings)
        if diff:
            raise NetbendError(f"{folder}: rendered with different settings ('{diff}' differs); "
                               "use the same options to --resume, or --overwrite to start again")
    if not dry_run:
        prepare_out_dir(folder, overwrite=overwrite, resume=resume, command="animate", can_resume=True)


def _show(clip, model, settings: dict, folder: Path, out: Path, kind: str) -> None:
    from netbend.frames import resolve_frame

    resolved = resolve_frame(clip, model, 0)
    text = {"output": str(out), "frames_folder": str(folder), "kind": kind,
            "duration_s": clip.frames / clip.fps, "curves": clip.plan.curves, **settings,
            "frame 0 plan": resolved.to_plan_dict()}
    click.echo(yaml.safe_dump(text, sort_keys=False, default_flow_style=None), nl=False)


COMMANDS = [animate_cmd]
