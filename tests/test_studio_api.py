"""The studio without a browser: its HTTP API, WebSocket protocol, render loop, presets and OSC,
against a real server on a free port (the built-in face model)."""
from __future__ import annotations

import io
import json
import shlex
import struct
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from PIL import Image

pytest.importorskip("starlette")
from websockets.sync.client import connect  # noqa: E402

from netbend.cli import main  # noqa: E402
from netbend.errors import NetbendError  # noqa: E402
from netbend.plan import Plan  # noqa: E402
from netbend.studio.engine import Engine  # noqa: E402
from netbend.studio.hub import Hub  # noqa: E402
from netbend.studio.osc import OscMap, OscServer, osc_change  # noqa: E402
from netbend.studio.presets import Presets  # noqa: E402
from netbend.studio.renderloop import RenderLoop  # noqa: E402
from netbend.studio.run import Background  # noqa: E402
from netbend.studio.server import create_app, osc_handler  # noqa: E402
from netbend.studio.state import parse_state  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def engine():
    return Engine(None)


@pytest.fixture(scope="module")
def studio(engine, tmp_path_factory):
    """A running studio with presets in a temporary folder and OSC on a free UDP port."""
    hub = Hub(engine)
    presets = Presets(tmp_path_factory.mktemp("presets"))
    osc_map = OscMap.from_dict({"/netbend/walk": {"scale": 0.5, "offset": 0.1, "min": 0.0, "max": 0.5}})
    bg = Background(create_app(hub, presets=presets, osc_map=osc_map))
    osc = OscServer("127.0.0.1", 0, osc_handler(hub, presets, osc_map))
    bg.hub, bg.presets, bg.osc = hub, presets, osc
    yield bg
    osc.close()
    bg.stop()


def post(url: str, body, raw: bool = False):
    data = body if raw else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=60) as res:
            return res.status, res.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def parse_frame(data: bytes) -> tuple[dict, list[bytes]]:
    n = struct.unpack("<I", data[:4])[0]
    header = json.loads(data[4:4 + n])
    at, images = 4 + n, []
    for size in header["sizes"]:
        images.append(data[at:at + size])
        at += size
    return header, images


def receive_until(ws, want, timeout=60):
    """Messages until ``want(msg)`` is true for one; returns it (JSON dict or frame tuple)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        raw = ws.recv(timeout=deadline - time.monotonic())
        msg = parse_frame(raw) if isinstance(raw, bytes) else json.loads(raw)
        if want(msg):
            return msg
    raise AssertionError("no matching message")


def ws_url(bg) -> str:
    return bg.url.replace("http://", "ws://") + "ws"


ROTATE = {"layer": 2, "transform": "rotate", "params": {"angle": 45.0}, "features": "all", "enabled": True}


def state(**kw):
    base = {"seed": 0, "variation": 0, "latent": {"seed": 3}, "transforms": [dict(ROTATE)]}
    base.update(kw)
    return base


# -- state -------------------------------------------------------------------------------------
def test_state_errors_read_as_the_cli_words_them():
    bad = {"transforms": [{"layer": 2, "transform": "rotat", "params": [1]}]}
    with pytest.raises(NetbendError) as cli:
        Plan.from_dict(bad, source="stack")
    with pytest.raises(NetbendError) as studio:
        parse_state(bad, source="stack")
    assert str(studio.value) == str(cli.value)
    assert "did you mean 'rotate'" in str(studio.value)
    with pytest.raises(NetbendError, match=r"latent\.walk"):
        parse_state({"latent": {"walk": 2}})
    with pytest.raises(NetbendError, match="unknown key 'transform'"):
        parse_state({"transform": []})


def test_disabled_entries_are_kept_but_not_bent():
    st = parse_state(state(transforms=[{**ROTATE, "enabled": False},
                                       {"layer": 1, "transform": "invert", "features": "all"}]))
    assert [e["enabled"] for e in st.entries] == [False, True]
    assert [e.transform for e in st.plan.transforms] == ["invert"]
    assert st.plan_dict()["transforms"][0]["transform"] == "invert"


def test_render_loop_renders_only_the_newest_job():
    started, release, rendered = threading.Event(), threading.Event(), []

    def slow(job):
        started.set()
        release.wait(10)
        return job

    done = threading.Event()
    loop = RenderLoop(slow, lambda job, result, err: (rendered.append(result), done.set() if job == 9 else None))
    loop.submit(0)
    assert started.wait(10)
    for job in range(1, 10):  # arrive while job 0 renders: only the newest may follow it
        loop.submit(job)
    release.set()
    assert done.wait(10)
    loop.stop()
    assert rendered == [0, 9]
    assert loop.dropped == 8


# -- the socket ----------------------------------------------------------------------------------
def test_state_frames_errors_and_two_tabs(studio):
    with connect(ws_url(studio)) as a, connect(ws_url(studio)) as b:
        hello = json.loads(a.recv(timeout=30))
        assert hello["type"] == "hello"
        json.loads(b.recv(timeout=30))
        a.send(json.dumps({"type": "state", "state": state(), "rid": 1}))
        header, (bent, plain) = receive_until(a, lambda m: isinstance(m, tuple) and m[0]["rid"] == 1)
        assert header["selected"] == [128] and header["ms"] > 0
        bent_img, plain_img = np.asarray(Image.open(io.BytesIO(bent))), np.asarray(Image.open(io.BytesIO(plain)))
        assert bent_img.shape == plain_img.shape == (64, 64, 3)
        assert np.abs(bent_img.astype(int) - plain_img).mean() > 5  # the bend shows
        # the other tab gets the new state and the same frame
        seen = receive_until(b, lambda m: isinstance(m, dict) and m.get("type") == "state")
        assert seen["state"]["transforms"][0]["params"] == {"angle": 45.0}
        _, (bent_b, _) = receive_until(b, lambda m: isinstance(m, tuple) and m[0]["rid"] == 1)
        assert bent_b == bent
        # a bad change: the CLI's message, the last good state stays
        bad = state(transforms=[{**ROTATE, "transform": "rotate", "params": {"angel": 3}}])
        a.send(json.dumps({"type": "state", "state": bad, "rid": 2}))
        err = receive_until(a, lambda m: isinstance(m, dict) and m.get("type") == "error")
        assert err["message"] == ("state: transforms[0].params: 'rotate' has no parameter 'angel' "
                                  "(parameters: ['angle']); did you mean 'angle'?")
        assert json.loads(get(studio.url + "api/state")[1])["state"]["transforms"][0]["params"] == {"angle": 45.0}
        a.send("not json")
        err = receive_until(a, lambda m: isinstance(m, dict) and m.get("type") == "error")
        assert err["message"].startswith("websocket: expected a JSON message")
        out_of_range = state(transforms=[{"layer": 2, "transform": "blur", "params": [500]}])
        a.send(json.dumps({"type": "state", "state": out_of_range, "rid": 3}))
        err = receive_until(a, lambda m: isinstance(m, dict) and m.get("type") == "error")
        assert "parameter 'sigma' must be <= 100.0, got 500.0" in err["message"]
        a.send(json.dumps({"type": "state", "state": state(transforms=[{**ROTATE, "layer": 99}]), "rid": 4}))
        err = receive_until(a, lambda m: isinstance(m, dict) and m.get("type") == "error")
        assert "has no layer 99 (layers 1-8)" in err["message"]


# -- export: the same raw output as `netbend generate` ----------------------------------------------
@pytest.mark.parametrize("latent", [{"seed": 5}, {"seed": 7, "walk": 0.37, "walk_seeds": 3, "truncation": 0.7,
                                                  "noise": "random"}])
def test_exported_plan_renders_bit_for_bit_with_generate(studio, tmp_path, latent, monkeypatch):
    st = state(seed=11, variation=2, latent=latent,
               transforms=[{"layer": 1, "transform": "erode", "params": [1], "features": "random",
                            "feature-param": 0.3},
                           {**ROTATE, "enabled": False},
                           {"layer": 3, "transform": "scalar-multiply", "params": {"p": -1.5},
                            "features": "cluster", "feature-param": [1], "except": True}])
    status, body = post(studio.url + "api/export", st)
    assert status == 200, body
    out = json.loads(body)
    (tmp_path / "plan.yaml").write_text(out["plan_yaml"])
    if out["latent_npy_b64"]:
        import base64
        (tmp_path / "latent.npy").write_bytes(base64.b64decode(out["latent_npy_b64"]))
    status, raw = post(studio.url + "api/raw", st)
    assert status == 200
    studio_raw = np.load(io.BytesIO(raw))
    args = shlex.split(out["command"])[1:] + ["--raw", "raw.npy"]
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    cli_raw = np.load(tmp_path / "raw.npy")
    assert cli_raw.shape[0] == st["variation"] + 1
    assert cli_raw[-1:].dtype == studio_raw.dtype
    assert np.array_equal(cli_raw[-1:], studio_raw)  # bit for bit
    # and the PNG with generate's metadata
    status, png = post(studio.url + "api/png", st)
    mine = Image.open(io.BytesIO(png))
    theirs = Image.open(tmp_path / "out" / "studio" / out["image"])
    assert np.array_equal(np.asarray(mine), np.asarray(theirs))
    meta_mine, meta_theirs = json.loads(mine.text["netbend"]), json.loads(theirs.text["netbend"])
    assert set(meta_mine) == set(meta_theirs)
    for key in ("model_hash", "seed", "truncation", "noise", "variation", "latent", "latent_seed",
                "resolved_plan", "clusters", "variations"):
        assert meta_mine[key] == meta_theirs[key], key


# -- files ---------------------------------------------------------------------------------------------
def test_presets_save_recall_and_refuse_bad_slots(studio):
    st = state(latent={"seed": 42, "walk": 0.25})
    assert post(studio.url + "api/presets/3", st)[0] == 200
    saved = yaml.safe_load((studio.presets.folder / "slot3.yaml").read_text())
    assert saved["latent"]["seed"] == 42 and saved["transforms"][0]["transform"] == "rotate"
    post(studio.url + "api/presets/3", state())  # overwrite is fine; then recall the first again
    assert post(studio.url + "api/presets/2", st)[0] == 200
    status, body = post(studio.url + "api/presets/2/load", {})
    assert status == 200 and json.loads(body)["state"]["latent"]["seed"] == 42
    status, body = post(studio.url + "api/presets/9", st)
    assert status == 400 and json.loads(body)["error"] == "preset slot: must be 1-8, got '9'"
    status, body = post(studio.url + "api/presets/5/load", {})
    assert status == 400 and "preset slot 5 is empty" in json.loads(body)["error"]


def test_import_plans_clusters_and_latents(studio, engine, tmp_path):
    text = (ROOT / "examples" / "fig3_stochastic.yaml").read_bytes()
    status, body = post(studio.url + "api/import/plan?name=fig3.yaml", text, raw=True)
    assert status == 200
    assert [e["transform"] for e in json.loads(body)["state"]["transforms"]] == \
        ["erode", "dilate", "binary-thresh", "scalar-multiply"]
    status, body = post(studio.url + "api/import/plan?name=bad.yaml", b"transforms: [1, 2", raw=True)
    assert status == 400 and json.loads(body)["error"].startswith("bad.yaml: not valid YAML (")
    status, body = post(studio.url + "api/import/plan?name=p.yaml",
                        b"transforms:\n- {layer: 1, transform: nope}\n", raw=True)
    assert json.loads(body)["error"].startswith("p.yaml: transforms[0].transform: unknown transform 'nope'")
    # a w+ latent file
    buf = io.BytesIO()
    np.save(buf, np.random.default_rng(0).standard_normal((2, engine.model.num_ws, engine.model.w_dim)).astype("f4"))
    status, body = post(studio.url + "api/import/latent?kind=w", buf.getvalue(), raw=True)
    assert status == 200
    info = json.loads(body)
    assert info["rows"] == 2
    frame = engine.render(parse_state(state(latent={"file": info["id"], "kind": "w", "row": 1})))
    assert frame.bent.shape == (64, 64, 3)
    status, body = post(studio.url + "api/import/latent?kind=z", b"not numpy", raw=True)
    assert status == 400 and "not a .npy array" in json.loads(body)["error"]
    # clusters: the original project's YAML format
    from netbend.clusters import load_clusters, save_clusters

    save_clusters(load_clusters(engine.clusters_path), tmp_path / "c.yaml", original=True)
    status, body = post(studio.url + "api/import/clusters?name=c.yaml", (tmp_path / "c.yaml").read_bytes(), raw=True)
    assert status == 200 and json.loads(body)["layers"]["1"]
    status, body = post(studio.url + "api/import/clusters?name=x.json", b"[1, 2]", raw=True)
    assert status == 400 and "expected a mapping" in json.loads(body)["error"]


def test_cluster_pictures_and_look_inside(studio, engine):
    status, body = get(studio.url + "api/clusters/2")
    pics = json.loads(body)["clusters"]
    assert [p["size"] for p in pics] == [len(c) for c in engine.clusters.clusters_of(2)]
    assert pics[0]["png"].startswith("data:image/png;base64,")
    status, png = post(studio.url + "api/inspect", {"layer": 3, "bent": False})
    grid = np.asarray(Image.open(io.BytesIO(png)))
    one_status, one = post(studio.url + "api/inspect", {"layer": 3, "bent": False, "feature": 5})
    assert status == one_status == 200
    assert grid.shape[0] > np.asarray(Image.open(io.BytesIO(one))).shape[0]
    status, body = post(studio.url + "api/inspect", {"layer": 3, "feature": 64})
    assert status == 400 and json.loads(body)["error"] == "inspect: feature must be 0-63, got 64"
    status, mean = post(studio.url + "api/inspect", {"layer": 3, "bent": False, "cluster": 1})
    assert status == 200 and mean != one
    status, body = post(studio.url + "api/inspect", {"layer": 3, "cluster": 9})
    k = len(engine.clusters.clusters_of(3))
    assert status == 400 and json.loads(body)["error"] == f"inspect: cluster must be 0-{k - 1}, got 9"


# -- OSC -------------------------------------------------------------------------------------------------
def test_osc_moves_controls_maps_values_and_reports_bad_messages(studio):
    from pythonosc.udp_client import SimpleUDPClient

    assert post(studio.url + "api/presets/1", state(latent={"seed": 9}))[0] == 200
    with connect(ws_url(studio)) as page:
        json.loads(page.recv(timeout=30))
        page.send(json.dumps({"type": "state", "state": state(), "rid": 1}))
        receive_until(page, lambda m: isinstance(m, tuple) and m[0]["rid"] == 1)
        client = SimpleUDPClient("127.0.0.1", studio.osc.port)
        client.send_message("/netbend/bend/0/angle", 30.0)
        msg = receive_until(page, lambda m: isinstance(m, dict) and m.get("origin") == "osc")
        assert msg["state"]["transforms"][0]["params"]["angle"] == 30.0
        client.send_message("/netbend/walk", 2.0)  # mapped: 2 * 0.5 + 0.1 = 1.1, clamped to 0.5
        msg = receive_until(page, lambda m: isinstance(m, dict) and m.get("origin") == "osc")
        assert msg["state"]["latent"]["walk"] == 0.5
        client.send_message("/netbend/bend/0/enabled", 0)
        msg = receive_until(page, lambda m: isinstance(m, dict) and m.get("origin") == "osc")
        assert msg["state"]["transforms"][0]["enabled"] is False
        client.send_message("/netbend/bend/3/angle", 1.0)
        err = receive_until(page, lambda m: isinstance(m, dict) and m.get("type") == "error")
        assert err["message"] == "OSC /netbend/bend/3/angle: no stack entry 3 (the stack has 1)"
        client.send_message("/netbend/walk", "fast")
        err = receive_until(page, lambda m: isinstance(m, dict) and m.get("type") == "error")
        assert err["message"] == "OSC /netbend/walk: expected one number, got ['fast']"
        client.send_message("/netbend/preset", 1)
        msg = receive_until(page, lambda m: isinstance(m, dict) and m.get("origin") == "osc")
        assert msg["state"]["latent"]["seed"] == 9
    rows = json.loads(get(studio.url + "api/osc")[1])
    assert {"/netbend/walk", "/netbend/bend/0/angle", "/netbend/bend/0/enabled"} <= {r["address"] for r in rows}
    assert next(r for r in rows if r["address"] == "/netbend/walk")["mapping"]["max"] == 0.5


def test_osc_mapping_is_data():
    with pytest.raises(NetbendError, match="unknown key 'eval'"):
        OscMap.from_dict({"/netbend/walk": {"eval": 1}})
    with pytest.raises(NetbendError, match=r"scale: must be a number, got '__import__'"):
        OscMap.from_dict({"/netbend/walk": {"scale": "__import__"}})
    m = OscMap.from_dict({"/netbend/bend/*/angle": {"scale": 360, "offset": -180}})
    data = osc_change(parse_state(state()).to_dict(), "/netbend/bend/0/angle", (0.75,), m)
    assert data["transforms"][0]["params"]["angle"] == 90.0
    with pytest.raises(NetbendError, match="'rotate' has no parameter 'angel'"):
        osc_change(parse_state(state()).to_dict(), "/netbend/bend/0/angel", (1.0,), m)


# -- access -------------------------------------------------------------------------------------------------
def test_a_token_guards_every_route(engine):
    bg = Background(create_app(Hub(engine), token="s3cret"))
    try:
        assert get(bg.url)[0] == 403
        assert get(bg.url + "api/info")[0] == 403
        assert get(bg.url + "?token=s3cret")[0] == 200
        assert get(bg.url + "api/info?token=s3cret")[0] == 200
        with pytest.raises(Exception):
            with connect(ws_url(bg)) as ws:
                ws.recv(timeout=10)
        with connect(ws_url(bg) + "?token=s3cret") as ws:
            assert json.loads(ws.recv(timeout=30))["type"] == "hello"
    finally:
        bg.stop()


def test_cli_dry_run_and_missing_extra(monkeypatch):
    res = CliRunner().invoke(main, ["studio", "--dry-run", "--port", "8801"])
    assert res.exit_code == 0 and "http://localhost:8801/" in res.output
    res = CliRunner().invoke(main, ["studio", "--dry-run", "--host", "0.0.0.0"])
    assert res.exit_code == 0 and "?token=" in res.output and "warning" in res.output
    res = CliRunner().invoke(main, ["studio", "--dry-run", "--preset", "missing.yaml"])
    assert res.exit_code == 2 and "missing.yaml: preset file not found" in res.output
    res = CliRunner().invoke(main, ["studio", "--dry-run", "--osc-port", "9000", "--osc-map",
                                    str(ROOT / "examples" / "studio_osc_map.yaml")])
    assert res.exit_code == 0 and "with OSC on udp 127.0.0.1:9000" in res.output
    assert OscMap.load(ROOT / "examples" / "studio_osc_map.yaml").apply("/netbend/bend/2/angle", 0.25) == -90.0
    bad = ROOT / "examples" / "fig3_stochastic.yaml"  # a plan is not an OSC mapping
    res = CliRunner().invoke(main, ["studio", "--dry-run", "--osc-map", str(bad)])
    assert res.exit_code == 2 and f"{bad}: transforms: addresses start with /netbend/" in res.output
    import netbend.studio as studio_pkg

    monkeypatch.setattr(studio_pkg, "EXTRA_MODULES", ("starlette", "no_such_module_xyz"))
    res = CliRunner().invoke(main, ["studio", "--dry-run"])
    assert res.exit_code == 2
    assert "pip install 'netbend[studio]'" in res.output and "no_such_module_xyz" in res.output


def test_switch_to_another_checkpoint_and_refuse_a_bad_one(engine, tmp_path):
    import torch

    from netbend.models import save_native
    from netbend.models.stylegan2 import Generator
    from netbend.models.wrapper import StyleGAN2Model

    torch.manual_seed(1)
    path = tmp_path / "tiny.safetensors"
    save_native(StyleGAN2Model(Generator(16, style_dim=32, n_mlp=2, channels={4: 32, 8: 16, 16: 8}),
                               name="tiny"), path)
    hub = Hub(engine)
    bg = Background(create_app(hub))
    try:
        with connect(ws_url(bg)) as page:
            json.loads(page.recv(timeout=30))
            page.send(json.dumps({"type": "state", "state": state(transforms=[{**ROTATE, "layer": 6}]), "rid": 1}))
            receive_until(page, lambda m: isinstance(m, tuple) and m[0]["rid"] == 1)
            status, body = post(bg.url + "api/model", {"path": str(tmp_path / "nope.pt")})
            assert status == 400 and json.loads(body)["error"] == f"model file not found: {tmp_path / 'nope.pt'}"
            status, body = post(bg.url + "api/model", {"path": str(path)})
            assert status == 200 and json.loads(body)["name"] == "tiny"
            receive_until(page, lambda m: isinstance(m, dict) and m.get("type") == "model")
            header, (bent, _) = receive_until(page, lambda m: isinstance(m, tuple))
            assert np.asarray(Image.open(io.BytesIO(bent))).shape == (16, 16, 3)
        st = json.loads(get(bg.url + "api/state")[1])["state"]
        assert st["model"] == str(path) and st["transforms"] == []  # layer 6 does not exist in it
    finally:
        bg.stop()


def test_changes_are_accepted_while_a_render_holds_the_model(engine):
    """A long render (here: the model lock held by the test) blocks neither the socket nor
    validation; only the newest of the states sent meanwhile is rendered afterwards."""
    hub = Hub(engine)
    bg = Background(create_app(hub))
    try:
        with connect(ws_url(bg)) as page:
            json.loads(page.recv(timeout=30))
            receive_until(page, lambda m: isinstance(m, tuple))
            with engine.lock:
                for rid, angle in enumerate((10.0, 20.0, 30.0, 40.0), start=1):
                    page.send(json.dumps({"type": "state", "rid": rid, "state": state(
                        transforms=[{**ROTATE, "params": {"angle": angle}}])}))
                    ack = receive_until(page, lambda m: isinstance(m, dict) and m.get("rid") == rid, timeout=5)
                    assert ack["type"] == "state"
                page.send(json.dumps({"type": "state", "rid": 5, "state": state(
                    transforms=[{**ROTATE, "params": {"angel": 1}}])}))
                assert receive_until(page, lambda m: isinstance(m, dict) and m.get("rid") == 5,
                                     timeout=5)["type"] == "error"
            rids = []
            while 4 not in rids:
                header, _ = receive_until(page, lambda m: isinstance(m, tuple))
                rids.append(header["rid"])
        assert len(rids) <= 2 and rids[-1] == 4  # at most the one that was waiting, then the newest
        assert hub.render_loop.dropped >= 2
    finally:
        bg.stop()


def test_audio_studio_renders_sound_and_exports_what_autoencode_renders(tmp_path, monkeypatch):
    """The same stack on the spectrogram VAE: spectrograms and WAV frames; the exported plan, clip
    and command give `netbend audio autoencode` output equal sample for sample."""
    import base64

    import soundfile as sf

    from netbend.studio.engine import open_engine

    engine = open_engine(None, audio=True)
    assert engine.kind == "audio"
    bg = Background(create_app(Hub(engine)))
    st = {"seed": 3, "variation": 1, "audio": {"clip": "synth1", "phase": "original"},
          "transforms": [{"layer": 2, "transform": "scalar-multiply", "params": [2.5], "features": "random",
                          "feature-param": 0.5}]}
    try:
        with connect(ws_url(bg)) as page:
            json.loads(page.recv(timeout=30))
            page.send(json.dumps({"type": "state", "state": st, "rid": 1}))
            header, parts = receive_until(page, lambda m: isinstance(m, tuple) and m[0]["rid"] == 1, timeout=120)
        assert header["kinds"] == ["original", "plain", "bent", "plain.wav", "bent.wav"]
        assert header["selected"] == [16]
        bent, plain = (sf.read(io.BytesIO(parts[i]), dtype="int16")[0] for i in (4, 3))
        assert bent.shape == plain.shape and np.abs(bent.astype(int) - plain).mean() > 10
        assert Image.open(io.BytesIO(parts[2])).size == Image.open(io.BytesIO(parts[0])).size
        status, body = post(bg.url + "api/export", st)
        assert status == 200, body
        out = json.loads(body)
        (tmp_path / "plan.yaml").write_text(out["plan_yaml"])
        (tmp_path / "clip.wav").write_bytes(base64.b64decode(out["clip_wav_b64"]))
        monkeypatch.chdir(tmp_path)
        res = CliRunner().invoke(main, shlex.split(out["command"])[1:])
        assert res.exit_code == 0, res.output
        cli = sf.read(tmp_path / out["image"], dtype="int16")[0]
        assert np.array_equal(cli, bent)
        status, body = post(bg.url + "api/import/clip?name=x.wav", b"RIFF nonsense", raw=True)
        assert status == 400 and "cannot decode audio" in json.loads(body)["error"]
        bad = {**st, "audio": {"clip": "synth9"}}
        status, body = post(bg.url + "api/export", bad)
        assert json.loads(body)["error"] == "audio.clip: no clip 'synth9' (clips: synth0, synth1, synth2)"
    finally:
        bg.stop()


def test_variations_grid_shows_the_next_random_draws(engine):
    entry = {"layer": 2, "transform": "ablate", "features": "random", "feature-param": 0.5}
    frame = engine.render(parse_state(state(variation=1, grid=3, transforms=[entry])))
    assert frame.grid_count == 3 and frame.grid.shape == (64 + 2, 3 * 65 + 1, 3)
    tiles = [frame.grid[1:65, 1 + 65 * k:65 + 65 * k] for k in range(3)]
    assert np.array_equal(tiles[0], frame.bent)
    assert np.array_equal(tiles[1], engine.render(parse_state(state(variation=2, transforms=[entry]))).bent)
    assert not np.array_equal(tiles[1], tiles[2])
    assert engine.render(parse_state(state(transforms=[entry]))).grid is None
    with pytest.raises(NetbendError, match="grid: must be a whole number 0-16, got 17"):
        parse_state(state(grid=17))


def test_the_command_serves_the_page_and_listens_for_osc(tmp_path):
    """`netbend studio` as a user starts it: prints its URL, serves, moves a control on OSC."""
    import re
    import subprocess
    import sys

    from pythonosc.udp_client import SimpleUDPClient

    cmd = [sys.executable, "-c", "from netbend.cli import main; main()", "--threads", "1", "studio",
           "--port", "0", "--osc-port", "0", "--no-browser", "--presets", str(tmp_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        m = re.match(r"netbend studio: (http://localhost:\d+/) \(OSC on udp 127\.0\.0\.1:(\d+)\)", line)
        assert m, line
        url, osc_port = m.group(1), int(m.group(2))
        assert get(url)[0] == 200 and b"netbend studio" in get(url)[1]
        assert get(url + "static/studio.js")[0] == 200
        SimpleUDPClient("127.0.0.1", osc_port).send_message("/netbend/truncation", 0.5)
        deadline = time.monotonic() + 30
        while json.loads(get(url + "api/state")[1])["state"]["latent"]["truncation"] != 0.5:
            assert time.monotonic() < deadline, "the OSC message did not arrive"
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_uploads_live_in_a_temporary_folder_removed_at_shutdown(engine):
    bg = Background(create_app(Hub(engine)))
    buf = io.BytesIO()
    np.save(buf, np.zeros((1, engine.model.z_dim), "f4"))
    status, body = post(bg.url + "api/import/latent?kind=z", buf.getvalue(), raw=True)
    assert status == 200
    path = engine.latent_files[json.loads(body)["id"]]
    assert path.is_file() and path.parent.name.startswith("netbend-studio-")
    import http.client
    from urllib.parse import urlparse

    conn = http.client.HTTPConnection(urlparse(bg.url).hostname, urlparse(bg.url).port, timeout=30)
    conn.putrequest("POST", "/api/import/latent?kind=z")
    conn.putheader("Content-Length", str(64 * 2**20 + 1))
    conn.endheaders()  # refused on the header, before a byte of the body is read
    res = conn.getresponse()
    assert res.status == 400 and json.loads(res.read())["error"] == "upload: larger than the 64 MB limit"
    conn.close()
    bg.stop()
    assert not path.parent.exists()
