"""The main-job grid: a model's faces unbent, then bent by example plans, one row per bend.

Rows, top to bottom: the unbent faces; a *layer sweep* (the paper's Figure 2: one plan entry
applied at each of several layers, one row per layer); then one row per further plan. Columns are
the seeds. Each row is labelled on the left.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageDraw

from netbend.bending import bend, resolve_plan
from netbend.errors import NetbendError
from netbend.media import to_uint8
from netbend.plan import Plan


@dataclass(frozen=True)
class Row:
    label: str
    plan: Plan


def sweep_rows(template: Plan, layers: list[int]) -> list[Row]:
    """One row per layer: ``template``'s single entry moved to that layer."""
    if len(template.transforms) != 1:
        raise NetbendError(f"{template.source}: a layer-sweep plan needs exactly one transform entry, "
                           f"it has {len(template.transforms)}")
    entry = template.to_dict()["transforms"][0]
    name = f"{entry['transform']} {_params_text(entry['params'])}".strip()
    return [Row(f"{name} @ layer {layer}", Plan.from_dict({"transforms": [{**entry, "layer": layer}]},
                                                          source=template.source))
            for layer in layers]


def _params_text(params: dict) -> str:
    return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in params.values())


@torch.no_grad()
def bend_rows(model, seeds: list[int], rows: list[Row], seed: int = 0, clusters=None) -> list[np.ndarray]:
    """uint8 images [len(seeds), H, W, 3] per row (row 0 of ``rows`` first).

    ``clusters`` (a :class:`~netbend.clusters.ClusterSet`) serves plans that select by cluster.
    """
    z = model.latents_from_seeds(seeds)
    out = []
    for row in rows:
        with bend(model.module, resolve_plan(row.plan, model, seed=seed, clusters=clusters)):
            out.append(to_uint8(model.synthesize(z=z, noise="const")))
    return out


def labelled_grid(rows: list[np.ndarray], labels: list[str], scale: int = 2, pad: int = 2,
                  label_width: int = 150) -> np.ndarray:
    """Tile rows of images (each [K, H, W, 3]) under a left column of text labels."""
    k, h, w, _ = rows[0].shape
    h, w = h * scale, w * scale
    height = len(rows) * (h + pad) + pad
    canvas = Image.new("RGB", (label_width + k * (w + pad) + pad, height), (255, 255, 255))
    draw = ImageDraw.Draw(canvas)
    for r, (images, label) in enumerate(zip(rows, labels)):
        top = pad + r * (h + pad)
        draw.text((4, top + h // 2 - 6), label, fill=(0, 0, 0))
        for c, img in enumerate(images):
            tile = Image.fromarray(img).resize((w, h), Image.NEAREST)
            canvas.paste(tile, (label_width + pad + c * (w + pad), top))
    return np.asarray(canvas)
