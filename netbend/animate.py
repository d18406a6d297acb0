"""Render a clip to a folder of PNG frames (atomically, skipping frames already there) and assemble it.

The frames folder is what makes partial, resumed and distributed renders agree: each frame file
is written whole or not at all, a render only fills in the frames it is asked for, and the video
is assembled from the folder once every frame is there.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable

import json

import numpy as np

from netbend.errors import NetbendError
from netbend.frames import Clip, batches, render_clip
from netbend.media import save_png, to_uint8
from netbend.video import read_frames, write_gif, write_mp4


def frame_file(folder: Path, frame: int) -> Path:
    return Path(folder) / f"frame{frame:06d}.png"


def missing_frames(folder: Path, frames: Iterable[int]) -> list[int]:
    return [f for f in frames if not frame_file(folder, f).is_file()]


def parse_range(text: str | None, frames: int) -> range:
    """'i:j' (j exclusive; either side may be empty) -> range of frame numbers within the clip."""
    if not text:
        return range(frames)
    try:
        lo, hi = text.split(":")
        start, stop = int(lo) if lo.strip() else 0, int(hi) if hi.strip() else frames
    except ValueError:
        raise NetbendError(f"--frames-range: expected START:STOP such as '0:48', got {text!r}") from None
    if not 0 <= start < stop <= frames:
        raise NetbendError(f"--frames-range {text}: must lie within 0:{frames} and not be empty")
    return range(start, stop)


def render_to_folder(model: Any, clip: Clip, folder: Path, frames: Iterable[int], *, batch_size: int = 8,
                     meta: dict | None = None, progress: Callable[[int], None] | None = None) -> int:
    """Write the missing frames among ``frames`` to ``folder``; returns how many were rendered."""
    done = 0
    for group in frame_chunks(folder, frames, batch_size):
        numbers, pngs = render_chunk(clip, batch_size, model, group)
        save_frames(folder, numbers, pngs, meta)
        done += len(numbers)
        if progress:
            progress(len(numbers))
    return done


def frame_chunks(folder: Path, frames: Iterable[int], batch_size: int) -> list[list[int]]:
    """The missing frames among ``frames``, grouped by aligned batch: the units of work."""
    return batches(missing_frames(folder, frames), batch_size)


def render_chunk(clip: Clip, batch_size: int, model: Any, group: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The frames of one aligned batch: (frame numbers [B], uint8 images [B, H, W, C])."""
    ((numbers, images),) = render_clip(model, clip, group, batch_size=batch_size)
    return numbers, to_uint8(images)


def save_frames(folder: Path, numbers: np.ndarray, pngs: np.ndarray, meta: dict | None = None) -> None:
    """Write frames as PNGs with fast compression (zlib level 1): lossless like the default,
    several times faster to write, slightly larger files (benchmarks/animate_speed.py)."""
    for f, png in zip(numbers, pngs):
        save_png(frame_file(folder, int(f)), png, {"netbend": json.dumps({**(meta or {}), "frame": int(f)})},
                 compress_level=1)


def assemble(folder: Path, out: Path, kind: str, frames: int, fps: float,
             audio: str | os.PathLike | None = None) -> int:
    """Encode frames 0..frames-1 of ``folder`` into ``out`` (kind 'mp4' or 'gif')."""
    missing = missing_frames(folder, range(frames))
    if missing:
        raise NetbendError(f"{folder}: {len(missing)} frame(s) missing (first: {missing[0]}); "
                           "render them (--resume) before assembling")
    files = (frame_file(folder, f) for f in range(frames))
    if kind == "mp4":
        return write_mp4(out, read_frames(files), fps, audio=audio)
    return write_gif(out, read_frames(files), fps)


def first_difference(a: dict, b: dict, prefix: str = "") -> str | None:
    """The first key whose value differs between two settings mappings (for --resume checks)."""
    for key in sorted(set(a) | set(b)):
        va, vb = a.get(key), b.get(key)
        if isinstance(va, dict) and isinstance(vb, dict):
            sub = first_difference(va, vb, f"{prefix}{key}.")
            if sub:
                return sub
        elif va != vb:
            return f"{prefix}{key}"
    return None
