"""A path through latent space: keyframe latents, interpolated frame by frame.

``slerp`` (spherical, for z), ``lerp`` (straight lines, for w) or ``cubic`` (a Catmull-Rom spline
through the keyframes, in w: smooth at every keyframe and, looped, seamless). With ``loop`` the
path returns from the last keyframe to the first and frame N would be frame 0 again; without it
the first frame is the first keyframe and the last frame the last. One keyframe gives a still
latent. The latent of frame i is computed from i alone (float64, then float32).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from netbend.errors import NetbendError

INTERPS = ("slerp", "lerp", "cubic")
NOISE_MODES = ("const", "random", "interp", "none")


@dataclass(frozen=True)
class LatentPath:
    """``kind`` 'z' or 'w'; ``keys`` [K, dim] or w+ [K, num_ws, dim]; ``frames`` in the whole clip."""

    kind: str
    keys: np.ndarray
    interp: str
    loop: bool
    frames: int

    def __post_init__(self):
        if self.interp not in INTERPS:
            raise NetbendError(f"--interp: must be one of {', '.join(INTERPS)}, got {self.interp!r}")
        if self.frames < 1:
            raise NetbendError(f"the clip has {self.frames} frames; it needs at least one")

    def position(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For frame indices [B]: the keyframes before and after (k0, k1) and the fraction u between."""
        k = len(self.keys)
        f = np.asarray(frames, dtype=np.float64)
        if k == 1:
            zero = np.zeros(len(f), dtype=np.int64)
            return zero, zero, np.zeros(len(f))
        p = f / self.frames * k if self.loop else f / max(self.frames - 1, 1) * (k - 1)
        k0 = np.floor(p).astype(np.int64)
        if not self.loop:
            k0 = np.minimum(k0, k - 2)
        u = p - k0
        return k0 % k, (k0 + 1) % k, u

    def at(self, frames: np.ndarray) -> torch.Tensor:
        """Latents of the given frames, [B, dim] (or [B, num_ws, dim]) float32."""
        k0, k1, u = self.position(frames)
        keys = self.keys.astype(np.float64)
        flat = keys.reshape(len(keys), -1)
        if self.interp == "cubic":
            k = len(keys)
            before = (k0 - 1) % k if self.loop else np.maximum(k0 - 1, 0)
            after = (k1 + 1) % k if self.loop else np.minimum(k1 + 1, k - 1)
            out = catmull_rom(flat[before], flat[k0], flat[k1], flat[after], u[:, None])
        elif self.interp == "slerp":
            out = slerp(flat[k0], flat[k1], u[:, None])
        else:
            out = flat[k0] + (flat[k1] - flat[k0]) * u[:, None]
        return torch.from_numpy(out.reshape((len(u),) + keys.shape[1:]).astype(np.float32))


def slerp(a: np.ndarray, b: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Spherical interpolation of rows a, b [B, D] by u [B, 1] (a straight line where they are parallel)."""
    na, nb = np.linalg.norm(a, axis=1, keepdims=True), np.linalg.norm(b, axis=1, keepdims=True)
    cos = np.clip(np.sum(a * b, axis=1, keepdims=True) / np.maximum(na * nb, 1e-12), -1, 1)
    omega = np.arccos(cos)
    s = np.sin(omega)
    safe = s > 1e-6
    wa = np.where(safe, np.sin((1 - u) * omega) / np.where(safe, s, 1), 1 - u)
    wb = np.where(safe, np.sin(u * omega) / np.where(safe, s, 1), u)
    return wa * a + wb * b


def catmull_rom(p0, p1, p2, p3, u):
    """Uniform Catmull-Rom segment between p1 and p2 (rows [B, D]), at u [B, 1] in [0, 1]."""
    u2, u3 = u * u, u * u * u
    return 0.5 * (2 * p1 + (p2 - p0) * u + (2 * p0 - 5 * p1 + 4 * p2 - p3) * u2
                  + (3 * p1 - p0 - 3 * p2 + p3) * u3)


def frame_noise(mode: str, path: LatentPath, frames: np.ndarray, resolutions: list[int], seed: int):
    """Noise inputs for a batch of frames: 'const' / 'none' as is, else one [B, 1, r, r] tensor per layer.

    ``random``: new noise every frame, drawn from (seed, frame). ``interp``: noise drawn per keyframe
    (seed, keyframe) and blended along the path with cos/sin weights (so its variance stays 1).
    """
    if mode in ("const", "none"):
        return mode
    if mode not in NOISE_MODES:
        raise NetbendError(f"--noise: must be one of {', '.join(NOISE_MODES)}, got {mode!r}")
    frames = np.asarray(frames, dtype=np.int64)
    if mode == "random":
        rows = [_noise_maps(resolutions, [seed, 0, int(f)]) for f in frames]
    else:
        k0, k1, u = path.position(frames)
        rows = []
        for a, b, t in zip(k0, k1, u):
            na, nb = _noise_maps(resolutions, [seed, 1, int(a)]), _noise_maps(resolutions, [seed, 1, int(b)])
            ca, cb = np.cos(np.pi / 2 * t), np.sin(np.pi / 2 * t)
            rows.append([(ca * x + cb * y).astype(np.float32) for x, y in zip(na, nb)])
    return [torch.from_numpy(np.stack([r[i] for r in rows])[:, None]) for i in range(len(resolutions))]


def _noise_maps(resolutions: list[int], key: list[int]) -> list[np.ndarray]:
    rng = np.random.Generator(np.random.PCG64(key))
    return [rng.standard_normal((r, r), dtype=np.float32) for r in resolutions]
