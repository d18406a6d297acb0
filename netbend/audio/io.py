"""Reading and writing audio files, with one clear error per kind of bad input.

Documented behaviour (the command line and the README repeat it):

* Formats: WAV, FLAC, OGG/Vorbis (``.ogg``, ``.oga``), AIFF and MP3 (when the
  installed libsndfile reads MP3, version >= 1.1). Any other extension is refused.
* Multi-channel audio is mixed down to mono (the mean of the channels); outputs are mono.
* Audio is resampled to the model's rate (22050 Hz for the shipped model) on the
  way in and back to the file's own rate on the way out.
* A file with no samples, a file that cannot be decoded and a file with
  non-finite samples raise :class:`NetbendError`. A silent file is read like any
  other (its spectrogram lies at the dB floor).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from netbend.audio.resample import resample
from netbend.errors import NetbendError
from netbend.fileio import atomic_path

_EXTENSIONS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".oga": "OGG",
               ".aif": "AIFF", ".aiff": "AIFF", ".mp3": "MP3"}


def supported_extensions() -> list[str]:
    """Extensions this installation can read (MP3 only if libsndfile has it)."""
    formats = sf.available_formats()
    return sorted(ext for ext, fmt in _EXTENSIONS.items() if fmt in formats)


@dataclass(frozen=True)
class Audio:
    """A mono signal at ``sample_rate`` plus what the file originally was."""

    samples: np.ndarray  # [T] float32
    sample_rate: int
    source_rate: int
    source_channels: int
    source_frames: int
    path: str = ""

    @property
    def seconds(self) -> float:
        return self.samples.size / self.sample_rate


def _check_extension(path: Path) -> None:
    exts = supported_extensions()
    if path.suffix.lower() not in exts:
        raise NetbendError(f"{path}: unsupported audio format '{path.suffix or '(none)'}'; "
                           f"supported: {', '.join(exts)}")


def read_audio(path: str | os.PathLike, sample_rate: int | None = None) -> Audio:
    """Read ``path`` as mono float32, resampled to ``sample_rate`` (None keeps the file's). A path
    that does not exist may name a shipped clip (``examples/audio/synth_seed2_0.flac``)."""
    from netbend.examples import resolve

    path = resolve(path)
    _check_extension(path)
    if not path.is_file():
        raise NetbendError(f"{path}: no such audio file")
    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)  # [T, C]
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as err:
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise NetbendError(f"{path}: cannot decode audio ({msg})") from None
    if data.shape[0] == 0:
        raise NetbendError(f"{path}: the file contains no audio samples")
    if not np.isfinite(data).all():
        raise NetbendError(f"{path}: the file contains non-finite samples (NaN or inf)")
    mono = data.mean(axis=1)  # [T]
    target = int(sample_rate or rate)
    mono = resample(mono, int(rate), target)
    return Audio(mono, target, int(rate), int(data.shape[1]), int(data.shape[0]), str(path))


def write_audio(path: str | os.PathLike, samples: np.ndarray, sample_rate: int) -> Path:
    """Write a mono float signal atomically; the format follows the extension."""
    path = Path(path)
    _check_extension(path)
    fmt = _EXTENSIONS[path.suffix.lower()]
    if fmt == "MP3":
        raise NetbendError(f"{path}: writing MP3 is not supported; use .wav, .flac or .ogg")
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if fmt in ("WAV", "FLAC", "AIFF"):
        samples = np.clip(samples, -1.0, 1.0)
    subtype = "PCM_16" if fmt in ("WAV", "FLAC", "AIFF") else None
    with atomic_path(path) as tmp:
        sf.write(str(tmp), samples, int(sample_rate), format=fmt, subtype=subtype)
    return path
