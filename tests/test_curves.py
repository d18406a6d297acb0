"""Curves (plan values over time), time-varying selections, and plans resolved at a time t."""
import numpy as np
import pytest

from netbend.curves import Clock, Keyframes, Noise, parse_curve, parse_value
from netbend.errors import NetbendError
from netbend.plan import Plan
from netbend.timeselect import Redraw, timed_selection


def test_keyframes_linear_smooth_hold_and_flat_outside():
    c = parse_curve({"keyframes": [[1, 0], [3, 10]]})
    assert np.allclose(c.at([0, 1, 2, 3, 5]), [0, 0, 5, 10, 10])
    s = parse_curve({"keyframes": [[0, 0], [2, 10]], "easing": "smooth"})
    assert np.isclose(s.at(0.5), 10 * (0.25 * 0.25 * (3 - 0.5)))  # smoothstep(0.25)
    assert np.isclose(s.at(1.0), 5)
    h = parse_curve({"keyframes": {0: 1, 2: 7}, "easing": "hold"})
    assert np.allclose(h.at([0, 1.99, 2]), [1, 1, 7])


def test_lfo_frequency_phase_range_and_cycles_per_clip():
    c = parse_curve({"lfo": 0.5, "range": [-30, 30]})
    assert np.allclose(c.at([0, 0.5, 1, 1.5]), [0, 30, 0, -30], atol=1e-9)
    q = parse_curve({"lfo": 1, "range": [0, 1], "phase": 0.25})
    assert np.isclose(q.at(0), 1)
    cyc = parse_curve({"lfo": None, "cycles": 2, "range": [0, 1]})
    assert np.isclose(cyc.at(1.125, Clock(duration=3)), 0.0)  # 2 cycles in 3 s: a trough at 3/4 of 1.5 s


def test_noise_is_seeded_smooth_in_range_and_loops_without_seam():
    c = Noise(frequency=1.3, range=(2, 4), seed=5, octaves=3)
    clock = Clock(duration=2.0)
    t = np.linspace(0, 2, 2001)
    v = c.at(t, clock)
    assert v.min() >= 2 and v.max() <= 4 and v.max() - v.min() > 0.3
    assert np.isclose(c.at(0.0, clock), c.at(2.0, clock))  # looped: the end meets the start
    assert np.abs(np.diff(v)).max() < 0.05  # smooth
    assert not np.allclose(v, Noise(1.3, (2, 4), seed=6, octaves=3).at(t, clock))
    np.testing.assert_array_equal(v, c.at(t, clock))


@pytest.mark.parametrize("value, words", [
    ({"lfo": 0.5, "rnage": [0, 1]}, "rnage: unknown key for a 'lfo' curve"),
    ({"keyframes": [[1, 0], [0, 1]]}, "keyframes out of order"),
    ({"keyframes": [[0, 0, 1]]}, "keyframes[0]: must be a [time, value] pair"),
    ({"lfoo": 1}, "did you mean 'lfo'"),
    ({"noise": -1}, "noise: must be > 0"),
    ({"lfo": 1, "range": [0]}, "range: must be [low, high]"),
    ({"audio": "rsm"}, "did you mean 'rms'"),
    ({"keyframes": [[0, 0]], "easing": "smoth"}, "did you mean 'smooth'"),
])
def test_bad_curves_name_the_key(value, words):
    with pytest.raises(NetbendError, match=None) as err:
        parse_curve(value, "p.yaml: transforms[0].params.angle")
    assert words in str(err.value) and str(err.value).startswith("p.yaml: transforms[0].params.angle")


def test_plan_with_curves_resolves_to_an_ordinary_plan_at_t():
    plan = Plan.from_dict({"transforms": [
        {"layer": 2, "transform": "rotate", "params": {"angle": {"lfo": 0.5, "range": [-30, 30]}}},
        {"layer": 1, "transform": "erode", "params": [{"keyframes": [[0, 0], [1, 4]]}], "features": "random",
         "feature-param": {"keyframes": [[0, 0.1], [1, 0.9]]}},
        {"layer": 3, "transform": "scalar-multiply", "params": 2}]}, source="p.yaml")
    assert plan.curves == ["transforms[0].params.angle", "transforms[1].params.r", "transforms[1].feature-param"]
    at = plan.at(0.5)
    assert at.curves == [] and at.transforms[0].params == {"angle": 30.0}
    assert at.transforms[1].params == {"r": 2} and isinstance(at.transforms[1].params["r"], int)
    assert np.isclose(at.transforms[1].feature_param, 0.5)
    assert at.transforms[2] == plan.transforms[2]
    again = Plan.from_dict(plan.to_dict(), source="p.yaml")  # curves survive the YAML round trip
    assert again.curves == plan.curves and again.at(0.25) == plan.at(0.25)
    static = Plan.from_dict({"transforms": [{"layer": 1, "transform": "ablate"}]})
    assert static.at(3.0) is static


@pytest.mark.parametrize("entry, words", [
    ({"params": {"r": {"lfo": 1, "range": [0, 99]}}}, "r' must be <= 64"),
    ({"params": {"r": {"lfo": 1, "range": [-1, 3]}}}, "r' must be >= 0"),
    ({"params": {"r": 1}, "features": "random", "feature-param": {"lfo": 1, "range": [0, 2]}},
     "a fraction curve must stay in [0, 1]"),
    ({"params": {"r": 1}, "features": "indices", "feature-param": {"lfo": 1}}, "only a random fraction"),
    ({"params": {"r": 1}, "redraw": 2}, "redraw: only works with 'features: random'"),
    ({"params": {"r": 1}, "features": "random", "feature-param": 0.5, "redraw": "sometimes"}, "redraw: must be"),
])
def test_plan_curve_errors_name_file_entry_key(entry, words):
    with pytest.raises(NetbendError) as err:
        Plan.from_dict({"transforms": [{"layer": 1, "transform": "erode", **entry}]}, source="p.yaml")
    assert str(err.value).startswith("p.yaml: transforms[0].") and words in str(err.value)


def test_single_moment_commands_refuse_plans_that_change_over_time():
    from netbend.bending import resolve_plan

    plan = Plan.from_dict({"transforms": [{"layer": 1, "transform": "rotate",
                                           "params": {"angle": {"lfo": 1}}}]}, source="p.yaml")
    with pytest.raises(NetbendError, match=r"p.yaml: transforms\[0\].params.angle: this plan changes over time"):
        resolve_plan(plan, object())


def test_truncation_value_is_a_number_or_a_curve():
    assert parse_value("0.7", "--truncation") == 0.7
    assert isinstance(parse_value("{keyframes: [[0, 1], [2, 0.5]]}", "--truncation"), Keyframes)
    with pytest.raises(NetbendError, match="--truncation: must be a number"):
        parse_value("abc", "--truncation")


def test_timed_selections_every_ordered_perlin():
    kw = dict(seed=3, entry_index=0, t=0.0, clock=Clock(duration=4.0))
    a = timed_selection(Redraw("every", every=2), 0.25, 40, frame=0, **kw)
    assert np.array_equal(a, timed_selection(Redraw("every", every=2), 0.25, 40, frame=1, **kw))
    assert not np.array_equal(a, timed_selection(Redraw("every", every=2), 0.25, 40, frame=2, **kw))
    assert len(a) == 10
    # ordered: a growing fraction only adds features (they join one by one), 0 selects nothing
    sets = [set(timed_selection(Redraw("ordered"), f, 40, frame=0, **kw)) for f in (0, 0.1, 0.3, 0.8, 1)]
    assert sets[0] == set() and all(x <= y for x, y in zip(sets, sets[1:])) and len(sets[-1]) == 40
    # perlin: exactly round(fraction * C) features; changes smoothly; loops with the clip
    p = Redraw("perlin", frequency=1.0)
    sel = [set(timed_selection(p, 0.5, 64, frame=0, **{**kw, "t": t})) for t in np.arange(0, 4.01, 0.05)]
    assert all(len(s) == 32 for s in sel)
    changes = [len(x ^ y) for x, y in zip(sel, sel[1:])]
    assert max(changes) < 32 and sum(changes) > 0
    assert sel[0] == sel[-1]
