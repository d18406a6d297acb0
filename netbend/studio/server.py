"""The studio's web server: one page, a WebSocket for states and frames, a small JSON API.

Routes (all need ``?token=`` or the token cookie when the server has a token):

* ``GET /``: the page; ``/static/*``: its script and style (shipped in the wheel)
* ``WS /ws``: the page sends ``{"type": "state", "state": {...}, "rid": n}``; the server answers
  ``state`` / ``error`` JSON messages and binary frames (see :func:`netbend.studio.hub.frame_message`)
* ``GET /api/info``, ``/api/state``, ``/api/osc``, ``/api/presets``, ``/api/clusters/{layer}``
* ``POST /api/export``, ``/api/png``, ``/api/raw`` (state in the body), ``/api/presets/{slot}``
  (save), ``/api/presets/{slot}/load``, ``/api/model`` (another checkpoint), ``/api/import/plan``, ``/api/import/clusters``,
  ``/api/import/latent?kind=z|w``, ``/api/import/clip`` (audio), ``/api/inspect``
"""
from __future__ import annotations

import asyncio
import base64
import io
import json
import secrets
import tempfile
from contextlib import asynccontextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import numpy as np
import yaml
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from netbend.errors import NetbendError
from netbend.plan import Plan
from netbend.studio.engine import open_engine
from netbend.studio.hub import Hub
from netbend.studio.osc import OscMap, osc_addresses
from netbend.studio.pictures import cluster_pictures, inspect_layer
from netbend.studio.presets import Presets

STATIC = Path(__file__).resolve().parent / "static"
MAX_UPLOAD = 64 * 2**20
COOKIE = "netbend_studio_token"


class TokenGate:
    """ASGI middleware: without the token (query or cookie) every request is refused."""

    def __init__(self, app, token: str | None):
        self.app, self.token = app, token

    async def __call__(self, scope, receive, send):
        if self.token is None or scope["type"] not in ("http", "websocket") or self._ok(scope):
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4403})
            return
        await Response("netbend studio: open the URL with its ?token=... (printed at start)",
                       status_code=403)(scope, receive, send)

    def _ok(self, scope) -> bool:
        query = parse_qs(scope.get("query_string", b"").decode())
        if secrets.compare_digest(query.get("token", [""])[0], self.token):
            return True
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                jar = SimpleCookie(value.decode("latin-1"))
                if COOKIE in jar and secrets.compare_digest(jar[COOKIE].value, self.token):
                    return True
        return False


async def _error(_request: Request, err: Exception) -> JSONResponse:
    """Every route's bad input: the CLI's one line, status 400 (the state is left as it was)."""
    return JSONResponse({"error": str(err)}, status_code=400)


async def _json_body(request: Request) -> Any:
    body = await _body(request)
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise NetbendError("request body: not JSON") from None


async def _body(request: Request) -> bytes:
    too_big = NetbendError(f"upload: larger than the {MAX_UPLOAD // 2**20} MB limit")
    if int(request.headers.get("content-length") or 0) > MAX_UPLOAD:
        raise too_big
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_UPLOAD:
            raise too_big
    return bytes(data)


def create_app(hub: Hub, *, token: str | None = None, presets: Presets | None = None,
               osc_map: OscMap | None = None, workdir: Path | None = None) -> Any:
    """The ASGI app serving ``hub``; uploads go to ``workdir`` (a per-session temporary folder)."""
    temp = None
    if workdir is None:
        temp = tempfile.TemporaryDirectory(prefix="netbend-studio-")
        workdir = Path(temp.name)
    presets = presets or Presets(None)
    osc_map = osc_map or OscMap({})

    async def page(request: Request) -> Response:
        resp = FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})
        if token:
            resp.set_cookie(COOKIE, token, httponly=True, samesite="strict")
        return resp

    async def info(request: Request) -> Response:
        data = hub.engine.info()
        data["osc"] = osc_addresses(hub.state, osc_map)
        data["max_upload"] = MAX_UPLOAD
        return JSONResponse(data)

    async def state(request: Request) -> Response:
        return JSONResponse({"state": hub.state.to_dict(), "version": hub.version})

    async def osc(request: Request) -> Response:
        return JSONResponse(osc_addresses(hub.state, osc_map))

    async def export(request: Request) -> Response:
        st = hub.validate(await _json_body(request))
        out = await run_in_threadpool(hub.engine.export, st)
        for key in ("latent_npy", "clip_wav"):
            data = out.pop(key, None)
            out[f"{key}_b64"] = base64.b64encode(data).decode() if data else None
        return JSONResponse(out)

    async def png(request: Request) -> Response:
        st = hub.validate(await _json_body(request))
        data = await run_in_threadpool(hub.engine.png, st)
        return Response(data, media_type="image/png")

    async def raw(request: Request) -> Response:
        st = hub.validate(await _json_body(request))
        frame = await run_in_threadpool(hub.engine.render, st)
        buf = io.BytesIO()
        np.save(buf, frame.raw.numpy() if hasattr(frame, "raw") else frame.bent_samples)
        return Response(buf.getvalue(), media_type="application/octet-stream")

    async def preset_list(request: Request) -> Response:
        return JSONResponse(presets.list())

    async def preset_save(request: Request) -> Response:
        st = hub.validate(await _json_body(request) or hub.state.to_dict())
        presets.save(request.path_params["slot"], st)
        return JSONResponse(presets.list())

    async def preset_load(request: Request) -> Response:
        data = presets.load(request.path_params["slot"])
        st = await hub.apply(data, origin="preset", source=presets.path(request.path_params["slot"]))
        return JSONResponse({"state": st.to_dict()})

    async def import_plan(request: Request) -> Response:
        name = request.query_params.get("name", "plan.yaml")
        text = (await _body(request)).decode("utf-8", "replace")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            raise NetbendError(f"{name}: not valid YAML ({' '.join(str(err).split())})") from None
        plan = Plan.from_dict(data, source=name)
        st = await hub.apply(hub.patch(lambda d: d.update(transforms=plan.to_dict()["transforms"])),
                             origin="import", source=name)
        return JSONResponse({"state": st.to_dict()})

    async def import_clusters(request: Request) -> Response:
        name = Path(request.query_params.get("name", "clusters.json")).name
        path = workdir / f"clusters-{secrets.token_hex(4)}-{name}"
        path.write_bytes(await _body(request))
        await run_in_threadpool(hub.engine.set_clusters, str(path))
        return JSONResponse(hub.engine.info()["clusters"])

    async def import_latent(request: Request) -> Response:
        kind = request.query_params.get("kind", "z")
        if kind not in ("z", "w"):
            raise NetbendError(f"kind: must be z or w, got {kind!r}")
        path = workdir / f"latent-{secrets.token_hex(4)}.npy"
        path.write_bytes(await _body(request))
        out = await run_in_threadpool(hub.engine.add_latent_file, path, kind)
        return JSONResponse(out)

    async def model(request: Request) -> Response:
        """Switch to another checkpoint (a path on the server's disk); every page reloads."""
        body = await _json_body(request) or {}
        path = body.get("path") or None
        if path is not None and not isinstance(path, str):
            raise NetbendError(f"model: expected a checkpoint path, got {path!r}")
        engine = await run_in_threadpool(open_engine, path, None, hub.engine.device, bool(body.get("audio")))
        await hub.switch(engine)
        return JSONResponse(engine.info()["model"])

    async def import_clip(request: Request) -> Response:
        name = Path(request.query_params.get("name", "clip.wav")).name
        if not hasattr(hub.engine, "add_clip"):
            raise NetbendError("clips: this model is an image generator; load an audio model")
        path = workdir / f"clip-{secrets.token_hex(4)}{Path(name).suffix}"
        path.write_bytes(await _body(request))
        out = await run_in_threadpool(hub.engine.add_clip, path, name)
        return JSONResponse(out)

    async def clusters(request: Request) -> Response:
        pics = await run_in_threadpool(cluster_pictures, hub.engine, hub.state,
                                       request.path_params["layer"])
        return JSONResponse(pics)

    async def inspect(request: Request) -> Response:
        body = await _json_body(request) or {}
        st = hub.validate(body.get("state") or hub.state.to_dict())
        data = await run_in_threadpool(inspect_layer, hub.engine, st, body.get("layer"),
                                       bool(body.get("bent", True)), body.get("feature"),
                                       body.get("cluster"))
        return Response(data, media_type="image/png")

    async def socket(ws: WebSocket) -> None:
        await ws.accept()
        client = secrets.token_hex(4)
        hub.clients[ws] = client
        await ws.send_text(json.dumps({"type": "hello", "client": client, "state": hub.state.to_dict(),
                                       "version": hub.version}))
        hub.render_loop.submit((hub.version, hub.state, "", None))
        try:
            while True:
                try:
                    msg = json.loads(await ws.receive_text())
                except ValueError:
                    msg = None
                if not isinstance(msg, dict) or msg.get("type") != "state":
                    await ws.send_text(json.dumps({"type": "error", "message": "websocket: expected a JSON "
                                                   "message {\"type\": \"state\", \"state\": {...}}"}))
                    continue
                try:
                    await hub.apply(msg.get("state"), origin=client, rid=msg.get("rid"))
                except NetbendError as err:
                    await ws.send_text(json.dumps({"type": "error", "message": str(err),
                                                   "rid": msg.get("rid"), "origin": client,
                                                   "state": hub.state.to_dict()}))
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            hub.clients.pop(ws, None)

    @asynccontextmanager
    async def lifespan(_app):
        hub.loop = asyncio.get_running_loop()
        try:
            yield
        finally:
            hub.close()
            if temp is not None:
                temp.cleanup()

    routes = [
        Route("/", page),
        Route("/api/info", info), Route("/api/state", state), Route("/api/osc", osc),
        Route("/api/export", export, methods=["POST"]), Route("/api/png", png, methods=["POST"]),
        Route("/api/raw", raw, methods=["POST"]),
        Route("/api/presets", preset_list),
        Route("/api/presets/{slot}", preset_save, methods=["POST"]),
        Route("/api/presets/{slot}/load", preset_load, methods=["POST"]),
        Route("/api/import/plan", import_plan, methods=["POST"]),
        Route("/api/import/clusters", import_clusters, methods=["POST"]),
        Route("/api/import/latent", import_latent, methods=["POST"]),
        Route("/api/import/clip", import_clip, methods=["POST"]),
        Route("/api/model", model, methods=["POST"]), Route("/api/clusters/{layer}", clusters), Route("/api/inspect", inspect, methods=["POST"]),
        WebSocketRoute("/ws", socket),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={NetbendError: _error})
    return TokenGate(app, token)


def osc_handler(hub: Hub, presets: Presets, osc_map: OscMap):
    """A handler for :class:`netbend.studio.osc.OscServer`: apply the message on the server's loop.

    A bad message is shown in every page (the server and the last good state carry on)."""
    from netbend.studio.osc import PREFIX, osc_change

    async def apply(address: str, args: tuple) -> None:
        try:
            if address == f"{PREFIX}/preset":
                slot = int(round(osc_map.apply(address, _osc_number(address, args))))
                await hub.apply(presets.load(slot), origin="osc", source=presets.path(slot))
            else:
                await hub.apply(hub.patch(lambda d: osc_change(d, address, args, osc_map)),
                                origin="osc", source=f"OSC {address}")
        except NetbendError as err:
            await hub.broadcast_json({"type": "error", "message": str(err), "origin": "osc"})

    def handle(address: str, args: tuple) -> None:
        if hub.loop is not None:
            asyncio.run_coroutine_threadsafe(apply(address, args), hub.loop)

    return handle


def _osc_number(address: str, args: tuple) -> float:
    if len(args) != 1 or isinstance(args[0], bool) or not isinstance(args[0], (int, float)):
        raise NetbendError(f"OSC {address}: expected one number, got {list(args)!r}")
    return float(args[0])
