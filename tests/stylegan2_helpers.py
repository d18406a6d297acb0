"""Test helpers: write pickles with the structure of NVlabs network snapshots, without their code.

A real NVlabs ``.pkl`` stores each network as ``torch_utils.persistence._reconstruct_persistent_obj
(meta)`` where ``meta = {type, version, module_src, class_name, state}`` and ``state`` is the
module's ``__dict__`` (``_parameters``, ``_buffers``, ``_modules`` + plain attributes). This writer
produces the same records from an NVlabs-named state dict, with ``module_src`` set to a
placeholder of ours (or to any text a test wants, e.g. code that must never run).
"""
from __future__ import annotations

import contextlib
import pickle
import sys
import types
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

FIXTURES = Path(__file__).parent / "fixtures" / "stylegan2"
PLACEHOLDER_SRC = "# netbend test pickle: placeholder where NVlabs stores its module source\n"
BUFFERS = ("resample_filter", "noise_const", "w_avg")


def _fake_reconstruct(meta):  # never called: only its name is pickled
    raise AssertionError("test writer function called")


class FakeEasyDict(dict):
    pass


@contextlib.contextmanager
def _fake_nvlabs_modules():
    """Make ``torch_utils.persistence`` / ``dnnlib.util`` importable names for ``pickle.dump``."""
    names = ["torch_utils", "torch_utils.persistence", "dnnlib", "dnnlib.util"]
    saved = {n: sys.modules.get(n) for n in names}
    mods = {n: types.ModuleType(n) for n in names}
    _fake_reconstruct.__module__, _fake_reconstruct.__qualname__ = "torch_utils.persistence", "_reconstruct_persistent_obj"
    FakeEasyDict.__module__, FakeEasyDict.__qualname__ = "dnnlib.util", "EasyDict"
    mods["torch_utils.persistence"]._reconstruct_persistent_obj = _fake_reconstruct
    mods["dnnlib.util"].EasyDict = FakeEasyDict
    sys.modules.update(mods)
    try:
        yield
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


class Record:
    """Pickles as an NVlabs persistent object."""

    def __init__(self, class_name: str, state: dict, module_src: str = PLACEHOLDER_SRC):
        self.class_name, self.state, self.module_src = class_name, state, module_src

    def __reduce__(self):
        meta = dict(type="class", version=6, module_src=self.module_src, class_name=self.class_name,
                    state=self.state)
        return _fake_reconstruct, (meta,)


def module_state(tensors: dict, children: dict, **attrs) -> dict:
    params = OrderedDict((k, torch.nn.Parameter(v.clone(), requires_grad=False))
                         for k, v in tensors.items() if k not in BUFFERS)
    buffers = OrderedDict((k, v.clone()) for k, v in tensors.items() if k in BUFFERS)
    hooks = {k: OrderedDict() for k in ("_backward_hooks", "_forward_hooks", "_forward_pre_hooks",
                                        "_state_dict_hooks", "_load_state_dict_pre_hooks")}
    return {"training": False, "_parameters": params, "_buffers": buffers,
            "_non_persistent_buffers_set": set(), **hooks, "_modules": OrderedDict(children),
            **attrs, "_init_args": (), "_init_kwargs": FakeEasyDict()}


def _class_of(path: str) -> str:
    last = path.split(".")[-1]
    if path == "":
        return "Generator"
    if path in ("mapping", "synthesis"):
        return {"mapping": "MappingNetwork", "synthesis": "SynthesisNetwork"}[path]
    if last.startswith("fc") or last == "affine" or last == "embed":
        return "FullyConnectedLayer"
    if last.startswith("b") and last[1:].isdigit():
        return "SynthesisBlock"
    return {"conv0": "SynthesisLayer", "conv1": "SynthesisLayer", "torgb": "ToRGBLayer"}.get(last, "Module")


def _attrs(path: str, cls: str, kw: dict, tensors: dict) -> dict:
    """The plain attributes NVlabs classes keep in their state (as far as a loader may read)."""
    clamp = kw["synthesis_kwargs"].get("conv_clamp")
    if cls == "FullyConnectedLayer":
        lr = 0.01 if path.startswith("mapping") else 1.0
        return {"activation": "lrelu" if path.startswith("mapping") else "linear",
                "weight_gain": np.float64(lr / np.sqrt(tensors["weight"].shape[1])), "bias_gain": lr}
    if cls == "SynthesisLayer":
        return {"resolution": tensors["noise_const"].shape[-1], "up": 2 if path.endswith("conv0") else 1,
                "use_noise": True, "activation": "lrelu", "conv_clamp": clamp, "padding": 1,
                "act_gain": np.float64(np.sqrt(2))}
    if cls == "ToRGBLayer":
        return {"conv_clamp": clamp, "weight_gain": np.float64(1 / np.sqrt(tensors["weight"].shape[1]))}
    if cls == "SynthesisBlock":
        return {"resolution": int(path.split(".b")[-1]), "architecture": "skip", "img_channels": 3,
                "use_fp16": False, "channels_last": False}
    if cls == "Generator":
        return {k: kw[k] for k in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels")}
    return {}


def build_records(sd: dict, kw: dict, *, class_names: dict | None = None, attrs: dict | None = None,
                  module_src: str = PLACEHOLDER_SRC) -> Record:
    """Record tree of a generator from its NVlabs-named tensors; overrides per module path."""
    tree: dict = {}
    for key, t in sd.items():
        *parts, name = key.split(".")
        node = tree
        for p in parts:
            node = node.setdefault(p, {})
        node.setdefault("__tensors__", {})[name] = t

    def make(path: str, node: dict) -> Record:
        tensors = node.get("__tensors__", {})
        kids = {k: make(f"{path}.{k}".lstrip("."), v) for k, v in node.items() if k != "__tensors__"}
        cls = (class_names or {}).get(path, _class_of(path))
        extra = dict(_attrs(path, cls, kw, tensors), **(attrs or {}).get(path, {}))
        return Record(cls, module_state(tensors, kids, **extra), module_src)

    return make("", tree)


def write_snapshot(path: Path, data: dict) -> Path:
    """Pickle ``data`` (Records, tensors, dicts) like NVlabs' training loop does."""
    with _fake_nvlabs_modules(), open(path, "wb") as f:
        pickle.dump(data, f)
    return path


def tiny_nvlabs_snapshot(path: Path, **overrides) -> Path:
    """The committed tiny NVlabs generator as a snapshot pickle {G, D, G_ema, augment_pipe, ...}."""
    import json

    from safetensors.torch import load_file

    sd = load_file(str(FIXTURES / "nvlabs_tiny.safetensors"))
    kw = json.loads((FIXTURES / "nvlabs_tiny.json").read_text())
    G = build_records(sd, kw, **overrides)
    with _fake_nvlabs_modules():
        kwargs = FakeEasyDict(path="tiny.zip", resolution=32)
    return write_snapshot(path, {"training_set_kwargs": kwargs, "G": G, "D": Record("Discriminator", module_state({}, {})),
                                 "G_ema": G, "augment_pipe": None})


def tiny_model_file(folder: Path, *, seed: int, channels: dict, style_dim: int = 16, n_mlp: int = 1) -> Path:
    """A tiny random 16 px StyleGAN2 saved as a netbend .safetensors file (the global RNG untouched)."""
    from netbend.models import save_native
    from netbend.models.stylegan2 import Generator
    from netbend.models.wrapper import StyleGAN2Model

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        gen = Generator(16, style_dim=style_dim, n_mlp=n_mlp, channels=channels)
    path = Path(folder) / "tiny.safetensors"
    save_native(StyleGAN2Model(gen, name="tiny"), path)
    return path
