"""What each feature *does* and *where it is*, as vectors to cluster beside the CNN embeddings.

* **effect signature** ``[C, g*g]``: where ablating that feature alone changes the output
  (``|bent - plain|`` summed over channels, area-pooled to a ``g x g`` grid and summed over the
  latents), normalised to sum 1 and square-rooted, so that Euclidean distance approximates the
  Hellinger distance between two features' change distributions. One forward pass per feature.
* **activation signature** ``[C, g*g]``: where the feature's energy is (its squared map, pooled
  to the grid and summed over the latents), normalised and square-rooted the same way.
* :func:`joint`: blocks of rows ``[C, D_i]`` centred and scaled to unit mean squared norm each,
  weighted and concatenated, so that no block dominates by its units or its dimension.

None of them needs part masks or labels: they work for any model the pipeline can run.
:func:`joint_signatures` joins all three for one layer (the ``joint`` clustering method, see
:mod:`.methods`).
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
import torch.nn.functional as F

from netbend.clustering.capture import capture_seeds, run_seeds
from netbend.clustering.effects import bent_output

GRID = 8


def _hellinger_rows(pooled: torch.Tensor) -> torch.Tensor:
    """Non-negative rows ``[C, D]`` -> square roots of the rows normalised to sum 1."""
    return (pooled / pooled.sum(1, keepdim=True).clamp_min(1e-30)).sqrt()


def _pool(x: torch.Tensor, grid: int) -> torch.Tensor:
    """``[N, C, H, W]`` -> ``[C, g*g]`` area-pooled to at most ``grid`` per side, summed over N."""
    h, w = x.shape[-2:]
    return F.adaptive_avg_pool2d(x.double(), (min(grid, h), min(grid, w))).sum(0).flatten(1)


def change_maps(delta: torch.Tensor) -> torch.Tensor:
    """``|bent - plain|`` of any output ``[N, C, H, W]`` / ``[N, C, L]`` / ``[N, D]`` as ``[N, 1, H, W]``
    (summed over channels; 1-D outputs as one row)."""
    if delta.dim() == 4:
        return delta.sum(1, keepdim=True)
    flat = delta.sum(1) if delta.dim() == 3 else delta.reshape(delta.shape[0], -1)
    return flat[:, None, None, :]


def effect_signatures(model: Any, path: str, layer: int | str, n_features: int, seeds: Sequence[int],
                      grid: int = GRID) -> torch.Tensor:
    """``[C, g*g]``: where ablating each feature alone changes the output (see module docs)."""
    from netbend.layers import layer_layouts

    layout = layer_layouts(model).get(path, "NCHW")
    plain = run_seeds(model, seeds)
    rows = []
    for f in range(n_features):
        delta = (bent_output(model, seeds, path, layer, [f], "ablate", layout=layout) - plain).abs()
        rows.append(_pool(change_maps(delta), grid)[0])
    return _hellinger_rows(torch.stack(rows))


def activation_signatures(model: Any, path: str, seeds: Sequence[int], grid: int = GRID) -> torch.Tensor:
    """``[C, g*g]``: where each feature's squared activation lies (see module docs)."""
    maps, _ = capture_seeds(model, seeds, {path: None})
    return _hellinger_rows(_pool(maps[path].double().pow(2), grid))


def joint(blocks: Sequence[torch.Tensor], weights: Sequence[float]) -> torch.Tensor:
    """Rows ``[C, D_i]`` of each block, centred, scaled to unit mean squared norm and weighted,
    side by side: ``[C, sum D_i]``."""
    out = []
    for x, w in zip(blocks, weights):
        x = x.double() - x.double().mean(0, keepdim=True)
        scale = x.pow(2).sum(1).mean().sqrt().clamp_min(1e-30)
        out.append(float(w) * x / scale)
    return torch.cat(out, 1)


def joint_signatures(model: Any, path: str, layer: int | str, embedding: torch.Tensor, seeds: Sequence[int],
                     grid: int = GRID) -> torch.Tensor:
    """One layer's CNN embedding ``[C, D]`` joined (equal weights) with its features' effect and
    activation signatures over ``seeds``: ``[C, D + 2 g*g]``."""
    n_features = embedding.shape[0]
    effect = effect_signatures(model, path, layer, n_features, seeds, grid)
    activation = activation_signatures(model, path, seeds, grid)
    return joint([embedding, effect, activation], [1.0, 1.0, 1.0])
