"""Transforms against OpenCV, the original project's implementation (float32, all pixels)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from netbend.transforms import get_transform
from netbend.transforms.filters import gaussian_radius
from netbend.transforms.morphology import footprint

cv2 = pytest.importorskip("cv2", reason="OpenCV is the reference; install the 'test' extra")

SHAPES = [(64, 64), (17, 65), (8, 5), (33, 20)]


def maps(h, w, n=6, seed=0):
    return torch.randn(1, n, h, w, generator=torch.Generator().manual_seed(seed))


def run(name, x, params):
    spec = get_transform(name)
    return spec(x, **spec.bind(params))


def per_map(x, op):
    """The original approach: an OpenCV call on each [H, W] map."""
    return torch.from_numpy(np.stack([op(m) for m in x[0].numpy()]))[None]


def cv_warp(x, matrix):
    h, w = x.shape[-2:]
    return per_map(x, lambda m: cv2.warpAffine(m, matrix, (w, h), flags=cv2.INTER_LINEAR,
                                                borderMode=cv2.BORDER_CONSTANT, borderValue=0))


@pytest.mark.parametrize("h, w", SHAPES)
@pytest.mark.parametrize("angle", [45, 33.3, -120, 90, 180, 270, 1, 359.5])
def test_rotate_matches_warp_affine(h, w, angle):
    x = maps(h, w)
    want = cv_warp(x, cv2.getRotationMatrix2D(((w - 1) / 2, (h - 1) / 2), angle, 1.0))
    assert (run("rotate", x, [angle]) - want).abs().max() < 1e-4


@pytest.mark.parametrize("h, w", SHAPES)
@pytest.mark.parametrize("kx, ky", [(0.6, 0.6), (1.5, 1.5), (0.5, 2.0), (1.3, 0.9)])
def test_scale_matches_warp_affine(h, w, kx, ky):
    x = maps(h, w)
    cx, cy = (w - 1) / 2, (h - 1) / 2
    m = np.float64([[kx, 0, (1 - kx) * cx], [0, ky, (1 - ky) * cy]])
    assert (run("scale", x, [kx, ky]) - cv_warp(x, m)).abs().max() < 1e-4


@pytest.mark.parametrize("h, w", SHAPES)
@pytest.mark.parametrize("px, py", [(0.1, 0.05), (-0.33, 0.5), (0.25, -0.125), (1.0, 0.0), (-0.07, -1.0)])
def test_translate_matches_warp_affine(h, w, px, py):
    x = maps(h, w)
    m = np.float64([[1, 0, px * w], [0, 1, py * h]])
    assert (run("translate", x, [px, py]) - cv_warp(x, m)).abs().max() < 1e-4


@pytest.mark.parametrize("name, code", [("flip-h", 1), ("flip-v", 0)])
@pytest.mark.parametrize("h, w", SHAPES)
def test_flips_match_cv2_flip(name, code, h, w):
    x = maps(h, w)
    assert torch.equal(run(name, x, []), per_map(x, lambda m: cv2.flip(m, code)))


@pytest.mark.parametrize("r", range(0, 11))
def test_footprint_matches_get_structuring_element(r):
    want = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    assert np.array_equal(footprint(r).numpy().astype(np.uint8), want)


@pytest.mark.parametrize("h, w", SHAPES)
@pytest.mark.parametrize("r", [1, 2, 3, 5, 9])
@pytest.mark.parametrize("name", ["erode", "dilate"])
def test_morphology_matches_cv2_exactly(name, r, h, w):
    x = maps(h, w, seed=r)
    k = footprint(r).numpy().astype(np.uint8)
    op = cv2.erode if name == "erode" else cv2.dilate
    assert torch.equal(run(name, x, [r]), per_map(x, lambda m: op(m, k)))


@pytest.mark.parametrize("h, w", [(64, 64), (17, 65), (33, 20), (40, 150)])
@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.5])
def test_blur_matches_gaussian_blur(h, w, sigma):
    x = maps(h, w)
    r = gaussian_radius(sigma, min(h, w))
    assert r == gaussian_radius(sigma, max(h, w))  # OpenCV takes one kernel size for both axes
    want = per_map(x, lambda m: cv2.GaussianBlur(m, (2 * r + 1, 2 * r + 1), sigma, sigmaY=sigma,
                                                 borderType=cv2.BORDER_REFLECT_101))
    assert (run("blur", x, [sigma]) - want).abs().max() < 1e-5
