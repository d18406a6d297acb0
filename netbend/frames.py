"""Render the frames of a clip: a latent path, a plan whose values may be curves, per-frame bends.

Frame i depends on i alone: its time is ``i / fps``, its plan is ``plan.at(t)``, its random draws
come from (seed, entry, frame), and it is rendered in the batch ``i // batch_size`` (batches are
aligned to absolute frame numbers, so a partial or resumed render computes exactly the same
batches as a whole one and gives the same bits)::

    clip = Clip(path, fps=24, plan=plan)
    for frames, images in render_clip(model, clip, frames=range(0, clip.frames)):
        ...  # frames: [B] frame numbers; images: [B, 3, H, W] floats
"""
from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from netbend.bending import Bend, ResolvedPlan, bend, forward_hooks
from netbend.clusters import ClusterSet
from netbend.curves import Clock, value_at
from netbend.errors import NetbendError
from netbend.latent_path import LatentPath, frame_noise
from netbend.layers import find_layer
from netbend.layouts import check_transform
from netbend.plan import Plan
from netbend.selection import entry_rng, select_features
from netbend.timeselect import timed_selection
from netbend.transforms import get_transform


@dataclass(frozen=True)
class Clip:
    """Everything that decides a clip's frames (besides the model)."""

    path: LatentPath
    fps: float = 24.0
    plan: Plan = Plan()
    truncation: Any = 1.0  # a number or a curve
    noise: str = "const"
    seed: int = 0
    clusters: ClusterSet | None = None
    audio: Any = None  # netbend.audio_features.AudioFeatures
    view: Any = None  # StyleGAN3: (dx, dy, degrees), each a number or a curve (--translate/--rotate)
    noise_maps: tuple | None = None  # a noise file's maps, [1, 1, r, r] each: used instead of `noise`

    @property
    def frames(self) -> int:
        return self.path.frames

    @property
    def clock(self) -> Clock:
        return Clock(duration=self.frames / self.fps, audio=self.audio)

    def time(self, frame: int) -> float:
        return frame / self.fps


def resolve_frame(clip: Clip, model: Any, frame: int) -> ResolvedPlan:
    """The concrete bends of one frame of a clip."""
    return resolve_at(clip.plan, model, t=clip.time(frame), frame=frame, clock=clip.clock, seed=clip.seed,
                      clusters=clip.clusters)


def resolve_at(plan: Plan, model: Any, *, t: float, frame: int, clock: Clock, seed: int = 0,
               clusters: ClusterSet | None = None) -> ResolvedPlan:
    """The concrete bends at time t (frame ``frame``): the plan at t, selections drawn for the frame.

    An entry whose time-varying selection is empty at this moment is left out (no bend).
    """
    plan = plan.at(t, clock)
    bends = []
    for i, entry in enumerate(plan.transforms):
        where = f"{plan.source}: transforms[{i}]."
        info = find_layer(model, entry.layer, where=where)
        check_transform(entry.transform, dict(entry.params), info.layout, info.path, where)
        if entry.redraw is not None:
            idx = timed_selection(entry.redraw, entry.feature_param, info.channels, seed=seed,
                                  entry_index=i, frame=frame, t=t, clock=clock)
            if entry.except_:
                idx = np.setdiff1d(np.arange(info.channels, dtype=np.int64), idx)
        else:
            idx = select_features(entry, info.channels, rng=entry_rng(seed, 0, i),
                                  clusters=clusters, layer_path=info.path, where=where)
        if idx.size == 0:
            if entry.redraw is None:
                raise NetbendError(f"{where}features: the selection is empty")
            continue
        full = idx.size == info.channels and entry.features == "all"
        bends.append(Bend(info.path, entry.layer, get_transform(entry.transform), dict(entry.params),
                          None if full else tuple(int(j) for j in idx), info.layout))
    return ResolvedPlan(tuple(bends), seed, frame)


@contextmanager
def bend_frames(module: nn.Module, resolved: Sequence[ResolvedPlan]) -> Iterator[nn.Module]:
    """Like :func:`netbend.bending.bend` for a batch whose rows (frames) have their own bends.

    Rows with identical bends at a layer are transformed together in one call; a batch whose
    frames all share their bends takes exactly the ``bend`` path.
    """
    if all(r.bends == resolved[0].bends for r in resolved):
        with bend(module, resolved[0]):
            yield module
        return
    per_path: dict[str, list[tuple[Bend, ...]]] = defaultdict(lambda: [()] * len(resolved))
    for row, r in enumerate(resolved):
        for b in r.bends:
            per_path[b.path][row] = per_path[b.path][row] + (b,)
    with forward_hooks(module, {path: _rows_hook(path, rows) for path, rows in per_path.items()}):
        yield module


def _rows_hook(path: str, rows: list[tuple[Bend, ...]]):
    groups: list[tuple[tuple[Bend, ...], list[int]]] = []  # (bends, rows); Bends hold dicts: no hashing
    for i, bends in enumerate(rows):
        if bends:
            match = next((g for g in groups if g[0] == bends), None)
            groups.append((bends, [i])) if match is None else match[1].append(i)
    layout = groups[0][0][0].layout if groups else "NCHW"
    rank = 4 if layout == "NCHW" else 3

    def apply(_module: nn.Module, _inputs: Any, out: Any) -> torch.Tensor:
        if not isinstance(out, torch.Tensor) or out.dim() != rank:
            raise NetbendError(f"layer '{path}' does not output a {rank}-D ({layout}) tensor")
        for bends, members in groups:
            idx = torch.as_tensor(members, device=out.device)
            part = out.index_select(0, idx)  # [n, ...]: the frames (batch rows) that share these bends
            for b in bends:
                part = b.apply(part)
            out = out.index_copy(0, idx, part)
        return out

    return apply


def batches(frames: Iterable[int], batch_size: int) -> list[list[int]]:
    """Frame numbers grouped by their batch ``i // batch_size`` (aligned to absolute numbers)."""
    groups: dict[int, list[int]] = defaultdict(list)
    for f in sorted(set(frames)):
        groups[f // batch_size].append(f)
    return [groups[k] for k in sorted(groups)]


@torch.no_grad()
def render_batch(model: Any, clip: Clip, batch: int, batch_size: int) -> tuple[np.ndarray, torch.Tensor]:
    """Every frame of aligned batch number ``batch``: (frame numbers [B], images [B, 3, H, W])."""
    frames = np.arange(batch * batch_size, min((batch + 1) * batch_size, clip.frames))
    latents = clip.path.at(frames).to(model.device)
    w = model.mapping(latents) if clip.path.kind == "z" else latents
    psi = np.asarray(value_at(clip.truncation, frames / clip.fps, clip.clock), dtype=np.float64)
    if np.any(psi != 1.0):
        mean = model.mean_w if w.ndim == 2 else model.mean_w[:, None, :]
        shape = (-1,) + (1,) * (w.ndim - 1)
        w = mean + torch.from_numpy(psi.astype(np.float32)).to(w.device).reshape(shape) * (w - mean)
    noise = list(clip.noise_maps) if clip.noise_maps is not None else \
        frame_noise(clip.noise, clip.path, frames, model.module.noise_resolutions(), clip.seed)
    if isinstance(noise, list):
        noise = [n.to(model.device) for n in noise]
    resolved = [resolve_frame(clip, model, int(f)) for f in frames]
    if clip.view is not None:  # one input-layer view per frame
        dx, dy, rot = (np.asarray(value_at(v, frames / clip.fps, clip.clock), dtype=np.float64) for v in clip.view)
        model.set_view(np.stack([dx, dy], axis=1), rot)
    with bend_frames(model.module, resolved):
        images = model.module(w=w, noise=noise)
    return frames, images


def render_clip(model: Any, clip: Clip, frames: Iterable[int], *,
                batch_size: int = 8) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
    """Yield (frame numbers, images) for the requested frames, batch by aligned batch."""
    wanted = set(int(f) for f in frames)
    bad = [f for f in wanted if not 0 <= f < clip.frames]
    if bad:
        raise NetbendError(f"frame {min(bad)} is outside the clip (frames 0-{clip.frames - 1})")
    for group in batches(wanted, batch_size):
        numbers, images = render_batch(model, clip, group[0] // batch_size, batch_size)
        keep = np.isin(numbers, group)
        yield numbers[keep], images[torch.from_numpy(keep).to(images.device)]
