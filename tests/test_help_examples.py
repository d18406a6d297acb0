"""Every example line of every command's and group's --help runs.

The test walks the click command tree, so a command added later is covered without editing this
file. The examples of one --help run in order, in a fresh folder holding the clone's examples/ and the
tiny inputs they name (INPUTS), for real, or with --dry-run appended when the example's command is in DRY_RUN. A command
or group without an `Examples:` block, an example that fails (a misspelt option, a missing input
file), and a DRY_RUN command without --dry-run all fail the test: nothing is skipped.
"""
from __future__ import annotations

import shlex
import shutil
from pathlib import Path
from typing import Callable

import click
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from netbend.cli import main

ROOT = Path(__file__).resolve().parents[1]

# Commands whose examples run with --dry-run appended (each must have --dry-run), and why.
DRY_RUN = {
    ("faces", "train"): "trains for about an hour",
    ("faces", "evaluate"): "scores hundreds of faces against the renderer",
    ("audio", "train"): "trains for minutes to hours",
    ("audio", "make-dataset"): "synthesises hundreds of clips",
    ("cluster", "run"): "trains a CNN per layer for minutes",
    ("cluster", "dataset"): "captures the maps of many latents",
    ("cluster", "train"): "trains a CNN per layer",
    ("cluster", "assign"): "embeds the features of 64 latents per layer",
    ("cluster", "evaluate"): "about a minute of ablations",
    ("cluster", "show"): "two bent renders per cluster of every layer",
    ("animate",): "renders tens to hundreds of video frames",
    ("project",): "optimises a latent for hundreds of steps",
    ("studio",): "serves the web page until stopped",
}
# Options whose examples run with --dry-run appended, whatever the command, and why.
DRY_RUN_OPTIONS = {"--ray": "starts a local Ray cluster (seconds per example; tests/test_distributed.py runs it)"}


def _walk(cmd: click.Command, path: tuple[str, ...] = ()):
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            yield from _walk(cmd.commands[name], path + (name,))


COMMANDS = dict(_walk(main))


def examples_of(path: tuple[str, ...]) -> list[str]:
    """The example lines of ``netbend PATH --help``: the indented lines under `Examples:`."""
    res = CliRunner().invoke(main, [*path, "--help"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == "Examples:"]
    assert starts, f"`netbend {' '.join(path)} --help` has no Examples: block"
    found: list[str] = []
    for line in lines[starts[0] + 1:]:
        if not line.strip():
            break
        text = line.strip()
        if found and found[-1].endswith("\\"):
            found[-1] = found[-1][:-1] + " " + text
        else:
            found.append(text)
    assert found and all(f.startswith("netbend ") for f in found), found
    return found


def command_path(args: list[str]) -> tuple[str, ...]:
    """The sub-command an argument list runs (group options such as --threads 1 skipped)."""
    cmd, path, i = main, [], 0
    while isinstance(cmd, click.Group) and i < len(args):
        arg = args[i]
        if arg.startswith("-"):
            opt = next((p for p in cmd.params if arg in getattr(p, "opts", ())), None)
            i += 1 if opt is None or getattr(opt, "is_flag", False) or "=" in arg else 2
            continue
        if arg not in cmd.commands:
            break
        cmd, i = cmd.commands[arg], i + 1
        path.append(arg)
    return tuple(path)


# ---- the tiny inputs that examples name --------------------------------------------------------

def _clip(path: Path, seconds: float = 1.6) -> None:
    from netbend.audio.synth import render_clip

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, render_clip(7, 0, seconds), 22050)


def _tracks(folder: Path) -> None:
    for i in range(2):
        _clip(folder / f"t{i}.wav", 2.0)


def _plan(path: Path) -> None:  # fits the image models and the audio model
    path.write_text("transforms:\n- {layer: 1, transform: ablate, features: random, feature-param: 0.5}\n")


def _nvlabs(path: Path) -> None:
    from stylegan2_helpers import tiny_nvlabs_snapshot

    tiny_nvlabs_snapshot(path)


def _projected_w(path: Path) -> None:
    from netbend.models import load_model

    if not (path.parent / "ffhq.pkl").exists():
        _nvlabs(path.parent / "ffhq.pkl")
    model = load_model(path.parent / "ffhq.pkl")
    np.save(path, np.random.default_rng(0).standard_normal((2, model.w_dim)).astype(np.float32))


def _rosinality(path: Path) -> None:
    shutil.copyfile(ROOT / "tests" / "fixtures" / "stylegan2" / "rosinality_tiny.pt", path)


def _clusters_yaml(path: Path) -> None:
    from netbend.clusters import load_clusters, save_clusters

    save_clusters(load_clusters("default_faces_clusters"), path, original=True)


_RUN_CACHE: dict[str, Path] = {}


def _cluster_run(folder: Path) -> None:
    """What `cluster run` writes, made small (layers 4 and 5, 2 + 1 latents, 1 epoch, 2 latents
    for the general-purpose clusters) by the library, once, then copied."""
    if "run" not in _RUN_CACHE:
        import tempfile

        from netbend.clustering.pipeline import run_pipeline
        from netbend.clustering.presets import get_preset
        from netbend.models import load_model
        from netbend.outdir import finish_out_dir, prepare_out_dir

        made = prepare_out_dir(Path(tempfile.mkdtemp(prefix="netbend_help_")) / "faces", overwrite=False,
                               command="cluster run")
        preset = get_preset("default").with_overrides(n_train=2, n_test=1, epochs=1, n_general=2)
        run_pipeline(load_model(None), made, preset=preset, layers=["4", "5", "6"], progress=False)
        finish_out_dir(made)
        _RUN_CACHE["run"] = made
    shutil.copytree(_RUN_CACHE["run"], folder)


# name an example uses -> what makes it (a name ending in "/" is a prefix: runs/faces/...)
INPUTS: dict[str, Callable[[Path], None]] = {
    "drums.wav": _clip, "song.flac": _clip, "track.wav": _clip, "my_tracks/": _tracks,
    "plan.yaml": _plan, "ffhq.pkl": _nvlabs, "projected_w.npy": _projected_w,
    "ffhq.pt": _rosinality, "stylegan2-ffhq-config-f.pt": _rosinality,
    "clusters.yaml": _clusters_yaml, "runs/faces/": _cluster_run,
}


def _make_inputs(lines: list[str], folder: Path) -> None:
    (folder / "examples").symlink_to(ROOT / "examples")  # examples may use the clone's examples/
    tokens = {t for line in lines for t in shlex.split(line, comments=True)}
    for name, make in INPUTS.items():
        used = any(t == name or t == name.rstrip("/") + "/" or (name.endswith("/") and t.startswith(name))
                   for t in tokens)
        target = folder / name.rstrip("/")
        if used and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            make(target)
        if name == "clusters.yaml" and any(t == "export" for t in tokens):
            target.unlink(missing_ok=True)  # an `export` example writes it


@pytest.mark.parametrize("path", list(COMMANDS), ids=lambda p: " ".join(("netbend",) + p))
def test_every_help_example_runs(path, tmp_path, monkeypatch):
    lines = examples_of(path)
    monkeypatch.chdir(tmp_path)
    _make_inputs(lines, tmp_path)
    for line in lines:
        args = shlex.split(line, comments=True)[1:]
        dry = command_path(args) in DRY_RUN or any(a in DRY_RUN_OPTIONS for a in args)
        if dry and "--dry-run" not in args:
            args.append("--dry-run")
        res = CliRunner().invoke(main, args)
        assert res.exit_code == 0, f"`{line}` ({' '.join(args)}) failed:\n{res.output}"


def test_dry_run_table_names_real_commands_with_dry_run():
    for path, why in DRY_RUN.items():
        assert path in COMMANDS, f"DRY_RUN names no command: {path}"
        assert any(p.name == "dry_run" for p in COMMANDS[path].params), f"netbend {' '.join(path)} has no --dry-run"


def test_parsing_and_command_paths():
    assert command_path(["cluster", "--threads", "1", "run", "--out-dir", "x"]) == ("cluster", "run")
    assert command_path(["generate", "--seeds", "0"]) == ("generate",)
    assert examples_of(("transforms",))[:2] == ["netbend transforms", "netbend transforms rotate erode"]
