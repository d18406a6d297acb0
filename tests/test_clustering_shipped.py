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
# the paper method's clusters (k-means) of the shipped CNNs, as shipped before the joint method
PAPER_CLUSTERS = Path(__file__).resolve().parent / "fixtures" / "default_faces_clusters_paper.json"


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


@pytest.mark.parametrize("shipped", [DEFAULT_CLUSTERS, PAPER_CLUSTERS], ids=["shipped", "paper-method"])
def test_shipped_cnns_reproduce_the_clusters_bit_for_bit(model, shipped):
    """Clusters recomputed from the shipped CNNs with one thread equal the shipped file (the default
    method) and the paper method's file made from the same CNNs (tests/fixtures)."""
    from netbend.clustering.pipeline import assign

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        cs = load_clusters(shipped)
        emb = load_embedders(DEFAULT_CNN)
        assert set(emb) == set(cs.layers)
        method = cs.meta.get("clustering", "paper")
        # the refined method costs ablations per feature: its two smallest layers (the segments and
        # each layer's refinement do not depend on which other layers are clustered)
        keys = ["7", "8"] if method == "parts" else ["1", "5", "8"]
        again = assign(model, DEFAULT_CNN, keys, n_general=cs.meta["latents"]["n"],
                       seed=cs.meta["seed"], method=method,
                       **({"signature_latents": cs.meta["signature_latents"]} if "signature_latents" in cs.meta
                          else {}))
    finally:
        torch.set_num_threads(old)
    for key in keys:
        assert again.layers[key] == cs.layers[key], key


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


def test_remove_eyes_plan_changes_the_eyes_far_more_than_the_rest(model):
    """Ablating the shipped eye cluster changes the renderer's eye pixels most (measured: 16x over 32 latents)."""
    from netbend.bending import bend
    from netbend.faces import LABELS, faces_for_latents

    z = model.latents_from_seeds(range(2_000_000, 2_000_008))
    eyes = torch.from_numpy(faces_for_latents(z)[1] == LABELS.index("eyes"))  # [N, H, W]
    plain = model.synthesize(z=z, noise="const")
    plan = load_plan(EXAMPLES / "remove_eyes.yaml")
    with bend(model.module, resolve_plan(plan, model, clusters=load_clusters(DEFAULT_CLUSTERS))):
        bent = model.synthesize(z=z, noise="const")
    change = (bent - plain).abs().sum(1)  # [N, H, W]
    assert change[eyes].mean() > 5.0 * change[~eyes].mean()


def test_demo_shows_cluster_plans_with_the_shipped_clusters_given_or_not(tmp_path):
    from click.testing import CliRunner

    from netbend.cli import main

    plans = ["--plan", str(EXAMPLES / "remove_eyes.yaml"), "--plan", str(EXAMPLES / "only_eyes.yaml")]
    res = CliRunner().invoke(main, ["demo", "--sweep-layers", "", *plans, "--seeds", "0-1", "--out",
                                    str(tmp_path), "--clusters", str(DEFAULT_CLUSTERS)])
    assert res.exit_code == 0, res.output
    assert "3 rows x 2 faces" in res.output and (tmp_path / "demo.png").exists()
    res = CliRunner().invoke(main, ["demo", "--sweep-layers", "", *plans, "--seeds", "0-1",
                                    "--out", str(tmp_path / "x")])
    assert res.exit_code == 0 and f"clusters: {DEFAULT_CLUSTERS}" in res.output, res.output
    assert (tmp_path / "x" / "demo.png").read_bytes() == (tmp_path / "demo.png").read_bytes()
