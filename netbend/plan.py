"""Plans: YAML files of transforms, validated once into frozen, typed objects.

A plan is a top-level ``transforms:`` list; each entry names a layer, a transform, its
parameters and which features (channels) it touches::

    transforms:
    - layer: 1                # paper layer number, or a module path such as "convs.3"
      transform: erode        # see `netbend transforms`
      params: [2]             # a list (in order), a mapping by name, or a single value
      features: random        # all | random | cluster | indices
      feature-param: 0.25     # fraction 0-1 (or "25%"), cluster index (or list), index list
      except: false           # true selects the complement (e.g. every cluster but k)
      redraw: 4               # animate only: a new random draw every 4 frames (or ordered, perlin)

Any number in ``params`` and a random ``feature-param`` may be a curve (``netbend.curves``), e.g.
``angle: {lfo: 0.5, range: [-30, 30]}``; ``Plan.at(t, clock)`` gives the ordinary plan at time t.

Plans written for the original network-bending project run unchanged (its extra top-level key
``all-transforms`` is ignored). A file without a ``transforms`` key (misspelt, or empty) is an error;
``transforms: []`` is the empty plan. Any other top-level key gets a warning naming it. Errors name
the file, the entry and the key, and suggest the closest valid name.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from netbend.curves import CURVE_KINDS, Clock, curve_to_yaml, parse_curve
from netbend.errors import NetbendError, closest, warn
from netbend.timeselect import parse_redraw
from netbend.transforms import TransformSpec, get_transform

FEATURE_MODES = ("all", "random", "cluster", "indices")
ENTRY_KEYS = ("layer", "transform", "params", "features", "feature-param", "except", "redraw")
# Top-level keys of the original network-bending project's plans, read and ignored silently.
ORIGINAL_TOP_KEYS = ("all-transforms",)


class PlanEntry(BaseModel):
    """One transform of a plan, validated."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    layer: int | str
    transform: str
    params: dict[str, Any] = Field(default_factory=dict)
    features: Literal["all", "random", "cluster", "indices"] = "all"
    feature_param: float | int | tuple[int, ...] | None = Field(None, alias="feature-param")
    except_: bool = Field(False, alias="except")
    redraw: Any = None  # a netbend.timeselect.Redraw, or None
    curves: dict[str, Any] = Field(default_factory=dict)  # param name or "feature-param" -> curve

    @field_validator("layer", mode="before")
    @classmethod
    def _layer(cls, v: Any) -> int | str:
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            raise ValueError(f"must be a paper layer number or a module path, got {v!r}")
        if isinstance(v, str) and v.strip().isdigit():
            v = int(v)
        if isinstance(v, int) and v < 1:
            raise ValueError(f"layer numbers start at 1, got {v}")
        if isinstance(v, str) and not v.strip():
            raise ValueError("must not be empty")
        return v

    @property
    def spec(self) -> TransformSpec:
        return get_transform(self.transform)

    @model_validator(mode="before")
    @classmethod
    def _bind(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise ValueError("each entry must be a mapping with keys " + ", ".join(ENTRY_KEYS))
        data = dict(data)
        for key in data:
            if key not in ENTRY_KEYS and key not in ("feature_param", "except_"):
                raise _KeyError(key, f"unknown key '{key}'" + closest(key, ENTRY_KEYS))
        for key in ("layer", "transform"):
            if data.get(key) is None:
                raise _KeyError(key, "is required")
        try:
            spec = get_transform(str(data["transform"]))
        except NetbendError as err:
            raise _KeyError("transform", str(err)) from None
        data["transform"] = spec.name
        curves = _split_curves(spec, data)
        mode = data.get("features") or "all"
        if mode not in FEATURE_MODES:
            raise _KeyError("features", f"must be one of {', '.join(FEATURE_MODES)}, got {mode!r}"
                            + closest(str(mode), FEATURE_MODES))
        data["features"] = mode
        key = "feature-param" if "feature-param" in data else "feature_param"
        fp = data.get(key)
        if isinstance(fp, Mapping):
            if mode != "random":
                raise _KeyError("feature-param", "only a random fraction may be a curve")
            curves["feature-param"] = _curve(fp, "feature-param")
            lo, hi = curves["feature-param"].extremes()
            if lo < 0 or hi > 1:
                raise _KeyError("feature-param", f"a fraction curve must stay in [0, 1] (its range is "
                                f"[{lo:g}, {hi:g}]); 0 selects nothing at that moment")
            fp = max(lo, 1e-9)
        try:
            data[key] = _feature_param(mode, fp)
        except ValueError as err:
            raise _KeyError("feature-param", str(err)) from None
        if mode == "all" and data.get("except", data.get("except_")):
            raise _KeyError("except", "'except' with 'features: all' would select nothing")
        if data.get("redraw") is not None:
            try:
                data["redraw"] = parse_redraw(data["redraw"], mode)
            except NetbendError as err:
                raise _KeyError("redraw", str(err)) from None
        data["curves"] = curves
        return data

    def at(self, t: float, clock: Clock = Clock()) -> "PlanEntry":
        """This entry with every curve replaced by its value at time t (seconds)."""
        if not self.curves:
            return self
        params, fp = dict(self.params), self.feature_param
        for name, curve in self.curves.items():
            value = float(curve.at(t, clock))
            if name == "feature-param":
                fp = min(1.0, max(value, 1e-9))
            else:
                param = next(p for p in self.spec.params if p.name == name)
                params[name] = param.check(round(value) if param.kind is int else value)
        return self.model_copy(update={"params": params, "feature_param": fp, "curves": {}})


def _curve(value: Any, key: str):
    try:
        return parse_curve(value)
    except NetbendError as err:
        raise _KeyError(key, str(err)) from None


def _split_curves(spec: TransformSpec, data: dict) -> dict[str, Any]:
    """Take curves out of ``params``: bind with every curve at each of its extremes (so any value it
    takes is valid), leave the low ends in ``data["params"]``, return {param name: curve}."""
    raw = data.get("params")
    names = [p.name for p in spec.params]
    if isinstance(raw, Mapping) and any(k in CURVE_KINDS and k not in names for k in raw):
        raw = [raw]  # the whole value is one curve for the first parameter
    if isinstance(raw, Mapping):
        slots = list(raw.items())
    elif isinstance(raw, (list, tuple)):
        slots = [(names[i] if i < len(names) else str(i), v) for i, v in enumerate(raw)]
    else:
        slots = [] if raw is None else [(names[0] if names else "0", raw)]
    curves = {name: _curve(v, f"params.{name}") for name, v in slots if isinstance(v, Mapping)}
    ends = []
    for side in (0, 1):
        values = [(n, curves[n].extremes()[side] if n in curves else v) for n, v in slots]
        try:
            ends.append(spec.bind(dict(values) if isinstance(raw, Mapping) else [v for _, v in values]))
        except NetbendError as err:
            at = f" (at the curve's {'low' if side == 0 else 'high'} end)" if curves else ""
            raise _KeyError("params", f"{err}{at}") from None
    data["params"] = ends[0]
    return curves


class _KeyError(ValueError):
    """An error about one key of an entry (carries the key for the message)."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


def _feature_param(mode: str, value: Any) -> Any:
    """Normalise ``feature-param`` for a selection mode."""
    if mode == "all":
        if value not in (None, "", []):
            raise ValueError(f"is not used with 'features: all' (got {value!r}); leave it empty")
        return None
    if value is None or value == "":
        raise ValueError(f"is required with 'features: {mode}'")
    if mode == "random":
        return _fraction(value)
    ints = value if isinstance(value, (list, tuple)) else [value]
    if not ints or any(isinstance(i, bool) or not isinstance(i, int) or i < 0 for i in ints):
        what = "a cluster index or a list of them" if mode == "cluster" else "a list of feature indices"
        raise ValueError(f"must be {what} (whole numbers >= 0), got {value!r}")
    return tuple(sorted(set(ints)))


def _fraction(value: Any) -> float:
    """A fraction in (0, 1] from 0.25, "25%" or 25 (a number above 1 is a percentage)."""
    text = str(value).strip()
    try:
        frac = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ValueError(f"must be a fraction (0-1) or a percentage such as '25%', got {value!r}") from None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and frac > 1:
        frac /= 100
    if not 0 < frac <= 1:
        raise ValueError(f"must select between 0% (excluded) and 100% of the features, got {value!r}")
    return frac


class Plan(BaseModel):
    """An ordered list of transforms; ``source`` names the file for error messages."""

    model_config = ConfigDict(frozen=True)

    transforms: tuple[PlanEntry, ...] = ()
    source: str = "<plan>"

    @property
    def curves(self) -> list[str]:
        """Where the plan has curves, e.g. ['transforms[0].params.angle'] (empty: a static plan)."""
        return [f"transforms[{i}]." + (n if n == "feature-param" else f"params.{n}")
                for i, e in enumerate(self.transforms) for n in e.curves]

    def at(self, t: float, clock: Clock = Clock()) -> "Plan":
        """The ordinary plan at time t (seconds): every curve replaced by its value."""
        if not self.curves:
            return self
        return self.model_copy(update={"transforms": tuple(e.at(t, clock) for e in self.transforms)})

    @classmethod
    def from_dict(cls, data: Any, source: str = "<plan>", *, extra_keys: tuple[str, ...] = ()) -> "Plan":
        """Validate a plan's YAML form; ``extra_keys`` are further top-level keys the caller reads."""
        entries = _top_level(data, source, extra_keys)
        parsed = []
        for i, raw in enumerate(entries):
            try:
                parsed.append(PlanEntry.model_validate(raw))
            except ValidationError as err:
                raise NetbendError(_word(err, source, i)) from None
        return cls(transforms=tuple(parsed), source=source)

    def to_dict(self) -> dict[str, Any]:
        """The plan in its YAML form (transform parameters by name)."""
        rows = []
        for e in self.transforms:
            fp = e.feature_param
            fp = curve_to_yaml(e.curves["feature-param"]) if "feature-param" in e.curves else fp
            params = {k: curve_to_yaml(e.curves.get(k, v)) for k, v in e.params.items()}
            rows.append({"layer": e.layer, "transform": e.transform, "params": params,
                         "features": e.features,
                         "feature-param": list(fp) if isinstance(fp, tuple) else fp,
                         **({"except": True} if e.except_ else {}),
                         **({"redraw": e.redraw.to_yaml()} if e.redraw else {})})
        return {"transforms": rows}


def _top_level(data: Any, source: str, extra_keys: tuple[str, ...]) -> list:
    """The ``transforms`` list of a plan's top level, checked: a missing key is an error."""
    if data is None:
        raise NetbendError(f"{source}: the plan is empty; a plan is a mapping with a 'transforms:' list "
                           "('transforms: []' for no bends)")
    if not isinstance(data, Mapping):
        raise NetbendError(f"{source}: a plan is a mapping with a 'transforms:' list")
    if "transforms" not in data:
        keys = [str(k) for k in data]
        if isinstance(data.get("transform"), str) and set(keys) <= set(ENTRY_KEYS):
            raise NetbendError(f"{source}: no 'transforms:' key; this looks like a single entry: "
                               "put it in a list under 'transforms:'")
        if _looks_like_clusters(data):
            raise NetbendError(f"{source}: this is a cluster file, not a plan (cluster files go to --clusters)")
        hint = next((h for k in keys if (h := closest(k, ("transforms",)))), "")
        found = f" (found: {', '.join(keys)})" if keys else ""
        raise NetbendError(f"{source}: no 'transforms:' key{found}{hint}")
    known = ("transforms", *ORIGINAL_TOP_KEYS, *extra_keys)
    for key in data:
        if key not in known:
            warn(f"{source}: unknown top-level key '{key}' is ignored"
                 + (closest(str(key), known) or f" (a plan's keys: {', '.join(known)})"))
    entries = data["transforms"]
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise NetbendError(f"{source}: 'transforms' must be a list of entries")
    return entries


def _looks_like_clusters(data: Mapping) -> bool:
    """A netbend cluster file (``layers``/``meta``) or the original project's YAML (layer -> list of
    ``{cluster_index, feature_index}``)."""
    if data.get("format") == "netbend-clusters":
        return True
    values = list(data.values())
    return bool(values) and all(isinstance(v, list) and v and isinstance(v[0], Mapping)
                                and "cluster_index" in v[0] for v in values)


def _word(err: ValidationError, source: str, index: int) -> str:
    first = err.errors()[0]
    ctx_err = (first.get("ctx") or {}).get("error")
    if isinstance(ctx_err, _KeyError):
        return f"{source}: transforms[{index}].{ctx_err.key}: {ctx_err}"
    loc = ".".join(str(p) for p in first["loc"] if p not in ("function-after",))
    loc = {"feature_param": "feature-param", "except_": "except"}.get(loc, loc)
    msg = first["msg"].removeprefix("Value error, ")
    return f"{source}: transforms[{index}]" + (f".{loc}" if loc else "") + f": {msg}"


def load_plan(path: str | os.PathLike | None) -> Plan:
    """Read and validate a plan file; ``None`` gives the empty plan. A path that does not exist may
    name a shipped example plan (``fig3_stochastic``, ``examples/fig3_stochastic.yaml``)."""
    from netbend.examples import not_found_hint, resolve

    if path is None:
        return Plan()
    given, path = path, resolve(path)
    if not path.is_file():
        raise NetbendError(f"{given}: plan file not found" + not_found_hint(str(given)))
    try:
        data = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise NetbendError(f"{path}: not valid YAML ({' '.join(str(err).split())})") from None
    return Plan.from_dict(data, source=str(path))
