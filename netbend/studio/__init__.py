"""``netbend studio``: a live local web interface for bending, with OSC control.

The page sends states; a render loop renders the newest with the library functions the CLI uses
(:mod:`netbend.studio.engine`); presets, exported plans and OSC changes are the same state data
(:mod:`netbend.studio.state`). Needs the ``studio`` extra: ``pip install 'netbend[studio]'``.
"""
from __future__ import annotations

from netbend.errors import NetbendError

EXTRA_MODULES = ("starlette", "uvicorn", "websockets", "pythonosc")


def require() -> None:
    """Fail with how to install the extra when its packages are missing."""
    from importlib.util import find_spec

    missing = [m for m in EXTRA_MODULES if find_spec(m) is None]
    if missing:
        raise NetbendError(f"netbend studio needs {', '.join(missing)}: install them with "
                           "pip install 'netbend[studio]' (or pip install -e '.[studio]' in a checkout)")
