"""Parameter sweeps: one plan, some of its values varied, every combination rendered.

A *vary* names one value of a plan by path and the values it takes::

    transforms[0].params.angle=0:360:8     # 8 values from 0 towards 360, 360 left out: every 45
    transforms[0].layer=1:8                # every whole number from 1 to 8, both included
    transforms[1].transform=erode,dilate   # a list (numbers or words)
    transforms[0].feature-param=0.1        # a single value

Several paths joined by `` + `` vary together along one axis (lists of equal length), e.g. the
paper's Figure 2 columns, four transforms each with its own parameter::

    transforms[0].transform=rotate,scale,binary-thresh,dilate + transforms[0].params[0]=45,0.6,0.5,2

Paths are ``transforms[i].KEY`` with KEY a plan entry key (``layer``, ``transform``,
``features``, ``feature-param``, ``except``) or ``params.NAME`` / ``params[i]`` for one of the
transform's parameters (``params[i]``: the i-th parameter of whichever transform the cell has).
Every path is checked against the plan once, before anything renders,
and every cell's plan is validated and resolved before the first image.

Layout of the grid: the first ``--vary`` runs along the columns; the rows are every combination
of the seeds and the other varies, the seed outermost and the last vary changing fastest.
"""
from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass
from typing import Any, Iterable

from netbend.errors import NetbendError, closest
from netbend.plan import ENTRY_KEYS, Plan
from netbend.transforms import get_transform

_PATH = re.compile(r"^transforms\[(\d+)\]\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_]\w*)|\[(\d+)\])?$")


@dataclass(frozen=True)
class Vary:
    """One varied value: where it is in the plan (``index``, ``key``, ``param``) and its values."""

    text: str
    index: int
    key: str
    param: str | None
    values: tuple[Any, ...]
    param_index: int | None = None  # params[i]: the name depends on the cell's transform

    @property
    def name(self) -> str:
        """Short label: the parameter name, else the entry key (``angle``, ``layer``, ``params[0]``)."""
        return f"params[{self.param_index}]" if self.param_index is not None else self.param or self.key

    def label(self, value: Any) -> str:
        return f"{self.name}={_fmt(value)}"


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def parse_values(text: str, where: str) -> tuple[Any, ...]:
    """``a:b`` (whole numbers a..b), ``a:b:n`` (n steps from a towards b, b left out), ``x,y,z``, ``x``."""
    text = text.strip()
    if not text:
        raise NetbendError(f"{where}: no values after '='")
    if ":" in text:
        parts = text.split(":")
        try:
            nums = [_number(p) for p in parts]
        except ValueError:
            raise NetbendError(f"{where}: '{text}' is not a range: use a:b or a:b:count with numbers") from None
        if len(parts) == 2 and all(isinstance(n, int) for n in nums):
            a, b = nums
            if b < a:
                raise NetbendError(f"{where}: the range {a}:{b} is reversed (use {b}:{a})")
            return tuple(range(a, b + 1))
        if len(parts) == 3 and isinstance(nums[2], int) and nums[2] >= 1:
            a, b, n = nums
            vals = [a + (b - a) * k / n for k in range(n)]
            return tuple(int(v) if float(v).is_integer() and isinstance(a, int) and isinstance(b, int) else v
                         for v in vals)
        raise NetbendError(f"{where}: '{text}' is not a range: use a:b (whole numbers, both included) "
                           "or a:b:count (count values from a towards b, b left out)")
    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            raise NetbendError(f"{where}: empty item in '{text}'")
        try:
            out.append(_number(item))
        except ValueError:
            out.append({"true": True, "false": False}.get(item.lower(), item))
    return tuple(out)


def parse_vary(text: str, plan: Plan) -> Vary:
    """Parse ``PATH=VALUES`` and check PATH against ``plan`` (did-you-mean for a wrong key)."""
    where = f"--vary '{text}'"
    if "=" not in text:
        raise NetbendError(f"{where}: expected PATH=VALUES, e.g. transforms[0].params.angle=0:360:8")
    path, values = (s.strip() for s in text.split("=", 1))
    m = _PATH.match(path)
    if not m:
        top = path.split("[")[0].split(".")[0]
        hint = closest(top, ["transforms"]) if top != "transforms" else ""
        raise NetbendError(f"{where}: '{path}' is not a plan path such as transforms[0].params.angle or "
                           f"transforms[0].layer{hint}")
    index, key, pname, pindex = int(m[1]), m[2], m[3], m[4]
    entries = plan.transforms
    if index >= len(entries):
        n = len(entries)
        raise NetbendError(f"{where}: transforms[{index}]: the plan has "
                           + (f"{n} {'entry' if n == 1 else 'entries'} (0-{n - 1})" if n else "no entries"))
    if key not in ENTRY_KEYS:
        raise NetbendError(f"{where}: transforms[{index}] has no key '{key}'" + closest(key, ENTRY_KEYS)
                           + f" (keys: {', '.join(ENTRY_KEYS)})")
    param = None
    if key == "params":
        spec = get_transform(entries[index].transform)
        names = [p.name for p in spec.params]
        if pname is None and pindex is None:
            raise NetbendError(f"{where}: name one parameter: transforms[{index}].params.NAME "
                               f"({spec.name} has {', '.join(names) or 'none'})")
        if pindex is not None:
            if int(pindex) >= len(names):
                raise NetbendError(f"{where}: {spec.name} has {len(names)} parameter(s) "
                                   f"({', '.join(names) or 'none'}), no params[{pindex}]")
            param = names[int(pindex)]
            return Vary(text, index, key, param, parse_values(values, where), int(pindex))
        elif pname not in names:
            raise NetbendError(f"{where}: {spec.name} has no parameter '{pname}'" + closest(pname, names)
                               + f" (parameters: {', '.join(names) or 'none'})")
        else:
            param = pname
    elif pname is not None or pindex is not None:
        raise NetbendError(f"{where}: transforms[{index}].{key} is a single value; drop what follows it")
    return Vary(text, index, key, param, parse_values(values, where))


def parse_axis(text: str, plan: Plan) -> tuple[Vary, ...]:
    """One ``--vary``: a path, or several joined by `` + `` that vary together."""
    axis = tuple(parse_vary(part.strip(), plan) for part in text.split(" + "))
    if len({len(v.values) for v in axis}) > 1:
        raise NetbendError(f"--vary '{text}': paths joined by '+' need as many values each "
                           f"(got {', '.join(str(len(v.values)) for v in axis)})")
    return axis


def axis_label(axis: tuple[Vary, ...], i: int) -> str:
    """Column/row label of value ``i`` of an axis: ``angle=45``, or ``rotate 45`` for joined paths."""
    if len(axis) == 1:
        return axis[0].label(axis[0].values[i])
    return " ".join(_fmt(v.values[i]) for v in axis)


def apply(plan_dict: dict, varies: Iterable[Vary], values: Iterable[Any]) -> dict:
    """A copy of ``plan_dict`` (:meth:`Plan.to_dict` form) with each vary set to its value."""
    out = copy.deepcopy(plan_dict)
    pairs = sorted(zip(varies, values), key=lambda p: p[0].key != "transform")  # transforms first
    for v, value in pairs:
        entry = out["transforms"][v.index]
        if v.param is None:
            entry[v.key] = value
            if v.key == "transform":  # another transform: the old parameters mean nothing to it
                spec = get_transform(str(value))
                entry["params"] = {k: p for k, p in entry["params"].items()
                                   if k in {q.name for q in spec.params}}
        elif v.param_index is not None:
            names = [q.name for q in get_transform(str(entry["transform"])).params]
            if v.param_index >= len(names):
                raise NetbendError(f"--vary '{v.text}': {entry['transform']} has no params[{v.param_index}]")
            entry["params"][names[v.param_index]] = value
        else:
            entry["params"][v.param] = value
    return out


@dataclass(frozen=True)
class Cell:
    """One combination: the value index and value of every vary, and its plan."""

    indices: tuple[int, ...]
    values: tuple[Any, ...]
    plan: Plan

    @property
    def name(self) -> str:
        return "cell_" + "_".join(f"{i:02d}" for i in self.indices)


def cells(plan: Plan, axes: list[tuple[Vary, ...]]) -> list[Cell]:
    """Every combination of the axes' values (first axis slowest), each cell's plan validated."""
    if not axes:
        raise NetbendError("give at least one --vary PATH=VALUES")
    base = plan.to_dict()
    out = []
    for idx in itertools.product(*(range(len(a[0].values)) for a in axes)):
        varies = [v for a in axes for v in a]
        vals = tuple(v.values[i] for a, i in zip(axes, idx) for v in a)
        where = "sweep cell " + ", ".join(axis_label(a, i) for a, i in zip(axes, idx))
        out.append(Cell(idx, vals, Plan.from_dict(apply(base, varies, vals), source=where)))
    return out


def layout(axes: list[tuple[Vary, ...]], seeds: list[int]
           ) -> tuple[list[tuple[int, tuple[int, ...]]], list[str], list[str]]:
    """Rows as (seed, value indices of axes 2..k), row labels, and column labels (axis 1)."""
    rest = list(itertools.product(*(range(len(a[0].values)) for a in axes[1:])))
    rows = [(s, r) for s in seeds for r in rest]
    row_labels = [", ".join([f"seed {s}"] * (len(seeds) > 1 or not axes[1:])
                            + [axis_label(a, i) for a, i in zip(axes[1:], r)]) for s, r in rows]
    return rows, row_labels, [axis_label(axes[0], i) for i in range(len(axes[0][0].values))]
