"""NVlabs ``stylegan2-ada-pytorch`` and ``stylegan3``-repo StyleGAN2 ``.pkl`` snapshots.

The pickle (a dict with ``G``, ``D``, ``G_ema``, ``augment_pipe``, ``training_set_kwargs``) is read
by :mod:`netbend.models.loaders.safe_pickle`, which never runs the code it embeds. ``G_ema`` (else
``G``) is converted to our names:

==============================================  ==============================================
NVlabs                                          netbend / rosinality
==============================================  ==============================================
``mapping.fc{i}.weight|bias``                   ``style.{i+1}.weight|bias`` (same lr-mul layout)
``mapping.w_avg`` [w_dim]                        mean latent ``mean_w`` [1, w_dim]
``synthesis.b4.const`` [C, 4, 4]                 ``input.input`` [1, C, 4, 4]
``synthesis.b{r}.conv0|conv1.weight`` [O,I,k,k]  ``convs.{j}.conv.weight`` [1, O, I, k, k]
``...affine.weight|bias``                        ``...conv.modulation.weight|bias``
``...noise_strength`` []                         ``...noise.weight`` [1]
``...bias`` [O]                                  ``...activate.bias`` [O]
``...noise_const`` [r, r]                        ``noises.noise_{n}`` [1, 1, r, r]
``synthesis.b{r}.torgb.bias`` [3]                ``to_rgbs.{k}.bias`` [1, 3, 1, 1]
``synthesis.b{R}.torgb.*`` (orig/resnet)        ``to_rgb.*`` (the one ToRGB, last block)
``synthesis.b{r}.skip.weight`` (resnet)         ``skips.{k}.weight`` [O, I, 1, 1]
``mapping.embed.weight|bias`` (c_dim > 0)       ``embed.weight|bias``
==============================================  ==============================================

The mapping's learning-rate multiplier is read from ``fc0.bias_gain`` and ``conv_clamp`` from the
synthesis layers. StyleGAN3 (alias-free) generators go to :mod:`netbend.models.loaders.nvlabs_sg3`.
The ``skip``, ``orig`` and ``resnet`` synthesis architectures and conditional models (c_dim > 0) are
supported. Refused: non-RGB outputs, other activations or resample filters, discriminator-only pickles.
"""
from __future__ import annotations

from pathlib import Path

import torch

from netbend.errors import NetbendError
from netbend.models.loaders.common import build_generator
from netbend.models.loaders.nvlabs_sg3 import build_sg3, is_stylegan3
from netbend.models.loaders.safe_pickle import PersistentRecord, safe_load_pickle
from netbend.models.ops import BLUR_KERNEL, make_kernel
from netbend.models.stylegan2 import ARCHITECTURES
from netbend.models.wrapper import StyleGAN2Model, StyleGAN3Model


def load_nvlabs(path: str | Path) -> StyleGAN2Model:
    file = Path(path)
    G = _generator_record(safe_load_pickle(file), file)
    if is_stylegan3(G):
        gen, mean_w = build_sg3(G, file)
        return StyleGAN3Model(gen, name=file.stem, mean_w=mean_w, source="nvlabs-stylegan3")
    mapping, synthesis = _check_supported(G, file)
    sd, mean_w = convert_state(G.tensors(), file)
    lr_mlp = float(mapping.modules["fc0"].state.get("bias_gain", 0.01))
    layer = synthesis.modules["b4"].modules["conv1"].state
    conv_clamp = layer.get("conv_clamp")
    gen = build_generator(sd, file, lr_mlp=lr_mlp, conv_clamp=None if conv_clamp is None else float(conv_clamp))
    return StyleGAN2Model(gen, name=file.stem, mean_w=mean_w, source="nvlabs")


def _generator_record(data, file: Path) -> PersistentRecord:
    if isinstance(data, PersistentRecord):
        data = {"G": data}
    if not isinstance(data, dict):
        raise NetbendError(f"{file}: holds a {type(data).__name__}, not an NVlabs network snapshot")
    for key in ("G_ema", "G"):
        if isinstance(data.get(key), PersistentRecord):
            return data[key]
    if isinstance(data.get("D"), PersistentRecord):
        raise NetbendError(f"{file}: discriminator-only NVlabs pickle (no 'G_ema' or 'G'); not supported")
    keys = ", ".join(sorted(map(str, data))[:8])
    raise NetbendError(f"{file}: not an NVlabs network snapshot (no 'G_ema' or 'G'; top-level keys: {keys})")


def _check_supported(G: PersistentRecord, file: Path):
    """Refuse what our generator cannot reproduce; returns (mapping, synthesis) records."""
    mods = G.modules
    mapping, synthesis = mods.get("mapping"), mods.get("synthesis")
    if G.class_name != "Generator" or not isinstance(mapping, PersistentRecord) \
            or not isinstance(synthesis, PersistentRecord):
        raise NetbendError(f"{file}: 'G_ema' is a {G.class_name} without mapping/synthesis; not a supported generator")
    blocks = synthesis.modules
    if "input" in blocks or any(c.class_name == "SynthesisInput" for c in blocks.values()):
        raise NetbendError(f"{file}: StyleGAN3 (alias-free) generator; not supported yet")
    if "b4" not in blocks or any(c.class_name != "SynthesisBlock" for c in blocks.values()):
        raise NetbendError(f"{file}: synthesis network is not made of StyleGAN2 blocks; not supported yet")
    archs = {str(block.state.get("architecture", "skip")) for block in blocks.values()}
    if len(archs) != 1 or not archs <= set(ARCHITECTURES):
        raise NetbendError(f"{file}: synthesis blocks use architecture(s) {sorted(archs)}; "
                           f"expected one of {', '.join(ARCHITECTURES)}")
    c_dim = int(G.state.get("c_dim", 0) or 0)
    if c_dim > 0 and not isinstance(mapping.modules.get("embed"), PersistentRecord):
        raise NetbendError(f"{file}: conditional model (c_dim={c_dim}) without a mapping.embed layer")
    if int(G.state.get("img_channels", 3)) != 3:
        raise NetbendError(f"{file}: generator has {G.state.get('img_channels')} image channels; only RGB is supported")
    _check_layers(blocks, file)
    return mapping, synthesis


def _check_layers(blocks: dict, file: Path) -> None:
    expected = make_kernel(BLUR_KERNEL)
    for bname, block in blocks.items():
        filt = (block.state.get("_buffers") or {}).get("resample_filter")
        if filt is not None and (filt.shape != expected.shape or not torch.allclose(filt.float(), expected)):
            raise NetbendError(f"{file}: block {bname} uses a resample filter other than [1,3,3,1]; not supported yet")
        for lname in ("conv0", "conv1"):
            layer = block.modules.get(lname)
            if layer is not None and layer.state.get("activation", "lrelu") != "lrelu":
                raise NetbendError(f"{file}: {bname}.{lname} uses activation "
                                   f"'{layer.state.get('activation')}'; only lrelu is supported")


def convert_state(nv: dict[str, torch.Tensor], file: Path) -> tuple[dict, torch.Tensor | None]:
    """NVlabs generator tensors -> (our state dict, mean_w [1, w_dim] or None)."""
    sd: dict[str, torch.Tensor] = {}
    mean_w = nv.get("mapping.w_avg")
    for key, t in nv.items():
        if key.startswith("mapping.fc"):
            idx, rest = key[len("mapping.fc"):].split(".", 1)
            sd[f"style.{int(idx) + 1}.{rest}"] = t.float()
        elif key.startswith("mapping.embed."):
            sd[key[len("mapping."):]] = t.float()
    skip = "synthesis.b4.torgb.weight" in nv  # orig / resnet: one ToRGB, in the last block
    try:
        sd["input.input"] = nv["synthesis.b4.const"].float()[None]  # [1, C, 4, 4]
        _layer(sd, nv, "synthesis.b4.conv1", "conv1", 0)
        if skip:
            _torgb(sd, nv, "synthesis.b4.torgb", "to_rgb1")
        k = 0
        while f"synthesis.b{2 ** (k + 3)}.conv0.weight" in nv:
            src = f"synthesis.b{2 ** (k + 3)}"
            _layer(sd, nv, f"{src}.conv0", f"convs.{2 * k}", 2 * k + 1)
            _layer(sd, nv, f"{src}.conv1", f"convs.{2 * k + 1}", 2 * k + 2)
            if skip:
                _torgb(sd, nv, f"{src}.torgb", f"to_rgbs.{k}")
            if f"{src}.skip.weight" in nv:
                sd[f"skips.{k}.weight"] = nv[f"{src}.skip.weight"].float()  # [O, I, 1, 1]
                sd[f"skips.{k}.upsample.kernel"] = make_kernel(BLUR_KERNEL, 4)
            k += 1
        if not skip:
            _torgb(sd, nv, f"synthesis.b{2 ** (k + 2)}.torgb", "to_rgb")
    except KeyError as err:
        raise NetbendError(f"{file}: NVlabs generator lacks tensor {err}; not a StyleGAN2 generator") from None
    _add_fir_kernels(sd, k, skip)
    return sd, (None if mean_w is None else mean_w.float().reshape(1, -1))


def _layer(sd, nv, src: str, dst: str, noise_idx: int) -> None:
    sd[f"{dst}.conv.weight"] = nv[f"{src}.weight"].float()[None]  # [1, O, I, k, k]
    sd[f"{dst}.conv.modulation.weight"] = nv[f"{src}.affine.weight"].float()
    sd[f"{dst}.conv.modulation.bias"] = nv[f"{src}.affine.bias"].float()
    sd[f"{dst}.activate.bias"] = nv[f"{src}.bias"].float()
    strength = nv.get(f"{src}.noise_strength")
    sd[f"{dst}.noise.weight"] = torch.zeros(1) if strength is None else strength.float().reshape(1)
    const = nv.get(f"{src}.noise_const")
    if const is None:  # use_noise=False: the strength is zero, any map will do
        res = 2 ** (2 + (noise_idx + 1) // 2)
        const = torch.zeros(res, res)
    sd[f"noises.noise_{noise_idx}"] = const.float()[None, None]  # [1, 1, r, r]


def _torgb(sd, nv, src: str, dst: str) -> None:
    sd[f"{dst}.conv.weight"] = nv[f"{src}.weight"].float()[None]  # [1, 3, C, 1, 1]
    sd[f"{dst}.conv.modulation.weight"] = nv[f"{src}.affine.weight"].float()
    sd[f"{dst}.conv.modulation.bias"] = nv[f"{src}.affine.bias"].float()
    sd[f"{dst}.bias"] = nv[f"{src}.bias"].float().reshape(1, -1, 1, 1)


def _add_fir_kernels(sd, n_blocks: int, skip: bool) -> None:
    """Our FIR kernel buffers (fixed [1,3,3,1] filters; NVlabs stores its own normalised copy)."""
    for k in range(n_blocks):
        sd[f"convs.{2 * k}.conv.blur.kernel"] = make_kernel(BLUR_KERNEL, 4)
        if skip:
            sd[f"to_rgbs.{k}.upsample.kernel"] = make_kernel(BLUR_KERNEL, 4)

