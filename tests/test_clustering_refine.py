"""Refining clusters by the specificity of their ablations over unsupervised parts."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from netbend.clustering.refine import PartChange, refine, total_variation
from netbend.clustering.segments import feature_paths, fit_segmenter

from clustering_helpers import tiny_eval_model


class Quadrants(torch.nn.Module):
    """Output: feature f's (positive) map pasted into quadrant ``f % 4`` of an 8x8 image, scaled
    by ``1 + f / 10`` so features differ in strength."""

    def __init__(self, n: int = 12):
        super().__init__()
        self.n = n
        self.feat = torch.nn.Identity()

    def forward(self, z):
        f = self.feat(z[:, :, None, None].abs().expand(-1, -1, 4, 4) + 1.0)  # [N, n, 4, 4]
        scale = 1 + torch.arange(self.n, dtype=f.dtype) / 10
        q = [(f * scale[:, None, None])[:, i::4].sum(1) for i in range(4)]
        top, bottom = torch.cat([q[0], q[1]], 2), torch.cat([q[2], q[3]], 2)
        return torch.cat([top, bottom], 1)[:, None].expand(-1, 3, -1, -1)


def toy_model(n: int = 12):
    toy = Quadrants(n)
    z = lambda seeds: torch.stack([torch.randn(n, generator=torch.Generator().manual_seed(s)) for s in seeds])
    model = SimpleNamespace(module=toy, name="toy", run_seeds=lambda seeds: toy(z(seeds)))
    model.dry_run = lambda: model.run_seeds([0])
    return model


def quadrant_masks(n_latents: int) -> torch.Tensor:
    masks = torch.zeros(n_latents, 4, 8, 8, dtype=torch.float64)
    for i, (r, c) in enumerate([(0, 0), (0, 4), (4, 0), (4, 4)]):
        masks[:, i, r:r + 4, c:c + 4] = 1
    return masks


def test_refine_regroups_features_by_the_part_their_ablation_changes():
    model, seeds = toy_model(), [1, 2, 3]
    parts = PartChange(model, "feat", "feat", seeds, quadrant_masks(len(seeds)))
    start = [(0, 1, 2), (3, 4, 5), (6, 7, 8), (9, 10, 11)]  # each cluster spans three quadrants
    got, history = refine(parts, start, min_size=1)
    assert sorted(got) == [(0, 4, 8), (1, 5, 9), (2, 6, 10), (3, 7, 11)]
    assert history[-1] == pytest.approx(0.75)  # each owns one of four equal quadrants: TV 3/4
    assert all(b >= a - 1e-12 for a, b in zip(history, history[1:]))
    assert history[0] < history[-1]


def test_refine_keeps_min_size_and_is_deterministic():
    model, seeds = toy_model(), [4, 5]
    parts = PartChange(model, "feat", "feat", seeds, quadrant_masks(len(seeds)))
    start = [tuple(range(0, 9)), (9, 10, 11)]
    a, _ = refine(parts, start, min_size=3)
    assert min(len(g) for g in a) >= 3 and sorted(f for g in a for f in g) == list(range(12))
    assert refine(parts, start, min_size=3) == refine(parts, start, min_size=3)
    whole = parts.distribution(range(12))
    assert total_variation(whole, whole) == 0.0


def test_part_distribution_is_where_the_ablation_changes_the_output():
    model, seeds = toy_model(), [7]
    parts = PartChange(model, "feat", "feat", seeds, quadrant_masks(1))
    d = parts.distribution([1, 5])  # both in quadrant 1
    assert d.shape == (5,) and d[1] == pytest.approx(1.0) and float(d.sum()) == pytest.approx(1.0)


def test_segments_cover_every_pixel_and_are_reproducible():
    model = tiny_eval_model()
    seeds = [11, 12, 13]
    seg, masks = fit_segmenter(model, seeds, (16, 16), n_segments=4)
    assert masks.shape == (3, 4, 16, 16)
    assert torch.equal(masks.sum(1), torch.ones(3, 16, 16, dtype=masks.dtype))
    again, _ = fit_segmenter(model, seeds, (16, 16), n_segments=4)
    assert torch.equal(again.masks(model, seeds, (16, 16)), masks)
    assert len(masks.sum((0, 2, 3)).nonzero()) > 1  # more than one segment in use


def test_segment_features_come_from_the_middle_of_the_generator():
    """The 16 px model's paper layers are 8 px (convs.0, convs.1) and 16 px (convs.2, convs.3) a side:
    the middle (2..8 px) is the last 8 px layer."""
    assert feature_paths(tiny_eval_model()) == ["convs.1"]
