"""Cluster files: our JSON format and the original project's YAML format."""
from pathlib import Path

import pytest

from netbend.clusters import ClusterSet, load_clusters, save_clusters
from netbend.errors import NetbendError


def test_roundtrip_both_formats(tmp_path: Path):
    cs = ClusterSet({"1": ((0, 2, 5), (1, 3), (4,)), "convs.3": ((1,), (0,))}, meta={"seed": 3})
    save_clusters(cs, tmp_path / "c.json")
    save_clusters(cs, tmp_path / "c.yaml", original=True)
    ours = load_clusters(tmp_path / "c.json")
    orig = load_clusters(tmp_path / "c.yaml")
    assert ours.layers == cs.layers and ours.meta == {"seed": 3}
    assert orig.layers == cs.layers
    assert "{cluster_index: 0, feature_index: 0}" in (tmp_path / "c.yaml").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.json", "c.yaml"]  # no temp files left


def test_original_example_layout(tmp_path: Path):
    (tmp_path / "o.yaml").write_text("1:\n- {cluster_index: 1, feature_index: 0}\n"
                                     "- {cluster_index: 0, feature_index: 1}\n- {cluster_index: 1, feature_index: 2}\n")
    cs = load_clusters(tmp_path / "o.yaml")
    assert cs.clusters_of(1) == ((1,), (0, 2))


def test_bad_cluster_files(tmp_path: Path):
    with pytest.raises(NetbendError, match="cluster file not found"):
        load_clusters(tmp_path / "none.json")
    (tmp_path / "b.yaml").write_text("1:\n- {cluster: 1, feature_index: 0}\n")
    with pytest.raises(NetbendError, match=r"layer 1, entry 0: needs integer 'cluster_index'"):
        load_clusters(tmp_path / "b.yaml")
    cs = ClusterSet({"1": ((0,),)}, source="c.json")
    with pytest.raises(NetbendError, match="no clusters for layer 2"):
        cs.clusters_of(2)
