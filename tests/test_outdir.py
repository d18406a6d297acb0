"""Output folders: a rerun never mixes old and new results, and never deletes what netbend did not write."""
import json
import os
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from netbend.cli import main
from netbend.errors import NetbendError
from netbend.outdir import MANIFEST, finish_out_dir, prepare_out_dir

ROOT = Path(__file__).resolve().parents[1]
FIG3 = str(ROOT / "examples" / "fig3_stochastic.yaml")


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_rerun_of_generate_is_refused_then_replaced_with_overwrite(tmp_path):
    out = tmp_path / "out"
    res = _run("generate", "--config", FIG3, "--seeds", "0-7", "--variations", "2", "--out", out)
    assert res.exit_code == 0, res.output
    assert len(list(out.glob("*.png"))) == 16 and (out / "plan_var01.yaml").is_file()
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["command"] == "generate" and set(manifest["files"]) == _files(out) - {MANIFEST}

    res = _run("generate", "--seeds", "0-1", "--out", out)
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert res.output.strip() == (f"netbend: error: {out}: holds the outputs of an earlier `netbend generate` "
                                  "run; use --resume to continue it, --overwrite to replace them, or another --out")
    assert len(list(out.glob("*.png"))) == 16  # untouched

    res = _run("generate", "--seeds", "0-1", "--out", out, "--overwrite")
    assert res.exit_code == 0, res.output
    run = yaml.safe_load((out / "run.yaml").read_text())
    listed = {i["file"] for i in run["images"]} | set(run["resolved_plans"]) | {"run.yaml", MANIFEST}
    assert _files(out) == listed == {"seed0000_var00.png", "seed0001_var00.png", "plan_var00.yaml",
                                     "run.yaml", MANIFEST}  # the folder tells the truth about itself


def test_folder_with_other_files_is_refused_even_with_overwrite(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    for extra in ([], ["--overwrite"]):
        res = _run("generate", "--seeds", "0", "--out", out, *extra)
        assert res.exit_code == 2
        assert "holds files netbend did not write (e.g. notes.txt)" in res.output
    assert _files(out) == {"notes.txt"} and (out / "notes.txt").read_text() == "keep me"
    # a file dropped in after a finished run is not netbend's either
    res = _run("faces", "render", "--seeds", "0-1", "--out", tmp_path / "f")
    assert res.exit_code == 0, res.output
    (tmp_path / "f" / "mine.txt").write_text("x")
    res = _run("faces", "render", "--seeds", "0-1", "--out", tmp_path / "f", "--overwrite")
    assert res.exit_code == 2 and "(e.g. mine.txt)" in res.output


def test_killed_run_is_recognised_and_dry_run_writes_nothing(tmp_path):
    out = prepare_out_dir(tmp_path / "k", overwrite=False, command="test")  # no click context: never finished
    (out / "sub").mkdir()
    (out / "sub" / "part.bin").write_bytes(b"1")
    with pytest.raises(NetbendError, match="earlier `netbend test` run"):
        prepare_out_dir(out, overwrite=False, command="test")
    prepare_out_dir(out, overwrite=True, command="test", dry_run=True)
    assert (out / "sub" / "part.bin").is_file()
    prepare_out_dir(out, overwrite=True, command="test")
    assert _files(out) == {MANIFEST}
    res = _run("generate", "--seeds", "0", "--out", tmp_path / "dry", "--dry-run")
    assert res.exit_code == 0 and not (tmp_path / "dry").exists()


def test_resume_keeps_an_earlier_run_and_other_rules(tmp_path):
    out = prepare_out_dir(tmp_path / "r", overwrite=False, command="step")
    (out / "chunk_000.npy").write_bytes(b"1")
    finish_out_dir(out)
    old = time.time() - 3600
    os.utime(out / "chunk_000.npy", (old, old))
    out = prepare_out_dir(out, overwrite=False, resume=True, command="step")
    assert (out / "chunk_000.npy").read_bytes() == b"1"
    assert json.loads((out / MANIFEST).read_text())["files"] == ["chunk_000.npy"]
    with pytest.raises(NetbendError, match="give only one of --overwrite"):
        prepare_out_dir(out, overwrite=True, resume=True, command="step")
    (tmp_path / "file").write_text("x")
    with pytest.raises(NetbendError, match="is not a folder"):
        prepare_out_dir(tmp_path / "file", overwrite=True, command="step")
    # a sub-folder that another netbend step wrote counts as netbend's
    parent = tmp_path / "p"
    sub = prepare_out_dir(parent / "dataset", overwrite=False, command="cluster dataset")
    (sub / "meta.json").write_text("{}")
    finish_out_dir(sub)
    assert prepare_out_dir(parent, overwrite=False, resume=True, command="cluster run") == parent


def test_cluster_and_audio_steps_resume_by_default(tmp_path):
    out = tmp_path / "clips"
    assert _run("audio", "make-dataset", out, "--clips", "1", "--seconds", "2").exit_code == 0
    res = _run("audio", "make-dataset", out, "--clips", "1", "--seconds", "2")
    assert res.exit_code == 2 and "--overwrite" in res.output
    assert _run("audio", "make-dataset", out, "--clips", "1", "--seconds", "2", "--overwrite").exit_code == 0
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "x.txt").write_text("x")
    res = _run("cluster", "run", "--out-dir", tmp_path / "runs", "--dry-run")
    assert res.exit_code == 2 and "did not write" in res.output


def test_a_step_folder_inside_a_run_folder_is_netbends(tmp_path):
    run = prepare_out_dir(tmp_path / "runs", overwrite=False, command="cluster run")
    (run / "dataset").mkdir()
    (run / "dataset" / "meta.json").write_text("{}")
    finish_out_dir(run)
    assert prepare_out_dir(run / "dataset", overwrite=False, resume=True, command="cluster dataset").is_dir()
    (run / "cnn").mkdir()
    (run / "cnn" / "mine.txt").write_text("x")  # after the run finished: not netbend's
    with pytest.raises(NetbendError, match="did not write"):
        prepare_out_dir(run / "cnn", overwrite=True, command="cluster train")


def test_other_runs_inside_a_folder_are_left_alone(tmp_path):
    out = tmp_path / "out"
    assert _run("generate", "--seeds", "0", "--out", out / "plain").exit_code == 0
    res = _run("generate", "--seeds", "1", "--out", out)  # the default --out beside out/plain
    assert res.exit_code == 0, res.output
    assert json.loads((out / MANIFEST).read_text())["files"] == ["plan_var00.yaml", "run.yaml",
                                                                  "seed0001_var00.png"]
    assert _run("generate", "--seeds", "2", "--out", out, "--overwrite").exit_code == 0
    assert (out / "plain" / "seed0000_var00.png").is_file() and not (out / "seed0001_var00.png").exists()
