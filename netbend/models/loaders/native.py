"""netbend's own checkpoint format: one ``.safetensors`` file, config in its metadata.

Layout (version 1):

* tensors: the generator's state dict under its rosinality names (``style.1.weight``, ...,
  ``noises.noise_0``), plus ``mean_w`` [1, w_dim] when the model has a mean latent;
* metadata key ``netbend``: JSON ``{"format": "netbend.stylegan2", "version": 1, "name": ...,
  "config": {size, style_dim, n_mlp, channels: {res: ch}, lr_mlp, z_dim, conv_clamp}}`` (plus
  ``architecture`` and ``c_dim`` for ``orig``/``resnet`` and conditional generators);
* StyleGAN3: format ``netbend.stylegan3``, tensors under NVlabs' names without ``synthesis.``, and
  the config of :class:`netbend.models.stylegan3.StyleGAN3Generator` (layers with their sizes,
  up/down factors, padding and filter lengths; the filters themselves are tensors).

A folder holding ``model.safetensors`` is accepted in place of the file. Loading never runs code.
"""
from __future__ import annotations

import json
from pathlib import Path

from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from netbend.errors import NetbendError
from netbend.models.stylegan2 import Generator
from netbend.models.stylegan3 import StyleGAN3Generator
from netbend.models.wrapper import StyleGAN2Model, StyleGAN3Model
from netbend.fileio import atomic_path

FORMAT = "netbend.stylegan2"
FORMAT_SG3 = "netbend.stylegan3"  # config: StyleGAN3Generator.config() (netbend.models.stylegan3)
VERSION = 1
META_KEY = "netbend"
CONFIG_KEYS = {"size", "style_dim", "n_mlp", "channels", "lr_mlp", "z_dim", "conv_clamp", "architecture", "c_dim"}
MEAN_W_KEY = "mean_w"


def save_native(model: StyleGAN2Model, path: str | Path) -> Path:
    """Write ``model`` as one safetensors file (atomic: temporary name, then ``os.replace``)."""
    path = Path(path)
    gen = model.module
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in gen.state_dict().items()}
    if model.mean_w_from_checkpoint:
        tensors[MEAN_W_KEY] = model.mean_w.detach().to("cpu").contiguous().clone()
    fmt = FORMAT_SG3 if isinstance(gen, StyleGAN3Generator) else FORMAT
    meta = {"format": fmt, "version": VERSION, "name": model.name, "config": gen.config()}
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={META_KEY: json.dumps(meta)})
    return path


def is_native(path: Path) -> bool:
    """True if ``path`` is a folder with model.safetensors or a safetensors file."""
    if path.is_dir():
        return (path / "model.safetensors").is_file()
    with open(path, "rb") as f:
        head = f.read(9)
    return len(head) == 9 and head[8:9] == b"{"


def load_native(path: str | Path) -> StyleGAN2Model:
    """Read a model written by :func:`save_native`."""
    path = Path(path)
    file = path / "model.safetensors" if path.is_dir() else path
    try:
        tensors = load_file(str(file))
        with safe_open(str(file), framework="pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as err:
        raise NetbendError(f"{file}: not a readable safetensors file ({err})") from None
    meta = _read_meta(file, metadata)
    if meta["format"] == FORMAT_SG3:
        return _load_sg3(file, tensors, meta)
    cfg = meta["config"]
    unknown = set(cfg) - CONFIG_KEYS
    if unknown or not {"size", "channels"} <= set(cfg):
        raise NetbendError(f"{file}: metadata config has unknown keys {sorted(unknown)} or lacks size/channels")
    cfg = dict(cfg, channels={int(r): int(c) for r, c in cfg["channels"].items()})
    gen = Generator(**cfg)
    mean_w = tensors.pop(MEAN_W_KEY, None)
    result = gen.load_state_dict(tensors, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise NetbendError(f"{file}: weights do not match the config (missing {result.missing_keys[:3]}, "
                           f"unexpected {result.unexpected_keys[:3]})")
    return StyleGAN2Model(gen, name=str(meta.get("name") or file.stem), mean_w=mean_w, source="native")


def _load_sg3(file: Path, tensors: dict, meta: dict) -> StyleGAN3Model:
    mean_w = tensors.pop(MEAN_W_KEY, None)
    try:
        gen = StyleGAN3Generator(meta["config"])
    except (KeyError, TypeError, ValueError) as err:
        raise NetbendError(f"{file}: {FORMAT_SG3} config is incomplete or malformed ({err!r})") from None
    result = gen.load_state_dict(tensors, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise NetbendError(f"{file}: weights do not match the config (missing {result.missing_keys[:3]}, "
                           f"unexpected {result.unexpected_keys[:3]})")
    return StyleGAN3Model(gen.eval(), name=str(meta.get("name") or file.stem), mean_w=mean_w, source="native")


def _read_meta(file: Path, metadata: dict) -> dict:
    if META_KEY not in metadata:
        raise NetbendError(f"{file}: safetensors file has no '{META_KEY}' metadata; not a netbend model")
    try:
        meta = json.loads(metadata[META_KEY])
    except json.JSONDecodeError as err:
        raise NetbendError(f"{file}: metadata '{META_KEY}' is not valid JSON ({err})") from None
    if not isinstance(meta, dict) or meta.get("format") not in (FORMAT, FORMAT_SG3) \
            or not isinstance(meta.get("config"), dict):
        raise NetbendError(f"{file}: metadata '{META_KEY}' is not a {FORMAT} description")
    if meta.get("version") != VERSION:
        raise NetbendError(f"{file}: {FORMAT} version {meta.get('version')} is not supported (expected {VERSION})")
    return meta
