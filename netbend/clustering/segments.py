"""Parts of a model's outputs without labels: k-means of the generator's own per-pixel features.

A generator's intermediate features, read per output pixel, group the pixels of its images into
parts (hair, skin, background, eyes, the mouth region, ... on a face model) with no annotation:
the observation behind Collins et al., "Editing in Style" (CVPR 2020). A :class:`Segmenter`
holds the recipe:

* features: the last layer of each map size in the middle of the generator (:func:`feature_paths`:
  sides from an eighth to a half of the largest; on the built-in face model ``convs.1``,
  ``convs.3``, ``convs.5``, 8 to 32 px), each resized to the segmentation's size (the output's,
  at most :data:`SIDE` px a side), standardised per feature and weighted so that every layer
  counts alike;
* k-means (:mod:`.kmeans`, best of a few Forgy starts) on a seeded sample of those pixel
  vectors over the fitting latents: ``n_segments`` centres;
* :meth:`Segmenter.masks`: every pixel of any latent's segmentation-size map goes to its nearest
  centre, as one-hot masks ``[N, S, h, w]``.

:mod:`.refine` uses the masks in place of hand-drawn part masks. Nothing here sees labels. On the built-in face model, 8
segments fitted on 16 latents carry 0.68 of the renderer's part labels' entropy on 32 other
latents (mutual information / entropy; with the finest layer too, ``convs.3/5/7``: 0.53);
``benchmarks/segments_vs_parts.py`` measures it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from netbend.clustering.capture import capture_seeds
from netbend.clustering.kmeans import best_of

N_SEGMENTS = 8
SIDE = 64         # segmentation maps are at most this many pixels a side
SAMPLE = 20_000   # pixel vectors k-means sees
RESTARTS = 4


def feature_paths(model: Any) -> list[str]:
    """The last layer of each map size whose side lies between an eighth and a half of the largest
    (the middle of the generator: its coarsest maps hold too little of the image, its finest mostly
    colour and texture), among the layers the pipeline clusters (the paper layers where the model
    has them); no such size: the last layer of each size."""
    from netbend.clustering.capture import choose_layers

    layers = choose_layers(model)
    top = max(max(l.height, l.width) for l in layers)
    last: dict[tuple[int, int], str] = {}
    middle: dict[tuple[int, int], str] = {}
    for l in layers:  # network order: the last of each size wins
        last[(l.height, l.width)] = l.path
        if 8 * max(l.height, l.width) >= top and 2 * max(l.height, l.width) <= top:
            middle[(l.height, l.width)] = l.path
    return list((middle or last).values())


@dataclass
class Segmenter:
    """How to split a model's outputs into unsupervised parts (see module docs)."""

    paths: tuple[str, ...]
    mean: dict[str, torch.Tensor]     # per path, per feature [C]
    std: dict[str, torch.Tensor]
    centres: torch.Tensor             # [S, D]

    def features(self, maps: dict[str, torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
        """Captured maps of :attr:`paths` -> per-pixel feature vectors ``[N, D, h, w]`` at ``size``."""
        out = []
        for p in self.paths:
            x = maps[p].double()
            if tuple(x.shape[-2:]) != tuple(size):
                x = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
            x = (x - self.mean[p][None, :, None, None]) / self.std[p][None, :, None, None]
            out.append(x / x.shape[1] ** 0.5)  # every layer weighs alike, whatever its width
        return torch.cat(out, 1)

    def assign(self, f: torch.Tensor) -> torch.Tensor:
        """Feature vectors ``[N, D, h, w]`` -> one-hot masks ``[N, S, h, w]`` of the nearest centres."""
        n, d, h, w = f.shape
        labels = torch.cdist(f.permute(0, 2, 3, 1).reshape(-1, d), self.centres).argmin(1).view(n, h, w)
        return (labels[:, None] == torch.arange(len(self.centres))[None, :, None, None]).double()

    def masks(self, model: Any, seeds: Sequence[int], size: tuple[int, int]) -> torch.Tensor:
        """One-hot segment masks ``[N, S, h, w]`` of the outputs of ``seeds``."""
        maps, _ = capture_seeds(model, seeds, {p: None for p in self.paths})
        return self.assign(self.features(maps, size))


def fit_segmenter(model: Any, seeds: Sequence[int], size: tuple[int, int] | None = None, *,
                  n_segments: int = N_SEGMENTS, seed: int = 0, paths: Sequence[str] | None = None
                  ) -> tuple[Segmenter, torch.Tensor]:
    """Fit the segments on the outputs of ``seeds`` at ``size`` (default: the output's, at most
    :data:`SIDE` px a side; see module docs); ``paths``: the feature layers (paper numbers or module
    paths; default :func:`feature_paths`). Returns the segmenter and the masks of ``seeds`` (one
    forward pass in all)."""
    from netbend.clustering.capture import stored_size
    from netbend.clustering.signatures import change_maps

    if paths:
        from netbend.layers import find_layer

        paths = tuple(find_layer(model, int(p) if str(p).isdigit() else str(p), where="--segment-layers: ").path
                      for p in paths)
    else:
        paths = tuple(feature_paths(model))
    maps, output = capture_seeds(model, seeds, {p: None for p in paths})
    size = size or stored_size(*change_maps(output).shape[-2:], SIDE)
    mean = {p: maps[p].double().mean((0, 2, 3)) for p in paths}
    std = {p: maps[p].double().std((0, 2, 3)).clamp_min(1e-8) for p in paths}
    segmenter = Segmenter(paths, mean, std, torch.empty(0))
    f = segmenter.features(maps, size)
    pixels = f.permute(0, 2, 3, 1).reshape(-1, f.shape[1])
    pick = torch.randperm(len(pixels), generator=torch.Generator().manual_seed(int(seed)))[:SAMPLE]
    k = min(n_segments, len(pick))
    segmenter.centres = best_of(pixels[pick], k, seed=seed, restarts=RESTARTS).centres.double()
    return segmenter, segmenter.assign(f)
