"""`netbend demo`: the default model's faces unbent and bent by the example plans, as one grid."""
from __future__ import annotations

import json
from pathlib import Path

import click

from netbend.cli.common import clusters_option, model_option, overwrite_option
from netbend.examples import EXAMPLES_DIR as EXAMPLES

SWEEP = "fig2_rotate_layerwide.yaml"
PLANS = ("faces_translate_dilate.yaml", "faces_multiply_random.yaml")


@click.command("demo")
@model_option
@click.option("--seeds", default="0-5", show_default=True, help="Faces (columns).")
@click.option("--sweep", "sweep_path", type=click.Path(dir_okay=False), default=None,
              help=f"One-entry plan applied at each --sweep-layers layer (default the shipped {SWEEP}).")
@click.option("--sweep-layers", default="1,2,3,4,5,6,7,8", show_default=True,
              help="Paper layer numbers of the sweep rows ('' for none).")
@click.option("--plan", "plan_paths", multiple=True, type=click.Path(dir_okay=False),
              help=f"Further plans, one row each (default the shipped {PLANS[0]}, {PLANS[1]}).")
@clusters_option
@click.option("--scale", default=2, show_default=True, type=click.IntRange(1, 8), help="Pixel zoom.")
@click.option("--seed", default=0, show_default=True, type=int, help="Run seed for random selections.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="out/demo", show_default=True)
@overwrite_option
def demo_cmd(model_path, seeds, sweep_path, sweep_layers, plan_paths, clusters_path, scale, seed, out_dir,
             overwrite) -> None:
    """Grid of faces: unbent, one transform layer-wide at each layer (Figure 2), example plans.

    Writes OUT/demo.png and OUT/demo.json (what each row is).

    \b
    Examples:
      netbend demo --out out/demo
      netbend demo --sweep-layers '' --plan remove_eyes --plan only_eyes --seeds 0-7 --out out/eyes
      netbend demo --sweep-layers 1-4 --plan examples/fig3_stochastic.yaml --seeds 0-3 --out out/small
    """
    from netbend.clusters import clusters_for
    from netbend.faces.demo import Row, bend_rows, labelled_grid, sweep_rows
    from netbend.fileio import atomic_write_text
    from netbend.latents import parse_seeds
    from netbend.media import save_png
    from netbend.models import load_model
    from netbend.outdir import prepare_out_dir
    from netbend.plan import Plan, load_plan

    model = load_model(model_path)
    seed_list = parse_seeds(seeds)
    layers = parse_seeds(sweep_layers, "--sweep-layers") if sweep_layers.strip() else []
    rows = [Row("unbent", Plan())]
    rows += sweep_rows(load_plan(sweep_path or EXAMPLES / SWEEP), layers) if layers else []
    for path in plan_paths or [EXAMPLES / p for p in PLANS]:
        rows.append(Row(Path(path).stem, load_plan(path)))
    clusters = clusters_for(model, model_path, clusters_path, [r.plan for r in rows],
                            say=lambda line: click.echo(line, err=True))
    out = prepare_out_dir(out_dir, overwrite=overwrite, command="demo")
    images = bend_rows(model, seed_list, rows, seed=seed, clusters=clusters)
    save_png(out / "demo.png", labelled_grid(images, [r.label for r in rows], scale=scale),
             {"model": model.name, "model_hash": model.model_hash, "seeds": seeds})
    info = {"model": model.name, "model_hash": model.model_hash, "seeds": seed_list, "seed": seed,
            "clusters": clusters.source if clusters else None,
            "rows": [{"label": r.label, "plan": r.plan.to_dict()} for r in rows]}
    atomic_write_text(out / "demo.json", json.dumps(info, indent=1))
    click.echo(f"wrote {out / 'demo.png'} ({len(rows)} rows x {len(seed_list)} faces)")


COMMANDS = [demo_cmd]
