"""NVlabs' projector schedules as pure functions of progress t = step / steps in [0, 1)."""
from __future__ import annotations

import math


def lr_at(t: float, lr: float, rampup: float, rampdown: float) -> float:
    """NVlabs' projector learning rate at progress t in [0, 1]: linear warm-up, cosine ramp-down."""
    ramp = min(1.0, (1.0 - t) / rampdown) if rampdown > 0 else 1.0
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    ramp *= min(1.0, t / rampup) if rampup > 0 else 1.0
    return lr * ramp


def latent_noise_at(t: float, scale: float, ramp: float) -> float:
    """Std of the noise added to w at progress t: ``scale * max(0, 1 - t / ramp) ** 2``."""
    return scale * max(0.0, 1.0 - t / ramp) ** 2 if ramp > 0 else 0.0
