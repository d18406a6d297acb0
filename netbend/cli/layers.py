"""`netbend layers`: list a model's bendable layers."""
from __future__ import annotations

import click

from netbend.cli.common import device_option, model_option, pick_device
from netbend.layers import list_layers


@click.command("layers")
@model_option
@device_option
@click.option("--all", "show_all", is_flag=True, help="Also list un-numbered layers and inner modules "
              "(ToRGB, conv, noise, activation, ...).")
def layers_cmd(model_path: str | None, device: str, show_all: bool) -> None:
    """List every bendable layer: paper number, module path, output shape, features.

    \b
    Examples:
      netbend layers
      netbend layers --all
      netbend layers --model stylegan2-ffhq-config-f.pt --all
    """
    from netbend.models import load_model

    model = load_model(model_path, device=pick_device(device))
    echo_model_layers(model, show_all)


def echo_model_layers(model, show_all: bool, title: str | None = None) -> None:
    """The layer table of ``netbend layers`` and ``netbend audio layers``: the paper's numbered
    layers (every layer when the model numbers none), or with ``show_all`` every layer whose
    output is a feature map, inner modules included, in the order they run."""
    infos = list_layers(model)
    if not show_all and any(i.number is not None for i in infos):
        infos = tuple(i for i in infos if i.number is not None)
    echo_layers(title or f"{model.name} ({model.model_hash})", infos)


def echo_layers(title: str, infos) -> None:
    """Print a layer table: paper number, module path, output shape, features, layout.

    The shape is (C, H, W), (C, L) or (T, D) by layout (NCHW, NCL, NTD: see netbend.layouts)."""
    click.echo(title)
    click.echo(f"{'layer':>5}  {'path':<28} {'output (C, H, W)':<20} {'layout':<6} {'features':>8}")
    for i in infos:
        num = "-" if i.number is None else str(i.number)
        layout = getattr(i, "layout", "NCHW")
        click.echo(f"{num:>5}  {i.path:<28} {str(tuple(i.shape)):<20} {layout:<6} {i.channels:>8}")


COMMANDS = [layers_cmd]
