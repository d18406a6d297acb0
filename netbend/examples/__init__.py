"""The example plans, audio clips, image and plugin that ship inside the package, found by name.

In a clone, ``examples/NAME.yaml`` links here. An installed package has no ``examples/`` folder
beside the user's files, so inputs are resolved by :func:`resolve`: a path that exists is used as
given; otherwise a bare name (``fig3_stochastic``, ``fig3_stochastic.yaml``) or a clone-relative
path (``examples/fig3_stochastic.yaml``, ``netbend/clustering/default_faces_clusters.json``) names
the file shipped with netbend. ``netbend examples`` lists them and copies them to a folder.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from netbend.errors import closest
from netbend.fileio import atomic_write_bytes

EXAMPLES_DIR = Path(__file__).resolve().parent
PACKAGE_DIR = EXAMPLES_DIR.parent
# Other shipped files that commands accept by bare name (e.g. ``--clusters default_faces_clusters``).
NAMED = {"default_faces_clusters": PACKAGE_DIR / "clustering" / "default_faces_clusters.json"}


@dataclass(frozen=True)
class Example:
    name: str          # "fig3_stochastic"
    path: Path         # the shipped file
    description: str   # its first comment line


def list_examples() -> list[Example]:
    """Every shipped example plan (a YAML file with a top-level ``transforms:``), by name."""
    return [Example(p.stem, p, _first_comment(p)) for p in sorted(EXAMPLES_DIR.glob("*.yaml")) if _is_plan(p)]


def other_examples() -> list[Path]:
    """The shipped example files that are not plans: other YAML, audio clips, images, the plugin."""
    return ([p for p in sorted(EXAMPLES_DIR.glob("*.yaml")) if not _is_plan(p)]  # e.g. an OSC mapping
            + sorted((EXAMPLES_DIR / "audio").glob("*.flac")) + sorted((EXAMPLES_DIR / "images").glob("*.*"))
            + [EXAMPLES_DIR / "my_transforms.py"])


def resolve(path: str | os.PathLike) -> Path:
    """``path`` when it exists, else the shipped file it names (see the module docs), else ``path``."""
    given = Path(path)
    if given.exists():
        return given
    return shipped(str(path)) or given


def shipped(text: str) -> Path | None:
    """The shipped file a bare name or a clone-relative path names, or ``None``."""
    parts = PurePosixPath(text.replace("\\", "/")).parts
    if not parts or parts[0] == "/" or ".." in parts:
        return None
    if len(parts) == 1:
        name = parts[0]
        candidates = [EXAMPLES_DIR / name, EXAMPLES_DIR / f"{name}.yaml", NAMED.get(Path(name).stem)]
    elif parts[0] == "examples":  # a clone path: a shipped file or folder (examples/audio/)
        target = EXAMPLES_DIR.joinpath(*parts[1:])
        return target if target.exists() else None
    elif parts[0] == "netbend":
        candidates = [PACKAGE_DIR.joinpath(*parts[1:])]
    else:
        return None
    return next((c for c in candidates if c is not None and c.is_file()), None)


def not_found_hint(text: str) -> str:
    """'; did you mean ...' among the shipped plans for a name that is not a file."""
    names = [e.name for e in list_examples()]
    stem = PurePosixPath(str(text)).stem
    return closest(stem, names) or (f" (shipped example plans: {', '.join(names)})"
                                    if "/" not in str(text) else "")


def copy_examples(dest: Path) -> list[Path]:
    """Copy the examples into ``dest`` (plans and the plugin at the top, audio/, images/)."""
    written = []
    for src in [e.path for e in list_examples()] + other_examples():
        target = dest / src.relative_to(EXAMPLES_DIR)
        atomic_write_bytes(target, src.read_bytes())
        written.append(target)
    return written


def _is_plan(path: Path) -> bool:
    return any(line.startswith("transforms:") for line in path.read_text().splitlines())


def _first_comment(path: Path) -> str:
    """The first sentence of the file's leading comment."""
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    text = " ".join(lines)
    return text.split(". ", 1)[0].rstrip(".") if text else ""
