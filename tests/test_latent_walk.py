"""The latent walk: a closed loop through seeds, exact at each seed, smooth in between."""
import numpy as np
import pytest
import torch

from netbend.errors import NetbendError
from netbend.latents import from_seeds, walk
from netbend.models import load_model


@pytest.fixture(scope="module")
def model():
    return load_model(None)


def test_walk_lands_exactly_on_each_seed_and_wraps(model):
    seeds = [5, 9, 2]
    for k, s in enumerate(seeds):
        at = walk(model, seeds, k / len(seeds))
        assert torch.equal(at.values, from_seeds(model, [s]).values) and at.seeds == (s,)
    assert torch.equal(walk(model, seeds, 1.0).values, from_seeds(model, [5]).values)


def test_walk_is_spherical_and_continuous(model):
    seeds = [0, 1, 2, 3]
    ts = np.linspace(0, 0.25, 26)
    zs = torch.cat([walk(model, seeds, t).values for t in ts])  # [26, z_dim]
    a, b = zs[0].double(), zs[-1].double()
    omega = torch.arccos(torch.dot(a / a.norm(), b / b.norm()))
    mid = walk(model, seeds, 0.125).values[0].double()
    want = (torch.sin(omega / 2) * (a + b)) / torch.sin(omega)
    assert torch.allclose(mid, want, atol=1e-5)
    steps = (zs[1:] - zs[:-1]).norm(dim=1)
    assert steps.max() < 1.2 * steps.min()  # even steps along the arc
    assert walk(model, seeds, 0.1).kind == "z" and walk(model, seeds, 0.1).seeds == (None,)


def test_walk_needs_seeds(model):
    with pytest.raises(NetbendError, match="walk: no seeds given"):
        walk(model, [], 0.5)
