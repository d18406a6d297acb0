"""Meaningfulness scores and the comparison groupings, on hand-made cases and a tiny model."""
from __future__ import annotations

import itertools

import pytest
import torch

from netbend.clustering.baselines import random_groups, raw_map_groups, sized_assignment
from netbend.clustering.evaluate import alignment, evaluate, locality
from netbend.clustering.report import markdown, wins
from netbend.clusters import ClusterSet
from clustering_helpers import halves_masks, tiny_eval_model



def test_alignment_by_hand():
    masks = torch.zeros(1, 2, 2, 2)
    masks[0, 0, 0, 0] = 1          # part 0: one pixel of four (area 1/4)
    masks[0, 1] = 1 - masks[0, 0]  # part 1: the rest (area 3/4)
    cmaps = torch.zeros(1, 2, 2, 2)
    cmaps[0, 0, 0, 0] = 3.0        # cluster 0: all energy in part 0
    cmaps[0, 1] = 1.0              # cluster 1: uniform energy
    r = alignment(cmaps, masks)
    torch.testing.assert_close(r, torch.tensor([[4.0, 0.0], [1.0, 1.0]], dtype=torch.float64))


def test_locality_by_hand():
    delta = torch.tensor([[[1.0, 3.0], [0.0, 0.0]]])
    mask = torch.tensor([[[0.0, 1.0], [1.0, 1.0]]])
    assert locality(delta, mask) == pytest.approx(0.75)
    assert locality(torch.zeros(1, 2, 2), mask) != locality(torch.zeros(1, 2, 2), mask)  # nan


def test_random_groups_partition_with_sizes():
    g = random_groups([5, 3, 2], seed=1)
    assert [len(x) for x in g] == [5, 3, 2]
    assert sorted(itertools.chain(*g)) == list(range(10))
    assert g == random_groups([5, 3, 2], seed=1) != random_groups([5, 3, 2], seed=2)


def test_sized_assignment_is_optimal_on_a_tiny_case():
    gen = torch.Generator().manual_seed(0)
    x, centres = torch.randn(6, 2, generator=gen), torch.randn(2, 2, generator=gen)
    sizes = [4, 2]
    got = sized_assignment(x, centres, sizes)
    assert [len(c) for c in got] == sizes

    def cost(groups):
        return sum(float(((x[list(g)] - centres[k]) ** 2).sum()) for k, g in enumerate(groups))

    best = min(cost((tuple(sorted(set(range(6)) - set(c))), c))
               for c in itertools.combinations(range(6), 2))
    assert cost(got) == pytest.approx(best)


def test_raw_map_groups_recover_planted_groups():
    gen = torch.Generator().manual_seed(0)
    protos = torch.randn(3, 1, 4, 4, generator=gen) * 3  # three map shapes
    which = torch.tensor([0, 1, 0, 2, 0, 1, 0, 2, 0])      # sizes 5, 2, 2
    maps = protos[which].permute(1, 0, 2, 3) + 0.05 * torch.randn(1, 9, 4, 4, generator=gen)
    maps = maps.repeat(2, 1, 1, 1)  # [N=2, C=9, 4, 4]
    groups = raw_map_groups(maps, [5, 2, 2], seed=0, restarts=4)
    assert groups[0] == (0, 2, 4, 6, 8)
    assert set(groups[1:]) == {(1, 5), (3, 7)}


def test_evaluate_on_a_tiny_model_with_synthetic_masks():
    model, masks_fn = tiny_eval_model(), halves_masks

    sizes = [3, 2, 1]
    # CNN grouping equal to random draw 0: the two must score the same
    cs = ClusterSet({"3": random_groups(sizes, seed=7)}, {"paths": {"3": "convs.2"}})
    rep = evaluate(model, cs, n_latents=3, random_draws=2, seed=7, masks_fn=masks_fn,
                   raw_seeds=[1, 2, 3], max_side=4)
    layer = rep["layers"]["3"]
    assert layer["sizes"] == sizes
    assert layer["groupings"]["cnn"][0] == layer["groupings"]["random"][0]
    for grouping in layer["groupings"].values():
        for draw in grouping:
            assert [s["size"] for s in draw] == sizes
            for s in draw:
                assert s["best_part"] in ("eyes", "skin") and s["alignment"] >= 1.0 - 1e-9
                assert 0.0 <= s["locality"] <= 1.0
                assert s["area"] == pytest.approx(0.5)
    assert wins(rep)[1] == 1
    assert "| 3 | 6: 3/2/1 |" in markdown(rep)


def test_plan_part_change_matches_a_manual_bend():
    from netbend.bending import bend, resolve_plan
    from netbend.clustering.capture import run_seeds
    from netbend.clustering.evaluate import EVAL_SEED_BASE, plan_part_change
    from netbend.plan import Plan

    model = tiny_eval_model()

    def masks_fn(m, seeds):
        masks = torch.zeros(len(seeds), 1, 16, 16)
        masks[:, 0, :4] = 1
        return masks, ("eyes",)

    cs = ClusterSet({"2": ((0, 1, 2), (3, 4, 5, 6, 7))})
    plan = Plan.from_dict({"transforms": [{"layer": 2, "transform": "ablate",
                                           "features": "cluster", "feature-param": 0}]})
    got = plan_part_change(model, plan, cs, n_latents=2, masks_fn=masks_fn)["eyes"]
    seeds = [EVAL_SEED_BASE, EVAL_SEED_BASE + 1]
    plain = run_seeds(model, seeds)
    with bend(model.module, resolve_plan(plan, model, clusters=cs)):
        delta = (run_seeds(model, seeds) - plain).abs().sum(1)
    assert got["inside"] == pytest.approx(float(delta[:, :4].mean()), rel=1e-5)
    assert got["outside"] == pytest.approx(float(delta[:, 4:].mean()), rel=1e-5)
    assert got["ratio"] == pytest.approx(got["inside"] / got["outside"])
