"""Metric CNN, k-means and the training loop on tiny tensors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans

from netbend.clustering import presets
from netbend.clustering.kmeans import (best_of, canonical_clusters, forgy_init, kmeans,
                                       labels_of)
from netbend.clustering.model import CNNConfig, MetricCNN, channel_shuffle
from netbend.clustering.train import (TensorMaps, TrainSettings, accuracy, load_checkpoint,
                                      load_trained, train_layer)
from netbend.errors import NetbendError



# ---- presets: the rules reproduce the paper's tables ------------------------------------------

@pytest.mark.parametrize("res,depth,k,batch", [(8, 1, 5, 500), (16, 2, 5, 500), (32, 3, 5, 500),
                                               (64, 4, 5, 200), (128, 5, 4, 80), (256, 6, 4, 50),
                                               (512, 7, 3, 20), (1024, 8, 3, 10)])
def test_stylegan2_table(res, depth, k, batch):
    assert presets.cnn_depth(res, res) == depth
    assert presets.table_k_and_batch(res, res) == (k, batch)


@pytest.mark.parametrize("number,hw,depth,k", [(1, (8, 33), 1, 5), (2, (17, 65), 2, 5),
                                               (3, (32, 129), 3, 4), (4, (64, 257), 4, 4)])
def test_vae_table(number, hw, depth, k):
    assert presets.cnn_depth(*hw) == depth
    assert presets.table_k_and_batch(*hw, family="vae", number=number) == (k, 100)


def test_unknown_preset_names_the_choices():
    with pytest.raises(NetbendError, match="paper"):
        presets.get_preset("papr")


# ---- the CNN ---------------------------------------------------------------------------------

def test_channel_shuffle_interleaves_halves():
    x = torch.arange(6.0).view(1, 6, 1, 1)
    assert channel_shuffle(x, 2).flatten().tolist() == [0, 3, 1, 4, 2, 5]


@pytest.mark.parametrize("hw,depth", [((8, 8), 1), ((16, 16), 2), ((8, 33), 1), ((17, 65), 2)])
def test_cnn_shapes(hw, depth):
    model = MetricCNN(CNNConfig(*hw, n_features=7, depth=depth)).eval()
    x = torch.randn(3, 1, *hw)
    assert model.embed(x).shape == (3, 10)
    assert model(x).shape == (3, 7)
    # feature depth 50 everywhere, and each block halves the map
    assert model.stem[0].out_channels == 50
    assert len(model.blocks) == depth


def test_residual_unit_is_identity_when_branch_outputs_zero():
    from netbend.clustering.model import ResidualUnit
    unit = ResidualUnit(6).eval()
    last_bn = unit.branch[-1][1]
    torch.nn.init.zeros_(last_bn.weight)
    torch.nn.init.zeros_(last_bn.bias)
    x = torch.randn(2, 6, 4, 4)
    assert torch.equal(unit(x), channel_shuffle(x, 2))


# ---- k-means ----------------------------------------------------------------------------------

def _blobs(seed: int, n_per: int = 20, k: int = 4, dim: int = 10) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(k, dim, generator=gen) * 3
    pts = centres.repeat_interleave(n_per, 0) + torch.randn(k * n_per, dim, generator=gen)
    return pts[torch.randperm(len(pts), generator=gen)].double()


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_kmeans_matches_sklearn_lloyd_from_same_centres(seed):
    x = _blobs(seed, k=5) + torch.randn(100, 10, generator=torch.Generator().manual_seed(9)) * 2
    init = forgy_init(x, 5, seed)
    ours = kmeans(x, 5, init=init)
    ref = KMeans(5, init=init.numpy(), n_init=1, algorithm="lloyd", tol=0.0,
                 max_iter=300).fit(x.numpy())
    assert np.array_equal(ours.labels.numpy(), ref.labels_)
    np.testing.assert_allclose(ours.centres.numpy(), ref.cluster_centers_, rtol=1e-10, atol=1e-10)
    assert ours.inertia == pytest.approx(ref.inertia_, rel=1e-9)


def test_forgy_picks_distinct_points_and_is_seeded():
    x = torch.arange(20.0).view(10, 2)
    a, b = forgy_init(x, 4, 7), forgy_init(x, 4, 7)
    assert torch.equal(a, b)
    assert len({tuple(r.tolist()) for r in a}) == 4
    assert all(any(torch.equal(r, p) for p in x) for r in a)


def test_empty_cluster_is_reseeded_with_farthest_point():
    # two identical points as initial centres: the second cluster starts empty
    x = torch.tensor([[0.0], [0.0], [1.0], [10.0]])
    res = kmeans(x, 2, init=torch.tensor([[0.0], [0.0]]))
    assert sorted(canonical_clusters(res.labels, 2)) == [(0, 1, 2), (3,)]
    assert res.inertia == pytest.approx(2 / 3)


def test_kmeans_input_errors():
    with pytest.raises(NetbendError, match="k=5"):
        kmeans(torch.zeros(3, 2), 5)
    with pytest.raises(NetbendError, match=r"\[N, D\]"):
        kmeans(torch.zeros(3), 1)


def test_canonical_order_by_size_then_smallest_index():
    labels = torch.tensor([2, 0, 0, 1, 1, 3, 2])
    assert canonical_clusters(labels, 4) == ((0, 6), (1, 2), (3, 4), (5,))
    assert labels_of(((0, 6), (1, 2), (3, 4), (5,)), 7).tolist() == [0, 1, 1, 2, 2, 3, 0]
    assert canonical_clusters(torch.tensor([1, 1, 1, 0]), 3) == ((0, 1, 2), (3,), ())


def test_same_seed_same_clusters_and_restarts_find_the_blobs():
    x = _blobs(4, n_per=10, k=3)
    a, b = kmeans(x, 3, seed=5), kmeans(x, 3, seed=5)
    assert torch.equal(a.labels, b.labels) and a.inertia == b.inertia
    best = best_of(x, 3, seed=0, restarts=8)
    assert best.inertia <= min(kmeans(x, 3, seed=s).inertia for s in range(8))
    truth = KMeans(3, n_init=20, random_state=0).fit(x.numpy())
    assert best.inertia == pytest.approx(truth.inertia_, rel=1e-9)


# ---- training ----------------------------------------------------------------------------------

def _toy_maps(n_latents: int, seed: int) -> torch.Tensor:
    """4 features whose maps are distinct spatial patterns plus noise: [N, 4, 8, 8]."""
    gen = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    patterns = torch.stack([xx / 7, yy / 7, (xx + yy) % 2, ((xx - 3.5) ** 2 + (yy - 3.5) ** 2) / 25])
    return patterns[None] + 0.3 * torch.randn(n_latents, 4, 8, 8, generator=gen)


def _settings(**kw) -> TrainSettings:
    base = dict(epochs=3, batch_size=16, lr=1e-2, seed=1, norm=(0.5, 0.5))
    base.update(kw)
    return TrainSettings(**base)


def test_training_learns_which_feature_a_map_came_from(tmp_path):
    train, test = TensorMaps(_toy_maps(24, 0)), TensorMaps(_toy_maps(6, 1))
    cfg = CNNConfig(8, 8, n_features=4, depth=1, width=8)
    before = accuracy(MetricCNN(cfg), test, (0.5, 0.5))
    res = train_layer(train, test, cfg, _settings(), checkpoint=tmp_path / "c.pt", progress=False)
    assert [h["epoch"] for h in res.history] == [1, 2, 3]
    assert res.history[-1]["val_accuracy"] >= 0.9 > before
    assert res.history[-1]["train_loss"] < res.history[0]["train_loss"]
    ckpt = load_checkpoint(tmp_path / "c.pt")
    assert ckpt["epoch"] == 3 and ckpt["history"] == res.history
    reloaded = load_trained(tmp_path / "c.pt")
    x = torch.randn(5, 1, 8, 8)
    assert torch.equal(reloaded.embed(x), res.model.embed(x))


def test_resume_after_kill_gives_the_uninterrupted_result(tmp_path):
    train, test = TensorMaps(_toy_maps(10, 0)), TensorMaps(_toy_maps(2, 1))
    cfg = CNNConfig(8, 8, n_features=4, depth=1, width=8)
    full = train_layer(train, test, cfg, _settings(), progress=False)
    ck = tmp_path / "c.pt"
    # 3 steps per epoch; "killed" after 5 steps, i.e. in epoch 2, whose step-2 checkpoint remains
    partial = train_layer(train, test, cfg, _settings(checkpoint_every=2), checkpoint=ck,
                          progress=False, max_steps=5)
    assert load_checkpoint(ck)["epoch"] == 1 and load_checkpoint(ck)["step"] == 2
    assert partial.history and len(partial.history) == 1
    resumed = train_layer(train, test, cfg, _settings(checkpoint_every=2), checkpoint=ck,
                          progress=False)
    assert resumed.resumed_from == (1, 2)
    for a, b in zip(full.model.state_dict().values(), resumed.model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert [h["val_accuracy"] for h in resumed.history] == [h["val_accuracy"] for h in full.history]


def test_resume_refuses_other_settings(tmp_path):
    train = TensorMaps(_toy_maps(4, 0))
    cfg = CNNConfig(8, 8, n_features=4, depth=1, width=8)
    train_layer(train, train, cfg, _settings(epochs=1), checkpoint=tmp_path / "c.pt",
                progress=False)
    with pytest.raises(NetbendError, match="other settings"):
        train_layer(train, train, cfg, _settings(epochs=1, lr=5e-2),
                    checkpoint=tmp_path / "c.pt", progress=False)
