"""Images out: tensors to PNG (with metadata), grids, and float arrays for downstream tools."""
from __future__ import annotations

import os
from typing import Mapping, Sequence

import numpy as np
import torch
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from netbend.fileio import atomic_path


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[N, C, H, W] floats in [-1, 1] -> [N, H, W, C] uint8 (C = 1 or 3)."""
    x = (images.detach().float().clamp(-1, 1) + 1) * 127.5
    return x.round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def save_png(path: str | os.PathLike, image: np.ndarray, meta: Mapping[str, str] | None = None,
             compress_level: int = 6) -> None:
    """Write one [H, W, C] uint8 image atomically, with text metadata chunks (zlib level 0-9:
    6 is Pillow's default; 1 writes several times faster and a little larger, for video frames)."""
    info = PngInfo()
    for key, value in (meta or {}).items():
        info.add_itxt(key, str(value))
    img = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
    with atomic_path(path) as tmp:
        img.save(tmp, format="PNG", pnginfo=info, compress_level=compress_level)


def grid(images: Sequence[np.ndarray], cols: int, pad: int = 2, fill: int = 255) -> np.ndarray:
    """Tile [H, W, C] uint8 images (all one size) row by row into one image."""
    if not images:
        raise ValueError("no images to tile")
    h, w, c = images[0].shape
    rows = (len(images) + cols - 1) // cols
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, c), fill, np.uint8)
    for i, img in enumerate(images):
        r, k = divmod(i, cols)
        out[pad + r * (h + pad): pad + r * (h + pad) + h, pad + k * (w + pad): pad + k * (w + pad) + w] = img
    return out


def save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write a .npy array atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, array)
