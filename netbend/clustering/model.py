"""The per-layer metric-learning CNN (paper §4.1): ShuffleNet-v2 blocks and a 10-d bottleneck.

Input: one feature's activation map as a 1-channel image ``[B, 1, H, W]``, standardised with the
layer's mean and standard deviation. A 3x3 stem lifts it to ``width`` (= the paper's "feature
depth 50") channels; then ``depth`` blocks, each a stride-2 ShuffleNet-v2 downsampling unit
followed by one residual stride-1 unit; then flatten -> linear to the ``bottleneck`` (10-d
embedding) -> linear to ``n_features`` logits (softmax classification of which feature the map
came from). After training only :meth:`MetricCNN.embed` is used.

The stride-1 unit splits the channels in two halves, passes one through unchanged and adds the
branch output (1x1 conv, 3x3 depthwise, 1x1 conv) to the other (``b + branch(b)``: the residual),
then shuffles the channels so the halves mix in the next unit.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn


@dataclass(frozen=True)
class CNNConfig:
    in_height: int
    in_width: int
    n_features: int
    depth: int
    width: int = 50
    bottleneck: int = 10

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    n, c, h, w = x.shape
    x = x.view(n, groups, c // groups, h, w).transpose(1, 2)  # [N, C/g, g, H, W]
    return x.reshape(n, c, h, w)


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1,
             relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, stride, kernel // 2, groups=groups,
                                         bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class ResidualUnit(nn.Module):
    """Stride-1 ShuffleNet-v2 unit with a residual branch on half of the channels."""

    def __init__(self, channels: int):
        super().__init__()
        self.keep = channels // 2
        half = channels - self.keep
        self.branch = nn.Sequential(
            _conv_bn(half, half, 1), _conv_bn(half, half, 3, groups=half, relu=False),
            _conv_bn(half, half, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = x[:, :self.keep], x[:, self.keep:]
        return channel_shuffle(torch.cat([a, b + self.branch(b)], dim=1), 2)


class DownUnit(nn.Module):
    """Stride-2 ShuffleNet-v2 unit: two branches on the whole input, concatenated, shuffled."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        left, right = cout // 2, cout - cout // 2
        self.left = nn.Sequential(_conv_bn(cin, cin, 3, 2, groups=cin, relu=False),
                                  _conv_bn(cin, left, 1))
        self.right = nn.Sequential(_conv_bn(cin, right, 1),
                                   _conv_bn(right, right, 3, 2, groups=right, relu=False),
                                   _conv_bn(right, right, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return channel_shuffle(torch.cat([self.left(x), self.right(x)], dim=1), 2)


class MetricCNN(nn.Module):
    """Classifies which of ``n_features`` features a map came from; embeds maps in 10-d."""

    def __init__(self, config: CNNConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.stem = _conv_bn(1, w, 3)
        self.blocks = nn.Sequential(*[nn.Sequential(DownUnit(w, w), ResidualUnit(w))
                                      for _ in range(config.depth)])
        h, wd = config.in_height, config.in_width
        for _ in range(config.depth):
            h, wd = (h + 1) // 2, (wd + 1) // 2  # 3x3, stride 2, padding 1
        self.to_bottleneck = nn.Linear(w * h * wd, config.bottleneck)
        self.classify = nn.Linear(config.bottleneck, config.n_features)

    def embed(self, maps: torch.Tensor) -> torch.Tensor:
        """``[B, 1, H, W]`` standardised maps -> ``[B, bottleneck]`` embeddings."""
        x = self.blocks(self.stem(maps))
        return self.to_bottleneck(x.flatten(1))  # [B, width*h*w] -> [B, bottleneck]

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        """``[B, 1, H, W]`` -> ``[B, n_features]`` logits."""
        return self.classify(self.embed(maps))
