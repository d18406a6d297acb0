"""Output folders that never mix runs: refuse what netbend did not write, replace only on request.

Every command that writes a folder calls :func:`prepare_out_dir` once its inputs are validated and
before it writes anything. The folder gets a manifest, ``.netbend-run.json``: the command, when it
started and, once it finishes (or fails), every file in the folder. The rule:

* a folder that does not exist, or is empty: used (created);
* a folder an earlier netbend run wrote (its manifest lists every file there, or the files appeared
  after that run started, e.g. a killed one): refused unless ``overwrite`` (those files are deleted
  first) or ``resume`` (kept, for commands that continue an earlier run);
* a folder holding anything else (a file netbend did not write): refused, even with ``overwrite``:
  netbend never deletes a file it did not write.

A sub-folder with a manifest of its own is another run's (``--out out/plain`` inside the default
``out``): it neither blocks nor is deleted. A folder inside an earlier run's folder
(``cluster dataset --out runs/x/dataset`` after ``cluster run --out-dir runs/x``) belongs to that run.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

from netbend.errors import NetbendError

MANIFEST = ".netbend-run.json"


def prepare_out_dir(path: str | os.PathLike, *, overwrite: bool, resume: bool = False, command: str,
                    dry_run: bool = False, can_resume: bool = False) -> Path:
    """Check (and with ``overwrite`` clear) an output folder; return it as a :class:`Path`.

    ``command`` names the run in the manifest and in messages (e.g. ``"generate"``). With
    ``dry_run`` the folder is only checked: nothing is created, deleted or written; ``can_resume``
    (a command with a ``--resume`` flag) mentions it in the refusal. Inside a click
    command the manifest is completed when the command ends (see :func:`finish_out_dir`).
    """
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise NetbendError(f"{out}: exists and is not a folder; choose another --out")
    if overwrite and resume:
        raise NetbendError(f"{out}: give only one of --overwrite (start afresh) and --resume (continue)")
    earlier, owned, foreign = _survey(out) if out.is_dir() else (None, [], [])
    if foreign:
        raise NetbendError(f"{out}: holds files netbend did not write (e.g. {foreign[0].relative_to(out)}); "
                           "choose another --out (netbend never deletes files it did not write)")
    if owned and not (overwrite or resume):
        what = f"`netbend {earlier['command']}`" if earlier else "netbend"
        raise NetbendError(f"{out}: holds the outputs of an earlier {what} run; use "
                           + ("--resume to continue it, " if can_resume else "")
                           + "--overwrite to replace them, or another --out")
    if dry_run:
        return out
    if owned and overwrite:
        _remove(out, owned)
    out.mkdir(parents=True, exist_ok=True)
    kept = [str(p.relative_to(out)) for p in owned if p != out / MANIFEST] if resume else []
    _write_manifest(out, {"command": command, "started": time.time(), "finished": None, "files": kept})
    _finish_on_close(out)
    return out


def finish_out_dir(path: str | os.PathLike) -> None:
    """Record every file now in the folder in its manifest (called when the command ends)."""
    out = Path(path)
    manifest = _read_manifest(out)
    if manifest is None:
        return
    kept = set(manifest["files"])  # resumed from an earlier run
    files = sorted(str(p.relative_to(out)) for p in _files(out)
                   if not _under_manifest(p, out) or str(p.relative_to(out)) in kept)
    _write_manifest(out, {**manifest, "finished": time.time(), "files": files})


def _survey(out: Path) -> tuple[dict | None, list[Path], list[Path]]:
    """The folder's manifest, the files an earlier netbend run wrote, and the other files."""
    base, manifest = _nearest_manifest(out)
    listed = set(manifest["files"]) if manifest else set()
    # a run that never finished (killed) listed nothing yet: what appeared after it started is its own
    since = float(manifest["started"]) - 1 if manifest and not manifest.get("finished") else float("inf")
    owned, foreign = [], []
    for p in _files(out, include_manifest=True):
        if p == out / MANIFEST or str(p.resolve().relative_to(base)) in listed or p.stat().st_mtime >= since:
            owned.append(p)
        elif not _under_manifest(p, out):  # another run's folder inside this one is left alone
            foreign.append(p)
    if owned == [out / MANIFEST]:  # a run that wrote nothing
        owned = []
    return manifest, owned, foreign


def _nearest_manifest(out: Path) -> tuple[Path, dict | None]:
    """The manifest of ``out``, else of the closest enclosing folder (a step's folder inside a
    `cluster run` folder, e.g. ``runs/faces/dataset``), with the folder it lies in."""
    here = out.resolve()
    for folder in (here, *here.parents):
        manifest = _read_manifest(folder)
        if manifest is not None:
            return folder, manifest
    return here, None


def _files(out: Path, include_manifest: bool = False) -> list[Path]:
    files = []
    for root, dirs, names in os.walk(out):
        dirs.sort()
        for name in sorted(names):
            if include_manifest or not (name == MANIFEST and Path(root) == out):
                files.append(Path(root) / name)
    return files


def _under_manifest(p: Path, out: Path) -> bool:
    """True when ``p`` lies in a sub-folder of ``out`` that has a manifest of its own."""
    return any((parent / MANIFEST).is_file() for parent in p.parents if parent != out and out in parent.parents)


def _remove(out: Path, files: list[Path]) -> None:
    for p in files:
        p.unlink()
    for root, dirs, _ in sorted(os.walk(out), key=lambda t: -len(t[0])):
        for d in dirs:
            folder = Path(root) / d
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()


def _read_manifest(out: Path) -> dict | None:
    path = out / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        float(data["started"]), list(data["files"]), str(data["command"])
    except (ValueError, KeyError, TypeError):
        raise NetbendError(f"{path}: not a netbend run manifest (unreadable); remove it by hand") from None
    return data


def _write_manifest(out: Path, data: dict) -> None:
    from netbend.fileio import atomic_write_text

    atomic_write_text(out / MANIFEST, json.dumps(data, indent=1))


def _finish_on_close(out: Path) -> None:
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(lambda: finish_out_dir(out))

