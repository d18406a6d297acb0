"""Preset slots: whole studio states saved as plain YAML files (never pickles).

Slot ``n`` is ``DIR/slot<n>.yaml`` in the studio's preset folder; a preset file is a studio state
(see :mod:`netbend.studio.state`), so a plain plan YAML copied into a slot loads too.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from netbend.errors import NetbendError
from netbend.fileio import atomic_write_text
from netbend.studio.state import StudioState, dump_state

SLOTS = 8


def default_folder() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "netbend" / "studio-presets"


class Presets:
    """Slots 1-8 in ``folder`` (created on the first save)."""

    def __init__(self, folder: str | os.PathLike | None):
        self.folder = Path(folder) if folder is not None else default_folder()

    def _slot(self, slot: Any) -> int:
        try:
            n = int(str(slot))
        except ValueError:
            n = -1
        if not 1 <= n <= SLOTS:
            raise NetbendError(f"preset slot: must be 1-{SLOTS}, got {slot!r}")
        return n

    def path(self, slot: Any) -> str:
        return str(self.folder / f"slot{self._slot(slot)}.yaml")

    def save(self, slot: Any, state: StudioState) -> None:
        atomic_write_text(self.path(slot), dump_state(state))

    def load(self, slot: Any) -> Any:
        path = Path(self.path(slot))
        if not path.is_file():
            raise NetbendError(f"preset slot {self._slot(slot)} is empty ({path})")
        try:
            return yaml.safe_load(path.read_text()) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            raise NetbendError(f"{path}: not valid YAML ({' '.join(str(err).split())})") from None

    def list(self) -> dict[str, Any]:
        return {"folder": str(self.folder),
                "slots": [{"slot": n, "saved": (self.folder / f"slot{n}.yaml").is_file()}
                          for n in range(1, SLOTS + 1)]}
