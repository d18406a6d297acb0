"""The spectrogram VAE: table resolutions, model files, bending the decoder, training resume, CLI."""
import json

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from click.testing import CliRunner

from netbend.audio.autoencode import PhaseOptions, encode_audio, reconstruct
from netbend.audio.dataset import folder_windows, synth_windows
from netbend.audio.io import read_audio, write_audio
from netbend.audio.model import AudioModel, load_audio_model
from netbend.audio.spectrogram import SpecConfig
from netbend.audio.synth import render_clip
from netbend.audio.train import TrainOptions, train
from netbend.audio.vae import RESOLUTIONS, SIZES, SpectrogramVAE
from netbend.bending import bend, resolve_plan
from netbend.cli import main
from netbend.errors import NetbendError
from netbend.layers import list_layers
from netbend.plan import Plan

CFG = SpecConfig()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    torch.manual_seed(0)
    vae = SpectrogramVAE("tiny")
    for m in vae.modules():  # non-trivial running statistics, so eval mode is really tested
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    path = tmp_path_factory.mktemp("model") / "tiny.safetensors"
    AudioModel(vae, CFG, "tiny").save(path)
    return path


@pytest.mark.parametrize("size", ["paper", "small"])
def test_decoder_layers_match_the_table(size):
    model = AudioModel(SpectrogramVAE(size), CFG)
    layers = {i.number: i for i in list_layers(model) if i.number is not None}
    assert sorted(layers) == [1, 2, 3, 4, 5]
    for k, (h, w) in enumerate(RESOLUTIONS, start=1):
        assert layers[k].path == f"decoder.deconv{k}"
        assert layers[k].shape == (SIZES[size]["decoder"][k - 1], h, w)
    if size == "paper":
        assert [layers[k].channels for k in range(1, 6)] == [512, 256, 128, 64, 1]
    mean, logvar = model.module.encoder(torch.zeros(1, 1, 128, 513))
    assert mean.shape == logvar.shape == (1, 512)


def test_model_file_round_trip_and_half_precision(tmp_path, tiny):
    model = load_audio_model(tiny, "cpu")
    z = torch.randn(2, 512)
    ref = model.decode(z)
    assert ref.shape == (2, 128, 513) and ref.abs().max() <= 1
    model.save(tmp_path / "half.safetensors", half=True)
    again = load_audio_model(tmp_path / "half.safetensors", "cpu")
    assert again.spec == CFG and again.size == "tiny"
    assert (again.decode(z) - ref).abs().max() < 1e-2
    (tmp_path / "junk.safetensors").write_bytes(b"not a model")
    with pytest.raises(NetbendError, match="junk.safetensors"):
        load_audio_model(tmp_path / "junk.safetensors")


def test_bend_on_a_decoder_layer_changes_output_and_neutral_does_not(tiny):
    model = load_audio_model(tiny, "cpu")
    z = torch.randn(2, 512, generator=torch.Generator().manual_seed(1))
    plain = model.decode(z)

    def decoded(entries):
        resolved = resolve_plan(Plan.from_dict({"transforms": entries}), model, seed=0)
        with bend(model.module, resolved):
            return model.decode(z)

    neutral = decoded([{"layer": 2, "transform": "scalar-multiply", "params": [1.0]}])
    assert torch.equal(neutral, plain)
    for layer in (1, 3, 5):
        bent = decoded([{"layer": layer, "transform": "ablate", "features": "all"}])
        assert (bent - plain).abs().max() > 1e-3
    assert torch.equal(model.decode(z), plain)  # hooks removed


def test_short_multichannel_input_keeps_length_and_rate(tmp_path, tiny):
    model = load_audio_model(tiny, "cpu")
    y = render_clip(3, 0, 2.0)[:9000]  # 0.4 s: shorter than one window
    sf.write(tmp_path / "st.wav", np.stack([y, 0.5 * y], 1), 22050)
    audio = read_audio(tmp_path / "st.wav", 22050)
    enc = encode_audio(model, audio)
    assert enc.latents.shape == (1, 512)
    out, unit = reconstruct(model, enc, None, PhaseOptions("original"))
    assert out.shape == (9000,) and unit.shape == (9000 // 256 + 1, 513)


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_cli_autoencode_end_to_end(tmp_path, tiny):
    y = render_clip(11, 0, 2.0)
    from netbend.audio.resample import resample

    src = tmp_path / "in.flac"
    sf.write(src, np.stack([resample(y, 22050, 32000)] * 2, 1), 32000)
    plan = tmp_path / "plan.yaml"
    plan.write_text(yaml.safe_dump({"transforms": [
        {"layer": 1, "transform": "erode", "params": [2], "features": "random", "feature-param": 0.25},
        {"layer": 3, "transform": "binary-thresh", "params": [0.5], "features": "all"}]}))
    res = run("audio", "autoencode", src, "--model", tiny, "--config", plan, "--out", tmp_path / "o.wav",
              "--variations", "2", "--iterations", "2", "--spectrogram-png", tmp_path / "s.png")
    assert res.exit_code == 0, res.output
    frames = sf.info(src).frames
    outs = [sf.read(tmp_path / f"o_var0{v}.wav") for v in (0, 1)]
    for data, rate in outs:
        assert rate == 32000 and data.shape == (frames,)
    run_yaml = yaml.safe_load((tmp_path / "o.yaml").read_text())
    assert run_yaml["source_rate"] == 32000 and len(run_yaml["resolved_plans"]) == 2
    from PIL import Image

    png = Image.open(tmp_path / "s.png")
    n_frames = read_audio(src, 22050).samples.size // 256 + 1
    assert png.size[0] == 4 * n_frames + 3 * 6 and png.size[1] == 513 + 14  # original, plain, 2 bent
    res = run("audio", "autoencode", src, "--model", tiny, "--out", tmp_path / "p.wav", "--phase", "original")
    assert res.exit_code == 0 and sf.info(tmp_path / "p.wav").frames == frames
    # no plan: no "bent" panel identical to "plain"; a rerun to o.wav drops the earlier run's o_varNN.wav
    res = run("audio", "autoencode", src, "--model", tiny, "--out", tmp_path / "o.wav", "--iterations", "2",
              "--spectrogram-png", tmp_path / "s.png")
    assert res.exit_code == 0, res.output
    assert Image.open(tmp_path / "s.png").size[0] == 2 * n_frames + 6
    assert sorted(p.name for p in tmp_path.glob("o*")) == ["o.wav", "o.yaml"]


def test_cli_sample_and_dry_run(tmp_path, tiny):
    res = run("audio", "sample", "--model", tiny, "--seeds", "0-1", "--out", tmp_path, "--iterations", "2")
    assert res.exit_code == 0, res.output
    data, rate = sf.read(tmp_path / "seed0001_var00.wav")
    assert rate == 22050 and data.shape == (CFG.window_samples,)
    res = run("audio", "autoencode", "x.wav", "--model", tiny, "--out", tmp_path / "o.wav", "--dry-run",
              "--config", "examples/fig3_stochastic.yaml")
    assert res.exit_code == 0 and "variation 0" in res.output


@pytest.mark.parametrize("content,message", [(b"garbage" * 50, "cannot decode"), (None, "no such audio file")])
def test_cli_bad_input_is_one_line_error(tmp_path, tiny, content, message):
    path = tmp_path / "bad.wav"
    if content is not None:
        path.write_bytes(content)
    result = CliRunner().invoke(main, ["audio", "autoencode", str(path), "--model", str(tiny),
                                       "--out", str(tmp_path / "o.wav")])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "o.wav").exists()


def test_folder_dataset_skips_bad_files(tmp_path):
    write_audio(tmp_path / "good.flac", render_clip(1, 0, 2.0), 22050)
    write_audio(tmp_path / "good2.wav", render_clip(1, 1, 2.0), 22050)
    write_audio(tmp_path / "silent.wav", np.zeros(40000), 22050)
    (tmp_path / "broken.ogg").write_bytes(b"OggS" + bytes(100))
    (tmp_path / "readme.txt").write_text("not audio")
    data = folder_windows(tmp_path, CFG, hop_frames=64, val_fraction=0.5)
    assert data.files == 2 and data.train.shape[0] > 0 and data.val.shape[0] > 0
    assert sorted(p.split("/")[-1] for p, _ in data.skipped) == ["broken.ogg", "silent.wav"]
    (tmp_path / "good.flac").unlink()
    (tmp_path / "good2.wav").unlink()
    with pytest.raises(NetbendError, match="none of the 2 audio files"):
        folder_windows(tmp_path, CFG)


RECIPES = [{}, {"loss": "l1", "sc_weight": 0.5, "schedule": "cosine", "lr": 1e-3, "kl_weight": 1e-5}]


@pytest.mark.parametrize("recipe", RECIPES, ids=["paper", "l1-sc-cosine"])
def test_training_resume_matches_uninterrupted_run(tmp_path, recipe):
    torch.set_num_threads(1)
    data = synth_windows(3, 5, CFG, seconds=3.0, hop_frames=32)
    assert data.train.shape[0] >= 4 and data.val.shape[0] >= 2
    data.train, data.val = data.train[:4], data.val[:2]
    opts = TrainOptions(size="tiny", epochs=1, batch=2, device="cpu", max_steps=2, **recipe)
    train(data, opts, tmp_path / "a", CFG, log=lambda m: None)
    one = TrainOptions(size="tiny", epochs=1, batch=2, device="cpu", max_steps=1, **recipe)
    train(data, one, tmp_path / "b", CFG, log=lambda m: None)  # "killed" after one step
    logs = []
    train(data, one, tmp_path / "b", CFG, log=logs.append)  # resumes at batch 1
    assert any("resuming" in m and "batch 1" in m for m in logs)
    a = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert a["position"] == b["position"] == 2
    for key, value in a["model"].items():
        assert torch.equal(value, b["model"][key]), key
    path = train(data, TrainOptions(size="tiny", epochs=1, batch=2, device="cpu", snapshot_every=1, **recipe),
                 tmp_path / "b", CFG, log=logs.append)
    assert load_audio_model(path, "cpu").size == "tiny"
    assert (tmp_path / "b" / "epoch001.safetensors").read_bytes() == path.read_bytes()  # --snapshot-every
    assert json.loads(torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)["history"])[0]["val"]
    with pytest.raises(NetbendError, match="batch"):
        train(data, TrainOptions(size="tiny", batch=3, device="cpu", **recipe), tmp_path / "b", CFG,
              log=lambda m: None)
    other = {"loss": "mse"} if recipe else {"schedule": "cosine"}
    with pytest.raises(NetbendError, match="loss|schedule"):
        train(data, TrainOptions(size="tiny", epochs=1, batch=2, device="cpu", **{**recipe, **other}),
              tmp_path / "b", CFG, log=lambda m: None)


def test_loss_terms_match_their_definitions():
    from netbend.audio.spectrogram import unit_to_magnitude
    from netbend.audio.vae import vae_loss

    torch.manual_seed(0)
    x = torch.rand(3, 1, 8, 16) * 2 - 1
    y = (x + 0.1 * torch.randn_like(x)).clamp(-1, 1)
    mean, logvar = torch.zeros(3, 4), torch.zeros(3, 4)  # KL exactly 0
    total, rec, kl = vae_loss(x, y, mean, logvar, 1.0)
    assert kl == 0 and torch.allclose(total, ((x - y) ** 2).mean())
    assert torch.allclose(vae_loss(x, y, mean, logvar, 1.0, l1=True)[1], (x - y).abs().mean())
    mx, my = unit_to_magnitude(x, CFG), unit_to_magnitude(y, CFG)  # absolute scale: SC is scale-free
    sc = torch.linalg.norm((mx - my).flatten()) / torch.linalg.norm(mx.flatten())  # over the batch
    with_sc = vae_loss(x, y, mean, logvar, 1.0, sc_weight=2.0)[1]
    assert torch.allclose(with_sc, ((x - y) ** 2).mean() + 2.0 * sc, rtol=1e-5)
    assert vae_loss(x, x, mean, logvar, 1.0, sc_weight=2.0)[0] == 0


def test_learning_rate_schedules():
    const = TrainOptions(lr=1e-3)
    assert const.lr_at(0, 100) == const.lr_at(99, 100) == 1e-3
    cos = TrainOptions(lr=1e-3, schedule="cosine")
    assert cos.lr_at(0, 100) == pytest.approx(1e-3)
    assert cos.lr_at(50, 100) == pytest.approx(5e-4)
    assert cos.lr_at(99, 100) < 1e-6
    for bad, match in (({"loss": "l2"}, "loss"), ({"schedule": "step"}, "schedule"), ({"sc_weight": -1}, "sc-weight")):
        with pytest.raises(NetbendError, match=match):
            TrainOptions(**bad).check()


def test_clustering_capture_sees_the_decoder_layers(tiny):
    from netbend.clustering.capture import choose_layers, run_seeds

    model = load_audio_model(tiny, "cpu")
    layers = choose_layers(model)
    # layer 5 has a single feature: nothing to cluster, so the default choice stops at layer 4
    assert [(l.key, l.path, l.channels, l.height, l.width) for l in layers] == [
        (str(k), f"decoder.deconv{k}", SIZES["tiny"]["decoder"][k - 1], *RESOLUTIONS[k - 1]) for k in range(1, 5)]
    out = run_seeds(model, [3, 4])
    assert out.shape == (2, 128, 513)
    torch.testing.assert_close(out[1:], run_seeds(model, [4]))  # a seed's latent is independent of the batch


def test_default_model_ships_and_reconstructs_a_held_out_clip():
    model = load_audio_model(None, "cpu")
    assert model.size == "small" and model.spec == CFG and model.name == "netbend-audio-default"
    audio = read_audio("examples/audio/synth_seed2_0.flac", 22050)
    enc = encode_audio(model, audio)
    out, unit = reconstruct(model, enc, None, PhaseOptions("original"))
    assert out.shape == audio.samples.shape
    mse = float(((unit - enc.unit) ** 2).mean())
    assert mse < 0.75 * float(((enc.unit - enc.unit.mean()) ** 2).mean())  # clearly better than a flat guess
