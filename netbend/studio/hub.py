"""The studio's shared state: the last good state, the connected pages, the render loop.

Every change (from a page, a preset, an imported plan or an OSC message) goes through
:meth:`Hub.apply`: it is validated with the same functions the CLI uses; a bad one is answered
with the CLI's one-line message and the last good state stays. A good one becomes the state of
every open page and is handed to the render loop, which renders only the newest.
"""
from __future__ import annotations

import asyncio
import json
import struct
from typing import Any, Callable

from netbend.errors import NetbendError
from netbend.studio.engine import Engine, Frame
from netbend.studio.renderloop import RenderLoop
from netbend.studio.state import StudioState, parse_state


def frame_message(header: dict[str, Any], images: list[bytes]) -> bytes:
    """[uint32 little-endian header length][header JSON][image 0][image 1]... (lengths in header)."""
    head = json.dumps({**header, "sizes": [len(b) for b in images]}).encode()
    return struct.pack("<I", len(head)) + head + b"".join(images)


class Hub:
    def __init__(self, engine: Engine, initial: StudioState | None = None):
        self.engine = engine
        self.state = initial or parse_state({})
        self.version = 0
        self.clients: dict[Any, str] = {}  # websocket -> client id
        self.loop: asyncio.AbstractEventLoop | None = None
        self.render_loop = RenderLoop(self._render, self._rendered)

    # -- changes -------------------------------------------------------------------------------
    def validate(self, data: Any, source: str = "state") -> StudioState:
        state = parse_state(data, source)
        self.engine.check(state)
        return state

    async def apply(self, data: Any, *, origin: str = "", rid: int | None = None,
                    source: str = "state") -> StudioState:
        """Make ``data`` the state (or raise NetbendError, keeping the last good state)."""
        state = self.validate(data, source)
        self.state = state
        self.version += 1
        await self.broadcast_json({"type": "state", "state": state.to_dict(), "version": self.version,
                                   "origin": origin, "rid": rid})
        self.render_loop.submit((self.version, state, origin, rid))
        return state

    async def switch(self, engine: Engine) -> None:
        """Use another model: keep the stack where it fits the new model, else start it empty."""
        data = {**self.state.to_dict(), "model": engine.model_path}
        self.engine = engine
        try:
            state = self.validate(data)
        except NetbendError:
            state = self.validate({**data, "transforms": [], "latent": {}})
        self.state = state
        self.version += 1
        await self.broadcast_json({"type": "model", "version": self.version})
        self.render_loop.submit((self.version, state, "", None))

    def patch(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """A copy of the current state's data with ``change`` applied to it."""
        data = json.loads(json.dumps(self.state.to_dict()))
        change(data)
        return data

    # -- rendering -----------------------------------------------------------------------------
    def _render(self, job: tuple[int, StudioState, str, int | None]) -> Frame:
        return self.engine.render(job[1])

    def _rendered(self, job, frame: Frame | None, error: BaseException | None) -> None:
        version, state, origin, rid = job
        if frame is not None:
            header = {"type": "frame", "version": version, "origin": origin, "rid": rid,
                      "ms": round(frame.ms, 2), "selected": list(frame.selected),
                      "rendered": self.render_loop.rendered, "dropped": self.render_loop.dropped,
                      "grid": getattr(frame, "grid_count", 0)}
            kinds, parts = self.engine.frame_parts(frame)
            message: Any = frame_message({**header, "kinds": kinds}, parts)
        else:
            text = str(error) if isinstance(error, NetbendError) else f"render failed: {error!r}"
            message = json.dumps({"type": "error", "message": text, "origin": origin, "rid": rid})
        if self.loop is not None:
            asyncio.run_coroutine_threadsafe(self._send_all(message), self.loop)

    # -- pages ---------------------------------------------------------------------------------
    async def broadcast_json(self, payload: dict[str, Any]) -> None:
        await self._send_all(json.dumps(payload))

    async def _send_all(self, message: Any) -> None:
        for ws in list(self.clients):
            try:
                if isinstance(message, bytes):
                    await ws.send_bytes(message)
                else:
                    await ws.send_text(message)
            except Exception:  # a page that went away
                self.clients.pop(ws, None)

    def close(self) -> None:
        self.render_loop.stop()
