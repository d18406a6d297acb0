"""A restricted unpickler for NVlabs ``.pkl`` network snapshots that never runs their code.

NVlabs pickles store each network as a ``torch_utils.persistence`` object: a call to
``_reconstruct_persistent_obj(meta)`` whose ``meta`` holds the Python source of the network's
module, the class name and the object state (parameters, buffers, submodules, attributes). The
real reconstructor ``exec``s that source. Here it is replaced by :class:`PersistentRecord`, which
keeps the class name and the state and drops the source unread. Every other global the pickle asks
for must be on a short allow-list (tensor and storage rebuilders, OrderedDict, EasyDict, numpy
scalars/arrays, torch dtypes); anything else is refused with a :class:`NetbendError`, before it
is imported or called.
"""
from __future__ import annotations

import collections
import io
import pickle
from pathlib import Path

import numpy as np
import torch

try:
    from numpy._core import multiarray as _multiarray
except ImportError:  # numpy < 2
    from numpy.core import multiarray as _multiarray

from netbend.errors import NetbendError

PERSISTENCE = ("torch_utils.persistence", "_reconstruct_persistent_obj")


class PersistentRecord:
    """What a persistent NVlabs object becomes: its class name and state, nothing executed."""

    def __init__(self, meta: dict):
        if not isinstance(meta, dict):
            raise pickle.UnpicklingError("persistent object without a meta dict")
        self.class_name = str(meta.get("class_name"))
        self.version = meta.get("version")
        state = meta.get("state")
        self.state = dict(state) if isinstance(state, dict) else {}
        self.had_source = bool(meta.get("module_src"))  # kept as a flag; the text is dropped

    @property
    def modules(self) -> dict:
        """Child records by attribute name (the module's ``_modules``)."""
        return dict(self.state.get("_modules") or {})

    def tensors(self, prefix: str = "") -> dict[str, torch.Tensor]:
        """All parameters and buffers under dotted names, like ``state_dict()``."""
        out = {}
        for group in ("_parameters", "_buffers"):
            for name, t in (self.state.get(group) or {}).items():
                if t is not None:
                    out[prefix + name] = t.detach() if torch.is_tensor(t) else t
        for name, child in self.modules.items():
            if isinstance(child, PersistentRecord):
                out.update(child.tensors(f"{prefix}{name}."))
        return out

    def __repr__(self) -> str:
        return f"PersistentRecord({self.class_name})"


class EasyDict(dict):
    """Stand-in for ``dnnlib.EasyDict``: a plain dict with attribute reads."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setstate__(self, state):  # EasyDict pickles carry no extra state
        pass


def _storage_from_bytes(data: bytes):
    """``torch.storage._load_from_bytes`` without code execution (weights-only load)."""
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def _rebuild_from_type_v2(func, new_type, args, state):
    if new_type not in (torch.Tensor, torch.nn.Parameter):
        raise pickle.UnpicklingError(f"tensor subclass {new_type!r} is not allowed")
    return torch._utils._rebuild_from_type_v2(func, new_type, args, state)


_ALLOWED = {
    PERSISTENCE: PersistentRecord,
    ("torch._utils", "_rebuild_tensor"): torch._utils._rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): torch._utils._rebuild_parameter_with_state,
    ("torch._utils", "_rebuild_from_type_v2"): _rebuild_from_type_v2,
    ("torch.storage", "_load_from_bytes"): _storage_from_bytes,
    ("torch", "Tensor"): torch.Tensor,
    ("torch", "Size"): torch.Size,
    ("torch.nn.parameter", "Parameter"): torch.nn.Parameter,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("dnnlib.util", "EasyDict"): EasyDict,
    ("dnnlib", "EasyDict"): EasyDict,
    ("numpy", "dtype"): np.dtype,
    ("numpy", "ndarray"): np.ndarray,
}
for _name in ("scalar", "_reconstruct"):
    for _np_mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        _ALLOWED[(_np_mod, _name)] = getattr(_multiarray, _name)
for _name in ("float16", "float32", "float64", "bfloat16", "int64", "uint8", "bool"):
    _ALLOWED[("torch", _name)] = getattr(torch, _name)


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler whose ``find_class`` only hands out the allow-listed globals above."""

    def __init__(self, file, source: Path):
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str):
        if module.startswith("dnnlib.tflib"):
            raise NetbendError(f"{self.source}: a TensorFlow StyleGAN pickle ({module}.{name}); not supported "
                               "(convert it to a PyTorch .pkl with NVlabs' legacy.py first)")
        found = _ALLOWED.get((module, name))
        if found is None:
            raise NetbendError(f"{self.source}: refused to unpickle '{module}.{name}': not on netbend's allow-list "
                               "of checkpoint contents (the file may try to run code)")
        return found

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("persistent ids are not used by NVlabs pickles")


def safe_load_pickle(path: str | Path):
    """Unpickle ``path`` with :class:`RestrictedUnpickler`; errors become one-line NetbendErrors."""
    file = Path(path)
    try:
        with open(file, "rb") as f:
            return RestrictedUnpickler(f, file).load()
    except NetbendError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, RuntimeError, MemoryError, UnicodeDecodeError) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise NetbendError(f"{file}: corrupt, truncated or not an NVlabs pickle ({first})") from None
