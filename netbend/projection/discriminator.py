"""A StyleGAN2 discriminator's convolutional trunk, for a feature-matching projection loss.

Only the trunk is rebuilt (``fromrgb`` and the residual downsampling blocks, rosinality names
``convs.{i}...``); the minibatch-stddev epilogue is not needed for features. Read from

* rosinality training checkpoints (``.pt`` with a ``d`` state dict), through the same
  weights-only ``torch.load`` as the generator;
* NVlabs ``.pkl`` snapshots (``D``, 'resnet' architecture), through the restricted unpickler,
  converted name by name (``b{r}.fromrgb`` -> ``convs.0``, ``b{r}.conv0|conv1|skip`` ->
  ``convs.{j}.conv1|conv2|skip``). NVlabs' ``conv_clamp`` on its fp16 blocks is not applied.

The distance: for each block output, the mean squared difference of the features divided by the
target features' mean square; summed over blocks.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from netbend.errors import NetbendError
from netbend.models.ops import BLUR_KERNEL, Blur, FusedLeakyReLU


class EqualConv2d(nn.Module):
    """Convolution with equalised learning rate: weight [O, I, k, k] times 1/sqrt(I k k)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, padding: int = 0, bias: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.scale, self.stride, self.padding = 1 / math.sqrt(cin * k * k), stride, padding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, stride=self.stride, padding=self.padding)


def conv_layer(cin: int, cout: int, k: int, down: bool = False, activate: bool = True) -> nn.Sequential:
    """rosinality's ConvLayer: [blur,] equalised conv (stride 2 when ``down``), [bias + leaky ReLU]."""
    layers: list[nn.Module] = []
    if down:
        p = (len(BLUR_KERNEL) - 2) + (k - 1)
        layers.append(Blur(BLUR_KERNEL, pad=((p + 1) // 2, p // 2)))
    layers.append(EqualConv2d(cin, cout, k, stride=2 if down else 1, padding=0 if down else k // 2))
    if activate:
        layers.append(FusedLeakyReLU(cout))
    return nn.Sequential(*layers)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = conv_layer(cin, cin, 3)
        self.conv2 = conv_layer(cin, cout, 3, down=True)
        self.skip = conv_layer(cin, cout, 1, down=True, activate=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.conv2(self.conv1(x)) + self.skip(x)) / math.sqrt(2)


class DiscriminatorTrunk(nn.Module):
    """fromrgb + residual blocks; ``channels`` = [C at size, C at size/2, ..., C at 4]."""

    def __init__(self, channels: list[int]):
        super().__init__()
        self.convs = nn.ModuleList([conv_layer(3, channels[0], 1)])
        for cin, cout in zip(channels[:-1], channels[1:]):
            self.convs.append(ResBlock(cin, cout))

    def activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for conv in self.convs:
            x = conv(x)
            out.append(x)
        return out

    def distance(self, x: torch.Tensor, target_features: list[torch.Tensor]) -> torch.Tensor:
        """Per image [N]: sum over blocks of mean (f(x) - f(y))^2 / mean f(y)^2."""
        total = 0
        for fx, fy in zip(self.activations(x), target_features):
            total = total + (fx - fy).square().flatten(1).mean(1) / fy.square().flatten(1).mean(1).clamp_min(1e-8)
        return total


def trunk_from_state(sd: dict[str, torch.Tensor], file: Path) -> DiscriminatorTrunk:
    """Rebuild the trunk from rosinality-named tensors (extra epilogue tensors are ignored)."""
    try:
        n = 1 + max(int(m.group(1)) for k in sd if (m := re.match(r"convs\.(\d+)\.", k)))
        channels = [int(sd["convs.0.0.weight"].shape[0])]
        channels += [int(sd[f"convs.{j}.conv2.1.weight"].shape[0]) for j in range(1, n)]
    except (KeyError, ValueError) as err:
        raise NetbendError(f"{file}: discriminator weights are not a StyleGAN2 discriminator ({err})") from None
    trunk = DiscriminatorTrunk(channels)
    wanted = {k: v.float() for k, v in sd.items() if k.startswith("convs.") and not k.endswith(".kernel")}
    result = trunk.load_state_dict(wanted, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith(".kernel")]
    if missing or result.unexpected_keys:
        raise NetbendError(f"{file}: discriminator weights do not fit (missing {missing[:3]}, "
                           f"unexpected {result.unexpected_keys[:3]})")
    try:
        trunk.load_state_dict({**trunk.state_dict(), **wanted}, strict=True)
    except RuntimeError as err:
        last = str(err).splitlines()[-1].strip()
        raise NetbendError(f"{file}: discriminator weight shapes do not fit ({last})") from None
    return trunk.eval().requires_grad_(False)


def nvlabs_to_rosinality(nv: dict[str, torch.Tensor], file: Path) -> dict[str, torch.Tensor]:
    """NVlabs 'resnet' D tensors -> rosinality trunk names."""
    blocks = sorted({int(m.group(1)) for k in nv if (m := re.match(r"b(\d+)\.conv0\.", k))}, reverse=True)
    if not blocks or f"b{blocks[0]}.fromrgb.weight" not in nv:
        raise NetbendError(f"{file}: 'D' is not a StyleGAN2 'resnet' discriminator (no b{{res}}.fromrgb / conv0)")
    if any(f"b{r}.skip.weight" not in nv for r in blocks):
        raise NetbendError(f"{file}: 'D' has blocks without a skip path; only the 'resnet' architecture is supported")
    top = blocks[0]
    sd = {"convs.0.0.weight": nv[f"b{top}.fromrgb.weight"], "convs.0.1.bias": nv[f"b{top}.fromrgb.bias"]}
    for j, r in enumerate(blocks, start=1):
        sd |= {f"convs.{j}.conv1.0.weight": nv[f"b{r}.conv0.weight"], f"convs.{j}.conv1.1.bias": nv[f"b{r}.conv0.bias"],
               f"convs.{j}.conv2.1.weight": nv[f"b{r}.conv1.weight"], f"convs.{j}.conv2.2.bias": nv[f"b{r}.conv1.bias"],
               f"convs.{j}.skip.1.weight": nv[f"b{r}.skip.weight"]}
    return sd


def load_discriminator(path: str | Path) -> DiscriminatorTrunk:
    """The discriminator trunk of a rosinality training checkpoint or an NVlabs snapshot."""
    file = Path(path)
    with open(file, "rb") as f:
        head = f.read(4)
    if head == b"PK\x03\x04" or file.suffix.lower() in (".pt", ".pth", ".ckpt"):
        from netbend.models.loaders.rosinality import read_torch_file

        ckpt = read_torch_file(file)
        if not isinstance(ckpt, dict) or not isinstance(ckpt.get("d"), dict):
            raise NetbendError(f"{file}: has no discriminator ('d'); only training checkpoints carry one")
        return trunk_from_state(ckpt["d"], file)
    if head[:1] == b"\x80":
        from netbend.models.loaders.safe_pickle import PersistentRecord, safe_load_pickle

        data = safe_load_pickle(file)
        D = data.get("D") if isinstance(data, dict) else None
        if not isinstance(D, PersistentRecord) or not D.tensors():
            raise NetbendError(f"{file}: has no discriminator ('D' with weights)")
        return trunk_from_state(nvlabs_to_rosinality(D.tensors(), file), file)
    raise NetbendError(f"{file}: has no discriminator (only rosinality training .pt and NVlabs .pkl files carry one)")
