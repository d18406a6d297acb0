"""Example plans ship inside the package; commands find them by name from anywhere."""
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from netbend.cli import main
from netbend.clusters import load_clusters
from netbend.errors import NetbendError
from netbend.examples import EXAMPLES_DIR, list_examples, resolve
from netbend.plan import load_plan

ROOT = Path(__file__).resolve().parents[1]


def test_clone_examples_link_to_the_shipped_files_no_copies():
    names = sorted(p.name for p in (ROOT / "examples").glob("*.yaml"))
    assert set(f"{e.name}.yaml" for e in list_examples()) <= set(names) and len(list_examples()) >= 6
    for name in names + ["audio", "images", "my_transforms.py"]:
        link = ROOT / "examples" / name
        assert link.is_symlink() and link.resolve() == (EXAMPLES_DIR / name).resolve()
    assert all(e.description for e in list_examples())


@pytest.mark.parametrize("text", ["fig3_stochastic", "fig3_stochastic.yaml", "examples/fig3_stochastic.yaml"])
def test_plans_by_name_from_another_folder(tmp_path, monkeypatch, text):
    monkeypatch.chdir(tmp_path)
    plan = load_plan(text)
    assert plan.source == str(EXAMPLES_DIR / "fig3_stochastic.yaml") and len(plan.transforms) == 4
    clusters = load_clusters("netbend/clustering/default_faces_clusters.json")
    assert clusters.layers == load_clusters("default_faces_clusters").layers


def test_a_local_file_wins_and_unknown_names_are_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fig3_stochastic.yaml").write_text("transforms: []\n")
    assert load_plan("fig3_stochastic.yaml").transforms == ()
    assert resolve("../x/../etc") == Path("../x/../etc")
    with pytest.raises(NetbendError, match="fig3_stochastc: plan file not found; did you mean 'fig3_stochastic'"):
        load_plan("fig3_stochastc")
    with pytest.raises(NetbendError, match="elsewhere/fig3_stochastic.yaml: plan file not found"):
        load_plan("elsewhere/fig3_stochastic.yaml")


def test_examples_command_lists_prints_and_copies(tmp_path):
    res = CliRunner().invoke(main, ["examples"])
    assert res.exit_code == 0 and "fig3_stochastic" in res.output and "remove_eyes" in res.output
    res = CliRunner().invoke(main, ["examples", "remove_eyes"])
    assert res.exit_code == 0 and (EXAMPLES_DIR / "remove_eyes.yaml").read_text() in res.output
    res = CliRunner().invoke(main, ["examples", "--copy", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    copied = sorted(str(p.relative_to(tmp_path / "c")) for p in (tmp_path / "c").rglob("*")
                    if p.is_file() and p.name != ".netbend-run.json")
    shipped = sorted(str(p.relative_to(EXAMPLES_DIR)) for p in EXAMPLES_DIR.rglob("*")
                     if p.is_file() and p.name != "__init__.py" and "__pycache__" not in p.parts)
    assert copied == shipped  # every plan, clip, image, the plugin and the OSC map
    assert {"audio/synth_seed2_0.flac", "images/face.png", "my_transforms.py", "studio_osc_map.yaml"} <= set(copied)
    assert "studio_osc_map" not in [e.name for e in list_examples()]  # not a plan
    assert load_plan(tmp_path / "c" / "only_eyes.yaml").transforms == load_plan("only_eyes").transforms
    res = CliRunner().invoke(main, ["examples", "nope"])
    assert res.exit_code == 2 and "nope: no such example plan" in res.output


def test_package_data_includes_plans_and_clips():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"*.yaml"' in text and '"*.flac"' in text and '"images/*.png"' in text
    assert os.path.isfile(EXAMPLES_DIR / "audio" / "synth_seed2_0.flac")
