"""Projection settings: one frozen, validated object, saved beside the outputs in project.json."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Mapping

from netbend.errors import NetbendError

SPACES = ("w", "w+")
LOSS_TERMS = ("l1", "l2", "msssim", "disc", "lpips")
DEFAULT_LOSS = {"l1": 1.0, "msssim": 0.5}  # chosen in benchmarks/projection_quality.py --part mix


def parse_loss(text: str) -> dict[str, float]:
    """'l1=1,msssim=0.5' -> {'l1': 1.0, 'msssim': 0.5} (terms: l1, l2, msssim, disc, lpips)."""
    weights: dict[str, float] = {}
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        name, sep, value = part.partition("=")
        if name not in LOSS_TERMS:
            raise NetbendError(f"--loss: unknown term '{name}' (use {', '.join(LOSS_TERMS)}, e.g. 'l1=1,msssim=0.5')")
        try:
            weights[name] = float(value) if sep else 1.0
        except ValueError:
            raise NetbendError(f"--loss: weight of '{name}' is not a number: '{value}'") from None
    return weights


@dataclass(frozen=True)
class ProjectionConfig:
    """How to optimise. Defaults follow NVlabs' stylegan2-ada projector except the steps and loss.

    ``space``: 'w' (one vector per image) or 'w+' (one per synthesis input). ``lr``: Adam's peak
    learning rate, warmed up linearly over the first ``lr_rampup`` of the run and ramped down by a
    half cosine over the last ``lr_rampdown``. ``latent_noise``: std of the noise added to w, as
    a fraction of the spread of W, decaying quadratically to 0 at ``latent_noise_ramp`` of the run.
    ``noise_regularize``: weight of the noise maps' autocorrelation penalty. ``loss``: weight of each
    image distance (``l1``, ``l2`` on the [-1, 1] scale, ``msssim`` = 1 - MS-SSIM, ``disc`` =
    discriminator feature matching, ``lpips`` = VGG16 perceptual distance). ``seed`` draws the
    initial noise maps and the latent noise.
    """

    space: str = "w+"
    steps: int = 300
    lr: float = 0.1
    lr_rampup: float = 0.05
    lr_rampdown: float = 0.25
    latent_noise: float = 0.05
    latent_noise_ramp: float = 0.75
    noise_regularize: float = 1e5
    optimise_noise: bool = True
    loss: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_LOSS))
    seed: int = 0

    def __post_init__(self):
        if self.space not in SPACES:
            raise NetbendError(f"--space: '{self.space}' is not one of {', '.join(SPACES)}")
        if self.steps < 1:
            raise NetbendError(f"--steps: must be at least 1, got {self.steps}")
        for name in ("lr", "latent_noise", "noise_regularize"):
            if not getattr(self, name) >= 0:
                raise NetbendError(f"projection setting '{name}' must be >= 0, got {getattr(self, name)}")
        for name in ("lr_rampup", "lr_rampdown", "latent_noise_ramp"):
            if not 0 <= getattr(self, name) <= 1:
                raise NetbendError(f"projection setting '{name}' must be within [0, 1], got {getattr(self, name)}")
        bad = [k for k in self.loss if k not in LOSS_TERMS]
        if bad:
            raise NetbendError(f"loss term '{bad[0]}' is unknown (use {', '.join(LOSS_TERMS)})")
        if any(not (v >= 0) for v in self.loss.values()) or not any(v > 0 for v in self.loss.values()):
            raise NetbendError("--loss: weights must be >= 0 and at least one must be > 0")
        object.__setattr__(self, "loss", {k: float(v) for k, v in self.loss.items() if v > 0})

    def to_dict(self) -> dict:
        return asdict(self) | {"loss": dict(self.loss)}
