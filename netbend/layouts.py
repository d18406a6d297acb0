"""Layer layouts: which axis of a layer's output holds the features, and what transforms mean there.

Three layouts are bendable (shapes with the batch dimension N first):

========  ==================  ==========================================================
layout    output              features / positions
========  ==================  ==========================================================
``NCHW``  [N, C, H, W]        C features (dim 1) over an H x W map (images, spectrograms)
``NCL``   [N, C, L]           C features (dim 1) over L positions (waveform / sequence convs)
``NTD``   [N, T, D]           D features (last dim) over T tokens (transformers, Linear)
========  ==================  ==========================================================

A 4-D output is ``NCHW``. A 3-D output's layout is inferred from the module that produced it:
1-D convolutions, pools, paddings, ``BatchNorm1d``/``InstanceNorm1d``/``GroupNorm`` and
``Upsample`` give ``NCL``; ``Linear``, ``LayerNorm``, ``Embedding`` and attention give ``NTD``
(PyTorch applies them to the last dim); any other module (activations, dropout, residual blocks)
inherits the layout of its input, and ``NTD`` is the default. A model wrapper may override the rule
per module path with a ``layer_layouts`` mapping (``ModuleModel(..., layouts={...})``).
``netbend layers`` prints each layer's layout. A plan addresses features the same way on every
layout (``features: indices`` counts along the feature axis).

Every transform sees maps ``[N, k, H, W]`` of the selected features. A 1-D layer is handed over as
1-pixel-high maps: ``NCL`` as [N, k, 1, L], ``NTD`` transposed to [N, k, 1, T]. Value transforms
(``POINTWISE``) mean the same on every layout; the spatial ones with a 1-D form act along L (or
T): ``translate`` (``px`` x L positions; ``py`` must be 0), ``flip-h``, ``scale`` (``kx``; ``ky``
must be unset), ``blur`` (``sigma`` positions), ``erode``/``dilate`` (``r`` positions). ``flip-v``
and ``rotate`` have no meaning on one axis and are refused when a plan is resolved, as is any
other transform not marked 1-D capable (plugins: :func:`mark_pointwise`).
"""
from __future__ import annotations

from typing import Any

import torch
from torch import nn

from netbend.errors import NetbendError

LAYOUTS = ("NCHW", "NCL", "NTD")
POINTWISE = {"ablate", "invert", "scalar-multiply", "binary-thresh", "add", "noise"}
ALONG_AXIS = {"translate": {"py": 0.0}, "flip-h": {}, "scale": {"ky": None}, "blur": {},
              "erode": {}, "dilate": {}}  # name -> parameters that must keep these values in 1-D
CHANNELS_FIRST = (nn.Conv1d, nn.ConvTranspose1d, nn.BatchNorm1d, nn.InstanceNorm1d, nn.GroupNorm,
                  nn.MaxPool1d, nn.AvgPool1d, nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool1d, nn.Upsample,
                  nn.ConstantPad1d, nn.ReflectionPad1d, nn.ReplicationPad1d, nn.ZeroPad1d)
LAST_DIM = (nn.Linear, nn.LayerNorm, nn.Embedding, nn.MultiheadAttention, nn.TransformerEncoderLayer,
            nn.TransformerDecoderLayer, nn.RMSNorm)


def mark_pointwise(name: str) -> None:
    """Declare a (plugin) transform element-wise, so it may bend 1-D and token layers too."""
    POINTWISE.add(name)


class LayoutTracker:
    """Infers the layout of each 3-D output during one dry forward pass (see the module docstring)."""

    def __init__(self, overrides: dict[str, str] | None = None):
        self.overrides = dict(overrides or {})
        self._known: dict[int, tuple[torch.Tensor, str]] = {}  # id -> (tensor kept alive, layout)

    def layout(self, path: str, module: nn.Module, inputs: tuple, out: torch.Tensor) -> str:
        if out.dim() == 4:
            return "NCHW"
        if path in self.overrides:
            found = self.overrides[path]
        elif id(out) in self._known:
            found = self._known[id(out)][1]
        elif isinstance(module, CHANNELS_FIRST):
            found = "NCL"
        elif isinstance(module, LAST_DIM):
            found = "NTD"
        else:
            found = next((self._known[id(t)][1] for t in inputs
                          if isinstance(t, torch.Tensor) and id(t) in self._known), "NTD")
        self._known[id(out)] = (out, found)
        return found


def feature_count(shape: tuple[int, ...], layout: str) -> int:
    """Features of an output shape without the batch dimension."""
    return shape[-1] if layout == "NTD" else shape[0]


def map_shape(shape: tuple[int, ...], layout: str) -> tuple[int, int, int]:
    """(features, height, width) the transforms and the clustering see."""
    if layout == "NCHW":
        return tuple(shape)  # type: ignore[return-value]
    return (shape[0], 1, shape[1]) if layout == "NCL" else (shape[1], 1, shape[0])


def to_maps(out: torch.Tensor, layout: str) -> torch.Tensor:
    """Layer output -> [N, C, H, W] maps (a view for 1-D layouts)."""
    if layout == "NCHW":
        return out
    return out.unsqueeze(2) if layout == "NCL" else out.transpose(1, 2).unsqueeze(2)  # [N, C, 1, L]


def from_maps(maps: torch.Tensor, layout: str) -> torch.Tensor:
    """Inverse of :func:`to_maps`."""
    if layout == "NCHW":
        return maps
    return maps.squeeze(2) if layout == "NCL" else maps.squeeze(2).transpose(1, 2)


def check_transform(name: str, params: dict[str, Any], layout: str, path: str, where: str = "") -> None:
    """Refuse, by name, a transform (or parameter) that has no meaning on ``layout``."""
    if layout == "NCHW" or name in POINTWISE:
        return
    shape = "[N, C, L]" if layout == "NCL" else "[N, T, D]"
    if name not in ALONG_AXIS:
        ok = ", ".join(sorted(POINTWISE | set(ALONG_AXIS)))
        raise NetbendError(f"{where}transform: '{name}' has no meaning on the 1-D layer '{path}' ({shape}); "
                           f"1-D layers take {ok}")
    for key, neutral in ALONG_AXIS[name].items():
        if params.get(key) != neutral:
            raise NetbendError(f"{where}params: '{name}' parameter '{key}' has no meaning on the 1-D layer "
                               f"'{path}' ({shape}); leave it {'unset' if neutral is None else neutral}")
