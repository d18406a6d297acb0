"""Activation datasets, embedding, the whole pipeline and the `netbend cluster` commands, on a
tiny random StyleGAN2 and on a plain nn.Module addressed by dotted paths."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from click.testing import CliRunner
from PIL import Image

from netbend.bending import resolve_plan
from netbend.cli import main
from netbend.clustering.capture import capture_seeds, choose_layers, stored_size
from netbend.clustering.dataset import ActivationDataset, build_dataset, split_seeds
from netbend.clustering.effects import bent_output, cluster_maps
from netbend.clustering.embed import embed_seeds, load_embedders
from netbend.clustering.pipeline import run_pipeline
from netbend.clustering.presets import get_preset
from netbend.clusters import load_clusters
from netbend.errors import NetbendError
from netbend.models import save_native
from netbend.models.stylegan2 import Generator
from netbend.models.wrapper import StyleGAN2Model
from netbend.plan import Plan

TINY = get_preset("default").with_overrides(n_train=6, n_test=2, epochs=1, batch_size=32,
                                            n_general=3, max_side=8)



@pytest.fixture(scope="module")
def tiny() -> StyleGAN2Model:
    with torch.random.fork_rng():
        torch.manual_seed(3)
        gen = Generator(16, style_dim=16, n_mlp=1, channels={4: 16, 8: 12, 16: 8})
    return StyleGAN2Model(gen, name="tiny")


@pytest.fixture(scope="module")
def run_dir(tiny, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("run")
    run_pipeline(tiny, out, preset=TINY, seed=2, progress=False)
    return out


class Sequential2:
    """A non-StyleGAN generator: latent -> linear -> two conv layers, run by seed."""

    def __init__(self):
        torch.manual_seed(0)
        self.module = torch.nn.Sequential(torch.nn.Linear(4, 6 * 4 * 4), torch.nn.Unflatten(1, (6, 4, 4)),
                                          torch.nn.Upsample(scale_factor=2),
                                          torch.nn.Conv2d(6, 5, 3, padding=1), torch.nn.Tanh())
        self.name, self.model_hash, self.paper_layers = "seq", "abc", {}

    def run_seeds(self, seeds):
        z = torch.stack([torch.randn(4, generator=torch.Generator().manual_seed(s)) for s in seeds])
        return self.module(z)

    def dry_run(self):
        self.run_seeds([0])


# ---- datasets ----------------------------------------------------------------------------------

def test_dataset_chunks_hold_every_map_downsampled_and_split_by_latent(tiny, tmp_path):
    ds = build_dataset(tiny, tmp_path / "ds", n_train=5, n_test=2, layers=[1, 4], max_side=8,
                       seed=1, chunk=2, progress=False)
    assert ds.meta["seeds"] == split_seeds(1, 5, 2)
    assert not set(ds.meta["seeds"]["train"]) & set(ds.meta["seeds"]["test"])
    row = ds.layer("4")
    assert row["original_size"] == [16, 16] and row["size"] == [8, 8] and row["channels"] == 8
    assert ds.meta["max_side"] == 8
    assert sorted(p.name for p in (tmp_path / "ds" / "train" / "4").iterdir()) == \
        ["00000.npy", "00001.npy", "00002.npy"]
    # the stored maps equal a fresh capture, area-averaged 2x2 (float16 storage)
    maps, _ = capture_seeds(tiny, ds.meta["seeds"]["test"], {"convs.3": None})
    want = maps["convs.3"].view(2, 8, 8, 2, 8, 2).mean((3, 5))  # [N, C, 8, 8]
    got = ds.maps("4", "test").maps
    torch.testing.assert_close(got, want, rtol=2e-3, atol=2e-3)
    # mean/std recorded for the training split
    train = ds.maps("4", "train").maps.double()
    assert row["mean"] == pytest.approx(float(train.mean()), rel=1e-6)
    assert row["std"] == pytest.approx(float(train.std(unbiased=False)), rel=1e-6)


def test_dataset_resumes_missing_chunks_and_refuses_other_settings(tiny, tmp_path):
    kw = dict(n_train=4, n_test=0, layers=[2], seed=0, chunk=2, progress=False)
    build_dataset(tiny, tmp_path, **kw)
    f = tmp_path / "train" / "2" / "00001.npy"
    before = np.load(f)
    f.unlink()
    ds = build_dataset(tiny, tmp_path, **kw)
    np.testing.assert_array_equal(np.load(f), before)
    assert ds.meta["complete"]
    with pytest.raises(NetbendError, match="other settings"):
        build_dataset(tiny, tmp_path, **{**kw, "seed": 5})
    with pytest.raises(NetbendError, match="not an activation dataset"):
        ActivationDataset(tmp_path / "nowhere")


def test_chunked_reader_matches_in_memory(tiny, tmp_path):
    ds = build_dataset(tiny, tmp_path, n_train=5, n_test=0, layers=[3], chunk=2, progress=False)
    mem, disk = ds.maps("3", "train", in_memory=True), ds.maps("3", "train", in_memory=False)
    lat, feat = torch.tensor([4, 0, 3, 1, 4]), torch.tensor([7, 2, 0, 5, 1])
    torch.testing.assert_close(disk.gather(lat, feat), mem.gather(lat, feat))


def test_any_module_by_dotted_path(tmp_path):
    model = Sequential2()
    layers = choose_layers(model, ["3"])  # module path "3": the conv
    assert [(l.key, l.channels, l.height) for l in layers] == [("3", 5, 8)]
    clusters, _ = run_pipeline(model, tmp_path, preset=TINY.with_overrides(batch_size=8),
                               layers=["1", "3"], progress=False)
    assert set(clusters.layers) == {"1", "3"}
    assert sorted(f for c in clusters.layers["3"] for f in c) == list(range(5))


def test_spectrogram_vae_uses_its_table(tmp_path):
    from netbend.audio.model import AudioModel, SpecConfig
    from netbend.audio.vae import SpectrogramVAE

    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = AudioModel(SpectrogramVAE("small"), SpecConfig())
    assert [l.key for l in choose_layers(model)] == ["1", "2", "3", "4"]  # layer 5: one feature
    clusters, timing = run_pipeline(model, tmp_path, preset=TINY.with_overrides(n_train=2, n_test=1),
                                    layers=[1, 4], progress=False)
    assert timing["layers"]["1"]["k"] == 5 and timing["layers"]["4"]["k"] == 4  # VAE table
    assert timing["layers"]["4"]["depth"] == 1  # maps 64x257 stored at 2x8 (max side 8)
    assert [len(g) for g in clusters.layers["4"]] and len(clusters.layers["4"]) == 4


def test_stored_size_keeps_aspect():
    assert stored_size(17, 65, 16) == (4, 16)
    assert stored_size(8, 8, 16) == (8, 8)
    assert stored_size(8, 8, None) == (8, 8)


# ---- the pipeline --------------------------------------------------------------------------

def test_pipeline_writes_a_partition_of_every_layer(tiny, run_dir):
    cs = load_clusters(run_dir / "clusters.json")
    assert list(cs.layers) == ["1", "2", "3", "4"]
    channels = {"1": 12, "2": 12, "3": 8, "4": 8}
    for key, groups in cs.layers.items():
        # the default method (parts) chooses k per layer in 3..the table's 5 (8 and 16 px rows)
        assert 3 <= len(groups) <= 5 and len(groups) == cs.meta["k"][key]
        assert cs.meta["refine"]["layers"][key]["k"] == len(groups)
        assert sorted(f for g in groups for f in g) == list(range(channels[key]))
        sizes = [len(g) for g in groups]
        assert sizes == sorted(sizes, reverse=True)
    assert cs.meta["model_hash"] == tiny.model_hash and cs.meta["seed"] == 2
    assert cs.meta["mode"] == "general" and cs.meta["settings"]["preset"]["n_train"] == 6


def test_pipeline_rerun_is_identical_and_reuses_checkpoints(tiny, run_dir, tmp_path):
    first = load_clusters(run_dir / "clusters.json")
    stamp = {p: p.stat().st_mtime_ns for p in (run_dir / "cnn").glob("*.pt")}
    again, _ = run_pipeline(tiny, run_dir, preset=TINY, seed=2, progress=False,
                            out=tmp_path / "again.json")
    assert again.layers == first.layers
    assert stamp == {p: p.stat().st_mtime_ns for p in (run_dir / "cnn").glob("*.pt")}


def test_general_mode_is_the_mean_of_per_sample_embeddings(tiny, run_dir):
    emb = load_embedders(run_dir / "cnn", ["3"])
    mean = embed_seeds(tiny, emb, [10, 11, 12], batch=2)["3"]
    each = [embed_seeds(tiny, emb, [s])["3"] for s in (10, 11, 12)]
    torch.testing.assert_close(mean, sum(each) / 3, rtol=1e-5, atol=1e-5)
    # the embedding is the CNN bottleneck of the standardised map
    e = emb["3"]
    maps, _ = capture_seeds(tiny, [10], {"convs.2": e.size})
    x = (maps["convs.2"][0] - e.norm[0]) / e.norm[1]  # [C, h, w]
    torch.testing.assert_close(each[0].float(), e.cnn.embed(x[:, None]), rtol=1e-5, atol=1e-5)


def test_cluster_file_drives_a_plan(tiny, run_dir):
    cs = load_clusters(run_dir / "clusters.json")
    plan = Plan.from_dict({"transforms": [
        {"layer": 3, "transform": "ablate", "features": "cluster", "feature-param": 1},
        {"layer": 3, "transform": "ablate", "features": "cluster", "feature-param": 1,
         "except": True}]})
    bends = resolve_plan(plan, tiny, clusters=cs).bends
    assert bends[0].indices == cs.layers["3"][1]
    assert sorted(bends[0].indices + bends[1].indices) == list(range(8))


def test_cluster_maps_and_bent_output(tiny):
    maps = torch.arange(2 * 3 * 1 * 2, dtype=torch.float32).view(2, 3, 1, 2)
    out = cluster_maps(maps, ((0, 2), (1,)))
    torch.testing.assert_close(out[:, 0], (maps[:, 0] + maps[:, 2]) / 2)
    torch.testing.assert_close(out[:, 1], maps[:, 1])
    plain = bent_output(tiny, [0], "convs.2", 3, [], "ablate")  # nothing selected: no change
    with torch.no_grad():
        ref = tiny.synthesize(z=tiny.latents_from_seeds([0]))
    torch.testing.assert_close(plain, ref)
    assert not torch.allclose(bent_output(tiny, [0], "convs.2", 3, [0, 1, 2], "ablate"), ref)


# ---- the command line ---------------------------------------------------------------------------

def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def tiny_file(tiny, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("m") / "tiny.safetensors"
    save_native(tiny, path)
    return path


def test_cli_steps_show_export_import(tiny_file, tmp_path):
    res = _run("cluster", "dataset", "--model", tiny_file, "--out", tmp_path / "ds", "--n-train", 4,
               "--n-test", 2, "--layers", "2,3", "--max-side", 8)
    assert res.exit_code == 0, res.output
    res = _run("cluster", "train", "--dataset", tmp_path / "ds", "--out", tmp_path / "cnn",
               "--epochs", 1, "--batch-size", 16)
    assert res.exit_code == 0 and "val accuracy" in res.output, res.output
    res = _run("cluster", "assign", "--model", tiny_file, "--cnn", tmp_path / "cnn", "--out",
               tmp_path / "c.json", "--mode", "sample", "--latent-seed", 4, "--k", 3)
    assert res.exit_code == 0, res.output
    cs = load_clusters(tmp_path / "c.json")
    assert list(cs.layers) == ["2", "3"] and all(len(g) == 3 for g in cs.layers.values())
    res = _run("cluster", "assign", "--model", tiny_file, "--cnn", tmp_path / "cnn" / "cnn.safetensors",
               "--out", tmp_path / "c2.json", "--mode", "sample", "--latent-seed", 4, "--k", 3)
    assert load_clusters(tmp_path / "c2.json").layers == cs.layers  # one-file CNNs: same result
    assert cs.meta["mode"] == "sample" and cs.meta["latents"] == {"seed": 4}
    res = _run("cluster", "show", "--model", tiny_file, "--clusters", tmp_path / "c.json", "--out",
               tmp_path / "show", "--layers", "3")
    assert res.exit_code == 0, res.output
    img = Image.open(tmp_path / "show" / "layer_3.png")
    assert img.size[1] == 16 + 2 + 3 * (128 + 2)  # a row per cluster, 16 px samples shown at 128 px
    _run("cluster", "export", tmp_path / "c.json", tmp_path / "orig.yaml")
    rows = yaml.safe_load((tmp_path / "orig.yaml").read_text())
    assert set(rows) == {2, 3} and {"cluster_index", "feature_index"} <= set(rows[3][0])
    _run("cluster", "import", tmp_path / "orig.yaml", tmp_path / "back.json")
    assert load_clusters(tmp_path / "back.json").layers == cs.layers


def test_cli_dry_run_and_errors(tiny_file, tmp_path):
    res = _run("cluster", "run", "--model", tiny_file, "--out-dir", tmp_path / "run", "--preset", "paper",
               "--dry-run")
    lines = res.output.splitlines()
    assert lines[0].startswith("preset paper: 1000 train / 100 test latents") and len(lines) == 2 + 4 + 1
    assert lines[2].split() == ["1", "convs.0", "12", "8x8", "8x8", "1", "5", "500"]
    assert lines[-1].startswith("k: the table's at most; --method parts chooses each layer's k in 3..k")
    res = _run("cluster", "run", "--model", tiny_file, "--out-dir", tmp_path / "run", "--preset", "paper",
               "--dry-run", "--json")
    info = json.loads(res.output)
    assert info["preset"]["n_train"] == 1000 and info["preset"]["epochs"] == 100 and info["method"] == "parts"
    assert [(r["key"], r["depth"], r["k"], r["batch_size"]) for r in info["layers"]] == \
        [("1", 1, 5, 500), ("2", 1, 5, 500), ("3", 2, 5, 500), ("4", 2, 5, 500)]
    res = CliRunner().invoke(main, ["cluster", "run", "--model", str(tiny_file), "--out-dir",
                                    str(tmp_path), "--preset", "fast", "--dry-run"])
    assert res.exit_code == 2 and "did you mean" in res.output
    res = CliRunner().invoke(main, ["cluster", "train", "--dataset", str(tmp_path / "none"),
                                    "--out", str(tmp_path / "cnn")])
    assert res.exit_code == 2 and "no meta.json" in res.output
    (tmp_path / "c.json").write_text(json.dumps({"format": "netbend-clusters", "layers": {"1": [[0]]}}))
    res = CliRunner().invoke(main, ["cluster", "evaluate", "--model", str(tiny_file), "--clusters",
                                    str(tmp_path / "c.json"), "--out", str(tmp_path / "ev")])
    assert res.exit_code == 2 and "only the default face model" in res.output
