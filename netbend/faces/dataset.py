"""The training set of the default model: rendered faces for seeds 0..n-1, cached on disk.

Face ``i`` is the renderer's face for latent ``latents_for_seeds([i])`` (the wrapper's seed
convention). The cache is a folder of chunk files ``faces{size}_{k:04d}.npz`` (``seeds`` int64
[n], ``images`` uint8 [n, H, W, 3], ``labels`` uint8 [n, H, W]), each written atomically, so an
interrupted build resumes where it stopped. Held-out evaluation seeds start at
:data:`EVAL_SEED0`, far from any training seed.
"""
from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Callable

import numpy as np

from netbend.errors import NetbendError
from netbend.faces.params import latents_for_seeds, params_from_latent
from netbend.faces.render import render_faces
from netbend.fileio import atomic_path

CHUNK = 1024
EVAL_SEED0 = 1_000_000


def _render_chunk(job: tuple[np.ndarray, int]):
    params, size = job
    return render_faces(params, size=size)


def chunk_path(folder: Path, size: int, k: int) -> Path:
    return folder / f"faces{size}_{k:04d}.npz"


def build_cache(folder: str | Path, n: int, size: int = 64, workers: int = 2,
                progress: Callable[[int, int], None] | None = None) -> list[Path]:
    """Render faces for seeds 0..n-1 into ``folder`` (skipping chunks already there)."""
    if n > EVAL_SEED0:
        raise NetbendError(f"at most {EVAL_SEED0} training faces (seeds from {EVAL_SEED0} are held out)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [chunk_path(folder, size, k) for k in range((n + CHUNK - 1) // CHUNK)]
    todo = [k for k, p in enumerate(paths) if not p.exists()]
    jobs = []
    for k in todo:
        seeds = np.arange(k * CHUNK, min(n, (k + 1) * CHUNK))
        jobs.append((seeds, (params_from_latent(latents_for_seeds(seeds)), size)))
    done = len(paths) - len(todo)
    if progress:
        progress(done, len(paths))
    if not jobs:
        return paths
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(max(1, workers)) as pool:
        for (seeds, _), (images, labels) in zip(jobs, pool.imap(_render_chunk, [j for _, j in jobs])):
            _save_chunk(paths[int(seeds[0]) // CHUNK], seeds, images, labels)
            done += 1
            if progress:
                progress(done, len(paths))
    return paths


def _save_chunk(path: Path, seeds, images, labels) -> None:
    with atomic_path(path) as tmp:
        np.savez(tmp, seeds=seeds.astype(np.int64), images=images, labels=labels)


def load_cache(paths: list[Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(seeds [n], images uint8 [n, H, W, 3], labels uint8 [n, H, W]) from chunk files."""
    parts = [np.load(p) for p in paths]
    return tuple(np.concatenate([part[key] for part in parts]) for key in ("seeds", "images", "labels"))


def eval_seeds(n: int = 256) -> list[int]:
    """The held-out seeds used to measure quality: EVAL_SEED0 .. EVAL_SEED0 + n - 1."""
    return list(range(EVAL_SEED0, EVAL_SEED0 + n))
