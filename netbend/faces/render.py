"""The procedural face renderer: unit parameters -> anti-aliased image + part label map.

``render_face(u, size)`` paints one face (see :mod:`netbend.faces.params` for what each unit
parameter means) on a 4x supersampled canvas, back to front: background, hair behind the head,
neck, ears, head, cheeks, hair cap, eyebrows, eyes, nose, mouth, glasses. Each part paints its
label (:data:`LABELS`) where it is visible, so the label map says which part every pixel shows.
"""
from __future__ import annotations

import colorsys

import numpy as np

from netbend.errors import NetbendError
from netbend.faces.canvas import Canvas, band, ellipse, rotate, smoothstep, superellipse, triangle
from netbend.faces.params import INDEX, N_PARAMS, params_for_seeds

LABELS: tuple[str, ...] = (
    "background", "hair", "skin", "eyes", "eyebrows", "nose", "mouth", "glasses", "ears",
)
# One display colour per label, for looking at label maps (``colourise``).
LABEL_COLOURS = np.array([[0, 0, 0], [120, 60, 20], [240, 200, 160], [255, 255, 255], [60, 40, 20],
                          [200, 100, 80], [220, 30, 60], [30, 90, 220], [160, 220, 100]], np.uint8)
HAIR_STYLES = ("bald", "short", "bob", "long", "afro", "bun")
NOSE_STYLES = ("triangle", "button", "long")

SKIN = np.array([[0.36, 0.22, 0.15], [0.55, 0.36, 0.24], [0.75, 0.53, 0.38],
                 [0.89, 0.70, 0.55], [0.98, 0.84, 0.73]])
HAIR = np.array([[0.08, 0.07, 0.07], [0.25, 0.15, 0.09], [0.45, 0.30, 0.17], [0.55, 0.22, 0.10],
                 [0.80, 0.45, 0.20], [0.90, 0.78, 0.50], [0.75, 0.75, 0.75], [0.25, 0.35, 0.75],
                 [0.85, 0.45, 0.65]])
IRIS = np.array([[0.40, 0.24, 0.12], [0.55, 0.45, 0.20], [0.25, 0.55, 0.30], [0.25, 0.45, 0.80],
                 [0.50, 0.55, 0.60], [0.15, 0.10, 0.08]])
LIPS = np.array([[0.75, 0.40, 0.40], [0.85, 0.25, 0.30], [0.60, 0.25, 0.25], [0.90, 0.45, 0.55]])
FRAMES = np.array([[0.05, 0.05, 0.05], [0.40, 0.22, 0.10], [0.75, 0.10, 0.10], [0.15, 0.25, 0.70],
                   [0.80, 0.65, 0.25]])


def lerp(lo: float, hi: float, u: float) -> float:
    return lo + (hi - lo) * float(u)


def along(palette: np.ndarray, u: float) -> np.ndarray:
    """Colour at position u in 0..1 along a palette, linearly between neighbouring entries."""
    t = float(u) * (len(palette) - 1)
    i = min(int(t), len(palette) - 2)
    return palette[i] + (t - i) * (palette[i + 1] - palette[i])


def choice(u: float, n: int) -> int:
    return min(int(float(u) * n), n - 1)


class _Face:
    """Derived geometry of one face (all in image-normalised units, head-local frame)."""

    def __init__(self, u: np.ndarray):
        p = {name: float(u[i]) for name, i in INDEX.items()}
        self.p = p
        self.hw, self.hh = lerp(0.21, 0.28, p["head_w"]), lerp(0.27, 0.33, p["head_h"])
        self.cx, self.cy = 0.5 + lerp(-0.06, 0.06, p["head_x"]), 0.5 + lerp(-0.03, 0.05, p["head_y"])
        self.roll = lerp(-12.0, 12.0, p["roll"])
        self.yaw = self.hw * lerp(-0.12, 0.12, p["yaw"])
        self.eye_b = self.hh * lerp(-0.22, 0.02, p["eye_y"])
        self.eye_x = self.hw * lerp(0.33, 0.5, p["eye_gap"])
        self.ew = self.hw * lerp(0.16, 0.26, p["eye_w"])
        self.eh = self.ew * lerp(0.45, 0.95, p["eye_open"])
        self.nose_tip = self.eye_b + self.hh * lerp(0.28, 0.45, p["nose_len"])
        tone = along(SKIN, p["skin_tone"])
        warm = lerp(-1.0, 1.0, p["skin_warmth"])
        self.skin = np.clip(tone * np.array([1 + 0.06 * warm, 1.0, 1 - 0.06 * warm]), 0, 1)
        self.hair = np.clip(along(HAIR, p["hair_color"]) * lerp(0.75, 1.2, p["hair_light"]), 0, 1)
        self.style = HAIR_STYLES[choice(p["hair_style"], len(HAIR_STYLES))]

    def window(self, cv: Canvas, a, b, la: float, lb: float, radius: float):
        """(window, a, b) around the head-local point (la, lb): the part's pixels only."""
        t = np.deg2rad(self.roll)
        x = self.cx + np.cos(t) * la - np.sin(t) * lb
        y = self.cy + np.sin(t) * la + np.cos(t) * lb
        win = cv.window(x, y, radius)
        return win, a[win], b[win]


def render_face(u: np.ndarray, size: int = 64, ss: int = 4, palette: bool = False):
    """One face: (image uint8 [size, size, 3], labels uint8 [size, size], palette).

    ``palette`` (only when asked for, else empty) lists (rgb float 0..1, label) for every flat colour painted, used to classify
    pixels of another image by nearest colour (see :mod:`netbend.faces.quality`).
    """
    u = np.asarray(u, np.float64)
    if u.shape != (N_PARAMS,):
        raise NetbendError(f"a face needs {N_PARAMS} unit parameters, got shape {list(u.shape)}")
    f, cv = _Face(u), Canvas(size, ss, keep_palette=palette)
    a, b = rotate(cv.x, cv.y, f.cx, f.cy, f.roll)  # head-local frame, [S, S] each
    _background(cv, f)
    _hair_back(cv, f, a, b)
    _head(cv, f, a, b)
    _hair_cap(cv, f, a, b)
    for side in (-1.0, 1.0):
        _eyebrow(cv, f, a, b, side)
        _eye(cv, f, a, b, side)
    _nose(cv, f, a, b)
    _mouth(cv, f, a, b)
    if f.p["glasses"] > 0.7:
        _glasses(cv, f, a, b)
    image, labels = cv.finish()
    return image, labels, cv.palette


def render_faces(params=None, size: int = 64, seeds=None, ss: int = 4):
    """Faces for unit parameters [N, N_PARAMS] or for seeds: (images [N,H,W,3], labels [N,H,W])."""
    if params is None:
        if seeds is None:
            raise NetbendError("render_faces needs params or seeds")
        params = params_for_seeds(seeds)
    params = np.asarray(params)
    if params.ndim != 2:
        raise NetbendError(f"render_faces needs params of shape [N, {N_PARAMS}]")
    images = np.zeros((len(params), size, size, 3), np.uint8)
    labels = np.zeros((len(params), size, size), np.uint8)
    for i, u in enumerate(params):
        images[i], labels[i], _ = render_face(u, size, ss)
    return images, labels


def colourise(labels: np.ndarray) -> np.ndarray:
    """Label map(s) [..., H, W] -> display colours [..., H, W, 3] uint8 (:data:`LABEL_COLOURS`)."""
    return LABEL_COLOURS[labels]


def _background(cv: Canvas, f: _Face) -> None:
    p = f.p
    rgb = np.array(colorsys.hsv_to_rgb(p["bg_hue"], lerp(0.15, 0.7, p["bg_sat"]),
                                       lerp(0.35, 0.95, p["bg_light"])))
    angle = p["bg_grad_dir"] * 2 * np.pi
    t = (cv.x - 0.5) * np.cos(angle) + (cv.y - 0.5) * np.sin(angle)  # [S, S] in about -0.7..0.7
    shade = 1.0 + lerp(0.0, 0.9, p["bg_grad_amount"]) * t
    cv.paint(None, rgb * shade[..., None], 0)


def _shaded(f: _Face, color: np.ndarray, nx, ny, amount: float) -> np.ndarray:
    """``color`` lit from the face's light direction over normalised coordinates (nx, ny)."""
    theta = np.deg2rad(lerp(-60.0, 60.0, f.p["light_dir"]))
    light = np.sin(theta) * nx - np.cos(theta) * ny
    shade = 1.0 + amount * light - 0.10 * np.minimum(nx * nx + ny * ny, 1.5) ** 2
    return color * shade[..., None]  # [h, w, 3]; the canvas clips to 0..1 when it finishes


def _hair_back(cv: Canvas, f: _Face, a, b) -> None:
    vol, hw, hh = f.p["hair_volume"], f.hw, f.hh
    if f.style in ("bob", "long"):
        rx = hw * lerp(1.12, 1.3, vol)
        top = -hh * 1.12
        bottom = hh * (lerp(0.3, 0.75, f.p["hair_len"]) if f.style == "bob"
                       else lerp(0.9, 1.6, f.p["hair_len"]))
        cx, cy, rx, ry = 0.0, (top + bottom) / 2, rx, (bottom - top) / 2
    elif f.style == "afro":
        cx, cy, rx, ry = 0.0, -0.15 * hh, hw * lerp(1.35, 1.6, vol), hh * lerp(1.05, 1.25, vol)
    elif f.style == "bun":
        r = lerp(0.06, 0.09, vol)
        cx, cy, rx, ry = 0.0, -hh * 1.02 - 0.5 * r, r, r
    else:
        return
    win, a, b = f.window(cv, a, b, cx, cy, 1.45 * max(rx, ry))
    field = _shaded(f, f.hair, a / (1.4 * hw), b / (1.4 * hh), 0.15)
    shape = superellipse(a, b, cx, cy, rx, ry, 3.5) if f.style in ("bob", "long") \
        else ellipse(a, b, cx, cy, rx, ry)
    cv.paint(shape, field, 1, win)


def _head(cv: Canvas, f: _Face, a, b) -> None:
    hw, hh, p = f.hw, f.hh, f.p
    neck_w = hw * 0.55
    cv.paint(band(a, b, -neck_w, neck_w, hh * 1.5, hh), f.skin * 0.82, 2)
    ear_w = hw * lerp(0.13, 0.22, p["ear_size"])
    for side in (-1.0, 1.0):
        ex, ey = side * hw * 0.96 - 0.6 * f.yaw, f.eye_b + 0.25 * ear_w
        win, wa, wb = f.window(cv, a, b, ex, ey, 1.8 * ear_w)
        cv.paint(ellipse(wa, wb, ex, ey, ear_w, 1.7 * ear_w), f.skin * 0.95, 8, win)
        inner = ellipse(wa, wb, ex + side * 0.2 * ear_w, ey, 0.5 * ear_w, 1.1 * ear_w)
        cv.paint(inner, f.skin * 0.78, 8, win)
    win, wa, wb = f.window(cv, a, b, 0.0, 0.0, 1.45 * max(hw, hh))
    t = np.clip(wb / hh, -1.0, 1.0)
    half = hw * np.sqrt(np.maximum(1.0 - t * t, 0.0))
    half = half * (1.0 - lerp(0.0, 0.35, p["jaw"]) * np.maximum(t, 0.0) ** 2)
    head = (np.abs(wa) <= half) & (np.abs(wb) <= hh)
    cv.paint(head, _shaded(f, f.skin, wa / hw, wb / hh, 0.12), 2, win)
    amount = np.clip((p["blush"] - 0.5) * 2.0, 0.0, 1.0) * 0.45
    if amount > 0:
        sigma = 0.12 * hw
        for side in (-1.0, 1.0):
            bx, by = side * f.eye_x * 1.05 + f.yaw, f.eye_b + 0.3 * hh
            win, wa, wb = f.window(cv, a, b, bx, by, 4 * sigma)
            d2 = (wa - bx) ** 2 + (wb - by) ** 2
            alpha = amount * np.exp(-d2 / (2 * sigma**2)) * (cv.labels[win] == 2)
            cv.paint(alpha, np.array([0.95, 0.45, 0.5]), None, win)


def _hair_cap(cv: Canvas, f: _Face, a, b) -> None:
    if f.style == "bald":
        return
    hw, hh, p = f.hw, f.hh, f.p
    vol = p["hair_volume"]
    win, a, b = f.window(cv, a, b, 0.0, -0.02, 1.45 * 1.12 * max(hw, hh))
    outline = ellipse(a, b, 0.0, -0.02, hw * (1.06 + 0.06 * vol), hh * (1.06 + 0.05 * vol))
    h0 = -hh * lerp(0.85, 0.5, p["fringe"])
    tilt = lerp(-0.25, 0.25, p["part_side"])
    drop = (f.eye_b - 0.02 - h0) * smoothstep(0.65 * hw, 0.95 * hw, np.abs(a))
    line = h0 + tilt * a + drop
    field = _shaded(f, f.hair, a / hw, b / hh, 0.15)
    cv.paint(outline & (b < line), field, 1, win)


def _eyebrow(cv: Canvas, f: _Face, a, b, side: float) -> None:
    p = f.p
    bx = side * f.eye_x + f.yaw
    by = f.eye_b - f.eh - f.hw * lerp(0.1, 0.25, p["brow_raise"])
    length = f.ew * lerp(1.0, 1.45, p["brow_len"])
    thick = f.hw * lerp(0.08, 0.16, p["brow_thick"])
    win, a, b = f.window(cv, a, b, bx, by, 1.5 * length + thick)
    s = (a - bx) / length  # -1..1 along the brow
    k = lerp(-0.35, 0.35, p["brow_tilt"])
    center = by - k * s * side * length - 0.25 * length * (1.0 - s * s) * 0.4
    half = 0.5 * thick * (1.0 - 0.5 * np.clip(s * side, 0, 1) ** 2)
    cv.paint(band(a, b, bx - length, bx + length, center, half), f.hair * 0.7, 4, win)


def _eye(cv: Canvas, f: _Face, a, b, side: float) -> None:
    p = f.p
    ex, ey, ew, eh = side * f.eye_x + f.yaw, f.eye_b, f.ew, f.eh
    lid = max(0.006, f.hw * 0.03)
    win, a, b = f.window(cv, a, b, ex, ey, max(ew, eh) + 2 * lid)
    outer = ellipse(a, b, ex, ey, ew + lid, eh + lid)
    sclera = ellipse(a, b, ex, ey, ew, eh)
    cv.paint(outer & (b < ey + 0.3 * eh), np.array([0.10, 0.07, 0.06]), 3, win)
    cv.paint(sclera, np.array([0.97, 0.97, 0.95]), 3, win)
    ir = min(0.95 * eh, ew * lerp(0.45, 0.7, p["iris_size"]))
    ix = ex + lerp(-1.0, 1.0, p["gaze_x"]) * (ew - ir) * 0.8
    iy = ey + lerp(-1.0, 1.0, p["gaze_y"]) * eh * 0.3
    cv.paint(sclera & ellipse(a, b, ix, iy, ir, ir), along(IRIS, p["iris_color"]), 3, win)
    pupil = sclera & ellipse(a, b, ix, iy, 0.5 * ir, 0.5 * ir)
    cv.paint(pupil, np.array([0.03, 0.03, 0.03]), 3, win)
    hx, hy, hr = ix - 0.35 * ir, iy - 0.35 * ir, 0.22 * ir
    cv.paint(sclera & ellipse(a, b, hx, hy, hr, hr), np.array([1.0, 1.0, 1.0]), 3, win)


def _nose(cv: Canvas, f: _Face, a, b) -> None:
    p = f.p
    x, tip, top = 1.2 * f.yaw, f.nose_tip, f.eye_b + 0.05 * f.hh
    nw = f.hw * lerp(0.13, 0.24, p["nose_w"])
    color = np.clip(f.skin * np.array([0.82, 0.70, 0.66]), 0, 1)
    dark = f.skin * 0.45
    style = NOSE_STYLES[choice(p["nose_style"], len(NOSE_STYLES))]
    win, a, b = f.window(cv, a, b, x, 0.5 * (top + tip), 0.5 * (tip - top) + nw)
    if style == "triangle":
        shape = triangle(a, b, (x, top), (x - nw, tip), (x + nw, tip))
        cv.paint(shape | ellipse(a, b, x, tip, 0.9 * nw, 0.35 * nw), color, 5, win)
        return
    if style == "button":
        cv.paint(ellipse(a, b, x, tip - 0.3 * nw, 0.9 * nw, 0.7 * nw), color, 5, win)
    else:
        shape = triangle(a, b, (x, top), (x - 0.5 * nw, tip), (x + 0.5 * nw, tip))
        cv.paint(shape | ellipse(a, b, x, tip, 0.7 * nw, 0.45 * nw), color, 5, win)
    r = 0.22 * nw
    for side in (-1.0, 1.0):
        cv.paint(ellipse(a, b, x + side * 0.45 * nw, tip, r, 0.8 * r), dark, 5, win)


def _mouth(cv: Canvas, f: _Face, a, b) -> None:
    p, hh = f.p, f.hh
    mx, my = f.yaw, f.nose_tip + hh * lerp(0.12, 0.25, p["mouth_y"])
    mw = f.hw * lerp(0.25, 0.5, p["mouth_w"])
    smile = lerp(-0.5, 1.0, p["smile"])
    lip = hh * lerp(0.025, 0.07, p["lip_thick"])
    opening = max(0.0, lerp(-0.6, 1.0, p["mouth_open"])) * hh * 0.09
    win, a, b = f.window(cv, a, b, mx, my, mw + 3 * lip + 0.2 * hh)
    s = (a - mx) / mw
    env = np.sqrt(np.clip(1.0 - s * s, 0.0, 1.0))
    center = my - smile * hh * 0.06 * s * s + smile * hh * 0.02
    bow = 1.0 - 0.35 * np.exp(-(s / 0.15) ** 2)
    upper, lower = center - opening * env - lip * env * bow, center + opening * env + 1.2 * lip * env
    inside = np.abs(s) <= 1.0
    lips = np.clip(along(LIPS, p["lip_color"]) * lerp(0.7, 1.0, p["skin_tone"]), 0, 1)
    cv.paint(inside & (b >= upper) & (b <= lower), lips, 6, win)
    if opening > 0:
        gap = inside & (np.abs(b - center) <= opening * env)
        cv.paint(gap, np.array([0.30, 0.05, 0.07]), 6, win)
        cv.paint(gap & (b < center - 0.2 * opening * env), np.array([0.95, 0.95, 0.90]), 6, win)
    else:
        cv.paint(inside & (np.abs(b - center) <= hh * 0.008), lips * 0.6, 6, win)


def _glasses(cv: Canvas, f: _Face, a, b) -> None:
    p = f.p
    rx, ry = f.ew * 1.45, max(f.eh * 1.5, f.ew * 1.05)
    t = f.hw * 0.035
    power = lerp(2.0, 6.0, p["glasses_shape"])
    color = along(FRAMES, p["glasses_color"])
    for side in (-1.0, 1.0):
        ex = side * f.eye_x + f.yaw
        win, wa, wb = f.window(cv, a, b, ex, f.eye_b, max(rx, ry) + t)
        ring = superellipse(wa, wb, ex, f.eye_b, rx + t / 2, ry + t / 2, power)
        ring &= ~superellipse(wa, wb, ex, f.eye_b, rx - t / 2, ry - t / 2, power)
        cv.paint(ring, color, 7, win)
        x0, x1 = sorted((ex + side * rx, side * f.hw * 1.0))
        win, wa, wb = f.window(cv, a, b, 0.5 * (x0 + x1), f.eye_b - 0.4 * ry, 0.5 * (x1 - x0) + t)
        cv.paint(band(wa, wb, x0, x1, f.eye_b - 0.4 * ry, t / 2), color, 7, win)
    inner = f.eye_x - rx
    win, wa, wb = f.window(cv, a, b, f.yaw, f.eye_b - 0.3 * ry, abs(inner) + t)
    cv.paint(band(wa, wb, f.yaw - inner, f.yaw + inner, f.eye_b - 0.3 * ry, t / 2), color, 7, win)
