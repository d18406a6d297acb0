"""Noise-map files: a StyleGAN2's per-layer noise inputs saved as ``.safetensors``.

Tensors ``noise_0`` .. ``noise_{L-1}``, each ``[B, 1, r, r]`` float32 (r = 4, 8, 8, 16, 16, ...;
B = 1 applies the maps to every latent, B = N gives latent i its own maps). ``netbend project``
writes one per image (``NAME_noise.safetensors``, B = 1); ``netbend generate --noise-file`` reads
it, so a projection re-renders with the same pixels.
"""
from __future__ import annotations

import os

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from netbend.errors import NetbendError
from netbend.fileio import atomic_write_bytes


def save_noise_file(path: str | os.PathLike, noises: list[torch.Tensor], meta: dict[str, str] | None = None) -> None:
    """Write maps [B, 1, r, r] (one per noise input) atomically, with string metadata."""
    tensors = {f"noise_{i}": n.detach().float().cpu().contiguous() for i, n in enumerate(noises)}
    atomic_write_bytes(path, save(tensors, metadata={k: str(v) for k, v in (meta or {}).items()}))


def load_noise_file(path: str | os.PathLike, model) -> list[torch.Tensor]:
    """The maps of a noise file, checked against ``model``'s noise inputs: list of [B, 1, r, r]."""
    from netbend.examples import resolve

    path = resolve(path)  # or a shipped file by its clone path
    if not path.is_file():
        raise NetbendError(f"{path}: noise file not found")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise NetbendError(f"{path}: not a .safetensors noise file ({str(err).splitlines()[0][:120]})") from None
    res = model.module.noise_resolutions()
    want = [f"noise_{i}" for i in range(len(res))]
    if sorted(tensors) != sorted(want):
        raise NetbendError(f"{path}: holds {sorted(tensors)[:4]}...; model '{model.name}' needs "
                           f"noise_0 .. noise_{len(res) - 1}")
    maps = [tensors[k] for k in want]
    if not maps:  # a model without noise inputs (StyleGAN3)
        return []
    batch = maps[0].shape[0] if maps[0].ndim == 4 else 0
    for key, m, r in zip(want, maps, res):
        if m.ndim != 4 or tuple(m.shape) != (batch, 1, r, r) or not m.is_floating_point():
            raise NetbendError(f"{path}: '{key}' has shape {list(m.shape)} ({m.dtype}); model '{model.name}' "
                               f"needs [B, 1, {r}, {r}] floats, one B for all maps")
        if not torch.isfinite(m).all():
            raise NetbendError(f"{path}: '{key}' holds NaN or infinite values")
    return [m.float() for m in maps]
