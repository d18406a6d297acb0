"""Shared by the loaders: rebuild a :class:`Generator` from a state dict in our (rosinality) names."""
from __future__ import annotations

import re
from pathlib import Path

import torch

from netbend.errors import NetbendError
from netbend.models.stylegan2 import Generator


def infer_config(sd: dict[str, torch.Tensor], file: Path) -> dict:
    """Size, mapping depth, Z/W dims and channel table from the weights' names and shapes."""
    try:
        n_mlp = len([k for k in sd if re.fullmatch(r"style\.\d+\.weight", k)])
        style_dim, z_dim = sd["style.1.weight"].shape
        c_dim = int(sd["embed.weight"].shape[1]) if "embed.weight" in sd else 0
        z_dim -= int(sd["embed.weight"].shape[0]) if c_dim else 0
        n_rgb = len([k for k in sd if re.fullmatch(r"convs\.\d+\.conv\.weight", k)]) // 2
        channels = {4: int(sd["input.input"].shape[1])}
        for i in range(n_rgb):
            channels[2 ** (i + 3)] = int(sd[f"convs.{2 * i}.conv.weight"].shape[1])
    except (KeyError, IndexError, ValueError) as err:
        raise NetbendError(f"{file}: not a StyleGAN2 generator state dict (missing or odd entry {err})") from None
    if n_rgb == 0:
        raise NetbendError(f"{file}: generator has no upsampling blocks; not a supported StyleGAN2 generator")
    arch = "resnet" if "skips.0.weight" in sd else "orig" if "to_rgb.conv.weight" in sd else "skip"
    return {"size": 2 ** (n_rgb + 2), "style_dim": int(style_dim), "n_mlp": n_mlp,
            "channels": channels, "z_dim": int(z_dim), "architecture": arch, "c_dim": c_dim}


def build_generator(sd: dict[str, torch.Tensor], file: Path, lr_mlp: float = 0.01,
                    conv_clamp: float | None = None) -> Generator:
    """A Generator with ``sd`` loaded strictly; mismatches become one-line NetbendErrors."""
    gen = Generator(**infer_config(sd, file), lr_mlp=lr_mlp, conv_clamp=conv_clamp)
    result = gen.load_state_dict(sd, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise NetbendError(f"{file}: weights do not form a StyleGAN2 generator "
                           f"(missing {result.missing_keys[:3]}, unexpected {result.unexpected_keys[:3]})")
    try:
        gen.load_state_dict(sd, strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[-1].strip()
        raise NetbendError(f"{file}: weight shapes do not form a StyleGAN2 generator ({first})") from None
    return gen.eval()
