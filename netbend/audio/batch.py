"""Autoencode a folder of recordings file by file: one file is one unit of work, run in this
process or on a Ray worker (:mod:`netbend.distributed`) with the same function.

A unit carries the file's bytes, not its path, so workers need no shared storage; results come
back as waveforms and the caller writes them::

    job = FolderJob(files=("a.wav", "sub/b.flac"), resolved=(r0, r1), options=PhaseOptions())
    waves, rate = autoencode_file(job, model, ("a.wav", Path("in/a.wav").read_bytes()))
    # waves[v]: the waveform of variation v, [T] float32 at the file's own rate
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from netbend.audio.autoencode import PhaseOptions, encode_audio, reconstruct
from netbend.audio.io import read_audio
from netbend.bending import ResolvedPlan
from netbend.errors import NetbendError


@dataclass(frozen=True)
class FolderJob:
    """Everything a worker needs besides the model: the files (relative paths) and the bends."""

    files: tuple[str, ...]
    resolved: tuple[ResolvedPlan, ...]
    options: PhaseOptions = PhaseOptions()
    hop_frames: int = 64
    suffix: str = ".wav"

    def outputs(self, rel: str) -> list[str]:
        """Output names (relative, same sub-folders) of one input file: one per variation."""
        stem = Path(rel).with_suffix("")
        if len(self.resolved) == 1:
            return [f"{stem}{self.suffix}"]
        return [f"{stem}_var{r.variation:02d}{self.suffix}" for r in self.resolved]


def autoencode_file(job: FolderJob, model, unit: tuple[str, bytes]) -> tuple[list[np.ndarray], int]:
    """One file through the VAE, once per variation: (waveforms [T] float32, the file's sample rate)."""
    rel, data = unit
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(rel).name
        path.write_bytes(data)
        try:
            audio = read_audio(path, model.spec.sample_rate)
        except NetbendError as err:  # name the input, not the temporary copy
            raise NetbendError(str(err).replace(str(path), rel)) from None
    enc = encode_audio(model, audio, job.hop_frames)
    waves = [reconstruct(model, enc, r, job.options)[0] for r in job.resolved]
    return waves, audio.source_rate


class FileUnits(Sequence):
    """The units of work of a folder, read from disk only when sent: (relative path, bytes)."""

    def __init__(self, root: str | os.PathLike, files: Sequence[str]) -> None:
        self.root, self.files = Path(root), list(files)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return self.files[i], (self.root / self.files[i]).read_bytes()
