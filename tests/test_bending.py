"""Bending through hooks on a tiny random conv net (any nn.Module works)."""
import numpy as np
import pytest
import torch
from torch import nn

from netbend.bending import bend, resolve_plan
from netbend.clusters import ClusterSet
from netbend.errors import NetbendError
from netbend.layers import ModuleModel, list_layers
from netbend.plan import Plan


def tiny():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(16, 8, 3, padding=1),
                        nn.LeakyReLU(0.2), nn.Conv2d(8, 3, 1)).eval()
    x = torch.randn(8, 3, 6, 10)
    model = ModuleModel(net, lambda: (x[:1],), paper_layers={1: "1", 2: "3"}, name="tiny")
    return model, x


def plan(*entries):
    return Plan.from_dict({"transforms": list(entries)}, source="p.yaml")


def capture(net, path, x):
    seen = {}
    h = net.get_submodule(path).register_forward_hook(lambda m, i, o: seen.setdefault("out", o))
    net(x)
    h.remove()
    return seen["out"]


def test_list_layers_shapes_and_numbers():
    model, _ = tiny()
    layers = {i.path: i for i in list_layers(model)}
    assert layers["1"].shape == (16, 6, 10) and layers["1"].number == 1
    assert layers["3"].channels == 8 and layers["3"].number == 2
    assert layers["0"].number is None


def test_empty_plan_is_bit_exact():
    model, x = tiny()
    ref = model.module(x)
    with bend(model.module, resolve_plan(plan(), model)):
        out = model.module(x)
    assert torch.equal(ref, out)


def test_only_selected_channels_change_and_hooks_are_removed():
    model, x = tiny()
    net = model.module
    before = capture(net, "1", x)
    r = resolve_plan(plan({"layer": 1, "transform": "scalar-multiply", "params": [-2.0],
                           "features": "indices", "feature-param": [1, 5, 9]}), model)
    with bend(net, r):
        after = capture(net, "1", x)
        assert len(net[1]._forward_hooks) == 1  # ours (capture removed its own)
    sel = [1, 5, 9]
    rest = [c for c in range(16) if c not in sel]
    assert torch.equal(after[:, rest], before[:, rest])
    assert torch.allclose(after[:, sel], -2.0 * before[:, sel])
    assert all(len(m._forward_hooks) == 0 for m in net.modules())
    for _ in range(3):  # repeated runs never accumulate hooks
        with bend(net, r):
            pass
    assert all(len(m._forward_hooks) == 0 for m in net.modules())


def test_hooks_removed_when_block_raises():
    model, x = tiny()
    r = resolve_plan(plan({"layer": 1, "transform": "ablate"}), model)
    with pytest.raises(RuntimeError):
        with bend(model.module, r):
            raise RuntimeError("boom")
    assert all(len(m._forward_hooks) == 0 for m in model.module.modules())


def test_several_transforms_on_one_layer_apply_in_order():
    model, x = tiny()
    before = capture(model.module, "3", x)
    r = resolve_plan(plan({"layer": 2, "transform": "add", "params": [1.0]},
                          {"layer": 2, "transform": "scalar-multiply", "params": [3.0]}), model)
    with bend(model.module, r):
        after = capture(model.module, "3", x)
    assert torch.allclose(after, (before + 1) * 3)


def test_batch_of_8_equals_8_batches_of_1():
    model, x = tiny()
    r = resolve_plan(plan({"layer": 1, "transform": "invert", "features": "random", "feature-param": 0.25},
                          {"layer": 2, "transform": "binary-thresh", "params": [0.1]}), model, seed=3)
    with bend(model.module, r):
        whole = model.module(x)
        parts = torch.cat([model.module(x[i:i + 1]) for i in range(8)])
    assert torch.allclose(whole, parts, atol=1e-6)


def test_random_draws_are_seeded_and_recorded():
    model, _ = tiny()
    p = plan({"layer": 1, "transform": "ablate", "features": "random", "feature-param": "25%"})
    a = resolve_plan(p, model, seed=7, variation=0)
    b = resolve_plan(p, model, seed=7, variation=0)
    c = resolve_plan(p, model, seed=7, variation=1)
    assert a.bends[0].indices == b.bends[0].indices and len(a.bends[0].indices) == 4
    assert a.bends[0].indices != c.bends[0].indices
    replay = Plan.from_dict(a.to_plan_dict())
    assert resolve_plan(replay, model, seed=99).bends[0].indices == a.bends[0].indices


def test_cluster_and_except_selection():
    model, _ = tiny()
    cs = ClusterSet({"1": ((0, 1, 2), (3, 4), tuple(range(5, 16)))}, source="c.json")
    one = resolve_plan(plan({"layer": 1, "transform": "ablate", "features": "cluster", "feature-param": 1}),
                       model, clusters=cs)
    assert one.bends[0].indices == (3, 4)
    rest = resolve_plan(plan({"layer": 1, "transform": "ablate", "features": "cluster", "feature-param": 1,
                              "except": True}), model, clusters=cs)
    assert rest.bends[0].indices == tuple(i for i in range(16) if i not in (3, 4))
    with pytest.raises(NetbendError, match="no cluster 5 in layer 1"):
        resolve_plan(plan({"layer": 1, "transform": "ablate", "features": "cluster", "feature-param": 5}),
                     model, clusters=cs)
    with pytest.raises(NetbendError, match="needs a cluster file"):
        resolve_plan(plan({"layer": 1, "transform": "ablate", "features": "cluster", "feature-param": 0}), model)


def test_layer_errors_suggest():
    model, _ = tiny()
    with pytest.raises(NetbendError, match=r"p.yaml: transforms\[0\].layer: tiny has no layer 7 \(layers 1-2\)"):
        resolve_plan(plan({"layer": 7, "transform": "ablate"}), model)
    with pytest.raises(NetbendError, match="no bendable layer 'l'"):
        resolve_plan(plan({"layer": "l", "transform": "ablate"}), model)
    with pytest.raises(NetbendError, match="index 16 is out of range"):
        resolve_plan(plan({"layer": 1, "transform": "ablate", "features": "indices", "feature-param": [16]}),
                     model)


def test_model_never_changed():
    model, x = tiny()
    state = {k: v.clone() for k, v in model.module.state_dict().items()}
    r = resolve_plan(plan({"layer": 1, "transform": "ablate"}), model)
    with bend(model.module, r):
        model.module(x)
    assert all(torch.equal(state[k], v) for k, v in model.module.state_dict().items())
    np.testing.assert_array_equal(model.module(x).detach().numpy(), model.module(x).detach().numpy())


def test_stylegan2_bend_acts_after_activation_on_selected_channels_only():
    from netbend.models.stylegan2 import Generator
    from netbend.models.wrapper import StyleGAN2Model

    torch.manual_seed(0)
    model = StyleGAN2Model(Generator(16, style_dim=32, n_mlp=2, channels={4: 32, 8: 16, 16: 8}), name="t")
    z = model.latents_from_seeds(range(8))
    ref = model.synthesize(z=z)
    with bend(model.module, resolve_plan(plan(), model)):
        assert torch.equal(model.synthesize(z=z), ref)  # empty plan: bit for bit
    seen = {}

    def spy():
        return model.module.convs[2].register_forward_hook(lambda m, i, o: seen.__setitem__("x", o))

    hook = spy()
    model.synthesize(z=z)
    hook.remove()
    before = seen["x"]
    r = resolve_plan(plan({"layer": 3, "transform": "ablate", "features": "indices", "feature-param": [0, 5]}),
                     model)
    with bend(model.module, r):
        hook = spy()  # registered after the bend's hook, so it sees the bent output
        out = model.synthesize(z=z)
        hook.remove()
        parts = torch.cat([model.synthesize(z=z[i:i + 1]) for i in range(8)])
    after = seen["x"]
    assert torch.equal(after[:, [0, 5]], torch.zeros_like(after[:, [0, 5]]))
    keep = [c for c in range(8) if c not in (0, 5)]
    assert torch.equal(after[:, keep], before[:, keep])
    assert (before[:, [0, 5]] != 0).any()  # the layer's activations were not already zero there
    assert not torch.allclose(out, ref)
    assert torch.allclose(out, parts, atol=1e-5)  # batch of 8 == 8 batches of 1
    assert all(len(m._forward_hooks) == 0 for m in model.module.modules())
