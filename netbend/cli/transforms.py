"""``netbend transforms``: list every registered transform with its parameters."""
from __future__ import annotations

import click

from netbend.transforms import TRANSFORMS, Param, TransformSpec, get_transform


def _range(p: Param) -> str:
    if p.min is None and p.max is None:
        return "any"
    if p.max is None:
        return f">= {p.min:g}"
    if p.min is None:
        return f"<= {p.max:g}"
    return f"[{p.min:g}, {p.max:g}]"


def _default(p: Param) -> str:
    if p.required:
        return "required"
    return "optional" if p.default is None else f"default {p.default}"


def param_rows(spec: TransformSpec) -> list[tuple[str, ...]]:
    """One row of text columns per parameter: name, type, unit, range, default, doc."""
    return [(p.name, p.kind.__name__, p.unit or "-", _range(p), _default(p), p.doc) for p in spec.params]


def format_transforms(specs: list[TransformSpec]) -> str:
    """The table printed by ``netbend transforms``: a line per transform, then its parameters."""
    name_w = max([len(s.name) for s in specs] + [9])
    rows = [r for s in specs for r in param_rows(s)]
    widths = [max([len(r[i]) for r in rows] + [0]) for i in range(5)]
    lines = [f"{'transform':<{name_w}}  description / parameters (name type unit range default meaning)"]
    for s in specs:
        alias = f"  (aliases: {', '.join(s.aliases)})" if s.aliases else ""
        origin = "" if s.origin == "built-in" else f"  [from {s.origin}]"
        lines.append(f"{s.name:<{name_w}}  {s.description}{alias}{origin}")
        for r in param_rows(s):
            cols = "  ".join(f"{c:<{w}}" for c, w in zip(r, widths))
            lines.append(f"{'':<{name_w}}    {cols}  {r[5]}".rstrip())
    return "\n".join(lines)


@click.command("transforms")
@click.argument("names", nargs=-1)
def transforms(names: tuple[str, ...]) -> None:
    """List the registered transforms (built-in and user-registered) with their
    parameters: type, unit, valid range, default and meaning.

    Transforms that are not built in say where they came from: a `--plugin` file or an
    installed package's `netbend.transforms` entry point.

    \b
    Examples:
      netbend transforms
      netbend transforms rotate erode
      netbend --plugin examples/my_transforms.py transforms clip
    """
    specs = [get_transform(n) for n in names] if names else list(TRANSFORMS.values())
    click.echo(format_transforms(specs))


COMMANDS = [transforms]
