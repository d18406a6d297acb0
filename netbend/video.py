"""Video out: a folder of PNG frames assembled into an H.264 .mp4 (yuv420p) or an animated .gif.

The mp4 writer uses ``imageio-ffmpeg``, which brings its own ffmpeg binary (``pip install
'netbend[video]'``); the gif writer needs only Pillow. Frames whose width or height is odd are
padded by one edge row/column (yuv420p needs even sizes). Files are written atomically.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
from PIL import Image

from netbend.errors import NetbendError
from netbend.fileio import atomic_path

OUTPUT_KINDS = {".mp4": "mp4", ".gif": "gif"}


def output_kind(out: str | os.PathLike) -> str:
    """'mp4', 'gif' or 'png' (a folder: ``DIR/``, an existing folder, or a name without suffix)."""
    text = str(out)
    path = Path(text)
    if text.endswith(("/", os.sep)) or path.is_dir() or not path.suffix:
        return "png"
    kind = OUTPUT_KINDS.get(path.suffix.lower())
    if kind is None:
        raise NetbendError(f"--out {text}: unsupported output extension '{path.suffix}' "
                           "(use .mp4, .gif, or a folder DIR/ for PNG frames)")
    return kind


def require_ffmpeg() -> str:
    """The path of imageio-ffmpeg's ffmpeg binary, or a NetbendError saying how to install it."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise NetbendError("writing .mp4 needs the imageio-ffmpeg package: "
                           "pip install 'netbend[video]' (or write .gif or a PNG folder)") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def even(image: np.ndarray) -> np.ndarray:
    """[H, W, C] padded by repeating the last row/column to even height and width."""
    h, w = image.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return image
    return np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def read_frames(paths: Iterable[str | os.PathLike]) -> Iterator[np.ndarray]:
    """[H, W, 3] uint8 arrays from image files, one at a time."""
    for p in paths:
        with Image.open(p) as im:
            yield np.asarray(im.convert("RGB"))


def write_mp4(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: float,
              audio: str | os.PathLike | None = None, quality: int = 8) -> int:
    """Encode [H, W, 3] uint8 frames as H.264 yuv420p (+ AAC audio muxed in); returns the frame count."""
    require_ffmpeg()
    import imageio_ffmpeg

    frames = iter(frames)
    first = next(frames, None)
    if first is None:
        raise NetbendError(f"{path}: no frames to encode")
    first = even(first)
    count = 0
    with atomic_path(path) as tmp:
        writer = imageio_ffmpeg.write_frames(
            str(tmp), (first.shape[1], first.shape[0]), fps=fps, codec="libx264", pix_fmt_in="rgb24",
            pix_fmt_out="yuv420p", quality=quality, macro_block_size=1, ffmpeg_log_level="error",
            output_params=["-movflags", "+faststart"] + (["-shortest"] if audio else []),
            audio_path=str(audio) if audio else None, audio_codec="aac" if audio else None)
        writer.send(None)
        for frame in (first, *()):
            writer.send(np.ascontiguousarray(frame))
            count += 1
        for frame in frames:
            writer.send(np.ascontiguousarray(even(frame)))
            count += 1
        writer.close()
    return count


def write_gif(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: float) -> int:
    """An endlessly looping GIF (frame time rounded to GIF's 10 ms steps); returns the frame count."""
    images = [Image.fromarray(f) for f in frames]
    if not images:
        raise NetbendError(f"{path}: no frames to encode")
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                       duration=max(20, int(round(100 / fps)) * 10), loop=0, optimize=False)
    return len(images)
