"""Clustering methods for the embeddings: the paper's k-means (unchanged), Ward, spectral."""
from __future__ import annotations

import itertools

import pytest
import torch

from netbend.clustering.embed import cluster_embeddings
from netbend.clustering.kmeans import best_of, canonical_clusters
from netbend.clustering.methods import METHODS, cluster_features
from netbend.errors import NetbendError


def _planted(seed: int = 0) -> tuple[torch.Tensor, tuple[tuple[int, ...], ...]]:
    """Three well-separated groups of 24, 16 and 12 points, interleaved."""
    gen = torch.Generator().manual_seed(seed)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]], dtype=torch.float64)
    which = torch.cat([torch.tensor([0, 1, 0, 2] * 12), torch.tensor([1, 1, 1, 1])])  # 24 / 16 / 12
    x = centres[which] + 0.3 * torch.randn(len(which), 2, generator=gen, dtype=torch.float64)
    want = tuple(tuple(int(i) for i in torch.nonzero(which == g).flatten()) for g in (0, 1, 2))
    return x, want


@pytest.mark.parametrize("method", METHODS)
def test_every_method_recovers_planted_groups_in_canonical_order(method):
    x, want = _planted()
    got = cluster_features(x, 3, method=method, seed=0, restarts=4)
    assert got == want
    assert sorted(itertools.chain(*got)) == list(range(len(x)))


def test_paper_method_is_the_unchanged_kmeans():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(40, 10, generator=gen, dtype=torch.float64)
    ref = canonical_clusters(best_of(x, 5, seed=3, restarts=2).labels, 5)
    assert cluster_features(x, 5, method="paper", seed=3, restarts=2) == ref
    assert cluster_embeddings({"1": x}, {"1": 5}, seed=3, restarts=2)["1"] == ref


def test_methods_are_deterministic_and_unknown_ones_are_refused():
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(30, 10, generator=gen, dtype=torch.float64)
    for method in ("ward", "spectral"):
        a = cluster_features(x, 4, method=method)
        assert a == cluster_features(x, 4, method=method) and len(a) == 4
    with pytest.raises(NetbendError, match="unknown clustering method 'spectrall'.*spectral"):
        cluster_features(x, 4, method="spectrall")
    assert cluster_features(x[:3], 5, method="ward") == cluster_features(x[:3], 5, method="paper")


def test_cluster_assign_method_option_records_the_method(tmp_path):
    import json

    from click.testing import CliRunner

    from netbend.cli import main
    from netbend.clustering import DEFAULT_CNN

    for method in ("paper", "spectral", "joint", "parts"):
        out = tmp_path / f"{method}.json"
        res = CliRunner().invoke(main, ["cluster", "assign", "--cnn", str(DEFAULT_CNN), "--layers", "8",
                                        "--n-general", "4", "--method", method, "--out", str(out)])
        assert res.exit_code == 0, res.output
        data = json.loads(out.read_text())
        assert sorted(f for c in data["layers"]["8"] for f in c) == list(range(16))
        assert data["meta"].get("clustering") == (None if method == "paper" else method)
        assert data["meta"].get("signature_latents") == (4 if method in ("joint", "parts") else None)
        if method == "parts":  # k chosen in 3..5 by the refinement, recorded with its scores
            refine = data["meta"]["refine"]
            assert refine["latents"] == 4 and refine["segments"] == 8
            assert data["meta"]["k"]["8"] == refine["layers"]["8"]["k"] == len(data["layers"]["8"])
            assert set(refine["layers"]["8"]["k_scores"]) == {"3", "4", "5"}
            assert "layer 8: k " in res.output
    res = CliRunner().invoke(main, ["cluster", "assign", "--cnn", str(DEFAULT_CNN), "--layers", "8", "--n-general",
                                    "4", "--method", "parts", "--segment-layers", "convs.99",
                                    "--out", str(tmp_path / "bad.json")])
    assert res.exit_code == 2 and "--segment-layers" in res.output and "'convs.99'" in res.output
    assert not (tmp_path / "bad.json").exists()
    res = CliRunner().invoke(main, ["cluster", "assign", "--cnn", str(DEFAULT_CNN), "--method", "kmeans",
                                    "--out", str(tmp_path / "x.json")])
    assert res.exit_code == 2 and "'kmeans' is not one of" in res.output


def test_joint_signatures_group_features_by_where_their_ablation_acts():
    """On a toy generator whose output is each feature's map pasted in one of two image halves,
    the effect and activation signatures split the features by half, whatever the CNN embedding."""
    from types import SimpleNamespace

    from netbend.clustering.signatures import activation_signatures, effect_signatures, joint

    class Toy(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.feat = torch.nn.Identity()

        def forward(self, z):
            f = self.feat(z[:, :, None, None].expand(-1, -1, 4, 4) + 1.0)   # [N, 6, 4, 4] features
            left, right = f[:, 0::2].sum(1, keepdim=True), f[:, 1::2].sum(1, keepdim=True)
            return torch.cat([left, right], 3).expand(-1, 3, -1, -1)        # even -> left, odd -> right

    toy = Toy()
    model = SimpleNamespace(module=toy, name="toy",
                            run_seeds=lambda seeds: toy(torch.stack([torch.randn(6, generator=torch.Generator()
                                                                                 .manual_seed(s)) for s in seeds])))
    model.dry_run = lambda: model.run_seeds([0])
    eff = effect_signatures(model, "feat", "feat", 6, [1, 2, 3], grid=2)
    assert eff.shape == (6, 4) and torch.allclose(eff.pow(2).sum(1), torch.ones(6, dtype=eff.dtype))
    x = joint([torch.randn(6, 10, generator=torch.Generator().manual_seed(0)), eff], [0.1, 1.0])
    assert cluster_features(x, 2, method="joint") == ((0, 2, 4), (1, 3, 5))
    assert activation_signatures(model, "feat", [1, 2], grid=2).shape == (6, 4)
