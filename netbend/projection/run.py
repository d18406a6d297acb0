"""Project image files into a model and write the results to a folder (what ``netbend project`` runs).

Images go through :func:`project` in batches; each image's files are written as soon as its
batch is done, and ``project.json`` (settings, per-image loss, PSNR, MS-SSIM, steps, seconds) is
rewritten after every batch, so an interrupted run keeps what it finished.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Mapping

import torch

from netbend.fileio import atomic_write_text
from netbend.media import to_uint8
from netbend.projection import losses
from netbend.projection.config import ProjectionConfig
from netbend.projection.images import TargetImage, to_tensor
from netbend.projection.objective import FeatureNet
from netbend.projection.optimise import StepReport, project, render
from netbend.projection.outputs import unique_names, write_image_outputs


def image_scores(target: torch.Tensor, projected: torch.Tensor) -> tuple[list[float], list[float]]:
    """(PSNR dB, MS-SSIM) per image of the 8-bit images as written (both [N, 3, H, W] in [-1, 1])."""
    t = to_tensor(list(to_uint8(target)))
    p = to_tensor(list(to_uint8(projected)))
    return losses.psnr(p, t).tolist(), losses.msssim(p, t).tolist()


def project_files(model, targets: list[TargetImage], out: Path, config: ProjectionConfig, *,
                  batch_size: int = 8, networks: Mapping[str, FeatureNet] | None = None,
                  settings: dict | None = None,
                  callback: Callable[[StepReport], None] | None = None) -> dict:
    """Project ``targets`` batch by batch, writing every image's files and ``project.json``."""
    import json

    names = unique_names([t.name for t in targets])
    summary = {**(settings or {}), "model_name": model.name, "model_hash": model.model_hash,
               "resolution": model.resolution, "config": config.to_dict(), "images": []}
    started = time.perf_counter()
    for start in range(0, len(targets), batch_size):
        part, part_names = targets[start:start + batch_size], names[start:start + batch_size]
        x = to_tensor([t.pixels for t in part]).to(model.device)
        t0 = time.perf_counter()
        result = project(model, x, config, networks=networks, callback=callback)
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
            summary["images"].append(entry)
        summary["seconds"] = round(time.perf_counter() - started, 2)
        atomic_write_text(out / "project.json", json.dumps(summary, indent=1) + "\n")
    return summary
