"""rosinality ``stylegan2-pytorch`` checkpoints (``.pt``).

Two kinds: converted ones ``{"g_ema": state_dict, "latent_avg": [w_dim]}`` and training
checkpoints ``{"g", "d", "g_ema", "g_optim", "d_optim", "args", ...}``. Read with
``torch.load(weights_only=True)``; the one extra class allowed is ``argparse.Namespace`` (the
``args`` entry), which only holds attributes. ``g_ema`` is preferred over ``g``.
"""
from __future__ import annotations

import argparse
import pickle
import zipfile
from pathlib import Path

import torch

from netbend.errors import NetbendError
from netbend.models.loaders.common import build_generator
from netbend.models.wrapper import StyleGAN2Model


def read_torch_file(file: Path):
    """``torch.load`` without code execution (weights only, plus argparse.Namespace)."""
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        first = str(err).strip().splitlines()[0][:200]
        raise NetbendError(f"{file}: refused to load, it holds objects other than tensors ({first})") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as err:
        first = (str(err).strip().splitlines() or ["unreadable"])[0][:200]
        raise NetbendError(f"{file}: corrupt or truncated PyTorch file ({first})") from None


def load_rosinality(path: str | Path) -> StyleGAN2Model:
    file = Path(path)
    ckpt = read_torch_file(file)
    sd = _generator_state(ckpt, file)
    args = ckpt.get("args") if isinstance(ckpt, dict) else None
    if getattr(args, "arch", "stylegan2") != "stylegan2" or any(".iwt." in k or ".dwt." in k for k in sd):
        raise NetbendError(f"{file}: SWAGAN (wavelet) generator; not supported yet")
    lr_mlp = float(getattr(args, "lr_mlp", 0.01))
    gen = build_generator(sd, file, lr_mlp=lr_mlp)
    mean_w = ckpt.get("latent_avg") if isinstance(ckpt, dict) else None
    if mean_w is not None and (not torch.is_tensor(mean_w) or mean_w.numel() != gen.style_dim):
        raise NetbendError(f"{file}: 'latent_avg' is not a [{gen.style_dim}] tensor")
    return StyleGAN2Model(gen, name=file.stem, mean_w=mean_w, source="rosinality")


def _generator_state(ckpt, file: Path) -> dict:
    if not isinstance(ckpt, dict):
        raise NetbendError(f"{file}: holds a {type(ckpt).__name__}, not a StyleGAN2 checkpoint dict")
    for key in ("g_ema", "g"):
        if isinstance(ckpt.get(key), dict):
            return ckpt[key]
    if "style.1.weight" in ckpt:  # a bare generator state dict
        return ckpt
    if "d" in ckpt or any(str(k).startswith(("convs.0.0", "final_linear")) for k in ckpt):
        raise NetbendError(f"{file}: discriminator-only checkpoint (no 'g_ema' or 'g'); not supported")
    keys = ", ".join(sorted(map(str, ckpt))[:8])
    raise NetbendError(f"{file}: not a StyleGAN2 checkpoint (no 'g_ema' or 'g'; top-level keys: {keys})")
