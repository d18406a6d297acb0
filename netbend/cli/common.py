"""Options and helpers shared by the command modules."""
from __future__ import annotations

import click
import torch

from netbend.errors import NetbendError


def pick_device(name: str) -> torch.device:
    """'auto' -> CUDA when present, else CPU; 'cuda' without CUDA is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise NetbendError("--device cuda: no CUDA device is available here (use --device cpu or auto)")
    try:
        return torch.device(name)
    except RuntimeError:
        raise NetbendError(f"--device: unknown device '{name}' (use auto, cpu or cuda)") from None


device_option = click.option("--device", default="auto", show_default=True,
                             help="auto, cpu, cuda or cuda:N.")
model_option = click.option("--model", "model_path", type=click.Path(dir_okay=True), default=None,
                            help="Checkpoint: rosinality .pt, NVlabs .pkl or netbend .safetensors "
                                 "(default: the built-in default model).")
