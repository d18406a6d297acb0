"""Custom transforms from the CLI: `--plugin FILE.py` and the `netbend.transforms` entry-point group."""
from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from netbend import plugins
from netbend.cli import main
from netbend.transforms import registry

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_plugin_file_registers_and_is_listed_with_its_origin():
    res = run("--plugin", EXAMPLES / "my_transforms.py", "transforms", "clip", "flip-sign")
    assert res.exit_code == 0, res.output
    assert "clip" in res.output and "[from plugin my_transforms.py]" in res.output
    assert registry.TRANSFORMS["clip"].origin == "plugin my_transforms.py"
    x = torch.linspace(-1, 1, 8).reshape(1, 2, 2, 2)
    assert torch.equal(registry.get_transform("clip")(x, limit=0.5), x.clamp(-0.5, 0.5))
    assert "[from" not in run("transforms", "rotate").output  # built-ins carry no mark


def test_plugin_transform_bends_generate(tmp_path):
    out = tmp_path / "clip"
    res = run("--plugin", EXAMPLES / "my_transforms.py", "generate", "--config", EXAMPLES / "clip_plugin.yaml",
              "--seeds", "0", "--out", out)
    assert res.exit_code == 0, res.output
    plain = run("generate", "--seeds", "0", "--out", tmp_path / "plain")
    assert plain.exit_code == 0
    assert (out / "seed0000_var00.png").read_bytes() != (tmp_path / "plain" / "seed0000_var00.png").read_bytes()
    record = yaml.safe_load((out / "run.yaml").read_text())
    assert record["source_plan"]["transforms"][0]["transform"] == "clip"
    assert record["plugins"] == [str(EXAMPLES / "my_transforms.py")]  # needed to re-render
    assert "plugins" not in yaml.safe_load((tmp_path / "plain" / "run.yaml").read_text())


def test_plugin_loaded_twice_is_loaded_once():
    first = plugins.load_plugin_file(EXAMPLES / "my_transforms.py")
    assert sorted(first) == ["clip", "flip-sign"]
    assert plugins.load_plugin_file(EXAMPLES / "my_transforms.py") == first


@pytest.mark.parametrize("body, expected", [
    (None, "file not found"),
    ("raise ValueError('no good')\n", "ValueError: no good (line 1 of"),
    ("import netbend_no_such_module\n", "ModuleNotFoundError: No module named 'netbend_no_such_module'"),
    ("def broken(:\n", "SyntaxError"),
    ("from netbend.transforms import register_transform\n"
     "register_transform('rotate')(lambda x: x)\n", "transform name 'rotate' is already registered"),
])
def test_plugin_errors_are_one_line(tmp_path, body, expected):
    path = tmp_path / "plug.py"
    if body is not None:
        path.write_text(body)
    res = run("--plugin", path, "transforms")
    assert res.exit_code == 2
    assert res.output.startswith(f"netbend: error: --plugin {path}: ") and expected in res.output
    assert len(res.output.strip().splitlines()) == 1, res.output
    assert "Traceback" not in res.output


def _dist(root: Path, body: str, value: str) -> None:
    """A tiny installed distribution: a package and its .dist-info with one entry point."""
    package = value.split(":")[0]
    (root / package).mkdir()
    (root / package / "__init__.py").write_text(body)
    info = root / "nb_ep_demo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nb-ep-demo\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[netbend.transforms]\ndemo = {value}\n")


EP_BODY = ("from netbend.transforms import register_transform\n"
           "@register_transform('ep-double', description='Double every activation.')\n"
           "def double(x):\n    return 2 * x\n")


def test_entry_point_group_loads_at_cli_start(tmp_path, monkeypatch):
    _dist(tmp_path, EP_BODY, "nb_ep_demo_a")
    monkeypatch.syspath_prepend(str(tmp_path))
    res = run("transforms", "ep-double")
    assert res.exit_code == 0, res.output
    assert "[from entry point demo (nb-ep-demo)]" in res.output


def test_entry_point_naming_a_function_is_called(tmp_path, monkeypatch):
    body = EP_BODY.replace("@register_transform", "def register():\n    @register_transform").replace(
        "\ndef double", "\n    def double").replace("    return 2", "        return 2")
    _dist(tmp_path, body, "nb_ep_demo_b:register")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "ep-double" not in registry.TRANSFORMS
    assert plugins.load_entry_points() == {"demo": ["ep-double"]}


def test_broken_entry_point_warns_and_the_command_still_runs(tmp_path, monkeypatch):
    _dist(tmp_path, "raise RuntimeError('broken package')\n", "nb_ep_demo_c")
    monkeypatch.syspath_prepend(str(tmp_path))
    res = run("transforms", "rotate")
    assert res.exit_code == 0
    assert ("netbend: warning: netbend.transforms entry point demo (nb-ep-demo) = nb_ep_demo_c: "
            "RuntimeError: broken package (line 1 of __init__.py)") in res.output
    with pytest.raises(Exception, match="broken package"):
        plugins.load_entry_points()  # without a warn callback, the library raises


def test_shipped_example_plugin_is_found_outside_a_clone(tmp_path, monkeypatch):
    """An installed package has no examples/ folder: the shipped plugin is found by its clone path."""
    monkeypatch.chdir(tmp_path)
    res = run("--plugin", "examples/my_transforms.py", "transforms", "clip")
    assert res.exit_code == 0 and "[from plugin my_transforms.py]" in res.output
