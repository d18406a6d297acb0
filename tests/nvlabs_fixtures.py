"""Test helpers: NVlabs-structured pickles from the fixtures in ``tests/fixtures/stylegan3/``.

Each fixture ``NAME`` is ``NAME.safetensors`` (the generator's NVlabs-named tensors), ``NAME.json``
(constructor kwargs and, per module, class name, parameter/buffer names and plain attributes as
NVlabs' code set them) and ``NAME_ref.safetensors`` (images NVlabs' reference code made). The pickle
written here has the structure of a real NVlabs snapshot and none of its code (see
``tests/stylegan2_helpers.py``).
"""
from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

from stylegan2_helpers import FakeEasyDict, Record, _fake_nvlabs_modules, write_snapshot

FIXTURES = Path(__file__).parent / "fixtures" / "stylegan3"
REFERENCE = json.loads((FIXTURES / "reference.json").read_text())


def decode(value):
    """Inverse of make_reference.encode: numpy arrays and scalars come back as numpy objects."""
    if isinstance(value, dict) and "__ndarray__" in value:
        return np.asarray(value["__ndarray__"], dtype=value["dtype"])
    if isinstance(value, dict) and "__npscalar__" in value:
        return np.dtype(value["dtype"]).type(value["__npscalar__"])
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        return {k: decode(v) for k, v in value.items()}
    return value


def fixture(name: str) -> tuple[dict, dict, dict]:
    """(tensors, description, reference images) of fixture ``name``."""
    sd = load_file(str(FIXTURES / f"{name}.safetensors"))
    desc = json.loads((FIXTURES / f"{name}.json").read_text())
    refs = {k: v.numpy() for k, v in load_file(str(FIXTURES / f"{name}_ref.safetensors")).items()}
    return sd, desc, refs


def records(sd: dict, desc: dict, *, drop: tuple[str, ...] = (), attrs: dict | None = None,
            class_names: dict | None = None) -> Record:
    """The generator as Records; ``drop`` removes tensors, ``attrs``/``class_names`` override per path."""
    mods = desc["modules"]
    with _fake_nvlabs_modules():
        def make(path: str) -> Record:
            m = mods[path]
            prefix = f"{path}." if path else ""
            kids = OrderedDict((p[len(prefix):], make(p)) for p in mods
                               if p.startswith(prefix) and p != path and "." not in p[len(prefix):])
            params = OrderedDict((k, torch.nn.Parameter(sd[prefix + k].clone(), requires_grad=False))
                                 for k in m["params"] if prefix + k not in drop)
            buffers = OrderedDict((k, sd[prefix + k].clone() if prefix + k in sd else None)
                                  for k in m["buffers"] if prefix + k not in drop)
            state = {"training": False, "_parameters": params, "_buffers": buffers,
                     "_non_persistent_buffers_set": set(), "_modules": kids,
                     **{k: decode(v) for k, v in m["attrs"].items()},
                     **(attrs or {}).get(path, {}), "_init_args": (), "_init_kwargs": FakeEasyDict()}
            for k in [k for k, v in state.items() if v is _DELETE]:
                del state[k]
            return Record((class_names or {}).get(path, m["class"]), state)

        return make("")


_DELETE = object()


def delete() -> object:
    """Marker for ``attrs``: remove this attribute from the record."""
    return _DELETE


def write_fixture_pickle(name: str, path: Path, **overrides) -> Path:
    """Fixture ``name`` as an NVlabs snapshot pickle {G, G_ema, D, augment_pipe, training_set_kwargs}."""
    sd, desc, _ = fixture(name)
    G = records(sd, desc, **overrides)
    return write_snapshot(path, {"G": G, "G_ema": G, "D": None, "augment_pipe": None, "training_set_kwargs": None})
