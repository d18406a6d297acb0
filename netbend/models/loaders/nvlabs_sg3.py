"""NVlabs ``stylegan3`` repository snapshots with the alias-free generator (configs T and R).

The generator record (from :mod:`netbend.models.loaders.safe_pickle`, no code run) is read as:

* ``G``: ``z_dim``, ``c_dim``, ``w_dim``, ``img_resolution``, ``img_channels`` (must be 3);
* ``mapping``: ``num_layers``; ``fc0.bias_gain`` is the learning-rate multiplier;
* ``synthesis``: ``layer_names``, ``output_scale``; ``synthesis.input`` (``SynthesisInput``):
  ``size``, ``sampling_rate``, ``bandwidth``;
* each ``synthesis.L*`` (``SynthesisLayer``): ``is_torgb``, ``conv_kernel``, ``up_factor``,
  ``down_factor``, ``padding``, ``conv_clamp`` and its stored ``up_filter`` / ``down_filter``
  (1-D = separable Kaiser filter, 2-D = radial filter of config R). ``use_fp16`` is ignored:
  netbend computes in float32.

Tensors keep their NVlabs names minus the ``synthesis.`` prefix. A record without one of these
attributes or tensors (an older or newer layout) is refused with one line naming it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from netbend.errors import NetbendError
from netbend.models.loaders.safe_pickle import PersistentRecord
from netbend.models.stylegan3 import StyleGAN3Generator, plain

LAYER_ATTRS = ("is_torgb", "conv_kernel", "up_factor", "down_factor", "padding", "conv_clamp")
INPUT_ATTRS = ("size", "sampling_rate", "bandwidth")
G_ATTRS = ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels")


def is_stylegan3(G: PersistentRecord) -> bool:
    synthesis = G.modules.get("synthesis")
    return isinstance(synthesis, PersistentRecord) and (
        "input" in synthesis.modules or synthesis.class_name == "SynthesisNetwork" and "layer_names" in synthesis.state)


def sg3_config(G: PersistentRecord, file: Path) -> dict[str, Any]:
    """Our generator config from the records' attributes and filter shapes."""
    mapping, synthesis = _child(G, "mapping", "MappingNetwork", file), _child(G, "synthesis", "SynthesisNetwork", file)
    inp = _child(synthesis, "input", "SynthesisInput", file, where="synthesis.")
    cfg = {k: _attr(G, k, file, "G_ema") for k in G_ATTRS}
    if int(cfg["img_channels"]) != 3:
        raise NetbendError(f"{file}: generator has {cfg['img_channels']} image channels; only RGB is supported")
    fc0 = _child(mapping, "fc0", "FullyConnectedLayer", file, where="mapping.")
    names = _attr(synthesis, "layer_names", file, "synthesis")
    cfg.update(mapping_layers=_attr(mapping, "num_layers", file, "mapping"), lr_mlp=_attr(fc0, "bias_gain", file, "mapping.fc0"),
               output_scale=_attr(synthesis, "output_scale", file, "synthesis"),
               input={"channels": int(inp.state.get("channels") or _tensor(inp, "weight", file).shape[0]),
                      **{k: _attr(inp, k, file, "synthesis.input") for k in INPUT_ATTRS}},
               layers=[_layer_config(synthesis, str(n), file) for n in names])
    cfg = plain(cfg)
    cfg["input"]["size"] = _pair(cfg["input"]["size"])
    return cfg


def _layer_config(synthesis: PersistentRecord, name: str, file: Path) -> dict[str, Any]:
    layer = _child(synthesis, name, "SynthesisLayer", file, where="synthesis.")
    a = {k: _attr(layer, k, file, f"synthesis.{name}") for k in LAYER_ATTRS}
    weight = _tensor(layer, "weight", file, f"synthesis.{name}.")
    buffers = layer.state.get("_buffers") or {}
    for key in ("up_filter", "down_filter", "magnitude_ema"):
        if key not in buffers:  # identity filters are stored as None, never left out
            raise NetbendError(f"{file}: StyleGAN3 generator lacks tensor 'synthesis.{name}.{key}' "
                               "(an older or newer layout?)")
    fu, fd = buffers["up_filter"], buffers["down_filter"]
    if fu is not None and fu.ndim != 1:
        raise NetbendError(f"{file}: synthesis.{name}.up_filter is {fu.ndim}-D; only separable upsampling filters are supported")
    return {"name": name, "in_channels": int(weight.shape[1]), "out_channels": int(weight.shape[0]),
            "conv_kernel": int(a["conv_kernel"]), "is_torgb": bool(a["is_torgb"]), "up": int(a["up_factor"]),
            "down": int(a["down_factor"]), "padding": [int(p) for p in plain(a["padding"])],
            "conv_clamp": None if a["conv_clamp"] is None else float(a["conv_clamp"]),
            "up_taps": 1 if fu is None else int(fu.shape[0]), "down_taps": 1 if fd is None else int(fd.shape[0]),
            "down_radial": fd is not None and fd.ndim == 2}


def build_sg3(G: PersistentRecord, file: Path) -> tuple[StyleGAN3Generator, torch.Tensor | None]:
    """(generator with the checkpoint's weights, w_avg [1, w_dim] or None)."""
    cfg = sg3_config(G, file)
    gen = StyleGAN3Generator(cfg)
    nv = G.tensors()
    sd = {k.removeprefix("synthesis."): v.float() for k, v in nv.items()}
    sd.setdefault("input.transform", torch.eye(3))
    expected = gen.state_dict()
    for key, value in expected.items():
        if key not in sd:
            src = key if key.startswith("mapping.") else f"synthesis.{key}"
            raise NetbendError(f"{file}: StyleGAN3 generator lacks tensor '{src}' (an older or newer layout?)")
        if tuple(sd[key].shape) != tuple(value.shape):
            raise NetbendError(f"{file}: tensor '{key}' has shape {list(sd[key].shape)}, expected {list(value.shape)}")
    extra = sorted(set(sd) - set(expected) - {"mapping.w_avg"})
    if extra:
        raise NetbendError(f"{file}: StyleGAN3 generator has unexpected tensor '{extra[0]}' (a newer layout?)")
    gen.load_state_dict({k: sd[k] for k in expected}, strict=True)
    w_avg = nv.get("mapping.w_avg")
    return gen.eval(), None if w_avg is None else w_avg.float().reshape(1, -1)


def _child(rec: PersistentRecord, name: str, cls: str, file: Path, where: str = "") -> PersistentRecord:
    child = rec.modules.get(name)
    if not isinstance(child, PersistentRecord):
        raise NetbendError(f"{file}: StyleGAN3 generator has no module '{where}{name}' (an older or newer layout?)")
    if child.class_name != cls:
        raise NetbendError(f"{file}: '{where}{name}' is a {child.class_name}, expected {cls} (a different layout)")
    return child


def _attr(rec: PersistentRecord, key: str, file: Path, where: str) -> Any:
    if key not in rec.state:
        raise NetbendError(f"{file}: '{where}' lacks attribute '{key}' (an older or newer StyleGAN3 layout?)")
    return rec.state[key]


def _tensor(rec: PersistentRecord, key: str, file: Path, where: str = "") -> torch.Tensor:
    t = (rec.state.get("_parameters") or {}).get(key)
    if t is None:
        raise NetbendError(f"{file}: StyleGAN3 generator lacks tensor '{where}{key}'")
    return t


def _pair(size: Any) -> list[int]:
    return [int(size), int(size)] if isinstance(size, (int, float)) else [int(s) for s in size]
