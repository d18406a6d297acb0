"""Bigger pictures: upscaled images and labelled contact sheets (``generate --grid``, ``sweep``).

Images are [H, W, C] uint8 arrays as :func:`netbend.media.to_uint8` makes them. A contact sheet
is a table of equally sized images with a label above every column and left of every row,
written in Pillow's default font.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from netbend.errors import NetbendError

SCALE_FILTERS = {"nearest": Image.Resampling.NEAREST, "lanczos": Image.Resampling.LANCZOS}
PAD = 2  # pixels between cells
TEXT_PAD = 4  # pixels around a label


def upscale(image: np.ndarray, factor: int, filter: str = "nearest") -> np.ndarray:
    """[H, W, C] uint8 -> [H*factor, W*factor, C]: ``nearest`` repeats pixels, ``lanczos`` smooths."""
    if factor < 1 or int(factor) != factor:
        raise NetbendError(f"--scale must be a whole number >= 1, got {factor}")
    if filter not in SCALE_FILTERS:
        raise NetbendError(f"--scale-filter: unknown filter '{filter}' (use {' or '.join(SCALE_FILTERS)})")
    if factor == 1:
        return image
    h, w, c = image.shape
    img = Image.fromarray(image[..., 0] if c == 1 else image)
    out = np.asarray(img.resize((w * factor, h * factor), SCALE_FILTERS[filter]))
    return out[..., None] if c == 1 else out


def _text_size(draw: ImageDraw.ImageDraw, font, text: str) -> tuple[int, int]:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    return right - left, bottom - top


def contact_sheet(cells: Sequence[Sequence[np.ndarray]], row_labels: Sequence[str],
                  col_labels: Sequence[str], corner: str = "") -> np.ndarray:
    """Lay ``cells[row][col]`` ([H, W, C] uint8, all one size) out as a labelled table -> [H', W', 3].

    Column labels go above the columns, row labels to their left and ``corner`` in the top-left
    cell. A column is widened (the image centred in it) when its label is wider than the image.
    """
    if not cells or not cells[0]:
        raise NetbendError("a contact sheet needs at least one image")
    if len(row_labels) != len(cells) or any(len(r) != len(col_labels) for r in cells):
        raise ValueError("one label per row and per column expected")
    h, w = cells[0][0].shape[:2]
    font = ImageFont.load_default()
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_w = max(_text_size(probe, font, t)[0] for t in [*row_labels, corner]) + 2 * TEXT_PAD
    text_h = max(_text_size(probe, font, t)[1] for t in [*col_labels, *row_labels, corner, "Ag"])
    header_h = text_h + 2 * TEXT_PAD
    col_w = [max(w, _text_size(probe, font, t)[0] + 2 * TEXT_PAD) for t in col_labels]
    width = label_w + sum(col_w) + PAD * (len(col_w) + 1)
    height = header_h + len(cells) * (h + PAD) + PAD
    sheet = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((TEXT_PAD, TEXT_PAD), corner, fill="black", font=font)
    xs = [label_w + PAD + sum(col_w[:k]) + PAD * k for k in range(len(col_w))]
    for x, cw, text in zip(xs, col_w, col_labels):
        draw.text((x + (cw - _text_size(probe, font, text)[0]) // 2, TEXT_PAD), text, fill="black", font=font)
    for r, (row, text) in enumerate(zip(cells, row_labels)):
        y = header_h + r * (h + PAD) + PAD
        draw.text((TEXT_PAD, y + (h - text_h) // 2), text, fill="black", font=font)
        for x, cw, img in zip(xs, col_w, row):
            if img.shape[:2] != (h, w):
                raise ValueError("contact sheet images differ in size")
            rgb = np.repeat(img, 3, axis=2) if img.shape[2] == 1 else img
            sheet.paste(Image.fromarray(rgb), (x + (cw - w) // 2, y))
    return np.asarray(sheet)
