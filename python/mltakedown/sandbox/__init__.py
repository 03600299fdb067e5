"""A faithful local emulator of the Mercado Libre API subset mltakedown uses.

``create_app(SandboxOptions(...))`` returns a Starlette app whose ``app.state.world`` holds the
seeded state (see :mod:`.seed` for sellers, tokens and the tricky cases). Independent of
``mltakedown.meli`` by design, so client tests against it mean something.
"""

from __future__ import annotations

from .app import create_app
from .options import SandboxOptions
from .server import serve_in_thread
from .world import World

__all__ = ["SandboxOptions", "World", "create_app", "serve_in_thread"]
