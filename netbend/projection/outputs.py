"""What ``netbend project`` writes per image, each file atomically.

``NAME_w.npy`` (w [1, w_dim] or w+ [1, num_ws, w_dim], float32), ``NAME_noise.safetensors``
(:mod:`netbend.noise_maps`), ``NAME_projected.png`` (the projection rendered at batch 1, as
``netbend generate --w NAME_w.npy --noise-file NAME_noise.safetensors`` renders it) and
``NAME_compare.png`` (target | projection | |difference| x 4).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from netbend.media import save_npy, save_png
from netbend.noise_maps import save_noise_file

DIFF_GAIN = 4


def output_names(name: str) -> dict[str, str]:
    return {"w": f"{name}_w.npy", "noise": f"{name}_noise.safetensors",
            "projected": f"{name}_projected.png", "compare": f"{name}_compare.png"}


def unique_names(stems: list[str]) -> list[str]:
    """File stems made unique in order: ['a', 'a', 'b'] -> ['a', 'a_2', 'b']."""
    seen: dict[str, int] = {}
    out = []
    for stem in stems:
        seen[stem] = seen.get(stem, 0) + 1
        name = stem if seen[stem] == 1 else f"{stem}_{seen[stem]}"
        while name in seen and name != stem:
            seen[stem] += 1
            name = f"{stem}_{seen[stem]}"
        seen.setdefault(name, 1)
        out.append(name)
    return out


def side_by_side(images: list[np.ndarray], pad: int = 2) -> np.ndarray:
    """[H, W, 3] uint8 images of one height in a row, ``pad`` white columns between them."""
    gap = np.full((images[0].shape[0], pad, 3), 255, np.uint8)
    parts = [p for img in images for p in (gap, img)][1:]
    return np.concatenate(parts, axis=1)


def compare_strip(target: np.ndarray, projected: np.ndarray, pad: int = 2) -> np.ndarray:
    """[H, W, 3] uint8: target | projection | absolute difference times DIFF_GAIN, white gaps."""
    diff = np.clip(np.abs(target.astype(np.int16) - projected.astype(np.int16)) * DIFF_GAIN, 0, 255)
    return side_by_side([target, projected, diff.astype(np.uint8)], pad)


def write_image_outputs(out: Path, name: str, w: torch.Tensor, noises: list[torch.Tensor], target: np.ndarray,
                        projected: np.ndarray, meta: dict) -> dict[str, str]:
    """Write one image's four files; ``w`` [w_dim] or [num_ws, w_dim], ``noises`` [1, 1, r, r] each."""
    names = output_names(name)
    text = {"netbend": json.dumps(meta)}
    save_npy(out / names["w"], w.detach().float().cpu().numpy()[None])
    save_noise_file(out / names["noise"], noises, {"model_hash": meta.get("model_hash", ""),
                                                   "source": names["w"]})
    save_png(out / names["projected"], projected, text)
    save_png(out / names["compare"], compare_strip(target, projected), text)
    return names
