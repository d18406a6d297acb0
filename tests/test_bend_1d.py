"""Bending layers whose outputs are [N, C, L] (a 1-D convolutional audio decoder) and [N, T, D]
(a GPT-style transformer), both built here; layouts, 1-D transform forms, refusals, clustering."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from netbend.bending import bend, resolve_plan
from netbend.cli.layers import echo_layers
from netbend.errors import NetbendError
from netbend.layers import ModuleModel, list_layers
from netbend.plan import Plan


class ConvDecoder(nn.Module):
    """z [N, 16] -> waveform [N, 1, 128]: Linear, three transposed 1-D convs, a 1-D conv, tanh."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 32 * 16)
        self.up1, self.act1 = nn.ConvTranspose1d(32, 16, 4, stride=2, padding=1), nn.LeakyReLU(0.2)
        self.up2, self.act2 = nn.ConvTranspose1d(16, 12, 4, stride=2, padding=1), nn.LeakyReLU(0.2)
        self.up3, self.act3 = nn.ConvTranspose1d(12, 8, 4, stride=2, padding=1), nn.LeakyReLU(0.2)
        self.out = nn.Conv1d(8, 1, 7, padding=3)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.fc(z).view(-1, 32, 16)  # [N, C, L]
        x = self.act1(self.up1(x))
        x = self.act2(self.up2(x))
        x = self.act3(self.up3(x))
        return torch.tanh(self.out(x))


class Attention(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.heads, self.c_attn, self.c_proj = heads, nn.Linear(d, 3 * d), nn.Linear(d, d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t, d = x.shape
        q, k, v = self.c_attn(x).split(d, dim=2)
        q, k, v = (a.view(n, t, self.heads, d // self.heads).transpose(1, 2) for a in (q, k, v))  # [N, h, T, d/h]
        y = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.c_proj(y.transpose(1, 2).reshape(n, t, d))


class Block(nn.Module):
    def __init__(self, d: int, heads: int):
        super().__init__()
        self.ln_1, self.attn, self.ln_2 = nn.LayerNorm(d), Attention(d, heads), nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TinyGPT(nn.Module):
    """Token ids [N, T] -> logits [N, T, vocab]: embeddings, two pre-norm blocks, final norm, head."""

    def __init__(self, vocab: int = 50, block: int = 12, d: int = 16, heads: int = 2, layers: int = 2):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(vocab, d), nn.Embedding(block, d)
        self.h = nn.ModuleList(Block(d, heads) for _ in range(layers))
        self.ln_f, self.lm_head = nn.LayerNorm(d), nn.Linear(d, vocab, bias=False)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))  # [N, T, D]
        for block in self.h:
            x = block(x)
        return self.lm_head(self.ln_f(x))


class Seeded(ModuleModel):
    """A ModuleModel that can also run seeded inputs (what clustering needs)."""

    def __init__(self, module, make_input, name):
        super().__init__(module, lambda: (make_input([0]),), name=name)
        self.make_input = make_input

    def run_seeds(self, seeds):
        return self.module(self.make_input(seeds))


def _z(seeds):
    return torch.stack([torch.randn(16, generator=torch.Generator().manual_seed(s)) for s in seeds])


def _tokens(seeds):
    return torch.stack([torch.randint(0, 50, (12,), generator=torch.Generator().manual_seed(s)) for s in seeds])


@pytest.fixture(scope="module")
def decoder():
    torch.manual_seed(0)
    return Seeded(ConvDecoder().eval(), _z, "decoder")


@pytest.fixture(scope="module")
def gpt():
    torch.manual_seed(0)
    return Seeded(TinyGPT().eval(), _tokens, "gpt")


def plan(*entries):
    return Plan.from_dict({"transforms": list(entries)})


def outputs(model, path, resolved, x):
    """(the layer's output as the next module sees it, the model's output) under ``resolved``."""
    seen = {}
    with bend(model.module, resolved):
        handle = model.module.get_submodule(path).register_forward_hook(lambda m, i, o: seen.setdefault("y", o))
        try:
            with torch.no_grad():
                out = model.module(x)
        finally:
            handle.remove()
    return seen["y"], out


def test_layouts_and_features_are_listed(decoder, gpt, capsys):
    d = {i.path: i for i in list_layers(decoder)}
    assert (d["up1"].shape, d["up1"].layout, d["up1"].channels) == ((16, 32), "NCL", 16)
    assert d["act2"].layout == "NCL" and d["out"].shape == (1, 128)  # activations inherit the layout
    g = {i.path: i for i in list_layers(gpt)}
    assert (g["h.0"].shape, g["h.0"].layout, g["h.0"].channels) == ((12, 16), "NTD", 16)
    assert g["h.1.mlp"].layout == "NTD" and g["h.1.mlp.1"].channels == 64 and g["lm_head"].channels == 50
    echo_layers("gpt", list_layers(gpt))
    assert "h.1.attn" in capsys.readouterr().out.replace("  ", " ")
    overridden = ModuleModel(gpt.module, gpt.example, layouts={"h.0": "NCL"}, name="gpt2")
    assert {i.path: i for i in list_layers(overridden, refresh=True)}["h.0"].channels == 12
    list_layers(gpt, refresh=True)
    with pytest.raises(NetbendError, match="layout of 'h.0' must be one of NCHW, NCL, NTD"):
        ModuleModel(gpt.module, gpt.example, layouts={"h.0": "NLC"})


@pytest.mark.parametrize("name, path", [("decoder", "up2"), ("gpt", "h.0")])
def test_neutral_plan_is_exact_and_values_bend_only_chosen_features(decoder, gpt, name, path):
    model = {"decoder": decoder, "gpt": gpt}[name]
    x = model.example()[0]
    plain_y, plain = outputs(model, path, None, x)
    neutral = resolve_plan(plan({"layer": path, "transform": "multiply", "params": [1]}), model)
    assert torch.equal(outputs(model, path, neutral, x)[1], plain)
    entry = {"layer": path, "transform": "multiply", "params": [0], "features": "indices", "feature-param": [1, 3]}
    y, out = outputs(model, path, resolve_plan(plan(entry), model), x)
    axis = 1 if name == "decoder" else 2
    chosen = torch.zeros(y.shape[axis], dtype=torch.bool)
    chosen[[1, 3]] = True
    assert torch.all(y.index_select(axis, torch.tensor([1, 3])) == 0)
    keep = (~chosen).nonzero().flatten()
    assert torch.equal(y.index_select(axis, keep), plain_y.index_select(axis, keep))
    assert not torch.equal(out, plain)


def _along(model, path, transform, params):
    x = model.example()[0]
    plain_y, _ = outputs(model, path, None, x)
    y, _ = outputs(model, path, resolve_plan(plan({"layer": path, "transform": transform, "params": params}), model), x)
    return plain_y, y


def test_translate_and_flip_move_along_l_and_t(decoder, gpt):
    a, b = _along(decoder, "up2", "translate", [0.25, 0])  # L = 64: 16 positions to the right, zero fill
    assert torch.equal(b[..., 16:], a[..., :-16]) and torch.all(b[..., :16] == 0)
    a, b = _along(gpt, "h.0", "translate", [-0.25, 0])  # T = 12: 3 tokens earlier, features untouched
    assert torch.equal(b[:, :-3], a[:, 3:]) and torch.all(b[:, -3:] == 0)
    a, b = _along(gpt, "h.1", "flip-h", [])
    assert torch.equal(b, a.flip(1))


def test_scale_erode_dilate_blur_have_1d_forms(decoder):
    a, b = _along(decoder, "up1", "erode", [1])
    pad = nn.functional.pad(a, (1, 1), value=math.inf)
    assert torch.equal(b, torch.minimum(torch.minimum(pad[..., :-2], pad[..., 1:-1]), pad[..., 2:]))
    a, b = _along(decoder, "up1", "dilate", [2])
    assert torch.equal(b, nn.functional.max_pool1d(a, 5, 1, 2))  # max over 2 positions each side
    a, b = _along(decoder, "up1", "blur", [1.0])
    taps = np.exp(-np.arange(-3, 4) ** 2 / 2.0)
    taps /= taps.sum()
    padded = np.pad(a.numpy(), [(0, 0), (0, 0), (3, 3)], mode="reflect")  # mirrored about the edge sample
    want = sum(t * padded[..., i:i + a.shape[-1]] for i, t in enumerate(taps))
    assert np.abs(b.numpy() - want).max() < 1e-5
    a, b = _along(decoder, "up1", "scale", [2.0])  # output(p) = input(c + (p - c) / 2), c = 15.5
    pos = 15.5 + (torch.arange(32.0) - 15.5) / 2
    lo = pos.floor().long()
    frac = pos - lo
    want = a[..., lo] * (1 - frac) + a[..., (lo + 1).clamp(max=31)] * frac
    assert float((b - want).abs().max()) < 1e-5


@pytest.mark.parametrize("transform, params, message", [
    ("rotate", [30], "'rotate' has no meaning on the 1-D layer 'h.0' \\(\\[N, T, D\\]\\)"),
    ("flip-v", [], "'flip-v' has no meaning on the 1-D layer 'h.0'"),
    ("translate", [0.1, 0.2], "'translate' parameter 'py' has no meaning"),
    ("scale", [2, 3], "'scale' parameter 'ky' has no meaning"),
])
def test_meaningless_transforms_refused_at_resolution(gpt, transform, params, message):
    with pytest.raises(NetbendError, match=r"transforms\[0\]\.(transform|params): " + message):
        resolve_plan(plan({"layer": "h.0", "transform": transform, "params": params}), gpt)


def test_clustering_on_1d_maps(decoder, gpt, tmp_path):
    from netbend.clustering.pipeline import run_pipeline
    from netbend.clustering.presets import get_preset

    tiny = get_preset("default").with_overrides(n_train=6, n_test=2, epochs=1, batch_size=32, n_general=3)
    clusters, _ = run_pipeline(decoder, tmp_path / "dec", preset=tiny, layers=["up1", "act2"], progress=False)
    assert sorted(f for g in clusters.layers["up1"] for f in g) == list(range(16))
    assert sorted(f for g in clusters.layers["act2"] for f in g) == list(range(12))
    clusters, _ = run_pipeline(gpt, tmp_path / "gpt", preset=tiny, layers=["h.0"], progress=False)
    assert sorted(f for g in clusters.layers["h.0"] for f in g) == list(range(16))
    entry = {"layer": "h.0", "transform": "ablate", "features": "cluster", "feature-param": 0}
    bent = resolve_plan(plan(entry), gpt, clusters=clusters).bends[0]
    assert bent.indices == tuple(clusters.layers["h.0"][0]) and bent.layout == "NTD"


def test_transformer_example_runs(capsys):
    import runpy
    from pathlib import Path

    runpy.run_path(str(Path(__file__).parents[1] / "examples" / "bend_transformer.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "h.1          NTD  (16, 32)  32 features" in out and "bent features of h.1: [" in out
    plain, bent = (line.split(":", 1)[1] for line in out.splitlines() if line.startswith("next-token"))
    assert plain != bent
