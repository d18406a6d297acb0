"""Specificity: how far a cluster's ablation moves the change's part distribution away from the
whole layer's, on hand-computed cases, a bootstrap, and a tiny model."""
from __future__ import annotations

import pytest
import torch

from netbend.clustering.baselines import random_groups
from netbend.clustering.evaluate import (bootstrap_specificity, change_distribution, evaluate, kept_parts,
                                         part_sums, specificity)
from netbend.clustering.report import markdown, specificity_table
from netbend.clusters import ClusterSet
from clustering_helpers import halves_masks, tiny_eval_model


def test_part_sums_by_hand_with_the_rest_as_other():
    delta = torch.tensor([[[1.0, 2.0], [3.0, 4.0]]])           # [N=1, 2, 2]
    masks = torch.zeros(1, 3, 2, 2)
    masks[0, 0, 0, 0] = 1                                      # part 0: pixel (0, 0)
    masks[0, 1, 1] = 1                                         # part 1: the bottom row
    masks[0, 2, 0, 1] = 1                                      # part 2: not kept
    sums = part_sums(delta, masks, torch.tensor([True, True, False]))
    torch.testing.assert_close(sums, torch.tensor([[1.0, 7.0, 2.0]], dtype=torch.float64))


def test_specificity_is_the_total_variation_distance_from_the_layer():
    layer = torch.tensor([[1.0, 1.0, 2.0]], dtype=torch.float64)      # [N=1, Q=3]: 1/4, 1/4, 1/2
    same = torch.tensor([[[2.0, 2.0, 4.0]]], dtype=torch.float64)     # same shape, other size
    owner = torch.tensor([[[5.0, 0.0, 0.0]]], dtype=torch.float64)    # all in part 0
    got = specificity(torch.cat([same, owner]), layer)
    torch.testing.assert_close(got, torch.tensor([0.0, 0.75], dtype=torch.float64))
    # pooled over latents: a latent twice as heavy counts twice
    two = torch.tensor([[[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]], dtype=torch.float64)
    torch.testing.assert_close(change_distribution(two), torch.tensor([[1 / 3, 2 / 3, 0.0]],
                                                                       dtype=torch.float64))
    torch.testing.assert_close(change_distribution(two, torch.tensor([2.0, 1.0])),
                               torch.tensor([[0.5, 0.5, 0.0]], dtype=torch.float64))


def test_bootstrap_is_seeded_and_constant_when_every_latent_agrees():
    layer = torch.tensor([[1.0, 3.0]] * 4, dtype=torch.float64)
    clusters = torch.tensor([[[2.0, 2.0]] * 4, [[4.0, 0.0]] * 4], dtype=torch.float64)
    boot = bootstrap_specificity(clusters, layer, draws=16, seed=3)
    point = specificity(clusters, layer).mean()
    assert boot.shape == (16,) and torch.allclose(boot, point.expand(16))
    varied = clusters.clone()
    varied[0, 0] = torch.tensor([9.0, 0.0])
    a, b = (bootstrap_specificity(varied, layer, draws=32, seed=s) for s in (1, 1))
    assert torch.equal(a, b) and a.std() > 0
    assert not torch.equal(a, bootstrap_specificity(varied, layer, draws=32, seed=2))


def test_kept_parts_are_those_in_more_than_half_of_the_faces():
    masks = torch.zeros(4, 3, 2, 2)
    masks[:, 0, 0, 0] = 1          # every face
    masks[:3, 1, 1, 1] = 1         # 3 of 4
    masks[:2, 2, 0, 1] = 1         # 2 of 4: not "most"
    assert kept_parts(masks).tolist() == [True, True, False]


def test_evaluate_reports_specificity_with_draws_and_bootstrap():
    model, masks_fn = tiny_eval_model(), halves_masks

    sizes = [3, 2, 1]
    cs = ClusterSet({"3": random_groups(sizes, seed=7)}, {"paths": {"3": "convs.2"}})
    rep = evaluate(model, cs, n_latents=3, random_draws=3, seed=7, masks_fn=masks_fn,
                   raw_seeds=[1, 2, 3], max_side=4)
    layer = rep["layers"]["3"]
    spec = layer["summary"]["cnn"]["specificity"]
    assert 0.0 <= spec <= 1.0
    assert len(layer["summary"]["random"]["specificity_draws"]) == 3
    # the CNN grouping equals random draw 0, so their specificity and bootstrap agree
    assert layer["summary"]["random"]["specificity_draws"][0] == pytest.approx(spec)
    assert layer["specificity_bootstrap"]["cnn"][0] == layer["specificity_bootstrap"]["random"][0]
    table = specificity_table(rep)
    assert "| 3 | " in table and "**mean**" in table and "x |" in table
    assert "Specificity" in markdown(rep) and "Lift favours random groups" in markdown(rep)
