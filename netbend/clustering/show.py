"""``cluster show``: the paper's Figure 4 as a tool, one image per layer.

Each row is one cluster: a label (cluster number and size), the unmodified sample, the cluster's
mean activation as a heat map over the sample (dark blue low, yellow high; scaled per row to its
own min-max), the sample with the cluster ablated, and with the cluster multiplied by ``factor``.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image, ImageDraw

from netbend.clustering.capture import capture_seeds
from netbend.clustering.effects import bent_output, cluster_maps, upsample
from netbend.clusters import ClusterSet
from netbend.media import grid, save_png, to_uint8

# a perceptual-ish ramp: dark blue -> purple -> orange -> yellow
MIN_CELL = 128  # smaller samples are enlarged (nearest neighbour) to at least this size
_RAMP = np.array([[0.05, 0.03, 0.25], [0.45, 0.10, 0.55], [0.90, 0.35, 0.25], [0.98, 0.90, 0.20]])


def heat_colours(values: np.ndarray) -> np.ndarray:
    """Values in [0, 1], any shape -> RGB floats in [0, 1], shape ``values.shape + (3,)``."""
    t = np.clip(values, 0, 1) * (len(_RAMP) - 1)
    i = np.minimum(t.astype(int), len(_RAMP) - 2)
    frac = (t - i)[..., None]
    return _RAMP[i] * (1 - frac) + _RAMP[i + 1] * frac


def heat_overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """Blend a ``[H, W]`` map (min-max scaled) over an ``[H, W, 3]`` uint8 image (greyscaled)."""
    lo, hi = float(heat.min()), float(heat.max())
    scaled = (heat - lo) / (hi - lo) if hi > lo else np.zeros_like(heat)
    grey = image.astype(np.float64).mean(-1, keepdims=True) / 255.0
    out = (1 - alpha) * grey + alpha * heat_colours(scaled)
    return (out * 255).round().astype(np.uint8)


def _label(text: str, height: int, width: int) -> np.ndarray:
    img = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(img).text((3, max(0, height // 2 - 6)), text, fill="black")
    return np.asarray(img)


def layer_figure(model: Any, clusters: ClusterSet, key: str, seed: int = 0,
                 factor: float = 5.0) -> np.ndarray:
    """The figure for one layer of ``clusters`` and one latent ``seed`` (``[H, W, 3]`` uint8)."""
    groups = clusters.layers[key]
    path = (clusters.meta.get("paths") or {}).get(key) or _path_of(model, key)
    layer = int(key) if key.isdigit() else key
    maps, out = capture_seeds(model, [seed], {path: None})
    sample = to_uint8(out)[0]
    heat = upsample(cluster_maps(maps[path], groups), sample.shape[:2])[0].numpy()  # [K, H, W]
    zoom = max(1, MIN_CELL // sample.shape[0])

    def big(img: np.ndarray) -> np.ndarray:
        return img.repeat(zoom, 0).repeat(zoom, 1)

    cells = []
    for k, feats in enumerate(groups):
        ablated = to_uint8(bent_output(model, [seed], path, layer, feats, "ablate"))[0]
        scaled = to_uint8(bent_output(model, [seed], path, layer, feats, "scalar-multiply",
                                      [factor]))[0]
        side = sample.shape[0] * zoom
        cells += [_label(f"{k}: {len(feats)}", side, max(48, side)), big(sample),
                  big(heat_overlay(sample, heat[k])), big(ablated), big(scaled)]
    widths = {c.shape[1] for c in cells}
    if len(widths) > 1:  # the label column is wider than tiny samples: pad samples
        w = max(widths)
        cells = [np.pad(c, ((0, 0), (0, w - c.shape[1]), (0, 0)), constant_values=255)
                 for c in cells]
    body = grid(cells, cols=5)
    titles = ["cluster: size", "sample", "mean activation", "ablated", f"x{factor:g}"]
    width = cells[0].shape[1], cells[1].shape[1]
    header = np.full((16, body.shape[1], 3), 255, np.uint8)
    x = 2
    for i, t in enumerate(titles):
        w = width[0] if i == 0 else width[1]
        header[:, x:x + w] = _label(t, 16, w)
        x += w + 2
    return np.concatenate([header, body], axis=0)


def _path_of(model: Any, key: str) -> str:
    from netbend.layers import find_layer

    return find_layer(model, int(key) if key.isdigit() else key).path


def show(model: Any, clusters: ClusterSet, out_dir: str | os.PathLike, *,
         keys: Sequence[str] | None = None, seed: int = 0, factor: float = 5.0) -> list[Path]:
    """Write ``layer_<key>.png`` per layer into ``out_dir``; returns the paths."""
    written = []
    for key in keys or list(clusters.layers):
        clusters.clusters_of(key)  # fails with the valid layers if unknown
        fig = layer_figure(model, clusters, key, seed=seed, factor=factor)
        path = Path(out_dir) / f"layer_{key.replace('/', '_')}.png"
        save_png(path, fig, {"netbend": f"cluster show layer={key} seed={seed} x{factor}",
                             "columns": "label | sample | mean activation | ablated | multiplied"})
        written.append(path)
    return written
