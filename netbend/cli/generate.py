"""`netbend generate`: images from a generator, with a plan applied."""
from __future__ import annotations

import json
from functools import partial

import click
import numpy as np
import yaml
from tqdm import tqdm

from netbend.cli.common import (clusters_option, device_option, model_option, overwrite_option, pick_device,
                                plugin_settings, scale_options)
from netbend.cli.model_options import model_setup_options, setup_model
from netbend.cli.ray_options import ray_options, ray_settings
from netbend.clusters import clusters_for
from netbend.errors import NetbendError
from netbend.fileio import atomic_write_text
from netbend.generate import Batches, render_arrays, resolve_variations
from netbend.latents import from_file, from_seeds, parse_seeds
from netbend.media import save_npy, save_png
from netbend.outdir import prepare_out_dir
from netbend.plan import load_plan
from netbend.sheets import contact_sheet, upscale


@click.command("generate")
@model_option
@click.option("--config", "plan_path", type=click.Path(), help="Plan YAML (default: no bending).")
@clusters_option
@click.option("--seeds", default=None, help="Latent seeds, e.g. '0-7,12' (default 0-3).")
@click.option("--latents", "z_path", type=click.Path(), help=".npy of z vectors [N, z_dim].")
@click.option("--w", "w_path", type=click.Path(), help=".npy of w [N, w_dim] or w+ [N, num_ws, w_dim].")
@click.option("--truncation", default=1.0, show_default=True, type=float, help="Truncation psi.")
@click.option("--noise", type=click.Choice(["const", "random", "none"]), default="const", show_default=True)
@click.option("--noise-file", "noise_path", type=click.Path(dir_okay=False),
              help="Noise maps (.safetensors, e.g. a projection's NAME_noise.safetensors); replaces --noise.")
@click.option("--seed", default=0, show_default=True, type=int,
              help="Run seed: random feature selections (and random noise) are drawn from it.")
@click.option("--variations", default=1, show_default=True, type=click.IntRange(1),
              help="Random draws of every random selection per latent (stochastic chaining).")
@click.option("--batch-size", default=8, show_default=True, type=click.IntRange(1))
@device_option
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out", show_default=True)
@overwrite_option
@click.option("--resume", is_flag=True, help="Keep the images an earlier run of the same settings wrote "
              "to --out and render the rest.")
@ray_options
@click.option("--raw", "raw_path", type=click.Path(dir_okay=False), help="Also save the float output "
              "tensor [N, C, H, W] as .npy (variation-major order).")
@scale_options
@click.option("--grid", is_flag=True, help="Also write grid.png: one contact sheet, a row per latent "
              "and a column per variation, labelled.")
@click.option("--dry-run", is_flag=True, help="Print the resolved plan (selected indices) and stop.")
@model_setup_options
def generate_cmd(model_path, plan_path, clusters_path, seeds, z_path, w_path, truncation, noise, noise_path,
                 seed, variations, batch_size, device, out_dir, overwrite, resume, ray_address, workers, raw_path, scale,
                 scale_filter, grid, dry_run, class_index, translate, rotate) -> None:
    """Generate images, bent by a plan.

    One PNG per latent and variation (named by seed and variation) goes to --out, with the plan,
    seed, random draws and model hash in its metadata and in run.yaml; plan_varNN.yaml re-renders
    a variation exactly (its selections written as indices). A folder with an earlier run's
    outputs is replaced only with --overwrite; one holding other files is refused.

    \b
    Examples:
      netbend generate --seeds 0-7 --out out/plain
      netbend generate --config examples/fig3_stochastic.yaml --seeds 0-3 --variations 4 --out out/fig3
      netbend generate --config fig3_stochastic --seeds 0-3 --dry-run
      netbend generate --config fig3_stochastic --seeds 0-3 --variations 4 --grid --scale 4 --out out/sheet
      netbend generate --model ffhq.pkl --w projected_w.npy --config plan.yaml --raw out.npy --out out/ffhq
      netbend generate --w examples/images/face_w.npy --noise-file examples/images/face_noise.safetensors \
        --config examples/only_eyes.yaml --out out/face_bent
      netbend generate --seeds 0-7 --batch-size 4 --ray local --workers 2 --out out/ray
    """
    from netbend.models import load_model

    if sum(x is not None for x in (seeds, z_path, w_path)) > 1:
        raise NetbendError("give only one of --seeds, --latents and --w")
    plan = load_plan(plan_path)
    if raw_path and resume:
        raise NetbendError("--raw cannot be combined with --resume (the float outputs of images kept from the "
                           "earlier run are not stored); rerun without --resume")
    model = load_model(model_path, device=pick_device(device))
    if not hasattr(model, "synthesize"):
        raise NetbendError(f"--model {model_path}: {model.name} is an audio model; use "
                           "`netbend audio sample` or `netbend audio autoencode`")
    model_settings = setup_model(model, class_index, translate, rotate)
    clusters = clusters_for(model, model_path, clusters_path, [plan], say=_say)
    distributed = ray_settings(ray_address, workers, model.device)
    if z_path or w_path:
        latents = from_file(model, z_path or w_path, "z" if z_path else "w")
    else:
        latents = from_seeds(model, parse_seeds("0-3" if seeds is None else seeds))
    noise_maps = _noise_maps(noise_path, model, len(latents)) if noise_path else noise
    resolved = resolve_variations(plan, model, seed=seed, variations=variations, clusters=clusters)
    out = prepare_out_dir(out_dir, overwrite=overwrite, resume=resume, command="generate", dry_run=dry_run,
                          can_resume=True)
    if dry_run:
        click.echo(yaml.safe_dump({f"variation {r.variation}": r.to_plan_dict() for r in resolved},
                                  sort_keys=False, default_flow_style=None), nl=False)
        return
    settings = {"model": str(model_path or "default"), "model_name": model.name,
                "model_hash": model.model_hash, "plan": str(plan_path) if plan_path else None,
                "clusters": clusters.source if clusters else None, "seed": seed,
                "truncation": truncation, "noise": str(noise_path) if noise_path else noise,
                "variations": variations, **model_settings,
                **({"scale": scale, "scale_filter": scale_filter} if scale > 1 else {}), **plugin_settings()}
    recorded = {**settings, "batch_size": batch_size}  # run.yaml: the batches decide the bits (--resume)
    if resume:
        _check_resume(out, recorded, plan)
    atomic_write_text(out / "run.yaml", yaml.safe_dump({**recorded, "source_plan": plan.to_dict()},
                                                       sort_keys=False, default_flow_style=None))
    job = Batches(latents, tuple(resolved), truncation, noise_maps, seed, batch_size)
    todo = [c for c in job.chunks() if not all((out / _name(label, c[0])).is_file() for label in job.part(c).labels)]
    raw: dict = {}
    bar = tqdm(total=len(latents) * variations, unit="img", desc="generate", disable=None)
    bar.update(len(latents) * variations - sum(len(job.part(c)) for c in todo))

    def write(chunk, arrays) -> None:
        pngs, floats = arrays
        part, r = job.part(chunk), job.resolved[chunk[0]]
        for label, lseed, png in zip(part.labels, part.seeds, pngs):
            meta = {**settings, "latent": label, "latent_seed": lseed, "variation": r.variation,
                    "resolved_plan": r.to_plan_dict()}
            save_png(out / _name(label, r.variation), upscale(png, scale, scale_filter), {"netbend": json.dumps(meta)})
        raw[chunk] = floats
        bar.update(len(pngs))

    work = partial(render_arrays, job, raw=bool(raw_path))
    if distributed:
        from netbend.distributed import map_chunks

        setup = partial(worker_model, model_path, str(model.device), class_index, translate, rotate)
        map_chunks(distributed, setup, work, todo, write)
    else:
        for chunk in todo:
            write(chunk, work(model, chunk))
    bar.close()
    images = [{"file": _name(label, job.resolved[c[0]].variation), "latent": label, "latent_seed": lseed,
               "variation": job.resolved[c[0]].variation}
              for c in job.chunks() for label, lseed in zip(job.part(c).labels, job.part(c).seeds)]
    sheet = {(i["latent"], i["variation"]): _read_png(out / i["file"]) for i in images} if grid else {}
    for r in resolved:
        atomic_write_text(out / f"plan_var{r.variation:02d}.yaml",
                          yaml.safe_dump(r.to_plan_dict(), sort_keys=False, default_flow_style=None))
    if grid:
        labels = list(dict.fromkeys(label for label, _ in sheet))
        save_png(out / "grid.png", contact_sheet([[sheet[lab, v] for v in range(variations)] for lab in labels],
                                                 labels, [f"var {v}" for v in range(variations)],
                                                 corner="latent"))
    run = {**recorded, "source_plan": plan.to_dict(), "images": images, **({"grid": "grid.png"} if grid else {}),
           "resolved_plans": {f"plan_var{r.variation:02d}.yaml": r.to_plan_dict() for r in resolved}}
    atomic_write_text(out / "run.yaml", yaml.safe_dump(run, sort_keys=False, default_flow_style=None))
    if raw_path:
        save_npy(raw_path, np.concatenate([raw[c] for c in job.chunks()]))
    click.echo(f"wrote {len(images)} images to {out}/" + (f" and {raw_path}" if raw_path else ""))


def _say(line: str) -> None:
    click.echo(line, err=True)


def _read_png(path) -> np.ndarray:
    """An image this run wrote (or a resumed run kept), [H, W, C] uint8, for the grid."""
    from PIL import Image

    with Image.open(path) as img:
        arr = np.asarray(img)
    return arr[..., None] if arr.ndim == 2 else arr


def _name(label: str, variation: int) -> str:
    return f"{label}_var{variation:02d}.png"


def _check_resume(out, settings: dict, plan) -> None:
    """--resume continues only a run of the same settings (its run.yaml)."""
    from netbend.animate import first_difference

    record = out / "run.yaml"
    if not record.is_file():
        return
    old = yaml.safe_load(record.read_text()) or {}
    diff = first_difference({k: old.get(k) for k in [*settings, "source_plan"]},
                            {**settings, "source_plan": plan.to_dict()})
    if diff:
        raise NetbendError(f"{record}: the earlier run used other settings ('{diff}' differs); use the same "
                           "options to --resume, or --overwrite to start again")


def worker_model(model_path, device: str, class_index, translate, rotate):
    """The model of a generate run, loaded by each Ray worker (the same steps as the command)."""
    from netbend.models import load_model

    model = load_model(model_path, device=device)
    setup_model(model, class_index, translate, rotate)
    return model


def _noise_maps(path, model, n_latents: int) -> list:
    from netbend.noise_maps import load_noise_file

    maps = load_noise_file(path, model)
    if maps and maps[0].shape[0] not in (1, n_latents):
        raise NetbendError(f"--noise-file {path}: holds maps for {maps[0].shape[0]} latents; give 1 or "
                           f"one per latent ({n_latents})")
    return maps


COMMANDS = [generate_cmd]
