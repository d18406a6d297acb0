"""Custom transforms from outside the library: plugin files and installed packages.

A plugin is Python code that calls :func:`netbend.transforms.register_transform`. The CLI
imports it in one of two ways:

* ``--plugin my_transforms.py`` (a file; repeatable), and
* the entry-point group ``netbend.transforms`` of installed packages, loaded once when the
  CLI starts. In a package's ``pyproject.toml``::

      [project.entry-points."netbend.transforms"]
      my_transforms = "my_package.transforms"      # a module: importing it registers

  An entry point may also name a function (``"my_package:register"``); it is called with no
  arguments after it is loaded.

Every transform remembers where it came from (``TransformSpec.origin``), which
``netbend transforms`` prints.
"""
from __future__ import annotations

import importlib.util
import sys
import sysconfig
import types
from contextlib import contextmanager
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Callable, Iterator

from netbend.errors import NetbendError
from netbend.examples import resolve
from netbend.transforms import registry

GROUP = "netbend.transforms"
_LOADED_FILES: dict[Path, list[str]] = {}
_LOADED_ENTRY_POINTS: dict[str, list[str]] = {}


@contextmanager
def _registering_as(origin: str) -> Iterator[list[str]]:
    """Mark transforms registered inside the block with ``origin``; yield the new names."""
    before = set(registry.TRANSFORMS)
    added: list[str] = []
    registry._ORIGINS.append(origin)
    try:
        yield added
    finally:
        registry._ORIGINS.pop()
        added.extend(n for n in registry.TRANSFORMS if n not in before)


def _one_line(err: BaseException) -> str:
    """``Type: message (line N of file.py)``, the line being the innermost one of the plugin's code."""
    skip = (str(Path(registry.__file__).parents[1]), sysconfig.get_paths()["stdlib"], "<frozen")
    tb = err.__traceback__
    line = ""
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if not name.startswith(skip):
            line = f" (line {tb.tb_lineno} of {Path(name).name})"
        tb = tb.tb_next
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}{': ' + text if text else ''}{line}"


def load_plugin_file(path: str | Path) -> list[str]:
    """Import a Python file so that its ``register_transform`` calls run; the names it added.

    Loading the same file twice is a no-op. A missing file, or one that raises, is a
    :class:`NetbendError` naming the file.
    """
    file = resolve(Path(path).expanduser())  # or a shipped example: examples/my_transforms.py
    if not file.is_file():
        raise NetbendError(f"--plugin {path}: file not found")
    key = file.resolve()
    if key in _LOADED_FILES:
        return _LOADED_FILES[key]
    name = f"netbend_plugin_{len(_LOADED_FILES)}_{''.join(c if c.isalnum() else '_' for c in file.stem)}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise NetbendError(f"--plugin {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with _registering_as(f"plugin {file.name}") as added:
            spec.loader.exec_module(module)
    except NetbendError as err:
        sys.modules.pop(name, None)
        raise NetbendError(f"--plugin {path}: {err}") from None
    except Exception as err:  # the plugin's own code failed: one line, no traceback
        sys.modules.pop(name, None)
        raise NetbendError(f"--plugin {path}: {_one_line(err)}") from None
    _LOADED_FILES[key] = added
    return added


def _dist_name(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return getattr(dist, "name", None) or "unknown package"


def load_entry_point(ep: EntryPoint) -> list[str]:
    """Load one entry point of the ``netbend.transforms`` group; the names it added."""
    label = f"entry point {ep.name} ({_dist_name(ep)})"
    if label in _LOADED_ENTRY_POINTS:
        return _LOADED_ENTRY_POINTS[label]
    try:
        with _registering_as(label) as added:
            obj = ep.load()
            if callable(obj) and not isinstance(obj, types.ModuleType):
                obj()
    except Exception as err:
        raise NetbendError(f"{GROUP} {label} = {ep.value}: {_one_line(err)}") from None
    _LOADED_ENTRY_POINTS[label] = added
    return added


def load_entry_points(warn: Callable[[str], None] | None = None) -> dict[str, list[str]]:
    """Load every installed ``netbend.transforms`` entry point (once).

    A failing entry point raises, unless ``warn`` is given: then it is reported through
    ``warn`` as one line and skipped, so one broken package does not stop every command.
    """
    loaded: dict[str, list[str]] = {}
    for ep in entry_points(group=GROUP):
        try:
            loaded[ep.name] = load_entry_point(ep)
        except NetbendError as err:
            if warn is None:
                raise
            warn(f"{err}; skipped")
    return loaded
