"""Layer shapes from the architecture's own table equal what a real dry forward pass records."""
import pytest
import torch
from torch import nn

from netbend.audio.model import load_audio_model
from netbend.bending import resolve_plan
from netbend.layers import ModuleModel, dry_run_layers, list_layers
from netbend.models import load_model
from netbend.models.stylegan2 import Generator
from netbend.models.wrapper import StyleGAN2Model
from netbend.plan import Plan


def _counting(model):
    """Count forward passes of ``model.module``."""
    calls = []
    model.module.register_forward_pre_hook(lambda *_: calls.append(1))
    return calls


@pytest.mark.parametrize("kwargs", [
    dict(size=16, style_dim=32, n_mlp=2, channels={4: 32, 8: 16, 16: 8}),
    dict(size=8, style_dim=16, n_mlp=1, channels={4: 8, 8: 4}, z_dim=12, conv_clamp=256.0),
    dict(size=32, style_dim=16, n_mlp=1, channel_multiplier=1, channel_max=24),
])
def test_stylegan2_table_equals_the_real_pass_without_running_it(kwargs):
    torch.manual_seed(0)
    model = StyleGAN2Model(Generator(**kwargs), name="tiny")
    calls = _counting(model)
    table = list_layers(model, refresh=True)
    assert calls == []  # no forward pass
    assert table == dry_run_layers(model) and calls == [1]
    assert [i.number for i in table if i.number] == sorted(model.paper_layers)


def test_builtin_model_table_equals_the_real_pass():
    model = load_model(None)
    assert list_layers(model, refresh=True) == dry_run_layers(model)


@pytest.mark.parametrize("form", ["grouped", "scaled"])
def test_table_holds_for_every_modconv_form(form):
    torch.manual_seed(0)
    model = StyleGAN2Model(Generator(16, style_dim=16, n_mlp=1, channels={4: 8, 8: 8, 16: 4}), name="t")
    model.module.set_modconv(form)
    assert list_layers(model, refresh=True) == dry_run_layers(model)


def test_a_changed_generator_gets_the_real_pass():
    """A subclass may change forward(): the table is not trusted for it."""

    class Wider(Generator):
        def forward(self, *args, **kwargs):
            return super().forward(*args, **kwargs).repeat(1, 1, 2, 1)

    torch.manual_seed(0)
    model = StyleGAN2Model(Wider(8, style_dim=16, n_mlp=1, channels={4: 8, 8: 4}), name="wider")
    calls = _counting(model)
    assert list_layers(model, refresh=True) == dry_run_layers(model)
    assert len(calls) == 2


def test_audio_vae_and_module_model_keep_the_real_pass():
    audio = load_audio_model(None, "cpu")
    assert list_layers(audio, refresh=True) == dry_run_layers(audio)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 3, stride=2))
    plain = ModuleModel(net, lambda: (torch.zeros(1, 3, 16, 16),))
    layers = list_layers(plain, refresh=True)
    assert [(i.path, i.shape) for i in layers] == [("0", (8, 16, 16)), ("1", (8, 16, 16)), ("2", (4, 7, 7))]


def test_resolving_a_plan_runs_no_forward_pass():
    torch.manual_seed(0)
    model = StyleGAN2Model(Generator(16, style_dim=16, n_mlp=1, channels={4: 8, 8: 8, 16: 4}), name="t")
    calls = _counting(model)
    plan = Plan.from_dict({"transforms": [{"layer": 2, "transform": "erode", "params": [1],
                                           "features": "random", "feature-param": 0.5}]})
    assert len(resolve_plan(plan, model, seed=0).bends[0].indices) == 4
    assert calls == []


@pytest.mark.parametrize("architecture", ["orig", "resnet"])
def test_single_rgb_architectures_list_their_real_layers(architecture):
    """The table follows the skip architecture only; orig/resnet get the real pass."""
    torch.manual_seed(0)
    model = StyleGAN2Model(Generator(16, style_dim=16, n_mlp=1, channels={4: 8, 8: 8, 16: 4},
                                     architecture=architecture), name=architecture)
    table = list_layers(model, refresh=True)
    assert table == dry_run_layers(model)
    assert not any(i.path.startswith("to_rgbs.") for i in table)
