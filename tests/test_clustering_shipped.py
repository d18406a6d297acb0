"""The shipped clusters and CNNs of the default face model, and the example plans that use them."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from netbend.bending import resolve_plan
from netbend.clustering import DEFAULT_CLUSTERS, DEFAULT_CNN
from netbend.clustering.embed import load_embedders
from netbend.clusters import load_clusters
from netbend.layers import list_layers
from netbend.models import load_model
from netbend.plan import load_plan

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def model():
    return load_model(None)


def test_shipped_clusters_partition_every_layer_of_the_default_model(model):
    cs = load_clusters(DEFAULT_CLUSTERS)
    assert cs.meta["model_hash"] == model.model_hash, "default model changed: re-run clustering"
    channels = {str(i.number): i.channels for i in list_layers(model) if i.number is not None}
    assert set(cs.layers) == set(channels)
    for key, groups in cs.layers.items():
        assert sorted(f for g in groups for f in g) == list(range(channels[key]))
        assert [len(g) for g in groups] == sorted((len(g) for g in groups), reverse=True)


def test_shipped_cnns_reproduce_the_shipped_clusters(model):
    """General-purpose clusters recomputed from the shipped CNNs equal the shipped file."""
    from netbend.clustering.pipeline import assign

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cs = load_clusters(DEFAULT_CLUSTERS)
        emb = load_embedders(DEFAULT_CNN)
        assert set(emb) == set(cs.layers)
        again = assign(model, DEFAULT_CNN, ["1", "5"], n_general=cs.meta["latents"]["n"],
                       seed=cs.meta["seed"])
    finally:
        torch.set_num_threads(old)
    assert again.layers["1"] == cs.layers["1"] and again.layers["5"] == cs.layers["5"]


@pytest.mark.parametrize("name", ["remove_eyes.yaml", "only_eyes.yaml"])
def test_eye_plans_resolve_against_the_shipped_clusters(model, name):
    cs = load_clusters(DEFAULT_CLUSTERS)
    plan = load_plan(EXAMPLES / name)
    (bend,) = resolve_plan(plan, model, clusters=cs).bends
    entry = plan.transforms[0]
    eye = cs.clusters_of(entry.layer)[entry.feature_param[0]]
    n = len(sum(cs.clusters_of(entry.layer), ()))
    want = eye if not entry.except_ else tuple(sorted(set(range(n)) - set(eye)))
    assert bend.indices == want and bend.transform.name == "ablate"
