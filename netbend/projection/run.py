"""Project image files into a model and write the results to a folder (what ``netbend project`` runs).

Images go through :func:`project` in batches; each image's files are written as soon as its
batch is done (with ``video``, also ``NAME_optimisation.mp4``: target | current synthesis, about
:data:`VIDEO_FRAMES` frames spread over the run, at 24 fps), and ``project.json`` (settings,
per-image loss, PSNR, MS-SSIM, steps, seconds) is rewritten after every batch, so an interrupted
run keeps what it finished.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import torch

from netbend.fileio import atomic_write_text
from netbend.media import to_uint8
from netbend.projection import losses
from netbend.projection.config import ProjectionConfig
from netbend.projection.images import TargetImage, to_tensor
from netbend.projection.objective import FeatureNet
from netbend.projection.optimise import StepReport, project, render
from netbend.projection.outputs import unique_names, write_image_outputs

VIDEO_FRAMES = 96
VIDEO_FPS = 24.0


def image_scores(target: torch.Tensor, projected: torch.Tensor) -> tuple[list[float], list[float]]:
    """(PSNR dB, MS-SSIM) per image of the 8-bit images as written (both [N, 3, H, W] in [-1, 1])."""
    t = to_tensor(list(to_uint8(target)))
    p = to_tensor(list(to_uint8(projected)))
    return losses.psnr(p, t).tolist(), losses.msssim(p, t).tolist()


def project_files(model, targets: list[TargetImage], out: Path, config: ProjectionConfig, *,
                  batch_size: int = 8, networks: Mapping[str, FeatureNet] | None = None,
                  settings: dict | None = None,
                  callback: Callable[[StepReport], None] | None = None, video: bool = False) -> dict:
    """Project ``targets`` batch by batch, writing every image's files and ``project.json``."""
    names = unique_names([t.name for t in targets])
    summary = {**(settings or {}), "model_name": model.name, "model_hash": model.model_hash,
               "resolution": model.resolution, "config": config.to_dict(), "images": []}
    started = time.perf_counter()
    for start in range(0, len(targets), batch_size):
        part, part_names = targets[start:start + batch_size], names[start:start + batch_size]
        x = to_tensor([t.pixels for t in part]).to(model.device)
        t0 = time.perf_counter()
        frames: list[list[np.ndarray]] = [[] for _ in part]
        record = _frame_recorder(frames, [t.pixels for t in part], config.steps, callback) if video else callback
        result = project(model, x, config, networks=networks, callback=record,
                         indices=list(range(start, start + len(part))))
        seconds = (time.perf_counter() - t0) / len(part)
        images = render(model, result.w, result.noises)
        psnrs, ssims = image_scores(x, images)
        pngs = to_uint8(images)
        for i, (target, name) in enumerate(zip(part, part_names)):
            entry = {"name": name, "image": str(target.path), "original_size": list(target.original_size),
                     "conversions": list(target.notes), "psnr_db": round(psnrs[i], 3),
                     "msssim": round(ssims[i], 5), "loss": float(result.best_loss[i]),
                     "best_step": result.best_step[i], "steps_run": result.steps_run,
                     "stopped": result.stopped, "seconds": round(seconds, 2)}
            meta = {"model_hash": model.model_hash, "space": config.space, "image": str(target.path),
                    "psnr_db": entry["psnr_db"]}
            entry["files"] = write_image_outputs(out, name, result.w[i], [n[i:i + 1] for n in result.noises],
                                                 target.pixels, pngs[i], meta)
            if video:
                from netbend.video import write_mp4

                entry["files"]["video"] = f"{name}_optimisation.mp4"
                write_mp4(out / entry["files"]["video"], frames[i], fps=VIDEO_FPS)
            summary["images"].append(entry)
        summary["seconds"] = round(time.perf_counter() - started, 2)
        atomic_write_text(out / "project.json", json.dumps(summary, indent=1) + "\n")
    return summary


def _frame_recorder(frames: list[list[np.ndarray]], targets: list[np.ndarray], steps: int,
                    then: Callable[[StepReport], None] | None) -> Callable[[StepReport], None]:
    """A step callback that keeps a target | synthesis strip per image every few steps."""
    from netbend.projection.outputs import side_by_side

    every = max(1, steps // VIDEO_FRAMES)

    def record(report: StepReport) -> None:
        if report.step % every == 0 or report.step == steps - 1:
            for kept, target, image in zip(frames, targets, to_uint8(report.images)):
                kept.append(side_by_side([target, image]))
        if then:
            then(report)

    return record
