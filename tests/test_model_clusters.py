"""Plans that select by cluster find the model's own cluster file when no --clusters is given:
the shipped file for the built-in face model, CHECKPOINT.clusters.json beside a checkpoint."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from PIL import Image

from netbend.cli import main
from netbend.clustering import DEFAULT_CLUSTERS
from netbend.clusters import (ClusterSet, clusters_beside, clusters_for, find_model_clusters,
                              model_cluster_file, save_clusters)
from netbend.errors import NetbendError
from netbend.layers import list_layers
from netbend.models import load_model
from netbend.plan import Plan, load_plan
from stylegan2_helpers import tiny_model_file

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CLUSTER_PLAN = {"transforms": [{"layer": 1, "transform": "ablate", "features": "cluster",
                                "feature-param": 1}]}


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("m"), seed=5, channels={4: 16, 8: 12, 16: 8})


def _tiny_clusters(model, model_hash: str) -> ClusterSet:
    layers = {}
    for info in list_layers(model):
        if info.number is not None:
            half = info.channels // 2
            layers[str(info.number)] = (tuple(range(half, info.channels)), tuple(range(half)))
    return ClusterSet(layers, {"model_hash": model_hash})


@pytest.fixture()
def plan_file(tmp_path) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(CLUSTER_PLAN))
    return path


def test_the_convention_names_a_file_beside_the_checkpoint(tmp_path):
    assert clusters_beside(tmp_path / "ffhq.pkl") == tmp_path / "ffhq.pkl.clusters.json"
    assert clusters_beside(tmp_path) == tmp_path / "clusters.json"  # a model folder
    assert model_cluster_file(load_model(None), None) == DEFAULT_CLUSTERS
    from netbend.models.default import WEIGHTS  # the built-in weights given as a file: same hash

    assert model_cluster_file(load_model(WEIGHTS), WEIGHTS) == DEFAULT_CLUSTERS


def test_generate_uses_the_shipped_clusters_for_the_eye_example(tmp_path):
    res = _run("generate", "--config", EXAMPLES / "only_eyes.yaml", "--seeds", "0-1", "--out", tmp_path / "a")
    assert res.exit_code == 0, res.output
    assert f"clusters: {DEFAULT_CLUSTERS}" in res.output
    explicit = _run("generate", "--config", EXAMPLES / "only_eyes.yaml", "--seeds", "0-1",
                    "--clusters", DEFAULT_CLUSTERS, "--out", tmp_path / "b")
    assert explicit.exit_code == 0, explicit.output
    assert "the model's own" not in explicit.output
    for name in ("seed0000_var00.png", "seed0001_var00.png"):
        a, b = (np.asarray(Image.open(tmp_path / d / name)) for d in "ab")
        assert np.array_equal(a, b)
    run = yaml.safe_load((tmp_path / "a" / "run.yaml").read_text())
    assert run["clusters"] == str(DEFAULT_CLUSTERS)
    plain = np.asarray(Image.open(_plain(tmp_path) / "seed0000_var00.png"))
    assert not np.array_equal(plain, np.asarray(Image.open(tmp_path / "a" / "seed0000_var00.png")))


def _plain(tmp_path) -> Path:
    res = _run("generate", "--seeds", "0", "--out", tmp_path / "plain")
    assert res.exit_code == 0, res.output
    return tmp_path / "plain"


def test_a_checkpoint_without_clusters_is_refused_naming_where_to_put_them(tiny_file, plan_file, tmp_path):
    res = _run("generate", "--model", tiny_file, "--config", plan_file, "--seeds", "0", "--out", tmp_path / "o")
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "needs a cluster file" in res.output and f"{tiny_file}.clusters.json" in res.output
    assert not (tmp_path / "o").exists()


def test_a_checkpoint_finds_the_file_beside_it_and_refuses_another_models(tiny_file, plan_file, tmp_path):
    model = load_model(tiny_file)
    beside = clusters_beside(tiny_file)
    try:
        save_clusters(_tiny_clusters(model, model.model_hash), beside)
        res = _run("generate", "--model", tiny_file, "--config", plan_file, "--seeds", "0", "--dry-run",
                   "--out", tmp_path / "o")
        assert res.exit_code == 0, res.output
        assert f"clusters: {beside}" in res.output
        assert "indices" in res.output or "feature-param" in res.output
        save_clusters(_tiny_clusters(model, "0123456789ab"), beside)
        res = _run("generate", "--model", tiny_file, "--config", plan_file, "--seeds", "0", "--out", tmp_path / "o")
        assert res.exit_code == 2 and "made for model hash 0123456789ab" in res.output
        assert model.model_hash in res.output and not (tmp_path / "o").exists()
        # a plan that does not select by cluster never reads the file
        assert clusters_for(model, tiny_file, None, [Plan()]) is None
        # an explicit --clusters file is taken as given
        assert clusters_for(model, tiny_file, beside, [load_plan(plan_file)]).meta["model_hash"] == "0123456789ab"
        with pytest.raises(NetbendError, match="made for model hash"):
            find_model_clusters(model, tiny_file)
    finally:
        beside.unlink(missing_ok=True)


def test_every_command_that_bends_finds_the_model_clusters(tiny_file, plan_file, tmp_path):
    model = load_model(tiny_file)
    beside = clusters_beside(tiny_file)
    said = []
    try:
        save_clusters(_tiny_clusters(model, model.model_hash), beside)
        found = clusters_for(model, tiny_file, None, [load_plan(plan_file)], say=said.append)
        assert found.layers["1"] == _tiny_clusters(model, "").layers["1"] and str(beside) in said[0]
        res = _run("animate", "--model", tiny_file, "--config", plan_file, "--frames", "2", "--dry-run",
                   "--out", tmp_path / "a.gif")
        assert res.exit_code == 0 and f"clusters: {beside}" in res.output, res.output
        res = _run("demo", "--model", tiny_file, "--sweep-layers", "", "--plan", plan_file, "--seeds", "0",
                   "--out", tmp_path / "demo")
        assert res.exit_code == 0 and f"clusters: {beside}" in res.output, res.output
        assert json.loads((tmp_path / "demo" / "demo.json").read_text())["clusters"] == str(beside)
        res = _run("cluster", "show", "--model", tiny_file, "--layers", "1", "--out", tmp_path / "show")
        assert res.exit_code == 0 and f"clusters: {beside}" in res.output, res.output
        from netbend.studio.engine import Engine

        assert Engine(str(tiny_file)).clusters_path == str(beside)
    finally:
        beside.unlink(missing_ok=True)
    from netbend.studio.engine import Engine

    assert Engine(str(tiny_file)).clusters is None  # no file: the studio starts without clusters
    assert Engine(None).clusters_path == str(DEFAULT_CLUSTERS)


def test_sweep_finds_the_shipped_clusters(tmp_path):
    res = _run("sweep", "--config", EXAMPLES / "only_eyes.yaml", "--vary", "transforms[0].feature-param=0,1",
               "--seeds", "0", "--dry-run", "--out", tmp_path / "sw")
    assert res.exit_code == 0, res.output
    assert f"clusters: {DEFAULT_CLUSTERS}" in res.output and "2 images" in res.output
