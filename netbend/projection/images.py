"""Reading the images to project: any size and mode in, uint8 RGB at the model's resolution out.

Conversions (each reported in the returned notes): EXIF orientation applied; 16-bit channels
scaled to 8 bits (v * 255 / 65535, not clipped); grey copied to R, G and B; transparency
composited over white; palette and CMYK converted to RGB. Then, unless ``crop=False``, the
largest centred square is cut out; finally the image is resized (Lanczos) to the model's
resolution (without ``crop`` a non-square image is squashed). Faces should be aligned the way the
model's training data was; netbend does not align them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from netbend.errors import NetbendError

FORMATS = ("PNG", "JPEG")


@dataclass(frozen=True)
class TargetImage:
    """One image ready to project: ``pixels`` uint8 [R, R, 3]; ``notes`` lists conversions made."""

    path: Path
    name: str
    pixels: np.ndarray
    original_size: tuple[int, int]
    notes: tuple[str, ...]


def read_target(path: str | os.PathLike, resolution: int, crop: bool = True) -> TargetImage:
    """Read a PNG/JPEG and make it a [resolution, resolution, 3] uint8 RGB array."""
    from netbend.examples import resolve

    path = resolve(path)  # or a shipped example image (examples/images/face.png)
    if not path.is_file():
        raise NetbendError(f"{path}: image file not found")
    try:
        with Image.open(path) as img:
            if img.format not in FORMATS:
                raise NetbendError(f"{path}: a {img.format} image; netbend project reads PNG and JPEG")
            img.load()
            img = ImageOps.exif_transpose(img)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise NetbendError(f"{path}: not a readable PNG or JPEG image ({str(err).splitlines()[0][:100]})") from None
    if min(img.size) < 1:
        raise NetbendError(f"{path}: image has no pixels ({img.size[0]}x{img.size[1]})")
    rgb, notes = to_rgb(img)
    if crop and rgb.shape[0] != rgb.shape[1]:
        rgb = centre_square(rgb)
        notes.append(f"centre-cropped to {rgb.shape[1]}x{rgb.shape[0]}")
    out = np.asarray(Image.fromarray(rgb).resize((resolution, resolution), Image.LANCZOS))
    return TargetImage(path, path.stem, out, img.size, tuple(notes))


def to_rgb(img: Image.Image) -> tuple[np.ndarray, list[str]]:
    """Any PIL mode -> (uint8 [H, W, 3] array, notes on what was converted)."""
    notes: list[str] = []
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img).astype(np.float64)
        peak = 65535.0 if img.mode.startswith("I") else 1.0
        arr = np.clip(np.round(arr * 255.0 / peak), 0, 255).astype(np.uint8)
        notes.append(f"{img.mode} samples scaled to 8 bits")
        img = Image.fromarray(arr, "L")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        notes.append("transparency composited over white")
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba)
    if img.mode in ("L", "1"):
        notes.append("grey image: copied to R, G and B")
    elif img.mode not in ("RGB", "RGBA"):
        notes.append(f"{img.mode} converted to RGB")
    return np.asarray(img.convert("RGB")), notes


def centre_square(rgb: np.ndarray) -> np.ndarray:
    """The largest centred square of [H, W, C]."""
    h, w = rgb.shape[:2]
    s = min(h, w)
    top, left = (h - s) // 2, (w - s) // 2
    return rgb[top:top + s, left:left + s]


def to_tensor(pixels: list[np.ndarray]) -> torch.Tensor:
    """uint8 [H, W, 3] arrays -> float [N, 3, H, W] in [-1, 1]."""
    x = torch.from_numpy(np.stack(pixels)).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1
