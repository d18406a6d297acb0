"""One registry of transforms: a plain dict filled by a decorator.

A transform is a pure tensor function ``fn(x, **params) -> Tensor`` on an
``[N, C, H, W]`` tensor holding only the selected channels. It returns a tensor
of the same shape, dtype and device and treats every channel of every batch
element in one vectorised call.

Register your own from Python::

    import torch
    from netbend.transforms import Param, register_transform

    @register_transform("clip", params=[Param("limit", float, min=0.0, doc="clip to [-limit, limit]")],
                        description="Clamp activations to a symmetric range.")
    def clip(x: torch.Tensor, *, limit: float) -> torch.Tensor:
        return x.clamp(-limit, limit)

after which plans may use ``transform: clip`` with ``params: [0.5]``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from netbend.errors import NetbendError, closest

REQUIRED = object()  # marks a parameter without a default


@dataclass(frozen=True)
class Param:
    """One parameter of a transform: its name, type, unit, range and default."""

    name: str
    kind: type = float  # float or int
    default: Any = REQUIRED
    min: float | None = None
    max: float | None = None
    unit: str = ""
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def check(self, value: Any) -> Any:
        """Return ``value`` converted to this parameter's type, or raise."""
        if value is None and not self.required and self.default is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise NetbendError(f"parameter '{self.name}' must be a number, got {value!r}")
        if not math.isfinite(value):
            raise NetbendError(f"parameter '{self.name}' must be finite, got {value!r}")
        if self.kind is int:
            if float(value) != int(value):
                raise NetbendError(f"parameter '{self.name}' must be a whole number, got {value!r}")
            value = int(value)
        else:
            value = float(value)
        if self.min is not None and value < self.min:
            raise NetbendError(f"parameter '{self.name}' must be >= {self.min}, got {value}")
        if self.max is not None and value > self.max:
            raise NetbendError(f"parameter '{self.name}' must be <= {self.max}, got {value}")
        return value

    def describe(self) -> str:
        rng = ""
        if self.min is not None or self.max is not None:
            lo = "-inf" if self.min is None else f"{self.min:g}"
            hi = "inf" if self.max is None else f"{self.max:g}"
            rng = f" in [{lo}, {hi}]"
        unit = f" {self.unit}" if self.unit else ""
        opt = "" if self.required else f" (default {self.default})"
        return f"{self.name}: {self.kind.__name__}{unit}{rng}{opt}"


@dataclass(frozen=True)
class TransformSpec:
    """A registered transform: the function and what its parameters mean."""

    name: str
    fn: Callable[..., Any]
    params: tuple[Param, ...] = ()
    description: str = ""
    aliases: tuple[str, ...] = field(default=())
    origin: str = "built-in"  # "built-in", "python", "plugin FILE" or "entry point NAME (DIST)"

    def bind(self, raw: Any) -> dict[str, Any]:
        """Validate raw plan parameters (list, mapping, scalar or None) into kwargs."""
        if raw is None:
            raw = []
        if isinstance(raw, Mapping):
            unknown = [k for k in raw if k not in {p.name for p in self.params}]
            if unknown:
                names = [p.name for p in self.params]
                raise NetbendError(
                    f"'{self.name}' has no parameter '{unknown[0]}' (parameters: {names or 'none'})"
                    + closest(unknown[0], names)
                )
            values = dict(raw)
        else:
            seq = list(raw) if isinstance(raw, Sequence) and not isinstance(raw, str) else [raw]
            if len(seq) > len(self.params):
                raise NetbendError(
                    f"'{self.name}' takes at most {len(self.params)} parameter(s) "
                    f"({', '.join(p.name for p in self.params) or 'none'}), got {len(seq)}"
                )
            values = {p.name: v for p, v in zip(self.params, seq)}
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name in values:
                out[p.name] = p.check(values[p.name])
            elif p.required:
                raise NetbendError(f"'{self.name}' needs parameter '{p.name}' ({p.describe()})")
            else:
                out[p.name] = p.default
        return out

    def __call__(self, x, **params):
        return self.fn(x, **params)


TRANSFORMS: dict[str, TransformSpec] = {}
_ALIASES: dict[str, str] = {}
_ORIGINS: list[str] = []  # innermost last: where registrations now come from (see netbend.plugins)


def _origin(fn: Callable[..., Any]) -> str:
    if _ORIGINS:
        return _ORIGINS[-1]
    return "built-in" if getattr(fn, "__module__", "").startswith("netbend.") else "python"


def register_transform(
    name: str,
    *,
    params: Sequence[Param] = (),
    description: str = "",
    aliases: Sequence[str] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register ``fn`` under ``name`` (and ``aliases``). Duplicates fail."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        for n in (name, *aliases):
            if n in TRANSFORMS or n in _ALIASES:
                raise ValueError(f"transform name '{n}' is already registered")
        TRANSFORMS[name] = TransformSpec(name, fn, tuple(params), description, tuple(aliases), _origin(fn))
        for a in aliases:
            _ALIASES[a] = name
        return fn

    return decorate


def get_transform(name: str) -> TransformSpec:
    """Look a transform up by name or alias; unknown names fail with a suggestion."""
    key = _ALIASES.get(name, name)
    if key not in TRANSFORMS:
        raise NetbendError(
            f"unknown transform '{name}'" + closest(name, [*TRANSFORMS, *_ALIASES])
            + f" (known: {', '.join(sorted(TRANSFORMS))})"
        )
    return TRANSFORMS[key]
