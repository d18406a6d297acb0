"""Choosing the torch device: ``auto`` means CUDA when present, else the CPU."""
from __future__ import annotations

import torch

from netbend.errors import NetbendError


def pick_device(name: str | torch.device = "auto") -> torch.device:
    """'auto' -> CUDA when present, else CPU; 'cuda' without CUDA is a clear error."""
    if isinstance(name, torch.device):
        name = str(name)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise NetbendError(f"--device: unknown device '{name}' (use auto, cpu or cuda)") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise NetbendError(f"--device {name}: no CUDA device is available here (use --device cpu or auto)")
    return device
