"""Plans: original-project YAML runs unchanged; errors name file, entry and key."""
from pathlib import Path

import pytest

from netbend.errors import NetbendError
from netbend.plan import Plan, load_plan

ORIGINAL = """\
transforms:
- layer: 4
  transform: "translate"
  params: [0.25, 0.0]
  features: "all"
  feature-param:
- layer: 5
  transform: "ablate"
  params: []
  features: "cluster"
  feature-param: 2
- layer: 12
  transform: "binary-thresh"
  params: [0.5]
  features: "random"
  feature-param: 0.5

all-transforms:
- layer: 1
  transform: "erode"
  params: [2]
  features: "all"
  feature-param:
"""


def test_original_plan_loads(tmp_path: Path):
    path = tmp_path / "orig.yaml"
    path.write_text(ORIGINAL)
    plan = load_plan(path)
    assert [e.transform for e in plan.transforms] == ["translate", "ablate", "binary-thresh"]
    assert plan.transforms[0].params == {"px": 0.25, "py": 0.0}
    assert plan.transforms[1].feature_param == (2,)
    assert plan.transforms[2].feature_param == 0.5
    assert plan.source == str(path)


@pytest.mark.parametrize("value,expected", [(0.25, 0.25), ("25%", 0.25), (50, 0.5), (1, 1.0)])
def test_random_fraction_forms(value, expected):
    plan = Plan.from_dict({"transforms": [{"layer": 1, "transform": "ablate", "features": "random",
                                           "feature-param": value}]})
    assert plan.transforms[0].feature_param == pytest.approx(expected)


@pytest.mark.parametrize("entry,message", [
    ({"layer": 1, "transform": "erod"}, "transforms[0].transform: unknown transform 'erod'; did you mean 'erode'?"),
    ({"layer": 1, "transform": "ablate", "featurs": "all"}, "transforms[0].featurs: unknown key 'featurs'; did you mean 'features'?"),
    ({"layer": 1, "transform": "scalar-multiply"}, "transforms[0].params: 'scalar-multiply' needs parameter 'p'"),
    ({"layer": 1, "transform": "scalar-multiply", "params": ["x"]}, "transforms[0].params: parameter 'p' must be a number"),
    ({"layer": 1, "transform": "erode", "params": [1.5]}, "transforms[0].params: parameter 'r' must be a whole number"),
    ({"layer": 1, "transform": "ablate", "params": [1]}, "transforms[0].params: 'ablate' takes at most 0 parameter(s)"),
    ({"layer": 1, "transform": "ablate", "features": "randm"}, "transforms[0].features: must be one of"),
    ({"layer": 1, "transform": "ablate", "features": "random"}, "transforms[0].feature-param: is required"),
    ({"layer": 1, "transform": "ablate", "features": "random", "feature-param": 0}, "transforms[0].feature-param: must select"),
    ({"layer": 1, "transform": "ablate", "features": "cluster", "feature-param": "a"}, "transforms[0].feature-param: must be a cluster index"),
    ({"layer": 1, "transform": "ablate", "features": "all", "except": True}, "transforms[0].except:"),
    ({"layer": 0, "transform": "ablate"}, "transforms[0].layer: layer numbers start at 1"),
    ({"transform": "ablate"}, "transforms[0].layer: is required"),
])
def test_errors_name_file_entry_key(tmp_path: Path, entry, message):
    import yaml

    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"transforms": [entry]}))
    with pytest.raises(NetbendError) as err:
        load_plan(path)
    assert str(err.value).startswith(f"{path}: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_bad_files(tmp_path: Path):
    with pytest.raises(NetbendError, match="plan file not found"):
        load_plan(tmp_path / "missing.yaml")
    (tmp_path / "broken.yaml").write_text("transforms: [\n")
    with pytest.raises(NetbendError, match="not valid YAML"):
        load_plan(tmp_path / "broken.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(NetbendError, match="a plan is a mapping"):
        load_plan(tmp_path / "list.yaml")


def test_roundtrip_and_immutability():
    plan = Plan.from_dict({"transforms": [{"layer": "convs.2", "transform": "rotate", "params": {"angle": 45},
                                           "features": "indices", "feature-param": [3, 1, 3]}]})
    entry = plan.transforms[0]
    assert entry.layer == "convs.2" and entry.feature_param == (1, 3)
    assert Plan.from_dict(plan.to_dict()) == Plan(transforms=plan.transforms)
    with pytest.raises(Exception):
        entry.transform = "ablate"


@pytest.mark.parametrize("text,message", [
    ("transform:\n- layer: 1\n  transform: ablate\n", "no 'transforms:' key (found: transform); did you mean 'transforms'?"),
    ("foo: 1\n", "no 'transforms:' key (found: foo)"),
    ("", "the plan is empty"),
    ("# only a comment\n", "the plan is empty"),
    ("layer: 1\ntransform: ablate\n", "this looks like a single entry"),
    ("format: netbend-clusters\nlayers: {'1': [[0, 1]]}\n", "this is a cluster file, not a plan"),
    ("1: [{cluster_index: 0, feature_index: 3}]\n", "this is a cluster file, not a plan"),
])
def test_top_level_without_transforms_is_an_error(tmp_path: Path, text, message):
    """A misspelt or empty top level used to be silently the empty plan (a no-op render)."""
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(NetbendError) as err:
        load_plan(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text", ["transforms: []\n", "transforms:\n"])
def test_explicit_empty_plan_is_valid(tmp_path: Path, text, recwarn):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    assert load_plan(path).transforms == ()
    assert not recwarn.list


def test_original_extra_key_is_silent_and_unknown_keys_warn(tmp_path: Path, recwarn):
    from netbend.errors import NetbendWarning

    (tmp_path / "orig.yaml").write_text(ORIGINAL)
    load_plan(tmp_path / "orig.yaml")
    assert not recwarn.list
    path = tmp_path / "p.yaml"
    path.write_text("transforms: []\nall-transform: []\nnotes: hi\n")
    with pytest.warns(NetbendWarning) as caught:
        assert load_plan(path).transforms == ()
    messages = [str(w.message) for w in caught]
    assert messages == [f"{path}: unknown top-level key 'all-transform' is ignored; did you mean 'all-transforms'?",
                        f"{path}: unknown top-level key 'notes' is ignored (a plan's keys: transforms, all-transforms)"]
    assert Plan.from_dict({"transforms": [], "notes": 1}, extra_keys=("notes",)).transforms == ()


def test_plan_given_as_cluster_file_is_named(tmp_path: Path):
    from netbend.clusters import load_clusters

    (tmp_path / "orig.yaml").write_text(ORIGINAL)
    with pytest.raises(NetbendError, match="this is a plan, not a cluster file"):
        load_clusters(tmp_path / "orig.yaml")
    (tmp_path / "empty.json").write_text("{}")
    with pytest.raises(NetbendError, match="the cluster file has no layers"):
        load_clusters(tmp_path / "empty.json")
