"""`netbend faces`: the procedural face renderer and the default model trained on it."""
from __future__ import annotations

import json
from pathlib import Path

import click

from netbend.cli.common import overwrite_option
from netbend.fileio import atomic_write_text
from netbend.outdir import prepare_out_dir


@click.group("faces")
def faces_group() -> None:
    """Procedural cartoon faces with part labels; train and measure the default model.

    \b
    Examples:
      netbend faces render --seeds 0-15 --out out/faces
      netbend faces samples --seeds 0-15 --out out/faces_samples.png
    """


@faces_group.command("render")
@click.option("--seeds", default="0-63", show_default=True, help="Face seeds, e.g. '0-63' or '3,7'.")
@click.option("--size", default=64, show_default=True, type=click.IntRange(8, 1024), help="Pixels.")
@click.option("--cols", default=8, show_default=True, type=click.IntRange(1), help="Grid columns.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/faces", show_default=True)
@overwrite_option
def render_cmd(seeds, size, cols, out_dir, overwrite) -> None:
    """Render faces and their part masks.

    Writes faces.png (grid), masks.png (label maps in colour, legend in faces.json), labels.npy
    (uint8 [N, H, W]), params.npy (unit parameters [N, 48]) and faces.json. Seed s is the face
    that the default model was trained to draw for seed s.

    \b
    Examples:
      netbend faces render --seeds 0-63 --out out/faces
    """
    from netbend.faces import LABEL_COLOURS, LABELS, PARAM_NAMES, colourise, params_for_seeds, render_faces
    from netbend.latents import parse_seeds
    from netbend.media import grid, save_npy, save_png

    seed_list = parse_seeds(seeds)
    params = params_for_seeds(seed_list)
    out = prepare_out_dir(out_dir, overwrite=overwrite, command="faces render")
    images, labels = render_faces(params, size=size)
    save_png(out / "faces.png", grid(list(images), cols), {"seeds": seeds})
    save_png(out / "masks.png", grid(list(colourise(labels)), cols), {"seeds": seeds})
    save_npy(out / "labels.npy", labels)
    save_npy(out / "params.npy", params)
    info = {"seeds": seed_list, "size": size, "labels": list(LABELS),
            "label_colours": LABEL_COLOURS.tolist(), "params": list(PARAM_NAMES)}
    atomic_write_text(out / "faces.json", json.dumps(info, indent=1))
    click.echo(f"wrote {len(seed_list)} faces to {out}/faces.png, masks to {out}/masks.png")


@faces_group.command("train")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="runs/faces", show_default=True)
@click.option("--minutes", default=52.0, show_default=True, type=click.FloatRange(0.1),
              help="Training time budget (the data cache is built first, outside it).")
@click.option("--steps", default=1_000_000, show_default=True, type=click.IntRange(1), help="Step cap.")
@click.option("--faces", "n_faces", default=32768, show_default=True, type=click.IntRange(1),
              help="Training faces (seeds 0..N-1), rendered once into OUT/data.")
@click.option("--size", default=64, show_default=True, type=click.Choice(["64", "128"]))
@click.option("--batch", default=8, show_default=True, type=click.IntRange(1))
@click.option("--lr", default=3e-2, show_default=True, type=float)
@click.option("--part-weight", default=4.0, show_default=True, type=click.FloatRange(0),
              help="Extra loss weight of eye, eyebrow, nose and mouth pixels.")
@click.option("--l2-from", default=0.75, show_default=True, type=click.FloatRange(0),
              help="Fraction of the run after which the loss is the squared error (what PSNR scores) "
                   "instead of the absolute error; 1 = never.")
@click.option("--l2-part-weight", default=1.0, show_default=True, type=click.FloatRange(0),
              help="--part-weight of that final phase.")
@click.option("--compile", "compile_", is_flag=True,
              help="torch.compile the generator (up to ~2 min once, then ~1.7x faster steps on a CPU; "
                   "needs a C++ compiler, else training goes on uncompiled).")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1), help="Torch threads.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1), help="Render processes.")
@click.option("--checkpoint-minutes", default=3.0, show_default=True, type=click.FloatRange(0.05))
@click.option("--resume", is_flag=True, help="Continue from OUT/checkpoint.pt if it exists.")
@overwrite_option
@click.option("--dry-run", is_flag=True, help="Check the settings and the output folder, print them, stop.")
def train_cmd(out_dir, minutes, steps, n_faces, size, batch, lr, part_weight, l2_from, l2_part_weight, compile_,
              threads, workers, checkpoint_minutes, resume, overwrite, dry_run) -> None:
    """Train the default model: a StyleGAN2 regressed onto the renderer.

    Progress is logged every 30 s; a checkpoint is written every --checkpoint-minutes, and
    --resume continues after a kill. The result is OUT/netbend-faces64.safetensors (+ .json).

    \b
    Examples:
      netbend faces train --out runs/faces --compile --resume
      netbend faces train --out runs/quick --minutes 5 --faces 1024
    """
    from netbend.faces.train import TrainConfig, check_config, train

    cfg = TrainConfig(out=out_dir, faces=n_faces, size=int(size), batch=batch, lr=lr, minutes=minutes,
                      steps=steps, part_weight=part_weight, l2_from=l2_from,
                      l2_part_weight=l2_part_weight, compile=compile_, threads=threads,
                      workers=workers, checkpoint_minutes=checkpoint_minutes)
    check_config(cfg)
    prepare_out_dir(out_dir, overwrite=overwrite, resume=resume, command="faces train", can_resume=True,
                    dry_run=dry_run)
    if dry_run:
        from dataclasses import asdict

        click.echo(json.dumps(asdict(cfg.resolved()), indent=1, default=str))
        return
    path = train(cfg, resume=resume, log=lambda msg: click.echo(msg, err=True))
    click.echo(f"model: {path}")


@faces_group.command("evaluate")
@click.option("--model", "model_path", type=click.Path(), default=None,
              help="Model file (default: the built-in default model).")
@click.option("--n", "n_faces", default=256, show_default=True, type=click.IntRange(1),
              help="Faces to score (seeds --first-seed ..).")
@click.option("--first-seed", default=1_000_000, show_default=True, type=click.IntRange(0),
              help="First seed: the default is the held-out set; 0 scores training faces.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Also write the figures here.")
@click.option("--grid", "grid_path", type=click.Path(dir_okay=False),
              help="Also write a grid: rows of renderer faces over the model's, 16 held-out seeds.")
@click.option("--dry-run", is_flag=True, help="Load the model, print what would be scored, stop.")
def evaluate_cmd(model_path, n_faces, first_seed, json_path, grid_path, dry_run) -> None:
    """Measure a model against the renderer: PSNR and per-part colour-class accuracy.

    \b
    Examples:
      netbend faces evaluate --n 256 --json out/faces_quality.json
      netbend faces evaluate --n 64 --first-seed 0 --grid out/faces_vs_renderer.png
    """
    from netbend.faces.quality import evaluate, format_report
    from netbend.models import load_model

    model = load_model(model_path)
    if dry_run:
        click.echo(f"would score {model.name} on {n_faces} faces (seeds {first_seed}-{first_seed + n_faces - 1})")
        return
    result = evaluate(model, n=n_faces, first_seed=first_seed)
    result["model"] = {"name": model.name, "hash": model.model_hash}
    click.echo(format_report(result))
    if json_path:
        atomic_write_text(json_path, json.dumps(result, indent=1))
    if grid_path:
        from netbend.faces.dataset import eval_seeds
        from netbend.faces.quality import comparison_grid
        from netbend.media import save_png

        save_png(grid_path, comparison_grid(model, eval_seeds(16)))
        click.echo(f"grid: {grid_path}")


@faces_group.command("samples")
@click.option("--model", "model_path", type=click.Path(), default=None,
              help="Model file (default: the built-in default model).")
@click.option("--seeds", default="0-31", show_default=True, help="Latent seeds.")
@click.option("--cols", default=8, show_default=True, type=click.IntRange(1))
@click.option("--scale", default=2, show_default=True, type=click.IntRange(1, 8), help="Pixel zoom.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default="out/faces_samples.png",
              show_default=True)
def samples_cmd(model_path, seeds, cols, scale, out_path) -> None:
    """A grid of a model's faces for random latents (seeds), unbent.

    \b
    Examples:
      netbend faces samples --seeds 0-31 --out out/faces_samples.png
    """
    import numpy as np

    from netbend.faces.quality import model_images
    from netbend.latents import parse_seeds
    from netbend.media import grid, save_png
    from netbend.models import load_model

    model = load_model(model_path)
    images = model_images(model, model.latents_from_seeds(parse_seeds(seeds)))
    images = np.repeat(np.repeat(images, scale, axis=1), scale, axis=2)  # nearest-neighbour zoom
    save_png(out_path, grid(list(images), cols), {"model": model.name, "seeds": seeds})
    click.echo(f"wrote {out_path}")


COMMANDS = [faces_group]
