"""The face parameter vector and how a latent z determines it.

Every face is described by ``N_PARAMS`` *unit parameters*, each a number in (0, 1) whose meaning is
given by :data:`PARAM_NAMES` (the renderer maps each to a physical range; a discrete choice such
as the hair style is ``floor(u * number_of_choices)``).

A latent z (the default model's input, ``z_dim == N_PARAMS``) determines the parameters the same
way StyleGAN2 sees z: first normalised to unit second moment (``z * sqrt(d) / |z|``, what the
mapping network does to its input), then each component through the standard normal CDF. So
``params_from_latent(z)`` is the renderer face that the default model was trained to draw for z.
"""
from __future__ import annotations

import numpy as np
import torch

from netbend.errors import NetbendError

PARAM_NAMES: tuple[str, ...] = (
    # background: hue, saturation, lightness, gradient direction and amount
    "bg_hue", "bg_sat", "bg_light", "bg_grad_dir", "bg_grad_amount",
    # head: width, height, position (pose shift), jaw narrowness, roll
    "head_w", "head_h", "head_x", "head_y", "jaw", "roll",
    # skin: tone (dark to pale), warmth, light direction of the shading
    "skin_tone", "skin_warmth", "light_dir",
    # hair: style (6 choices), length, colour (palette position), lightness, volume, fringe, part side
    "hair_style", "hair_len", "hair_color", "hair_light", "hair_volume", "fringe", "part_side",
    "ear_size",
    # eyebrows
    "brow_thick", "brow_tilt", "brow_raise", "brow_len",
    # eyes: height, spacing, width, openness, iris colour, iris size, gaze
    "eye_y", "eye_gap", "eye_w", "eye_open", "iris_color", "iris_size", "gaze_x", "gaze_y",
    # nose: style (3 choices), length, width
    "nose_style", "nose_len", "nose_w",
    # mouth: width, height below the nose, smile, lip thickness, lip colour, openness
    "mouth_w", "mouth_y", "smile", "lip_thick", "lip_color", "mouth_open",
    # glasses: present (30 %), shape (round to square), frame colour
    "glasses", "glasses_shape", "glasses_color",
    # cheeks and pose
    "blush", "yaw",
)
N_PARAMS = len(PARAM_NAMES)
INDEX = {name: i for i, name in enumerate(PARAM_NAMES)}


def params_from_latent(z: torch.Tensor | np.ndarray) -> np.ndarray:
    """Unit parameters [N, N_PARAMS] (float64 in (0, 1)) for latents z [N, N_PARAMS]."""
    z = torch.as_tensor(z, dtype=torch.float64)
    if z.ndim != 2 or z.shape[1] != N_PARAMS:
        raise NetbendError(f"face latents must have shape [N, {N_PARAMS}], got {list(z.shape)}")
    z = z * torch.rsqrt(z.square().mean(dim=1, keepdim=True) + 1e-8)  # StyleGAN2's normalisation
    return torch.special.ndtr(z).clamp(1e-6, 1 - 1e-6).numpy()


def latents_for_seeds(seeds, z_dim: int = N_PARAMS) -> torch.Tensor:
    """One latent per seed, z ~ N(0, I): ``np.random.RandomState(seed).randn(z_dim)``.

    The same convention as the model wrapper's seeds, so seed s of ``netbend generate`` on the
    default model and seed s of ``netbend faces render`` are the same face.
    """
    rows = [np.random.RandomState(int(s)).randn(z_dim) for s in seeds]
    if not rows:
        return torch.zeros(0, z_dim)
    return torch.from_numpy(np.stack(rows)).float()  # [N, z_dim]


def params_for_seeds(seeds) -> np.ndarray:
    """Unit parameters [N, N_PARAMS] of the faces for the given seeds."""
    return params_from_latent(latents_for_seeds(seeds))
