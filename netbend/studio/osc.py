"""OSC control: every numeric control of the studio has an address.

==============================  ==========================================================
``/netbend/walk``               walk position 0-1 on the loop through the walk seeds
``/netbend/truncation``         truncation psi
``/netbend/seed``               latent seed (first seed of the walk)
``/netbend/run_seed``           run seed (random selections, random noise)
``/netbend/variation``          variation (re-draw of random selections)
``/netbend/preset``             recall preset slot 1-8
``/netbend/bend/<i>/<param>``   parameter ``param`` of stack entry i (e.g. ``/netbend/bend/0/angle``)
``/netbend/bend/<i>/fraction``  fraction of a random selection
``/netbend/bend/<i>/enabled``   entry on (non-zero) or off (0)
==============================  ==========================================================

A mapping (``--osc-map FILE``, YAML or JSON) turns an incoming value ``v`` into
``clamp(v * scale + offset, min, max)`` per address; addresses may use ``*`` for one part
(``/netbend/bend/*/angle``). It is data: nothing in it is evaluated.
"""
from __future__ import annotations

import fnmatch
import math
import os
from dataclasses import dataclass
from typing import Any, Mapping

import yaml

from netbend.errors import NetbendError, closest
from netbend.studio.state import StudioState
from netbend.transforms import get_transform

PREFIX = "/netbend"
GLOBAL = {"walk": ("latent", "walk", float), "truncation": ("latent", "truncation", float),
          "seed": ("latent", "seed", int), "run_seed": (None, "seed", int),
          "variation": (None, "variation", int)}
MAP_KEYS = ("scale", "offset", "min", "max")


@dataclass(frozen=True)
class OscRule:
    """v -> clamp(v * scale + offset, min, max)."""

    scale: float = 1.0
    offset: float = 0.0
    min: float | None = None
    max: float | None = None

    def __call__(self, value: float) -> float:
        v = value * self.scale + self.offset
        if self.min is not None:
            v = max(self.min, v)
        if self.max is not None:
            v = min(self.max, v)
        return v


class OscMap:
    """Address pattern -> :class:`OscRule`; the first matching pattern applies."""

    def __init__(self, rules: Mapping[str, OscRule]):
        self.rules = dict(rules)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "OscMap":
        from netbend.examples import resolve

        path = resolve(path)  # or a shipped example by name (studio_osc_map.yaml)
        if not path.is_file():
            raise NetbendError(f"{path}: OSC mapping file not found")
        try:
            data = yaml.safe_load(path.read_text()) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            raise NetbendError(f"{path}: not valid YAML/JSON ({' '.join(str(err).split())})") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: Any, source: str = "<osc map>") -> "OscMap":
        if not isinstance(data, Mapping):
            raise NetbendError(f"{source}: expected a mapping of OSC address -> {{scale, offset, min, max}}")
        rules = {}
        for address, rule in data.items():
            where = f"{source}: {address}"
            if not str(address).startswith(PREFIX + "/"):
                raise NetbendError(f"{where}: addresses start with {PREFIX}/")
            if not isinstance(rule, Mapping):
                raise NetbendError(f"{where}: expected a mapping with keys {', '.join(MAP_KEYS)}")
            for key, value in rule.items():
                if key not in MAP_KEYS:
                    raise NetbendError(f"{where}: unknown key '{key}'" + closest(str(key), MAP_KEYS))
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                    raise NetbendError(f"{where}.{key}: must be a number, got {value!r}")
            rules[str(address)] = OscRule(**{k: float(v) for k, v in rule.items()})
        return cls(rules)

    def apply(self, address: str, value: float) -> float:
        for pattern, rule in self.rules.items():
            if fnmatch.fnmatchcase(address, pattern):
                return rule(value)
        return value


def _number(address: str, args: tuple[Any, ...]) -> float:
    if len(args) != 1 or isinstance(args[0], bool) or not isinstance(args[0], (int, float)):
        raise NetbendError(f"OSC {address}: expected one number, got {list(args)!r}")
    if not math.isfinite(args[0]):
        raise NetbendError(f"OSC {address}: expected a finite number, got {args[0]!r}")
    return float(args[0])


def osc_change(data: dict[str, Any], address: str, args: tuple[Any, ...], mapping: OscMap) -> dict[str, Any]:
    """Apply one OSC message to a state's data (in place; returned). Presets are handled apart."""
    value = mapping.apply(address, _number(address, args))
    parts = address[len(PREFIX) + 1:].split("/") if address.startswith(PREFIX + "/") else []
    if len(parts) == 1 and parts[0] in GLOBAL:
        section, key, kind = GLOBAL[parts[0]]
        target = data.setdefault(section, {}) if section else data
        target[key] = _as(kind, value, address)
        return data
    if len(parts) == 3 and parts[0] == "bend":
        entries = data.get("transforms") or []
        if not parts[1].isdigit() or int(parts[1]) >= len(entries):
            raise NetbendError(f"OSC {address}: no stack entry {parts[1]} (the stack has {len(entries)})")
        entry = entries[int(parts[1])]
        name = parts[2]
        if name == "enabled":
            entry["enabled"] = value != 0
        elif name == "fraction":
            if entry.get("features") != "random":
                raise NetbendError(f"OSC {address}: entry {parts[1]} does not select features at random")
            entry["feature-param"] = value
        else:
            spec = get_transform(entry["transform"])
            names = [p.name for p in spec.params]
            if name not in names:
                raise NetbendError(f"OSC {address}: '{spec.name}' has no parameter '{name}' "
                                   f"(parameters: {names or 'none'})" + closest(name, names))
            kind = next(p.kind for p in spec.params if p.name == name)
            params = dict(entry.get("params") or {})
            params[name] = _as(kind, value, address)
            entry["params"] = params
        return data
    known = [f"{PREFIX}/{k}" for k in GLOBAL] + [f"{PREFIX}/preset", f"{PREFIX}/bend/<i>/<param>"]
    raise NetbendError(f"OSC {address}: unknown address" + closest(address, known)
                       + f" (known: {', '.join(known)})")


def _as(kind: type, value: float, address: str) -> Any:
    if kind is int:
        return int(round(value))
    return value


def osc_addresses(state: StudioState, mapping: OscMap) -> list[dict[str, Any]]:
    """Every address the current state answers to, with what it moves (for the page's list)."""
    rows = [{"address": f"{PREFIX}/walk", "control": "walk position", "range": [0, 1]},
            {"address": f"{PREFIX}/truncation", "control": "truncation psi", "range": [-4, 4]},
            {"address": f"{PREFIX}/seed", "control": "latent seed", "range": [0, 2**32 - 1]},
            {"address": f"{PREFIX}/run_seed", "control": "run seed", "range": [0, 2**32 - 1]},
            {"address": f"{PREFIX}/variation", "control": "variation", "range": [0, 2**32 - 1]},
            {"address": f"{PREFIX}/preset", "control": "recall preset slot", "range": [1, 8]}]
    for i, entry in enumerate(state.entries):
        spec = get_transform(entry["transform"])
        for p in spec.params:
            rows.append({"address": f"{PREFIX}/bend/{i}/{p.name}", "control": f"{spec.name} {p.name}"
                         + (f" ({p.unit})" if p.unit else ""), "range": [p.min, p.max]})
        if entry.get("features") == "random":
            rows.append({"address": f"{PREFIX}/bend/{i}/fraction", "control": "random fraction",
                         "range": [0, 1]})
        rows.append({"address": f"{PREFIX}/bend/{i}/enabled", "control": "entry on/off", "range": [0, 1]})
    for row in rows:
        rule = next((r for pat, r in mapping.rules.items() if fnmatch.fnmatchcase(row["address"], pat)), None)
        row["mapping"] = None if rule is None else vars(rule)
    return rows


class OscServer:
    """A UDP OSC server on its own thread; each message is handed to ``handle(address, args)``."""

    def __init__(self, host: str, port: int, handle):
        from pythonosc.dispatcher import Dispatcher
        from pythonosc.osc_server import ThreadingOSCUDPServer

        dispatcher = Dispatcher()
        dispatcher.set_default_handler(lambda address, *args: handle(address, args))
        try:
            self.server = ThreadingOSCUDPServer((host, port), dispatcher)
        except OSError as err:
            raise NetbendError(f"--osc-port {port}: cannot listen on UDP {host}:{port} ({err.strerror})") from None
        self.port = self.server.server_address[1]
        import threading

        self.thread = threading.Thread(target=self.server.serve_forever, name="netbend-osc", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
