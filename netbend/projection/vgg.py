"""VGG16's convolutional layers in plain PyTorch, and an LPIPS-style distance on their features.

The weights come from a ``.safetensors`` file the user makes once, on a machine with torchvision
(netbend never downloads them)::

    import torchvision, safetensors.torch
    vgg = torchvision.models.vgg16(weights="IMAGENET1K_V1")
    safetensors.torch.save_file({k: v for k, v in vgg.state_dict().items()
                                 if k.startswith("features.")}, "vgg16.safetensors")

Names and shapes are torchvision's (``features.{0,2,5,...,28}.weight|bias``; ``classifier.*`` is
ignored if present). The distance follows LPIPS (Zhang et al. 2018) with uniform channel weights
(its "baseline" variant; the learned per-channel weights are not used): the images, in [-1, 1],
are normalised with ImageNet's mean and std (area-downsampled to 256 px if larger), features are
taken after relu1_2, relu2_2, relu3_3, relu4_3 and relu5_3, unit-normalised along channels, and
the squared differences are summed over channels, averaged over positions, summed over layers.
"""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn
from torch.nn import functional as F

from netbend.errors import NetbendError

# (in, out) per 3x3 convolution; "M" = 2x2 max pooling. torchvision's VGG16 "D" configuration.
LAYOUT = [(3, 64), (64, 64), "M", (64, 128), (128, 128), "M", (128, 256), (256, 256), (256, 256), "M",
          (256, 512), (512, 512), (512, 512), "M", (512, 512), (512, 512), (512, 512), "M"]
TAPS = (3, 8, 15, 22, 29)  # indices in `features` of relu1_2, relu2_2, relu3_3, relu4_3, relu5_3
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
MAX_SIZE = 256


class VGG16Features(nn.Module):
    """``features`` of torchvision's VGG16 (same indices), returning the five LPIPS taps."""

    def __init__(self):
        super().__init__()
        layers: list[nn.Module] = []
        for item in LAYOUT:
            if item == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(*item, 3, padding=1), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))

    def activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        if x.shape[-1] > MAX_SIZE:
            x = F.interpolate(x, size=(MAX_SIZE, MAX_SIZE), mode="area")
        x = ((x + 1) / 2 - self.mean) / self.std
        out = []
        for i, layer in enumerate(self.features[:TAPS[-1] + 1]):
            x = layer(x)
            if i in TAPS:
                out.append(x / (x.square().sum(1, keepdim=True).sqrt() + 1e-10))  # unit length per position
        return out

    def distance(self, x: torch.Tensor, target_features: list[torch.Tensor]) -> torch.Tensor:
        """Per image [N]: sum over taps of the position-mean of the channel-summed squared difference."""
        return sum((fx - fy).square().sum(1).flatten(1).mean(1)
                   for fx, fy in zip(self.activations(x), target_features))


def load_vgg16(path: str | Path) -> VGG16Features:
    """Read VGG16 ``features.*`` weights from a safetensors file; wrong names or shapes fail."""
    file = Path(path)
    if not file.is_file():
        raise NetbendError(f"--perceptual {file}: file not found")
    try:
        tensors = load_file(str(file))
    except (SafetensorError, OSError, ValueError) as err:
        raise NetbendError(f"--perceptual {file}: not a .safetensors file ({str(err).splitlines()[0][:100]})") from None
    net = VGG16Features()
    expected = {k: v.shape for k, v in net.state_dict().items() if k.startswith("features.")}
    for key, shape in expected.items():
        if key not in tensors:
            raise NetbendError(f"--perceptual {file}: tensor '{key}' is missing (expected torchvision's VGG16 "
                               "features.* weights; see docs/projection.md)")
        if tuple(tensors[key].shape) != tuple(shape):
            raise NetbendError(f"--perceptual {file}: '{key}' has shape {list(tensors[key].shape)}, VGG16 needs "
                               f"{list(shape)}")
    net.load_state_dict({k: tensors[k].float() for k in expected}, strict=False)
    return net.eval().requires_grad_(False)
