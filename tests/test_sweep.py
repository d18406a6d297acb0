"""`generate --scale/--grid` and `netbend sweep`: bigger pictures and parameter grids."""
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from PIL import Image

from netbend.cli import main
from netbend.errors import NetbendError
from netbend.plan import Plan
from netbend.sheets import contact_sheet, upscale
from netbend.sweep import cells, layout, parse_axis, parse_values
from stylegan2_helpers import tiny_model_file

FIG2 = Path(__file__).resolve().parents[1] / "examples" / "fig2_rotate_layerwide.yaml"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return tiny_model_file(tmp_path_factory.mktemp("model"), seed=3, channels={4: 16, 8: 16, 16: 8},
                           style_dim=32, n_mlp=2)


def run(*args, code=0):
    res = CliRunner().invoke(main, [str(a) for a in args])
    assert res.exit_code == code, res.output
    return res


def png(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def find(sheet: np.ndarray, image: np.ndarray) -> list[tuple[int, int]]:
    """Every (y, x) where ``image`` sits in ``sheet`` pixel for pixel."""
    h, w = image.shape[:2]
    win = np.lib.stride_tricks.sliding_window_view(sheet, (h, w, 3))[:, :, 0]  # [Y, X, h, w, 3]
    return [tuple(p) for p in np.argwhere((win == image).all(axis=(2, 3, 4)))]


@pytest.mark.parametrize("text, values", [
    ("1:4", (1, 2, 3, 4)), ("0:360:4", (0, 90, 180, 270)), ("0:1:4", (0, 0.25, 0.5, 0.75)),
    ("0.5", (0.5,)), ("erode,dilate", ("erode", "dilate")), ("1,2.5,true", (1, 2.5, True)),
])
def test_values(text, values):
    assert parse_values(text, "x") == values


@pytest.mark.parametrize("text, message", [
    ("5:2", "the range 5:2 is reversed (use 2:5)"), ("1:2:0", "is not a range"), ("a:b", "is not a range"),
    ("", "no values"), ("1,,2", "empty item"),
])
def test_bad_values(text, message):
    with pytest.raises(NetbendError) as err:
        parse_values(text, "x")
    assert str(err.value).startswith("x: ") and message in str(err.value)


PLAN = Plan.from_dict({"transforms": [{"layer": 2, "transform": "rotate", "params": [45]}]})


@pytest.mark.parametrize("vary, message", [
    ("transforms[0].parms.angle=1", "transforms[0] has no key 'parms'; did you mean 'params'?"),
    ("transforms[0].params.angel=1", "rotate has no parameter 'angel'; did you mean 'angle'?"),
    ("transforms[0].layr=1:2", "no key 'layr'; did you mean 'layer'?"),
    ("transform[0].layer=1", "did you mean 'transforms'?"),
    ("transforms[3].layer=1", "transforms[3]: the plan has 1 entry (0-0)"),
    ("transforms[0].params[1]=1", "rotate has 1 parameter(s) (angle), no params[1]"),
    ("transforms[0].layer", "expected PATH=VALUES"),
    ("transforms[0].layer=1:2 + transforms[0].params.angle=1,2,3", "need as many values each (got 2, 3)"),
])
def test_vary_paths_are_checked_once_with_suggestions(vary, message):
    with pytest.raises(NetbendError) as err:
        parse_axis(vary, PLAN)
    assert str(err.value).startswith(f"--vary '{vary.split(' + ')[0] if 'as many' not in message else vary}'")
    assert message in str(err.value)


def test_cells_and_layout_of_three_varies():
    axes = [parse_axis(t, PLAN) for t in ("transforms[0].params[0]=1:4", "transforms[0].layer=1:2",
                                          "transforms[0].transform=rotate,scale + transforms[0].features=all,all")]
    grid = cells(PLAN, axes)
    assert len(grid) == 4 * 2 * 2
    by_idx = {c.indices: c.plan.transforms[0] for c in grid}
    assert by_idx[1, 0, 0].params == {"angle": 2.0} and by_idx[1, 0, 0].layer == 1
    assert by_idx[2, 1, 1].transform == "scale" and by_idx[2, 1, 1].params["kx"] == 3.0  # params[0] of scale
    rows, row_labels, col_labels = layout(axes, [0, 7])
    assert col_labels == ["params[0]=1", "params[0]=2", "params[0]=3", "params[0]=4"]
    assert rows[:3] == [(0, (0, 0)), (0, (0, 1)), (0, (1, 0))] and len(rows) == 2 * 2 * 2
    assert row_labels[1] == "seed 0, layer=1, scale all" and row_labels[-1] == "seed 7, layer=2, scale all"


def test_sweep_cli_grid_and_cell_plans_re_render(tiny, tmp_path):
    out = tmp_path / "sweep"
    res = run("sweep", "--model", tiny, "--config", FIG2, "--vary", "transforms[0].params.angle=0:360:3",
              "--vary", "transforms[0].layer=1:2", "--seeds", "4", "--out", out)
    assert "2 rows x 3 columns = 6 images" in res.output
    sheet = png(out / "sweep.png")
    record = yaml.safe_load((out / "sweep.yaml").read_text())
    assert record["column_labels"] == ["angle=0", "angle=120", "angle=240"]
    assert record["row_labels"] == ["layer=1", "layer=2"]
    spots = set()
    for cell in record["cells"]:
        ren = tmp_path / Path(cell["plan"]).stem
        run("generate", "--model", tiny, "--config", out / cell["plan"], "--seeds", "4", "--out", ren)
        image = png(ren / "seed0004_var00.png")
        found = find(sheet, image)
        assert found, f"{cell['plan']}: its image is not in the sheet"
        spots.update(found)
    assert len(spots) >= 5  # the cells differ (angle 0 at layers 1 and 2 may look alike, little else)
    assert (sheet[:12] < 128).any()  # column labels are drawn


def test_sweep_cell_errors_name_the_cell(tiny, tmp_path):
    res = run("sweep", "--model", tiny, "--config", FIG2, "--vary", "transforms[0].layer=1:5",
              "--out", tmp_path / "s", code=2)
    assert res.output.startswith("netbend: error: sweep cell layer=5: ") and "no layer 5" in res.output
    assert not (tmp_path / "s").exists()
    res = run("sweep", "--model", tiny, "--config", FIG2, "--vary", "transforms[0].layer=1:2",
              "--vary", "transforms[0].params.angle=0:90:2", "--seeds", "0-1", "--dry-run", "--out", tmp_path / "d")
    assert "4 rows x 2 columns = 8 images; columns: transforms[0].layer=1:2; rows: seeds 0-1 x" in res.output
    assert not (tmp_path / "d").exists()


def test_generate_scale_and_grid(tiny, tmp_path):
    run("generate", "--model", tiny, "--seeds", "0-2", "--out", tmp_path / "a", "--raw", tmp_path / "a.npy")
    run("generate", "--model", tiny, "--seeds", "0-2", "--out", tmp_path / "b", "--raw", tmp_path / "b.npy",
        "--scale", 3)
    run("generate", "--model", tiny, "--seeds", "0-2", "--out", tmp_path / "c", "--scale", 3,
        "--scale-filter", "lanczos", "--grid", "--config", FIG2, "--variations", 2)
    small = png(tmp_path / "a" / "seed0001_var00.png")
    big = png(tmp_path / "b" / "seed0001_var00.png")
    assert np.array_equal(big, small.repeat(3, 0).repeat(3, 1))
    assert np.array_equal(np.load(tmp_path / "a.npy"), np.load(tmp_path / "b.npy"))  # raw as rendered
    smooth = png(tmp_path / "c" / "seed0001_var01.png")
    assert smooth.shape == (48, 48, 3) and not np.array_equal(smooth, big)
    sheet = png(tmp_path / "c" / "grid.png")
    for name in ("seed0000_var00", "seed0002_var01", "seed0001_var01"):
        assert find(sheet, png(tmp_path / "c" / f"{name}.png")), name
    assert yaml.safe_load((tmp_path / "c" / "run.yaml").read_text())["grid"] == "grid.png"


def test_upscale_and_sheet_units():
    img = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    assert np.array_equal(upscale(img, 2), img.repeat(2, 0).repeat(2, 1))
    assert upscale(img, 1) is img
    with pytest.raises(NetbendError, match="--scale-filter: unknown filter 'cubic'"):
        upscale(img, 2, "cubic")
    sheet = contact_sheet([[img, img], [img, img]], ["a", "b"], ["one", "a much longer label"])
    assert len(find(sheet, img)) == 4
    assert sheet.shape[1] > 2 * 3 + 80  # the long label widens its column


def test_sweep_reruns_only_with_overwrite(tiny, tmp_path):
    args = ["sweep", "--model", tiny, "--config", FIG2, "--vary", "transforms[0].layer=1:2", "--out", tmp_path / "s"]
    run(*args)
    res = run(*args, code=2)
    assert "holds the outputs of an earlier `netbend sweep` run" in res.output
    run(*args, "--overwrite")
    assert sorted(p.name for p in (tmp_path / "s" / "plans").iterdir()) == ["cell_00.yaml", "cell_01.yaml"]
