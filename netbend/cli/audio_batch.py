"""`netbend audio autoencode DIR/ --out OUTDIR/`: every recording of a folder, here or on Ray."""
from __future__ import annotations

from dataclasses import replace
from functools import partial

import click
import yaml
from tqdm import tqdm

from netbend.errors import NetbendError
from netbend.fileio import atomic_write_text
from netbend.outdir import prepare_out_dir


def autoencode_folder(in_dir: str, out_dir: str, job, *, model, model_path, plan_path, resume: bool,
                      overwrite: bool, dry_run: bool, distributed) -> None:
    """Autoencode every audio file under ``in_dir`` into ``out_dir`` (same sub-folders, .wav).

    ``job``: a :class:`netbend.audio.batch.FolderJob` without its files (they are listed here).
    """
    from netbend.audio.batch import FileUnits, autoencode_file
    from netbend.audio.dataset import list_audio_files
    from netbend.audio.io import write_audio

    files = tuple(str(p.relative_to(in_dir)) for p in list_audio_files(in_dir))
    if not files:
        raise NetbendError(f"{in_dir}: no audio files found (looked for .wav, .flac, .ogg, .aiff)")
    job = replace(job, files=files)
    out = prepare_out_dir(out_dir, overwrite=overwrite, resume=resume, command="audio autoencode",
                          dry_run=dry_run, can_resume=True)
    if dry_run:
        click.echo(f"{len(files)} file(s) -> {out}/, e.g. {files[0]} -> {job.outputs(files[0])[0]}")
        return
    o = job.options
    settings = {"command": "audio autoencode", "input": str(in_dir), "model": str(model_path or "default"),
                "model_name": model.name, "model_hash": model.model_hash,
                "plan": str(plan_path) if plan_path else None, "source_plan": job.plan.to_dict(),
                "clusters": job.clusters.source if job.clusters else None, "seed": o.seed,
                "variations": len(job.resolved), "phase": o.phase, "iterations": o.iterations,
                "momentum": o.momentum, "hop_frames": job.hop_frames, "match_loudness": job.match_loudness,
                "gain_db": job.gain_db}
    record = out / "run.yaml"
    if resume and record.is_file():
        from netbend.animate import first_difference

        old = yaml.safe_load(record.read_text()) or {}
        diff = first_difference({k: old.get(k) for k in settings}, settings)
        if diff:
            raise NetbendError(f"{record}: the earlier run used other settings ('{diff}' differs); use the "
                               "same options to --resume, or --overwrite to start again")
    atomic_write_text(record, yaml.safe_dump(settings, sort_keys=False, default_flow_style=None))
    todo = [f for f in files if not all((out / name).is_file() for name in job.outputs(f))]
    bar = tqdm(total=len(files), unit="file", desc="autoencode", disable=None)
    bar.update(len(files) - len(todo))

    def write(unit, result) -> None:
        waves, rate, _levels = result
        for name, y in zip(job.outputs(unit[0]), waves):
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            write_audio(out / name, y, rate)
        bar.update(1)

    units, work = FileUnits(in_dir, todo), partial(autoencode_file, job)
    if distributed:
        from netbend.audio.model import load_audio_model
        from netbend.distributed import map_chunks

        map_chunks(distributed, partial(load_audio_model, model_path, str(model.device)), work, units, write)
    else:
        for i in range(len(units)):
            unit = units[i]
            write(unit, work(model, unit))
    bar.close()
    outputs = {f: job.outputs(f) for f in files}
    run = {**settings, "outputs": outputs}
    if not job.timed:
        run["resolved_plans"] = {f"variation {r.variation}": r.to_plan_dict() for r in job.resolved}
    atomic_write_text(record, yaml.safe_dump(run, sort_keys=False, default_flow_style=None))
    click.echo(f"wrote {sum(len(v) for v in outputs.values())} file(s) for {len(files)} input(s) to {out}/")
