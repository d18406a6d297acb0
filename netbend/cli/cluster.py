"""`netbend cluster ...`: activation datasets, metric CNNs, k-means cluster files, pictures, scores."""
from __future__ import annotations

import json
from pathlib import Path

import click

from netbend.cli.common import (apply_threads, device_option, model_option, overwrite_option,
                                 pick_device)
from netbend.cli.ray_options import ray_options, ray_settings
from netbend.errors import NetbendError
from netbend.outdir import prepare_out_dir

preset_option = click.option("--preset", default="default", show_default=True,
                             help="paper (the paper's numbers) or default (minutes on a CPU).")
layers_option = click.option("--layers", default=None,
                             help="Comma list of paper layer numbers or module paths "
                                  "(default: the model's numbered layers, else every layer).")
dry_run_option = click.option("--dry-run", is_flag=True,
                               help="Check the inputs and the output, print what would be done, stop.")
method_option = click.option("--method", type=click.Choice(["parts", "joint", "paper", "ward", "spectral"]),
                             default="parts", show_default=True,
                             help="How features are clustered: parts (joint's clusters refined so that "
                                  "each one's ablation changes its own unsupervised parts of the output, "
                                  "k chosen per layer; measured best), joint (the CNN embedding joined "
                                  "with each feature's ablation-effect and activation signatures, spectral "
                                  "clustering), the paper's k-means, Ward agglomerative or spectral on the "
                                  "bare embedding (docs/clusters.md).")
seed_option = click.option("--seed", default=0, show_default=True, type=int,
                           help="Seed of the dataset latents, CNN initialisation and k-means.")


def _layers(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def _model(model_path: str | None, device: str):
    """An image model (StyleGAN2), or a spectrogram VAE: ``load_model`` tells them apart."""
    from netbend.models import load_model

    return load_model(model_path, device=pick_device(device))


def _out_dir(path: str, overwrite: bool, command: str, *, dry_run: bool = False) -> Path:
    """An output folder that resumes an earlier run of the same step unless ``overwrite``."""
    return prepare_out_dir(path, overwrite=overwrite, resume=not overwrite, command=command,
                           dry_run=dry_run)


def _executors(opts, model_path, model) -> tuple:
    """(dataset chunks, layer trainings) on Ray for --ray, else (None, None): run here."""
    if opts is None:
        return None, None
    from functools import partial

    from netbend.distributed import map_chunks, no_state
    from netbend.models import load_model

    device = str(model.device) if model is not None else "cpu"
    return (partial(map_chunks, opts, partial(load_model, model_path, device)),
            partial(map_chunks, opts, no_state))


def _preset(name: str, **overrides):
    from netbend.clustering.presets import get_preset

    return get_preset(name).with_overrides(**overrides)


@click.group("cluster")
@click.option("--threads", type=click.IntRange(1), default=None, hidden=True,
              help="Old spelling of the global `netbend --threads N` (kept so old command lines run).")
def cluster_group(threads: int | None) -> None:
    """Group each layer's features into clusters by the similarity of their activation maps and,
    by default (--method parts), so that each cluster's ablation changes its own parts of the output.

    All steps at once (`cluster run`, default preset: about 6 minutes on one CPU thread for the
    built-in face model), or step by step
    (`dataset`, `train`, `assign`); each step resumes where it stopped when killed.

    \b
    Examples:
      netbend cluster run --out-dir runs/faces
      netbend generate --config examples/remove_eyes.yaml --clusters runs/faces/clusters.json --out out/no_eyes
      netbend cluster dataset --out runs/faces/dataset
      netbend cluster train --dataset runs/faces/dataset --out runs/faces/cnn
      netbend cluster assign --cnn runs/faces/cnn --out runs/faces/clusters.json
    """
    if threads:
        apply_threads(threads)


@cluster_group.command("dataset")
@model_option
@device_option
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Dataset folder.")
@preset_option
@layers_option
@seed_option
@click.option("--n-train", type=int, default=None, help="Training latents (preset's if unset).")
@click.option("--n-test", type=int, default=None, help="Test latents (preset's if unset).")
@click.option("--max-side", type=int, default=None,
              help="Downsample maps whose larger side exceeds this many pixels.")
@overwrite_option
@ray_options
@dry_run_option
def dataset_cmd(model_path, device, out, preset, layers, seed, n_train, n_test, max_side, overwrite, ray_address,
                workers, dry_run):
    """Write every feature map of the chosen layers for seeded latents, in chunks.

    Rerunning the same command continues an interrupted build (--overwrite starts afresh).
    With --ray, workers compute the chunks and send the maps back; this process writes them.

    \b
    Examples:
      netbend cluster dataset --out runs/faces/dataset
      netbend cluster dataset --out runs/small --layers 1,5 --n-train 8 --n-test 2
    """
    from netbend.clustering.dataset import build_dataset
    from netbend.clustering.pipeline import describe, settings_table

    from netbend.distributed import session

    p = _preset(preset, n_train=n_train, n_test=n_test, max_side=max_side)
    model = _model(model_path, device)
    opts = ray_settings(ray_address, workers, model.device)
    rows = describe(model, p, _layers(layers))
    _out_dir(out, overwrite, "cluster dataset", dry_run=dry_run)
    if dry_run:
        click.echo(settings_table(p, rows))
        return
    with session(opts):
        ds = build_dataset(model, out, n_train=p.n_train, n_test=p.n_test, layers=_layers(layers),
                           max_side=p.max_side, seed=seed, executor=_executors(opts, model_path, model)[0])
    click.echo(f"{out}: {len(ds.layers)} layers, {p.n_train} train / {p.n_test} test latents")


@cluster_group.command("train")
@click.option("--dataset", "dataset_dir", required=True, type=click.Path(file_okay=False))
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder for the per-layer CNN checkpoints (and all of them in one file, "
                   "OUT/cnn.safetensors).")
@preset_option
@layers_option
@seed_option
@click.option("--epochs", type=int, default=None, help="Epochs (preset's if unset).")
@click.option("--batch-size", type=int, default=None, help="Batch size (preset's or table's).")
@click.option("--lr", type=float, default=None, help="Adam learning rate (preset's if unset).")
@click.option("--restart", is_flag=True, help="Discard an earlier run's outputs in OUT (checkpoints "
              "included) instead of resuming.")
@ray_options
@dry_run_option
def train_cmd(dataset_dir, out, preset, layers, seed, epochs, batch_size, lr, restart, ray_address, workers,
              dry_run):
    """Train one metric CNN per layer; resumes from checkpoints after an interruption.

    With --ray, the layers train on Ray workers, which read --dataset and write checkpoints to
    --out themselves (on a multi-node cluster both folders must be on shared storage; docs/ray.md).

    \b
    Examples:
      netbend cluster train --dataset runs/faces/dataset --out runs/faces/cnn
      netbend cluster train --dataset runs/faces/dataset --out runs/faces/cnn --layers 5 --epochs 10 --restart
    """
    from netbend.clustering.dataset import ActivationDataset
    from netbend.clustering.embed import load_embedders, save_embedders
    from netbend.clustering.pipeline import layer_settings, settings_table, train_all

    from netbend.distributed import session

    p = _preset(preset, epochs=epochs, batch_size=batch_size, lr=lr)
    dataset = ActivationDataset(dataset_dir)
    opts = ray_settings(ray_address, workers, "cpu")
    family = dataset.meta["model"].get("family", "stylegan2")
    rows = [dataset.layer(key) for key in _layers(layers) or list(dataset.layers)]
    _out_dir(out, restart, "cluster train", dry_run=dry_run)
    if dry_run:
        click.echo(settings_table(p, [{**r, **layer_settings(r, p, family)} for r in rows]))
        return
    with session(opts):
        report = train_all(dataset, out, p, seed=seed, keys=_layers(layers), restart=restart,
                           executor=_executors(opts, None, None)[1])
    save_embedders(load_embedders(out), Path(out) / "cnn.safetensors")
    for key, r in report.items():
        click.echo(f"layer {key}: val accuracy {r['val_accuracy']:.3f} (chance {r['chance']:.3f}),"
                   f" {r['wall_s']:.1f} s")


@cluster_group.command("assign")
@model_option
@device_option
@click.option("--cnn", "cnn_dir", required=True, type=click.Path(),
              help="Trained CNNs: a `cluster train` folder or its cnn.safetensors.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Cluster file.")
@layers_option
@seed_option
@click.option("--mode", type=click.Choice(["general", "sample"]), default="general",
              show_default=True, help="Mean embedding over N latents, or one latent's.")
@click.option("--n-general", type=int, default=64, show_default=True)
@click.option("--latent-seed", type=int, default=0, show_default=True,
              help="The latent for --mode sample.")
@click.option("--k", type=int, default=None, help="Clusters per layer (default: the tables').")
@click.option("--restarts", type=int, default=1, show_default=True,
              help="Forgy initialisations; the lowest inertia wins.")
@method_option
@click.option("--alignment-weight", type=float, default=None,
              help="--method parts: weight of the clusters' log alignment beside their specificity "
                   "in the refinement (default 0.1; 0: specificity alone; docs/clusters.md).")
@click.option("--segment-layers", default=None,
              help="--method parts: comma list of the layers whose features segment the outputs "
                   "(default: the last layer of each map size in the middle of the generator).")
@dry_run_option
def assign_cmd(model_path, device, cnn_dir, out, layers, seed, mode, n_general, latent_seed, k,
               restarts, method, alignment_weight, segment_layers, dry_run):
    """Embed each feature with its layer's CNN and cluster the embeddings (by default joined with the
    features' effect and activation signatures, then refined so that each cluster's ablation changes
    its own parts of the output; --method paper: the paper's k-means).

    \b
    Examples:
      netbend cluster assign --cnn runs/faces/cnn --out runs/faces/clusters.json
      netbend cluster assign --cnn runs/faces/cnn --mode sample --latent-seed 42 --out s42.json
    """
    from netbend.clustering.embed import load_embedders
    from netbend.clustering.pipeline import assign
    from netbend.clusters import save_clusters

    model = _model(model_path, device)
    if dry_run:
        embedders = load_embedders(cnn_dir, _layers(layers))
        latents = f"latent seed {latent_seed}" if mode == "sample" else f"the mean of {n_general} latents"
        click.echo(f"would embed the features of layers {', '.join(embedders)} ({latents}), cluster them "
                   f"with k = {k or ', '.join(str(e.k) for e in embedders.values())} and write {out}")
        return
    cs = assign(model, cnn_dir, _layers(layers), mode=mode, n_general=n_general,
                latent_seed=latent_seed, k=k, seed=seed, restarts=restarts, method=method,
                alignment_weight=alignment_weight,
                segment_layers=segment_layers.split(",") if segment_layers else None,
                progress=lambda m: click.echo(m, err=True))
    save_clusters(cs, out)
    click.echo(f"{out}: " + ", ".join(f"layer {key}: {[len(c) for c in v]}"
                                      for key, v in cs.layers.items()))


@cluster_group.command("run")
@model_option
@device_option
@click.option("--out-dir", required=True, type=click.Path(file_okay=False))
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="Cluster file (default: OUT_DIR/clusters.json).")
@preset_option
@layers_option
@seed_option
@click.option("--mode", type=click.Choice(["general", "sample"]), default="general",
              show_default=True)
@click.option("--latent-seed", type=int, default=0, show_default=True)
@click.option("--k", type=int, default=None, help="Clusters per layer (default: the tables').")
@click.option("--epochs", type=int, default=None)
@click.option("--lr", type=float, default=None)
@click.option("--n-train", type=int, default=None)
@click.option("--n-test", type=int, default=None)
@click.option("--max-side", type=int, default=None)
@method_option
@overwrite_option
@ray_options
@click.option("--dry-run", is_flag=True, help="Print the per-layer settings as a table and stop.")
@click.option("--json", "as_json", is_flag=True, help="With --dry-run: print the settings as JSON.")
def run_cmd(model_path, device, out_dir, out, preset, layers, seed, mode, latent_seed, k, epochs,
            lr, n_train, n_test, max_side, method, overwrite, ray_address, workers, dry_run, as_json):
    """All steps: dataset, CNN training, embedding, k-means, cluster file (each resumes).

    --dry-run prints a table of what each layer gets (map sizes, CNN depth, k, batch size).

    \b
    Examples:
      netbend cluster run --out-dir runs/faces
      netbend cluster --threads 1 run --model ffhq.pt --out-dir runs/ffhq --preset paper
      netbend cluster run --out-dir runs/x --dry-run --json
      netbend cluster run --out-dir runs/faces_ray --ray local --workers 2
    """
    from netbend.clustering.pipeline import describe, run_pipeline, settings_table
    from netbend.distributed import session

    p = _preset(preset, epochs=epochs, lr=lr, n_train=n_train, n_test=n_test, max_side=max_side)
    model = _model(model_path, device)
    opts = ray_settings(ray_address, workers, model.device)
    _out_dir(out_dir, overwrite, "cluster run", dry_run=dry_run)
    if dry_run:
        rows = describe(model, p, _layers(layers))
        if as_json:
            click.echo(json.dumps({"preset": p.to_dict(), "method": method, "layers": rows}, indent=1))
        else:
            click.echo(settings_table(p, rows))
            if method == "parts" and not k:
                click.echo("k: the table's at most; --method parts chooses each layer's k in 3..k "
                           "(docs/clusters.md)")
        return
    if as_json:
        raise NetbendError("--json goes with --dry-run")
    with session(opts):
        cs, timing = run_pipeline(model, out_dir, preset=p, layers=_layers(layers), seed=seed, mode=mode,
                                  latent_seed=latent_seed, k=k, out=out, method=method,
                                  executors=_executors(opts, model_path, model))
    from netbend.fileio import atomic_write_text

    atomic_write_text(Path(out_dir) / "timing.json", json.dumps(timing, indent=1))
    click.echo(f"{out or Path(out_dir) / 'clusters.json'}: {len(cs.layers)} layers in "
               f"{timing['total_wall_s']:.1f} s")


@cluster_group.command("show")
@model_option
@device_option
@click.option("--clusters", "clusters_path", type=click.Path(dir_okay=False),
              help="Cluster file (default: the model's own).")
@click.option("--out", required=True, type=click.Path(file_okay=False))
@layers_option
@click.option("--latent-seed", type=int, default=0, show_default=True)
@click.option("--factor", type=float, default=5.0, show_default=True,
              help="Multiplier for the last column.")
@overwrite_option
@dry_run_option
def show_cmd(model_path, device, clusters_path, out, layers, latent_seed, factor, overwrite, dry_run):
    """One image per layer: a row per cluster (heat map, ablated, multiplied).

    \b
    Examples:
      netbend cluster show --clusters default_faces_clusters --out out/clusters
      netbend cluster show --clusters runs/faces/clusters.json --layers 4,5 --latent-seed 3 --out out/c3
    """
    from netbend.clustering.show import show
    model = _model(model_path, device)
    clusters = _clusters(model, model_path, clusters_path)
    keys = _layers(layers) or list(clusters.layers)
    for key in keys:
        clusters.clusters_of(key)  # fails with the valid layers if unknown
    prepare_out_dir(out, overwrite=overwrite, command="cluster show", dry_run=dry_run)
    if dry_run:
        click.echo(f"would write {len(keys)} images to {out}/: layer {', '.join(keys)}")
        return
    paths = show(model, clusters, out,
                 keys=_layers(layers), seed=latent_seed, factor=factor)
    click.echo("\n".join(str(p) for p in paths))


@cluster_group.command("export")
@click.argument("src", type=click.Path(dir_okay=False))
@click.argument("dest", type=click.Path(dir_okay=False))
def export_cmd(src, dest):
    """Write a cluster file in the original project's YAML format.

    \b
    Examples:
      netbend cluster export default_faces_clusters clusters.yaml
    """
    from netbend.clusters import load_clusters, save_clusters

    save_clusters(load_clusters(src), dest, original=True)
    click.echo(dest)


@cluster_group.command("import")
@click.argument("src", type=click.Path(dir_okay=False))
@click.argument("dest", type=click.Path(dir_okay=False))
def import_cmd(src, dest):
    """Convert an original-project YAML cluster file to netbend's JSON format.

    \b
    Examples:
      netbend cluster import clusters.yaml clusters.json
    """
    from netbend.clusters import load_clusters, save_clusters

    save_clusters(load_clusters(src), dest)
    click.echo(dest)


@cluster_group.command("evaluate")
@model_option
@device_option
@click.option("--clusters", "clusters_path", type=click.Path(dir_okay=False),
              help="Cluster file (default: the model's own).")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder for evaluation.json and evaluation.md.")
@layers_option
@click.option("--n-latents", type=int, default=32, show_default=True,
              help="Evaluation latents (disjoint from training and general-purpose ones).")
@click.option("--random-draws", type=int, default=8, show_default=True,
              help="Random groupings of the same sizes (the spread of specificity is over them).")
@click.option("--raw-latents", type=int, default=64, show_default=True,
              help="Latents whose maps the raw-map k-means baseline clusters.")
@click.option("--max-side", type=int, default=16, show_default=True,
              help="Raw maps are downsampled to this side for the baseline.")
@seed_option
@click.option("--plan", "plan_paths", multiple=True, type=click.Path(dir_okay=False),
              help="Also measure a plan: mean pixel change on each part vs elsewhere "
                   "(repeatable).")
@overwrite_option
@dry_run_option
def evaluate_cmd(model_path, device, clusters_path, out, layers, n_latents, random_draws,
                 raw_latents, max_side, seed, plan_paths, overwrite, dry_run):
    """Score clusters against the face renderer's part masks (default face model only).

    Compares the clusters with k-means on raw maps and with random groups of the same sizes:
    alignment (energy share in a part / the part's area), edit locality (share of the
    ablation's pixel change inside that part) and specificity (how far the parts a cluster's
    ablation changes differ from the whole layer's; with intervals). Without --clusters, the
    model's own cluster file is scored.

    \b
    Examples:
      netbend cluster evaluate --clusters runs/faces/clusters.json --out runs/faces/eval
      netbend cluster evaluate --plan remove_eyes --out out/eval
    """
    from netbend.clustering.evaluate import evaluate, part_masks_check, plan_part_change
    from netbend.clustering.pipeline import GENERAL_SEED_BASE
    from netbend.clustering.report import markdown, plan_table
    from netbend.fileio import atomic_write_text
    from netbend.plan import load_plan

    model = _model(model_path, device)
    clusters = _clusters(model, model_path, clusters_path)
    loaded = {p: load_plan(p) for p in plan_paths}
    part_masks_check(model)
    prepare_out_dir(out, overwrite=overwrite, command="cluster evaluate", dry_run=dry_run)
    if dry_run:
        click.echo(f"would score layers {', '.join(_layers(layers) or clusters.layers)} of {clusters_path} on "
                   f"{n_latents} latents (+ {len(loaded)} plans) and write {out}/evaluation.json, .md")
        return
    plans = {p: plan_part_change(model, plan, clusters, n_latents=n_latents) for p, plan in loaded.items()}
    rep = evaluate(model, clusters, n_latents=n_latents, random_draws=random_draws,
                   max_side=max_side, seed=seed, keys=_layers(layers),
                   raw_seeds=range(GENERAL_SEED_BASE, GENERAL_SEED_BASE + raw_latents),
                   progress=lambda line: click.echo(line, err=True))
    rep["plans"] = plans
    text = markdown(rep) + "".join(f"\nPlan {p}:\n\n{plan_table(v)}\n" for p, v in plans.items())
    atomic_write_text(Path(out) / "evaluation.json", json.dumps(rep, indent=1))
    atomic_write_text(Path(out) / "evaluation.md", text)
    click.echo(text)


def _clusters(model, model_path, clusters_path):
    from netbend.clusters import clusters_for

    return clusters_for(model, model_path, clusters_path, say=lambda line: click.echo(line, err=True))


COMMANDS = [cluster_group]
