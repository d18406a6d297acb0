"""Options and helpers shared by the command modules."""
from __future__ import annotations

import click

from netbend.devices import pick_device  # noqa: F401  (re-exported for the command modules)


device_option = click.option("--device", default="auto", show_default=True,
                             help="auto, cpu, cuda or cuda:N.")
clusters_option = click.option("--clusters", "clusters_path", type=click.Path(),
                               help="Cluster file for 'features: cluster' (default: the model's own).")
model_option = click.option("--model", "model_path", type=click.Path(dir_okay=True), default=None,
                            help="Checkpoint: rosinality .pt, NVlabs .pkl or netbend .safetensors "
                                 "(default: the built-in default model).")


def overwrite_option(fn):
    """``--overwrite``: replace what an earlier netbend run wrote in the output folder."""
    return click.option("--overwrite", is_flag=True,
                        help="Replace the outputs of an earlier netbend run in the output folder "
                             "(a folder holding files netbend did not write is always refused).")(fn)


def apply_threads(threads: int | None) -> None:
    """Set torch's CPU threads: ``threads``, else $NETBEND_THREADS, else the default."""
    from netbend.devices import set_threads

    set_threads(threads)


threads_option = click.option(
    "--threads", type=click.IntRange(1), default=None,
    help="CPU threads for torch, for every command [default: $NETBEND_THREADS, else half the CPU "
         "cores; more pays off only on an idle machine].")


def scale_options(fn):
    """``--scale N`` and ``--scale-filter``: upscale written PNGs (raw outputs stay as rendered)."""
    fn = click.option("--scale-filter", type=click.Choice(["nearest", "lanczos"]), default="nearest",
                      show_default=True, help="nearest repeats pixels; lanczos smooths.")(fn)
    return click.option("--scale", type=click.IntRange(1), default=1, show_default=True,
                        help="Upscale the written PNGs N times (a --raw array stays as rendered).")(fn)


def plugin_settings() -> dict:
    """``{"plugins": [...]}`` for a run record when `netbend --plugin` loaded any, else ``{}``:
    re-rendering a plan that uses a plugin's transform needs the same plugin."""
    ctx = click.get_current_context(silent=True)
    plugins = list(ctx.find_root().params.get("plugins") or ()) if ctx else []
    return {"plugins": plugins} if plugins else {}
