"""Where latents come from: seeds, a .npy of z vectors, or a .npy of w / w+ vectors."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from netbend.errors import NetbendError


@dataclass(frozen=True)
class Latents:
    """A batch of inputs for a generator: ``kind`` is 'z' or 'w'; one label per row."""

    kind: str
    values: torch.Tensor  # [N, z_dim] for z; [N, w_dim] or [N, num_ws, w_dim] for w
    labels: tuple[str, ...]
    seeds: tuple[int | None, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def batch(self, start: int, stop: int) -> "Latents":
        return Latents(self.kind, self.values[start:stop], self.labels[start:stop], self.seeds[start:stop])


def parse_seeds(text: str, option: str = "--seeds") -> list[int]:
    """'0-7,12' -> [0, 1, ..., 7, 12]; order kept, duplicates dropped. Empty text is refused."""
    seeds: list[int] = []
    parts = str(text).replace(" ", "").split(",")
    if parts == [""]:
        raise NetbendError(f"{option}: no seeds given (use e.g. '0-7,12')")
    for part in parts:
        if not part:
            raise NetbendError(f"{option}: empty item in '{text}' (use e.g. '0-7,12')")
        try:
            if "-" in part[1:]:
                lo, hi = part.split("-", 1) if not part.startswith("-") else (part, part)
                lo_i, hi_i = int(lo), int(hi)
                if hi_i < lo_i:
                    raise NetbendError(f"{option}: the range '{part}' is reversed; did you mean '{hi_i}-{lo_i}'?")
                seeds.extend(range(lo_i, hi_i + 1))
            else:
                seeds.append(int(part))
        except ValueError:
            raise NetbendError(f"{option}: cannot read '{part}' (use e.g. '0-7,12')") from None
    if any(s < 0 or s >= 2**32 for s in seeds):
        raise NetbendError(f"{option}: seeds must be between 0 and 4294967295")
    return list(dict.fromkeys(seeds))


def from_seeds(model: Any, seeds: list[int]) -> Latents:
    z = model.latents_from_seeds(seeds)
    return Latents("z", z, tuple(f"seed{s:04d}" for s in seeds), tuple(seeds))


def from_file(model: Any, path: str | os.PathLike, kind: str) -> Latents:
    """Load z ([N, z_dim]) or w ([N, w_dim] / [N, num_ws, w_dim]) vectors from a .npy file."""
    from netbend.examples import resolve

    path = resolve(path)  # or a shipped file by its clone path (examples/images/face_w.npy)
    if not path.is_file():
        raise NetbendError(f"{path}: latent file not found")
    try:
        arr = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as err:
        raise NetbendError(f"{path}: not a .npy array ({err})") from None
    if not np.issubdtype(arr.dtype, np.floating) or not np.all(np.isfinite(arr)):
        raise NetbendError(f"{path}: expected finite floating-point values, got dtype {arr.dtype}")
    dim = model.z_dim if kind == "z" else model.w_dim
    arr = arr[None] if arr.ndim == 1 else arr
    ok = arr.shape[-1] == dim and (arr.ndim == 2 or (kind == "w" and arr.ndim == 3
                                                     and arr.shape[1] == model.num_ws))
    if not ok:
        want = f"[N, {dim}]" if kind == "z" else f"[N, {dim}] or [N, {model.num_ws}, {dim}]"
        raise NetbendError(f"{path}: shape {list(arr.shape)} does not fit this model's {kind} ({want})")
    labels = tuple(f"{kind}{i:04d}" for i in range(len(arr)))
    return Latents(kind, torch.from_numpy(arr.astype(np.float32)), labels, (None,) * len(arr))


def walk(model: Any, seeds: list[int], position: float) -> Latents:
    """One z on a closed loop through ``seeds``: position 0 is seeds[0], 1/K is seeds[1], ... 1 wraps.

    Between two seeds the path is a spherical interpolation, so its points keep a typical norm.
    A position that lands on a seed gives exactly that seed's z (what ``--seeds`` renders).
    """
    if not seeds:
        raise NetbendError("walk: no seeds given")
    z = model.latents_from_seeds(seeds).double().cpu()  # [K, z_dim]
    t = (float(position) % 1.0) * len(seeds)
    i, frac = int(t) % len(seeds), t - int(t)
    if frac == 0.0 or len(seeds) == 1:
        return from_seeds(model, [seeds[i]])
    a, b = z[i], z[(i + 1) % len(seeds)]
    omega = torch.arccos(torch.clamp(torch.dot(a / a.norm(), b / b.norm()), -1.0, 1.0))
    if float(omega) < 1e-6:
        point = (1 - frac) * a + frac * b
    else:
        point = (torch.sin((1 - frac) * omega) * a + torch.sin(frac * omega) * b) / torch.sin(omega)
    label = f"walk{seeds[i]:04d}-{seeds[(i + 1) % len(seeds)]:04d}@{frac:.3f}"
    return Latents("z", point[None].float().to(model.device), (label,), (None,))
