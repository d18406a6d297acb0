"""The spectrogram VAE of the paper (SPEC section 5) and its model wrapper.

Tensors are ``[N, 1, 128, 513]``: frames (time) down, frequency bins across.

Encoder: five 5x5 convolutions, stride 2, no padding (128x513 -> 62x255 -> 29x126
-> 13x61 -> 5x29 -> 1x13), each with batch norm and LeakyReLU(0.2), then one
fully connected layer to the mean and log-variance of a 512-d latent.

Decoder: a fully connected layer to ``C1 x 4 x 17``, then the five transposed
convolutions of the paper's Table 1. Transposed convolutions give
``out = (in - 1) * stride - 2 * pad + kernel``; the paddings below (height x
width) reach exactly the table's resolutions with no output padding:

| layer | out     | kernel | stride | padding used | printed |
|-------|---------|--------|--------|--------------|---------|
| 1     | 8x33    | 5x5    | 1x2    | 0x2          | 0x2     |
| 2     | 17x65   | 3x5    | 2x2    | 0x2          | 2x2     |
| 3     | 32x129  | 4x5    | 2x2    | 2x2          | 2x2     |
| 4     | 64x257  | 4x5    | 2x2    | 1x2          | 2x2     |
| 5     | 128x513 | 4x5    | 2x2    | 1x2          | 2x2     |

Layers 1-4 are ``ConvTranspose2d -> BatchNorm2d -> LeakyReLU(0.2)``; layer 5
(the single output feature) is ``ConvTranspose2d -> tanh`` so the output lies
in the [-1, 1] range of the scaled spectrogram. Each layer is one submodule
``decoder.deconv{k}``; a bend on layer k acts on that block's output (after
batch norm and activation), before the next layer.
"""
from __future__ import annotations

import torch
from torch import nn

LATENT = 512
FC_SHAPE = (4, 17)  # decoder's fully connected output, frames x bins
KERNELS = [(5, 5), (3, 5), (4, 5), (4, 5), (4, 5)]
STRIDES = [(1, 2), (2, 2), (2, 2), (2, 2), (2, 2)]
PADDINGS = [(0, 2), (0, 2), (2, 2), (1, 2), (1, 2)]
RESOLUTIONS = [(8, 33), (17, 65), (32, 129), (64, 257), (128, 513)]

# Feature counts per size: encoder convolutions, decoder layers 1-5.
SIZES = {
    "paper": {"encoder": (32, 64, 128, 256, 512), "decoder": (512, 256, 128, 64, 1)},
    "medium": {"encoder": (16, 32, 64, 128, 256), "decoder": (128, 64, 32, 16, 1)},  # decoder = paper / 4
    "small": {"encoder": (8, 16, 32, 64, 128), "decoder": (64, 32, 16, 8, 1)},  # decoder = paper / 8
    "tiny": {"encoder": (2, 2, 4, 4, 4), "decoder": (8, 4, 4, 2, 1)},  # for tests only
}


def _block(conv: nn.Module, features: int) -> nn.Sequential:
    return nn.Sequential(conv, nn.BatchNorm2d(features), nn.LeakyReLU(0.2))


class Encoder(nn.Module):
    """[N, 1, 128, 513] -> (mean, log-variance), each [N, latent]."""

    def __init__(self, features: tuple[int, ...], latent: int = LATENT):
        super().__init__()
        chans = (1,) + tuple(features)
        for i in range(5):
            conv = nn.Conv2d(chans[i], chans[i + 1], 5, stride=2, padding=0)
            self.add_module(f"conv{i + 1}", _block(conv, chans[i + 1]))
        self.fc = nn.Linear(features[-1] * 1 * 13, 2 * latent)
        self.latent = latent

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        for i in range(5):
            x = getattr(self, f"conv{i + 1}")(x)
        stats = self.fc(x.flatten(1))  # [N, 2 * latent]
        return stats[:, : self.latent], stats[:, self.latent:]


class Decoder(nn.Module):
    """[N, latent] -> [N, 1, 128, 513] through the five layers of Table 1."""

    def __init__(self, features: tuple[int, ...], latent: int = LATENT):
        super().__init__()
        self.first = features[0]
        self.fc = nn.Linear(latent, features[0] * FC_SHAPE[0] * FC_SHAPE[1])
        chans = (features[0],) + tuple(features)
        for i in range(5):
            conv = nn.ConvTranspose2d(chans[i], chans[i + 1], KERNELS[i], STRIDES[i], PADDINGS[i])
            block = _block(conv, chans[i + 1]) if i < 4 else nn.Sequential(conv, nn.Tanh())
            self.add_module(f"deconv{i + 1}", block)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.fc(z).view(-1, self.first, *FC_SHAPE)  # [N, C1, 4, 17]
        for i in range(5):
            x = getattr(self, f"deconv{i + 1}")(x)
        return x  # [N, 1, 128, 513]


class SpectrogramVAE(nn.Module):
    """Encoder + decoder; ``forward`` returns (reconstruction, mean, log-variance)."""

    def __init__(self, size: str = "small", latent: int = LATENT):
        super().__init__()
        spec = SIZES[size]
        self.size = size
        self.encoder = Encoder(spec["encoder"], latent)
        self.decoder = Decoder(spec["decoder"], latent)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mean, logvar = self.encoder(x)
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar) if self.training else mean
        return self.decoder(z), mean, logvar


def unit_to_relative_magnitude(x: torch.Tensor, db_floor: float) -> torch.Tensor:
    """[-1, 1] scaled dB -> linear magnitude relative to the top of the scale (floor .. 1)."""
    db = (x + 1.0) * 0.5 * (-db_floor) + db_floor
    return torch.pow(10.0, db / 20.0)


def vae_loss(x: torch.Tensor, recon: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor,
             kl_weight: float, *, l1: bool = False, sc_weight: float = 0.0,
             db_floor: float = -80.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total, reconstruction, KL), each a batch mean.

    Reconstruction is the mean squared (``l1``: absolute) error per spectrogram
    pixel on the [-1, 1] dB scale, plus ``sc_weight`` times the spectral
    convergence on the linear magnitude scale
    (``|| |X| - |Y| || / || |X| ||``): the dB term treats the
    quiet majority of bins like the loud partials, the convergence term
    (taken over the whole batch, so quiet windows weigh by their energy) is
    dominated by the loud ones, which are what one hears. KL is the Gaussian KL
    divergence per latent dimension; total = reconstruction + kl_weight * KL.
    """
    diff = recon - x
    recon_loss = torch.mean(diff.abs()) if l1 else torch.mean(diff ** 2)
    if sc_weight:  # over the whole batch: one window's own norm would blow up the quiet ones' overshoot
        mx, my = unit_to_relative_magnitude(x, db_floor), unit_to_relative_magnitude(recon, db_floor)
        recon_loss = recon_loss + sc_weight * torch.linalg.vector_norm(mx - my) / torch.linalg.vector_norm(mx)
    kl = torch.mean(-0.5 * (1 + logvar - mean ** 2 - logvar.exp()))
    return recon_loss + kl_weight * kl, recon_loss, kl
