"""`netbend sweep`: one plan with some values varied, every combination rendered as one labelled grid."""
from __future__ import annotations

import click
import yaml

from netbend.cli.common import (clusters_option, device_option, model_option, overwrite_option, pick_device,
                                plugin_settings, scale_options)
from netbend.errors import NetbendError


@click.command("sweep")
@click.option("--config", "plan_path", type=click.Path(), required=True, help="The plan YAML to vary.")
@click.option("--vary", "vary_texts", multiple=True, required=True, metavar="PATH=VALUES",
              help="A plan value and its values: a:b (whole numbers, both ends), a:b:n (n steps from a, "
                   "b left out), x,y,z; join paths with ' + ' to vary them together. Repeatable.")
@click.option("--seeds", default="0", show_default=True, help="Latent seeds, e.g. '0-3'.")
@click.option("--seed", default=0, show_default=True, type=int, help="Run seed for random selections.")
@clusters_option
@model_option
@click.option("--truncation", default=1.0, show_default=True, type=float, help="Truncation psi.")
@click.option("--noise", type=click.Choice(["const", "random", "none"]), default="const", show_default=True)
@click.option("--batch-size", default=8, show_default=True, type=click.IntRange(1))
@device_option
@scale_options
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/sweep", show_default=True)
@overwrite_option
@click.option("--dry-run", is_flag=True, help="Validate every cell, print the layout and stop.")
def sweep_cmd(plan_path, vary_texts, seeds, seed, clusters_path, model_path, truncation, noise, batch_size,
              device, scale, scale_filter, out_dir, overwrite, dry_run) -> None:
    """Render every combination of some varied plan values as one labelled grid.

    The first --vary runs along the columns; the rows are every combination of the
    seeds and the other --vary options (seed outermost, the last --vary fastest).
    Paths: transforms[i].KEY (layer, transform, features, feature-param, except) or
    transforms[i].params.NAME / params[i]. Every cell is validated before anything
    renders. --out gets sweep.png, plans/cell_*.yaml (each re-renders its cell with
    `netbend generate --config`) and sweep.yaml (settings, layout, cells).

    \b
    Examples:
      netbend sweep --config examples/fig2_rotate_layerwide.yaml \\
          --vary 'transforms[0].params.angle=0:360:8' --vary 'transforms[0].layer=1:8' --out out/sweep_angle
      netbend sweep --config examples/fig2_rotate_layerwide.yaml --vary 'transforms[0].layer=1:8' \\
          --vary 'transforms[0].transform=rotate,scale,binary-thresh,dilate + transforms[0].params[0]=45,0.6,0.5,2' \\
          --scale 2 --out out/fig2   # the paper's Figure 2
    """
    from netbend.bending import resolve_plan
    from netbend.clusters import clusters_for
    from netbend.generate import render
    from netbend.latents import from_seeds, parse_seeds
    from netbend.media import save_png, to_uint8
    from netbend.models import load_model
    from netbend.outdir import prepare_out_dir
    from netbend.plan import load_plan
    from netbend.sheets import contact_sheet, upscale
    from netbend.sweep import cells as make_cells
    from netbend.sweep import layout, parse_axis
    from netbend.fileio import atomic_write_text

    plan = load_plan(plan_path)
    axes = [parse_axis(t, plan) for t in vary_texts]
    seed_list = parse_seeds(seeds)
    grid_cells = make_cells(plan, axes)
    model = load_model(model_path, device=pick_device(device))
    if not hasattr(model, "synthesize"):
        raise NetbendError(f"--model {model_path}: {model.name} is an audio model; sweep renders images")
    clusters = clusters_for(model, model_path, clusters_path, [c.plan for c in grid_cells],
                            say=lambda line: click.echo(line, err=True))
    resolved = []
    for cell in grid_cells:
        try:
            resolved.append(resolve_plan(cell.plan, model, seed=seed, variation=0, clusters=clusters))
        except NetbendError as err:
            where = "" if str(err).startswith(cell.plan.source) else f"{cell.plan.source}: "
            raise NetbendError(f"{where}{err}") from None
    rows, row_labels, col_labels = layout(axes, seed_list)
    out = prepare_out_dir(out_dir, overwrite=overwrite, command="sweep", dry_run=dry_run)
    summary = (f"{len(rows)} rows x {len(col_labels)} columns = {len(rows) * len(col_labels)} images; "
               f"columns: {vary_texts[0]}; rows: " + (" x ".join(
                   ([f"seeds {seeds}"] if len(seed_list) > 1 else []) + list(vary_texts[1:])) or f"seed {seeds}"))
    if dry_run:
        click.echo(summary)
        return
    latents = from_seeds(model, seed_list)
    by_plan = {id(r): cell for r, cell in zip(resolved, grid_cells)}
    images = {}
    for batch in render(model, latents, resolved, truncation=truncation, noise=noise, noise_seed=seed,
                        batch_size=batch_size):
        cell = by_plan[id(batch.resolved)]
        for lseed, png in zip(batch.latents.seeds, to_uint8(batch.images)):
            images[lseed, cell.indices] = upscale(png, scale, scale_filter)
    sheet = [[images[s, (c, *r)] for c in range(len(col_labels))] for s, r in rows]
    save_png(out / "sweep.png", contact_sheet(sheet, row_labels, col_labels,
                                              corner=axes[0][0].name if len(axes[0]) == 1 else ""))
    for cell, r in zip(grid_cells, resolved):
        atomic_write_text(out / "plans" / f"{cell.name}.yaml",
                          yaml.safe_dump(r.to_plan_dict(), sort_keys=False, default_flow_style=None))
    record = {"command": "sweep", "plan": str(plan_path), "source_plan": plan.to_dict(), "vary": list(vary_texts),
              "seeds": seed_list, "seed": seed, "model": str(model_path or "default"), "model_name": model.name,
              "model_hash": model.model_hash, "clusters": clusters.source if clusters else None,
              "truncation": truncation, "noise": noise, "scale": scale,
              "scale_filter": scale_filter, **plugin_settings(), "layout": summary, "row_labels": row_labels,
              "column_labels": col_labels,
              "cells": [{"plan": f"plans/{c.name}.yaml", "values": list(c.values), "column": c.indices[0],
                         "rows": [i for i, (_, rest) in enumerate(rows) if rest == c.indices[1:]]}
                        for c in grid_cells]}
    atomic_write_text(out / "sweep.yaml", yaml.safe_dump(record, sort_keys=False, default_flow_style=None))
    click.echo(f"wrote {out}/sweep.png ({summary}) and {len(grid_cells)} cell plans")


COMMANDS = [sweep_cmd]
