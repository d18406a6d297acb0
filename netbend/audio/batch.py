"""Autoencode a folder of recordings file by file: one file is one unit of work, run in this
process or on a Ray worker (:mod:`netbend.distributed`) with the same function.

A unit carries the file's bytes, not its path, so workers need no shared storage; results come
back as waveforms and the caller writes them::

    job = FolderJob(files=("a.wav", "sub/b.flac"), resolved=(r0, r1), options=PhaseOptions())
    waves, rate, levels = autoencode_file(job, model, ("a.wav", Path("in/a.wav").read_bytes()))
    # waves[v]: the waveform of variation v, [T] float32 at the file's own rate
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from netbend.audio.autoencode import PhaseOptions, encode_audio, reconstruct, window_plans
from netbend.audio.io import read_audio
from netbend.audio.loudness import match_level, rms
from netbend.bending import ResolvedPlan
from netbend.errors import NetbendError


@dataclass(frozen=True)
class FolderJob:
    """Everything a worker needs besides the model: the files (relative paths), the bends and the
    level settings. ``resolved``: one plan per variation; for a plan that changes along the track
    (``timed``) the bends are resolved per window of each file from ``plan``, as for one file."""

    files: tuple[str, ...]
    resolved: tuple[ResolvedPlan, ...]
    options: PhaseOptions = PhaseOptions()
    hop_frames: int = 64
    plan: Any = None
    clusters: Any = None
    timed: bool = False
    match_loudness: bool = True
    gain_db: float = 0.0
    suffix: str = ".wav"

    def outputs(self, rel: str) -> list[str]:
        """Output names (relative, same sub-folders) of one input file: one per variation."""
        stem = Path(rel).with_suffix("")
        if len(self.resolved) == 1:
            return [f"{stem}{self.suffix}"]
        return [f"{stem}_var{r.variation:02d}{self.suffix}" for r in self.resolved]


def autoencode_file(job: FolderJob, model, unit: tuple[str, bytes]) -> tuple[list[np.ndarray], int, list[dict]]:
    """One file through the VAE, once per variation, the steps of ``netbend audio autoencode FILE``:
    (waveforms [T] float32 at the file's own rate, that rate, each output's level record)."""
    rel, data = unit
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(rel).name
        path.write_bytes(data)
        try:
            audio = replace(read_audio(path, model.spec.sample_rate), path=rel)
        except NetbendError as err:  # name the input, not the temporary copy
            raise NetbendError(str(err).replace(str(path), rel)) from None
    enc = encode_audio(model, audio, job.hop_frames)
    plans = ([window_plans(job.plan, model, enc, seed=job.options.seed, clusters=job.clusters)] if job.timed
             else list(job.resolved))
    target = rms(audio.samples) if job.match_loudness else None
    waves, levels = [], []
    for r in plans:
        y, level = match_level(reconstruct(model, enc, r, job.options)[0], target, job.gain_db)
        waves.append(y)
        levels.append(level.to_dict())
    return waves, audio.source_rate, levels


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
