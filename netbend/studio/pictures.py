"""Pictures for the page: each cluster's mean activation over the current image (what
``netbend cluster show`` draws in its heat-map column), and a layer's activation maps.
"""
from __future__ import annotations

import base64
from typing import Any

import numpy as np
import torch

from netbend.clustering.capture import capture
from netbend.clustering.effects import cluster_maps, upsample
from netbend.clustering.show import heat_colours, heat_overlay
from netbend.errors import NetbendError
from netbend.generate import render
from netbend.bending import resolve_plan
from netbend.layers import find_layer
from netbend.media import grid, to_uint8
from netbend.plan import Plan
from netbend.studio.engine import Engine, png_bytes
from netbend.studio.state import StudioState

MAX_GRID = 64


def _layer_key(layer: Any) -> int | str:
    text = str(layer)
    return int(text) if text.isdigit() else text


def _capture(engine: Engine, state: StudioState, path: str, bent: bool) -> tuple[torch.Tensor, np.ndarray]:
    """The layer's output [C, h, w] and the image [H, W, C] for the state's latent."""
    with engine.lock:
        latents = engine.latents(state)
        resolved = resolve_plan(state.plan if bent else Plan(), engine.model, seed=state.seed,
                                variation=state.variation, clusters=engine.clusters)
        with capture(engine.model.module, {path: None}) as maps:
            batch = next(render(engine.model, latents, [resolved], truncation=state.latent.truncation,
                                noise=state.latent.noise, noise_seed=state.seed, batch_size=1))
        return maps[path][0], to_uint8(batch.images)[0]


def cluster_pictures(engine: Engine, state: StudioState, layer: Any) -> dict[str, Any]:
    """One small PNG (data URL) per cluster of ``layer``: its mean activation over the image
    (none for the audio model: its picker shows cluster sizes only)."""
    if engine.clusters is None:
        raise NetbendError("clusters: no cluster file loaded (--clusters FILE or import one)")
    info = find_layer(engine.model, _layer_key(layer), where="clusters: ")
    groups = engine.clusters.clusters_of(_layer_key(layer), info.path)
    if getattr(engine, "kind", "image") != "image":
        return {"layer": str(layer), "clusters": [{"index": k, "size": len(f), "png": None}
                                                 for k, f in enumerate(groups)]}
    maps, image = _capture(engine, state, info.path, bent=False)
    heat = upsample(cluster_maps(maps[None], groups), image.shape[:2])[0].numpy()  # [K, H, W]
    pics = []
    for k, feats in enumerate(groups):
        png = png_bytes(heat_overlay(image, heat[k]))
        pics.append({"index": k, "size": len(feats),
                     "png": "data:image/png;base64," + base64.b64encode(png).decode()})
    return {"layer": str(layer), "clusters": pics}


def inspect_layer(engine: Engine, state: StudioState, layer: Any, bent: bool = True,
                  feature: Any = None, cluster: Any = None) -> bytes:
    """A PNG of ``layer``'s activation maps for the state's latent: one feature, or one cluster's
    mean map, as a heat map; or (neither given) a grid of the first features; each scaled to its
    own min-max."""
    if getattr(engine, "kind", "image") != "image":
        raise NetbendError("inspect: look inside works on image generators")
    if layer in (None, ""):
        raise NetbendError("inspect: choose a layer")
    info = find_layer(engine.model, _layer_key(layer), where="inspect: ")
    maps, _ = _capture(engine, state, info.path, bent=bent)  # [C, h, w]
    if cluster not in (None, ""):
        if engine.clusters is None:
            raise NetbendError("inspect: no cluster file loaded (--clusters FILE or import one)")
        groups = engine.clusters.clusters_of(_layer_key(layer), info.path)
        if isinstance(cluster, bool) or not str(cluster).isdigit() or int(cluster) >= len(groups):
            raise NetbendError(f"inspect: cluster must be 0-{len(groups) - 1}, got {cluster!r}")
        chosen = cluster_maps(maps[None], [groups[int(cluster)]])[0]  # [1, h, w]
    elif feature not in (None, ""):
        if isinstance(feature, bool) or not str(feature).isdigit() or int(feature) >= info.channels:
            raise NetbendError(f"inspect: feature must be 0-{info.channels - 1}, got {feature!r}")
        chosen = maps[int(feature)][None]
    else:
        chosen = maps[:MAX_GRID]
    lo = chosen.amin(dim=(1, 2), keepdim=True)
    hi = chosen.amax(dim=(1, 2), keepdim=True)
    scaled = ((chosen - lo) / (hi - lo).clamp_min(1e-12)).numpy()
    zoom = max(1, 64 // scaled.shape[-1])
    tiles = [(heat_colours(m) * 255).round().astype(np.uint8).repeat(zoom, 0).repeat(zoom, 1) for m in scaled]
    cols = 1 if len(tiles) == 1 else int(np.ceil(np.sqrt(len(tiles))))
    return png_bytes(grid(tiles, cols=cols, pad=1 if len(tiles) > 1 else 0))
