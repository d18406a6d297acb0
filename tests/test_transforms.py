"""Transforms: identities, hand-computed cases, exact footprints, dtypes, validation, CLI."""
from __future__ import annotations

import math

import pytest
import torch
from click.testing import CliRunner

from netbend.cli import main
from netbend.errors import NetbendError
from netbend.transforms import TRANSFORMS, Param, get_transform, register_transform
from netbend.transforms import registry
from netbend.transforms.morphology import footprint


def run(name, x, params=None):
    spec = get_transform(name)
    return spec(x, **spec.bind(params))


def rand(*shape, seed=0, dtype=torch.float32):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).to(dtype)


# ---- neutral parameters give the identity -------------------------------------------

@pytest.mark.parametrize("name, params", [
    ("translate", [0, 0]), ("scale", [1]), ("scale", [1, 1]), ("rotate", [0]), ("rotate", [360]),
    ("rotate", [-720]), ("erode", [0]), ("dilate", [0]), ("blur", [0]), ("noise", [0, 5]),
    ("scalar-multiply", [1]), ("add", [0]),
])
@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (1, 4, 17, 65)])
def test_neutral_params_are_identity(name, params, shape):
    x = rand(*shape)
    y = run(name, x, params)
    assert torch.equal(y, x)
    assert y.data_ptr() != x.data_ptr()  # a new tensor, the input is not aliased


def test_double_flips_are_identity():
    x = rand(2, 3, 5, 7)
    assert torch.equal(run("flip-h", run("flip-h", x)), x)
    assert torch.equal(run("flip-v", run("flip-v", x)), x)


# ---- hand-computed tiny cases -------------------------------------------------------

def test_translate_by_fractions_of_the_size():
    x = torch.arange(1.0, 5.0).view(1, 1, 1, 4)  # [1, 2, 3, 4]
    assert run("translate", x, [0.25, 0]).flatten().tolist() == [0, 1, 2, 3]  # right
    assert run("translate", x, [-0.5, 0]).flatten().tolist() == [3, 4, 0, 0]  # left
    assert run("translate", x, [0.125, 0]).flatten().tolist() == [0.5, 1.5, 2.5, 3.5]
    col = torch.arange(1.0, 5.0).view(1, 1, 4, 1)
    assert run("translate", col, [0, 0.25]).flatten().tolist() == [0, 1, 2, 3]  # down


def test_scale_about_the_centre():
    x = torch.tensor([[[[1.0, 2.0, 3.0]]]])
    assert torch.allclose(run("scale", x, [2, 1]), torch.tensor([[[[1.5, 2.0, 2.5]]]]))
    x = torch.arange(5.0).view(1, 1, 1, 5)  # centre 2; k=0.5 samples at 2 + 2(j - 2)
    assert run("scale", x, [0.5, 1]).flatten().tolist() == [0, 0, 2, 4, 0]


def test_rotate_counter_clockwise_as_seen():
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    assert run("rotate", x, [90]).flatten().tolist() == [2, 4, 1, 3]
    assert run("rotate", x, [-90]).flatten().tolist() == [3, 1, 4, 2]
    # 45 degrees on 3x3: the top-centre output pixel (x=1, y=0) samples the input at
    # (1 + sin 45, 1 - cos 45), between the top-right values 2, 3, 5, 6
    x = torch.arange(1.0, 10.0).view(1, 1, 3, 3)
    y = run("rotate", x, [45])
    assert y[0, 0, 1, 1] == 5
    fx, fy = math.sin(math.pi / 4), 1 - math.cos(math.pi / 4)
    want = (1 - fx) * (1 - fy) * 2 + fx * (1 - fy) * 3 + (1 - fx) * fy * 5 + fx * fy * 6
    assert y[0, 0, 0, 1].item() == pytest.approx(want, abs=1e-6)


def test_flips_on_a_tiny_map():
    x = torch.tensor([[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]]])
    assert run("flip-h", x).flatten().tolist() == [3, 2, 1, 6, 5, 4]
    assert run("flip-v", x).flatten().tolist() == [4, 5, 6, 1, 2, 3]
    assert torch.equal(run("flip-horizontal", x), run("flip-h", x))
    assert torch.equal(run("flip-vertical", x), run("flip-v", x))


def test_erode_dilate_hand_computed():
    x = torch.zeros(1, 1, 5, 5)
    x[0, 0, 2, 2] = 1
    d = run("dilate", x, [1])[0, 0]
    assert torch.equal(d[1:4, 1:4], torch.tensor([[0.0, 1, 0], [1, 1, 1], [0, 1, 0]]))
    assert d.sum() == 5
    ones = torch.ones(1, 1, 3, 3)
    ones[0, 0, 1, 1] = 0
    e = run("erode", ones, [1])[0, 0]
    assert torch.equal(e, torch.tensor([[1.0, 0, 1], [0, 0, 0], [1, 0, 1]]))
    # out-of-map pixels never win: a constant map stays constant at the borders
    c = torch.full((1, 2, 4, 6), -3.0)
    assert torch.equal(run("erode", c, [2]), c) and torch.equal(run("dilate", c, [3]), c)


def test_blur_hand_computed_and_mass_preserving_inside():
    x = torch.zeros(1, 1, 1, 9)
    x[0, 0, 0, 4] = 1
    y = run("blur", x, [1.0])[0, 0, 0]
    taps = torch.exp(-torch.arange(-3.0, 4.0) ** 2 / 2)
    assert torch.allclose(y[1:8], taps / taps.sum(), atol=1e-7)
    assert y.sum().item() == pytest.approx(1.0, abs=1e-6)
    # mirrored about the edge pixel (reflect-101): pixel -1 reads pixel 1
    x = torch.zeros(1, 1, 1, 9)
    x[0, 0, 0, 1] = 1
    y = run("blur", x, [1.0])[0, 0, 0]
    assert y[0].item() == pytest.approx(2 * (taps[4] / taps.sum()).item(), abs=1e-7)


def test_noise_is_seeded_and_scaled():
    x = rand(2, 3, 16, 16)
    a, b, c = run("noise", x, [0.5, 1]), run("noise", x, [0.5, 1]), run("noise", x, [0.5, 2])
    assert torch.equal(a, b) and not torch.equal(a, c)
    eps = (a - x) / 0.5
    assert abs(eps.mean().item()) < 0.05 and abs(eps.std().item() - 1) < 0.05
    assert torch.equal(run("noise", x, {"std": 0.5}), run("noise", x, [0.5, 0]))  # seed default 0


def test_numerical_transforms():
    x = torch.tensor([[[[-1.0, 0.0, 0.5, 2.0]]]])
    assert run("ablate", x).flatten().tolist() == [0, 0, 0, 0]
    assert run("invert", x).flatten().tolist() == [2, 1, 0.5, -1]
    assert run("scalar-multiply", x, [2]).flatten().tolist() == [-2, 0, 1, 4]
    assert run("binary-thresh", x, [0.5]).flatten().tolist() == [0, 0, 1, 1]
    assert run("add", x, [1]).flatten().tolist() == [0, 1, 1.5, 3]


# ---- exact footprints and exact rotations / flips -----------------------------------

FOOTPRINTS = {
    1: [[0, 1, 0],
        [1, 1, 1],
        [0, 1, 0]],
    2: [[0, 0, 1, 0, 0],
        [1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1],
        [0, 0, 1, 0, 0]],
    3: [[0, 0, 0, 1, 0, 0, 0],
        [0, 1, 1, 1, 1, 1, 0],
        [1, 1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1, 1],
        [1, 1, 1, 1, 1, 1, 1],
        [0, 1, 1, 1, 1, 1, 0],
        [0, 0, 0, 1, 0, 0, 0]],
}


@pytest.mark.parametrize("r", [1, 2, 3])
def test_footprint_is_the_hand_written_ellipse(r):
    assert footprint(r).int().tolist() == FOOTPRINTS[r]


@pytest.mark.parametrize("r", [1, 2, 3])
def test_dilating_an_impulse_draws_the_footprint(r):
    x = torch.zeros(1, 1, 9, 9)
    x[0, 0, 4, 4] = 1
    got = run("dilate", x, [r])[0, 0, 4 - r:5 + r, 4 - r:5 + r]
    assert got.int().tolist() == FOOTPRINTS[r]
    assert run("dilate", x, [r]).sum() == torch.tensor(FOOTPRINTS[r]).sum()


@pytest.mark.parametrize("k", [1, 2, 3, 4, -1, -2, -3, 5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_right_angle_rotations_equal_rot90_exactly(k, dtype):
    x = rand(2, 3, 9, 9, dtype=dtype)
    assert torch.equal(run("rotate", x, [90 * k]), torch.rot90(x, k, dims=(2, 3)))


@pytest.mark.parametrize("shape", [(2, 3, 9, 9), (1, 2, 17, 65)])
def test_flips_equal_torch_flip_exactly(shape):
    x = rand(*shape)
    assert torch.equal(run("flip-h", x), torch.flip(x, dims=(3,)))
    assert torch.equal(run("flip-v", x), torch.flip(x, dims=(2,)))
    assert torch.equal(run("rotate", x, [180]), torch.flip(x, dims=(2, 3)))


def test_whole_pixel_translation_is_an_exact_shift():
    x = rand(1, 2, 8, 16)
    y = run("translate", x, [0.25, -0.125])  # 4 px right, 1 px up
    assert torch.equal(y[..., :7, 4:], x[..., 1:, :12])
    assert y[..., 7:, :].abs().sum() == 0 and y[..., :, :4].abs().sum() == 0


# ---- shape, dtype and device are preserved -------------------------------------------

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
SAMPLE_PARAMS = {
    "scalar-multiply": [2], "binary-thresh": [0.1], "add": [0.5], "translate": [0.1, -0.2],
    "scale": [0.6], "rotate": [33], "erode": [2], "dilate": [2], "blur": [1.5], "noise": [0.3, 1],
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", sorted(SAMPLE_PARAMS) + ["ablate", "invert", "flip-h", "flip-v"])
def test_shape_dtype_device_preserved_and_close_to_float32(name, dtype, device):
    x32 = rand(2, 3, 10, 14).to(device)
    x = x32.to(dtype)
    y = run(name, x, SAMPLE_PARAMS.get(name))
    assert y.shape == x.shape and y.dtype == dtype and y.device == x.device
    ref = run(name, x.float(), SAMPLE_PARAMS.get(name))  # same inputs, computed in float32
    tol = 0 if dtype == torch.float32 else (1e-2 if dtype == torch.float16 else 6e-2)
    assert torch.allclose(y.float(), ref, atol=tol, rtol=tol)


# ---- parameter validation -------------------------------------------------------------

@pytest.mark.parametrize("name, params", [
    ("translate", [0.1]), ("translate", [0.1, 0.2, 0.3]), ("rotate", []), ("erode", [1, 2]),
    ("translate", ["a", 0]), ("rotate", ["45"]), ("erode", [1.5]), ("dilate", [True]),
    ("noise", [0.1, 0.5]), ("rotate", [float("nan")]),
    ("translate", [1.5, 0]), ("translate", [0, -1.01]), ("scale", [0]), ("scale", [-2]),
    ("scale", [1, 0]), ("erode", [-1]), ("blur", [-0.5]), ("noise", [-1]),
    ("rotate", {"degrees": 3}), ("flip-h", [1]),
])
def test_bad_parameters_raise(name, params):
    with pytest.raises(NetbendError):
        get_transform(name).bind(params)


def test_unknown_transform_suggests():
    with pytest.raises(NetbendError, match="did you mean 'rotate'"):
        get_transform("rotat")


# ---- the command line and user-registered transforms ---------------------------------

@pytest.fixture
def user_transform():
    name = "test-clip"

    @register_transform(name, params=[Param("limit", float, min=0.0, unit="activation", doc="clip bound")],
                        description="Clamp to [-limit, limit].")
    def clip(x, *, limit):
        return x.clamp(-limit, limit)

    yield name
    del TRANSFORMS[name]


def test_cli_lists_every_transform_with_params(user_transform):
    res = CliRunner().invoke(main, ["transforms"])
    assert res.exit_code == 0, res.output
    for name in TRANSFORMS:
        assert any(line.startswith(name + " ") for line in res.output.splitlines()), name
    assert "Clamp to [-limit, limit]." in res.output
    line = next(ln for ln in res.output.splitlines() if ln.strip().startswith("limit "))
    assert "activation" in line and ">= 0" in line and "required" in line
    rot = next(ln for ln in res.output.splitlines() if ln.strip().startswith("angle "))
    assert "degrees" in rot


def test_cli_one_transform_and_unknown_name():
    res = CliRunner().invoke(main, ["transforms", "erode"])
    assert res.exit_code == 0 and "erode" in res.output and "dilate" not in res.output
    assert "[0, 64]" in res.output and "pixels" in res.output
    res = CliRunner().invoke(main, ["transforms", "erod"])
    assert res.exit_code == 2 and "did you mean 'erode'" in res.output


def test_user_transform_is_usable_and_duplicates_fail(user_transform):
    x = torch.tensor([[[[-3.0, 0.5, 3.0]]]])
    assert run(user_transform, x, [1]).flatten().tolist() == [-1, 0.5, 1]
    with pytest.raises(ValueError, match="already registered"):
        register_transform(user_transform)(lambda x: x)
    with pytest.raises(ValueError, match="already registered"):
        register_transform("new-name", aliases=("flip-horizontal",))(lambda x: x)
    assert "new-name" not in TRANSFORMS and "flip-horizontal" in registry._ALIASES


@pytest.mark.parametrize("name", sorted(SAMPLE_PARAMS) + ["ablate", "invert", "flip-h", "flip-v"])
def test_non_contiguous_inputs_give_the_same_result(name):
    full = rand(2, 6, 9, 12)
    x = full[:, 1:5]  # a strided view, as a bend might pass
    want = run(name, x.contiguous(), SAMPLE_PARAMS.get(name))
    assert torch.equal(run(name, x, SAMPLE_PARAMS.get(name)), want)
    cl = x.contiguous(memory_format=torch.channels_last)
    assert torch.equal(run(name, cl, SAMPLE_PARAMS.get(name)), want)


def test_slabbed_kernels_restore_the_thread_count_and_match_one_call():
    from netbend.transforms import _kernels

    x = rand(2, 64, 64, 64)  # 2 MiB: two slabs of 1 MiB
    assert _kernels.slab_size(x.view(-1, 64, 64)) < 128
    before = torch.get_num_threads()
    sliced = run("dilate", x, [2]), run("rotate", x, [30]), run("blur", x, [1.0])
    assert torch.get_num_threads() == before
    old, _kernels.SLAB_BYTES = _kernels.SLAB_BYTES, 0
    try:
        whole = run("dilate", x, [2]), run("rotate", x, [30]), run("blur", x, [1.0])
    finally:
        _kernels.SLAB_BYTES = old
    for a, b in zip(sliced, whole):
        assert torch.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("name,params", [
    ("ablate", []), ("invert", []), ("scalar-multiply", [2]), ("binary-thresh", [0.1]), ("add", [1]),
    ("flip-h", []), ("flip-v", []), ("translate", [0.1, 0.2]), ("scale", [1.3]), ("rotate", [30]),
    ("rotate", [90]), ("noise", [0.1]), ("blur", [1.0]), ("erode", [1]), ("dilate", [2]),
])
def test_transforms_work_under_autograd(name, params):
    """Bending a model outside torch.no_grad() must work; values equal the no-grad path."""
    from netbend.transforms import get_transform

    spec = get_transform(name)
    kw = spec.bind(params)
    x = torch.randn(2, 3, 9, 11, requires_grad=True)
    y = spec(x, **kw)
    with torch.no_grad():
        ref = spec(x, **kw)
    assert torch.allclose(y.detach(), ref, atol=1e-6)
    if y.requires_grad:
        y.sum().backward()
        assert x.grad is not None and torch.isfinite(x.grad).all()
