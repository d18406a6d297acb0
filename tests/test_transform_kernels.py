"""The fast kernels' second code paths, compared with OpenCV / the general path.

erode/dilate run NumPy ops on the CPU and the same code on torch tensors elsewhere (CUDA);
here the torch flavour runs on the CPU. A fractional translation takes a separable
shift-and-add kernel; under autograd it takes the general bilinear gather.
"""
import cv2
import numpy as np
import pytest
import torch

from netbend.transforms import get_transform
from netbend.transforms.morphology import extreme, footprint, half_widths


@pytest.mark.parametrize("h,w", [(1, 1), (2, 7), (5, 3), (9, 11), (17, 65)])
@pytest.mark.parametrize("r", [1, 2, 3, 5])
@pytest.mark.parametrize("dilate", [False, True])
def test_torch_flavour_of_morphology_matches_opencv(h, w, r, dilate):
    x = torch.randn(3, h, w, generator=torch.Generator().manual_seed(h * 100 + w))
    out = torch.empty_like(x)
    op = torch.maximum if dilate else torch.minimum
    extreme(op, x, out, half_widths(r), lambda k: torch.empty_like(x))
    cv_op = cv2.dilate if dilate else cv2.erode
    kernel = footprint(r).numpy().astype(np.uint8)
    ref = np.stack([cv_op(m, kernel) for m in x.numpy()])
    assert np.array_equal(out.numpy(), ref)


@pytest.mark.parametrize("px,py", [(0.1, 0.05), (-0.37, 0.81), (0.9, -0.95), (0.0, 0.3)])
def test_shift_kernel_matches_bilinear_gather(px, py):
    x = torch.randn(2, 3, 9, 13, generator=torch.Generator().manual_seed(1))
    fast = get_transform("translate")(x, px=px, py=py)
    general = get_transform("translate")(x.clone().requires_grad_(True), px=px, py=py)
    assert (fast - general.detach()).abs().max() < 1e-5


@pytest.mark.parametrize("name,params", [("erode", [2]), ("dilate", [5]), ("rotate", [45]), ("scale", [1.5]),
                                         ("translate", [0.1, 0.05]), ("blur", [1.0])])
def test_slabs_in_parallel_threads_equal_one_thread(name, params, monkeypatch):
    """run_slabs shares slabs among threads: results must equal the one-thread run bit for bit."""
    from netbend.transforms import _kernels as K
    from netbend.transforms import get_transform

    monkeypatch.setattr(K, "SLAB_BYTES", 4096)  # many small slabs
    spec = get_transform(name)
    kw = spec.bind(params)
    x = torch.randn(4, 24, 17, 23)
    one = spec(x, **kw)
    torch.set_num_threads(2)  # the conftest fixture restores it
    two = spec(x, **kw)
    assert torch.equal(one, two)
