"""Serving the sandbox over loopback with uvicorn, blocking or in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.applications import Starlette

HOST = "127.0.0.1"


def _server(app: Starlette, port: int, log_level: str) -> uvicorn.Server:
    config = uvicorn.Config(app, host=HOST, port=port, log_level=log_level, lifespan="off", access_log=False)
    return uvicorn.Server(config)


@contextmanager
def serve_in_thread(app: Starlette, port: int = 0, *, startup_timeout_s: float = 10.0) -> Iterator[str]:
    """Run ``app`` on 127.0.0.1 in a daemon thread; yield its base URL; stop it on exit.

    ``port=0`` picks a free port. Signal handlers are not installed off the main thread.
    """
    server = _server(app, port, "warning")
    thread = threading.Thread(target=server.run, name="mltakedown-sandbox", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)
    bound = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{HOST}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def serve_forever(app: Starlette, port: int) -> None:
    """Run ``app`` on 127.0.0.1 until interrupted (Ctrl+C)."""
    _server(app, port, "info").run()
