"""Run the studio's app with uvicorn: in the foreground (the CLI) or on a thread (tests, benchmarks)."""
from __future__ import annotations

import socket
import threading
import time
from typing import Any

from netbend.errors import NetbendError


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # connections accepted from it inherit this (Linux): a frame written right after a small state
    # message must not wait for the browser's delayed ACK (Nagle's algorithm cost ~40 ms a change)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as err:
        sock.close()
        raise NetbendError(f"--port {port}: cannot listen on {host}:{port} ({err.strerror})") from None
    sock.listen(128)  # from now on a browser's connection waits for the server instead of failing
    return sock


def server(app: Any) -> Any:
    import uvicorn
    from uvicorn.config import WS_PROTOCOLS

    ws = "websockets-sansio" if "websockets-sansio" in WS_PROTOCOLS else "websockets"
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", ws=ws, lifespan="on"))


class Background:
    """The app served on a thread; ``url`` is where; ``stop()`` ends it."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0):
        self.sock = bind(host, port)
        self.url = f"http://{host}:{self.sock.getsockname()[1]}/"
        self.server = server(app)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the studio server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()
