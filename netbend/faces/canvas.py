"""A supersampled painter's canvas: implicit shapes painted in order, with a label per pixel.

Coordinates are image-normalised: x right, y down, both in [0, 1] over the whole image. A
:class:`Canvas` holds the colour image and the label map at ``size * ss`` pixels; shapes are
boolean masks (or float alphas) computed on the pixel-centre grid, painted one after another;
:meth:`Canvas.finish` box-filters the colours down to ``size`` (anti-aliasing) and gives each output
pixel the label that covers most of its ``ss x ss`` block.
"""
from __future__ import annotations

import numpy as np


class Canvas:
    """Colour [S, S, 3] float32 in 0..1 plus labels [S, S] uint8, S = size * ss."""

    def __init__(self, size: int, ss: int = 4, keep_palette: bool = False):
        self.size, self.ss, self.keep_palette = size, ss, keep_palette
        n = size * ss
        c = (np.arange(n, dtype=np.float32) + 0.5) / n
        self.x, self.y = np.meshgrid(c, c)  # [S, S] each
        self.rgb = np.zeros((n, n, 3), np.float32)
        self.labels = np.zeros((n, n), np.uint8)
        self.palette: list[tuple[np.ndarray, int]] = []  # (rgb, label) of every flat colour painted

    def window(self, x: float, y: float, radius: float) -> tuple[slice, slice]:
        """Pixel rows/columns of the square of half-side ``radius`` around image point (x, y)."""
        n = self.size * self.ss
        lo = lambda v: int(np.clip(np.floor((v - radius) * n) - 1, 0, n))  # noqa: E731
        hi = lambda v: int(np.clip(np.ceil((v + radius) * n) + 1, 0, n))  # noqa: E731
        return slice(lo(y), hi(y)), slice(lo(x), hi(x))

    def paint(self, mask: np.ndarray | None, color, label: int | None = None, win=None) -> None:
        """Paint ``color`` (rgb (3,) or field [h, w, 3]) where ``mask`` (bool, or alpha in 0..1).

        ``mask`` and a colour field cover the window ``win`` (rows, cols) or the whole canvas.
        """
        win = win or (slice(None), slice(None))
        rgb, labels = self.rgb[win], self.labels[win]
        color = np.asarray(color, np.float32)
        if mask is None:  # everywhere in the window
            rgb[...] = color
            if label is not None:
                labels[...] = label
            if self.keep_palette and label is not None:
                self._remember(color, np.ones(rgb.shape[:2], bool), label)
            return
        if mask.dtype == bool:
            if not mask.any():
                return
            rgb[mask] = color[mask] if color.ndim == 3 else color
            if label is not None:
                labels[mask] = label
            if self.keep_palette and label is not None:
                self._remember(color, mask, label)
            return
        alpha = mask.astype(np.float32)[..., None]  # [h, w, 1]
        rgb += alpha * (color - rgb)
        if label is not None:
            labels[mask >= 0.5] = label

    def _remember(self, color: np.ndarray, mask: np.ndarray, label: int) -> None:
        if color.ndim == 1:
            self.palette.append((np.clip(color, 0.0, 1.0), label))
            return
        inside = np.clip(color[mask], 0.0, 1.0)  # [M, 3]
        lum = inside.sum(axis=1)
        for i in (int(lum.argmin()), int(lum.argmax())):
            self.palette.append((inside[i].copy(), label))
        self.palette.append((inside.mean(axis=0), label))

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """(image uint8 [size, size, 3], labels uint8 [size, size]) after box-filter / majority."""
        n, s = self.size, self.ss
        rgb = np.clip(self.rgb, 0.0, 1.0).reshape(n, s, n, s, 3).mean(axis=(1, 3))  # [n, n, 3]
        image = np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)
        blocks = self.labels.reshape(n, s, n, s).transpose(0, 2, 1, 3).reshape(n, n, s * s)
        counts = np.stack([(blocks == k).sum(axis=2) for k in range(int(self.labels.max()) + 1)])
        return image, counts.argmax(axis=0).astype(np.uint8)


def rotate(x: np.ndarray, y: np.ndarray, cx: float, cy: float, degrees: float):
    """Coordinates of (x, y) in a frame centred at (cx, cy) and rotated by ``degrees``."""
    t = np.deg2rad(degrees)
    dx, dy = x - cx, y - cy
    return np.cos(t) * dx + np.sin(t) * dy, -np.sin(t) * dx + np.cos(t) * dy


def ellipse(a, b, cx, cy, rx, ry) -> np.ndarray:
    """Inside the axis-aligned ellipse centred (cx, cy) with radii (rx, ry)."""
    return ((a - cx) / rx) ** 2 + ((b - cy) / ry) ** 2 <= 1.0


def superellipse(a, b, cx, cy, rx, ry, power: float) -> np.ndarray:
    """|dx/rx|^p + |dy/ry|^p <= 1: p = 2 an ellipse, larger p a rounded rectangle."""
    return np.abs((a - cx) / rx) ** power + np.abs((b - cy) / ry) ** power <= 1.0


def band(a, b, x0, x1, center, half_width) -> np.ndarray:
    """Between x0 and x1, within ``half_width`` (array or float) of the curve ``center`` (array)."""
    return (a >= x0) & (a <= x1) & (np.abs(b - center) <= half_width)


def triangle(a, b, p0, p1, p2) -> np.ndarray:
    """Inside the triangle with corners p0, p1, p2 (any winding)."""
    def side(p, q):
        return (q[0] - p[0]) * (b - p[1]) - (q[1] - p[1]) * (a - p[0])
    s0, s1, s2 = side(p0, p1), side(p1, p2), side(p2, p0)
    return ((s0 >= 0) & (s1 >= 0) & (s2 >= 0)) | ((s0 <= 0) & (s1 <= 0) & (s2 <= 0))


def smoothstep(e0: float, e1: float, v):
    t = np.clip((v - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)
