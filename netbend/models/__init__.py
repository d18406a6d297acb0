"""Generators that netbend can bend, and the loaders for the checkpoints users have.

``load_model(path)`` reads, by content (then extension):

* netbend's own format: a ``.safetensors`` file with config metadata, or a folder holding
  ``model.safetensors`` (see :mod:`netbend.models.loaders.native`);
* rosinality ``stylegan2-pytorch`` ``.pt``/``.pth`` files (zip or legacy torch.save);
* NVlabs ``stylegan2-ada-pytorch`` / ``stylegan3`` ``.pkl`` files (StyleGAN2 ``skip``/``orig``/
  ``resnet``, StyleGAN3 configs T and R, conditional or not), through a restricted unpickler that
  never runs the code they embed.

``load_model(None)`` returns the built-in default model (:mod:`netbend.models.default`).
"""
from __future__ import annotations

from pathlib import Path

import torch

from netbend.errors import NetbendError
from netbend.models.loaders.native import load_native, save_native
from netbend.models.stylegan2 import Generator
from netbend.models.wrapper import StyleGAN2Model

__all__ = ["Generator", "StyleGAN2Model", "load_model", "save_native"]

ZIP_MAGIC = b"PK\x03\x04"
TORCH_EXTS = {".pt", ".pth", ".ckpt", ".bin"}


def load_model(path: str | Path | None = None, device: str | torch.device = "cpu"):
    """Load a generator checkpoint (or the default model for ``None``) onto ``device``.

    StyleGAN2 files give a :class:`StyleGAN2Model`; a netbend spectrogram VAE file gives an
    :class:`netbend.audio.model.AudioModel` (its decoder's layers are bendable the same way).
    """
    if path is None:
        from netbend.models.default import default_model

        return default_model().to(device)
    file = Path(path)
    if not file.exists():
        raise NetbendError(f"model file not found: {file}")
    from netbend.audio.model import is_audio_model, load_audio_model

    if is_audio_model(file):
        return load_audio_model(file, device=str(device))
    return _loader_for(file)(file).to(device)


def _loader_for(file: Path):
    from netbend.models.loaders.native import is_native

    if file.is_dir():
        if is_native(file):
            return load_native
        raise NetbendError(f"{file}: folder has no model.safetensors; not a netbend model folder")
    with open(file, "rb") as f:
        head = f.read(4)
    if not head:
        raise NetbendError(f"{file}: empty file, not a model checkpoint")
    if head == ZIP_MAGIC:
        from netbend.models.loaders.rosinality import load_rosinality

        return load_rosinality
    if head[:1] == b"\x80":  # a pickle: raw (NVlabs) or legacy torch.save
        if file.suffix.lower() in TORCH_EXTS:
            from netbend.models.loaders.rosinality import load_rosinality

            return load_rosinality
        from netbend.models.loaders.nvlabs import load_nvlabs

        return load_nvlabs
    if is_native(file):
        return load_native
    raise NetbendError(f"{file}: not a model checkpoint (unrecognised content; expected a .pt, .pkl "
                       "or netbend .safetensors file)")
