"""The studio's renderer: a model, its cluster file, and the library calls the CLI makes.

No bending logic lives here: a state's plan is resolved by :func:`netbend.bending.resolve_plan`,
rendered by :func:`netbend.generate.render` at batch 1 (as ``netbend generate`` renders one
latent), latents come from :mod:`netbend.latents`, pictures from :mod:`netbend.media`. One lock
guards the model, because bends are hooks installed on it for the time of a render.
"""
from __future__ import annotations

import io
import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from PIL import Image

from netbend.bending import resolve_plan
from netbend.clusters import ClusterSet, find_model_clusters, load_clusters
from netbend.errors import NetbendError
from netbend.generate import render
from netbend.latents import Latents, from_file, walk
from netbend.layers import list_layers
from netbend.media import grid, to_uint8
from netbend.plan import Plan
from netbend.studio.state import StudioState
from netbend.transforms import TRANSFORMS



@dataclass(frozen=True)
class Frame:
    """One rendered state: bent and unbent images [H, W, C] uint8, the bent float output."""

    bent: np.ndarray
    plain: np.ndarray
    raw: torch.Tensor  # [1, C, H, W] float: what `netbend generate --raw` saves
    ms: float
    selected: tuple[int, ...]  # features each enabled entry bends
    grid: np.ndarray | None = None  # the state's variations grid, tiled [H', W', C]
    grid_count: int = 0


def png_bytes(image: np.ndarray, meta: dict[str, str] | None = None, level: int = 1) -> bytes:
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in (meta or {}).items():
        info.add_itxt(key, str(value))
    buf = io.BytesIO()
    Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image).save(
        buf, format="PNG", compress_level=level, pnginfo=info)
    return buf.getvalue()


class Engine:
    """Loads a model (and clusters) and renders studio states."""

    def __init__(self, model_path: str | None = None, clusters_path: str | None = None,
                 device: str = "cpu", workdir: Path | None = None):
        from netbend.models import load_model

        self.lock = threading.RLock()
        self.model_path = model_path
        self.device = device
        self.plugins: dict[str, Any] = {}  # {"plugins": [...]} when `netbend --plugin` loaded any
        self.model = load_model(model_path, device=device)
        if not hasattr(self.model, "synthesize"):
            raise NetbendError(f"--model {model_path}: {self.model.name} is an audio model; the studio "
                               "bends image generators")
        self.clusters: ClusterSet | None = (load_clusters(clusters_path) if clusters_path
                                            else find_model_clusters(self.model, model_path))
        self.clusters_path = self.clusters.source if self.clusters is not None else None
        self.layers = list_layers(self.model)
        self.workdir = workdir
        self.latent_files: dict[str, Path] = {}
        self._plain_key: Any = None
        self._plain: np.ndarray | None = None

    # -- description ---------------------------------------------------------------------------
    kind = "image"

    def info(self) -> dict[str, Any]:
        """What the page needs to build its controls: layers, transforms, clusters."""
        paper = self.model.paper_layers
        layers, transforms = describe_layers(self.layers), describe_transforms()
        clusters = {}
        if self.clusters is not None:
            clusters = {k: [len(c) for c in v] for k, v in self.clusters.layers.items()}
        return {"model": {"kind": "image", "name": self.model.name, "path": self.model_path, "hash": self.model.model_hash,
                          "resolution": self.model.resolution, "z_dim": self.model.z_dim,
                          "w_dim": self.model.w_dim, "num_ws": self.model.num_ws,
                          "paper_layers": {str(k): v for k, v in paper.items()}},
                "layers": layers, "transforms": transforms,
                "clusters": {"source": self.clusters_path, "layers": clusters}}

    # -- inputs --------------------------------------------------------------------------------
    def set_clusters(self, path: str) -> None:
        clusters = load_clusters(path)
        with self.lock:
            self.clusters, self.clusters_path = clusters, path

    def add_latent_file(self, path: Path, kind: str) -> dict[str, Any]:
        """Register an uploaded z / w / w+ .npy (checked now); returns its id and row count."""
        lat = from_file(self.model, path, kind)
        key = f"{kind}{len(self.latent_files)}"
        self.latent_files[key] = path
        return {"id": key, "kind": kind, "rows": len(lat), "shape": list(lat.values.shape)}

    def latents(self, state: StudioState) -> Latents:
        lat = state.latent
        if lat.file is None:
            return walk(self.model, lat.seeds, lat.walk)
        if lat.file not in self.latent_files:
            raise NetbendError(f"latent.file: no loaded latent file '{lat.file}'")
        every = from_file(self.model, self.latent_files[lat.file], lat.kind)
        if lat.row >= len(every):
            raise NetbendError(f"latent.row: the file has rows 0-{len(every) - 1}, got {lat.row}")
        return every.batch(lat.row, lat.row + 1)

    def check(self, state: StudioState) -> None:
        """Resolve the plan once, so bad layers, indices or clusters fail before rendering.

        Runs on the server's event loop without the model lock: resolving reads the cached layer
        table and draws indices, it never runs the model (so a long render does not block it)."""
        resolve_plan(state.plan, self.model, seed=state.seed, variation=state.variation,
                     clusters=self.clusters)
        self.latents(state)

    # -- rendering -----------------------------------------------------------------------------
    def _one(self, latents: Latents, plan: Plan, state: StudioState):
        resolved = resolve_plan(plan, self.model, seed=state.seed, variation=state.variation,
                                clusters=self.clusters)
        batch = next(render(self.model, latents, [resolved], truncation=state.latent.truncation,
                            noise=state.latent.noise, noise_seed=state.seed, batch_size=1))
        return batch.images, resolved

    def render(self, state: StudioState) -> Frame:
        t0 = time.perf_counter()
        with self.lock:
            latents = self.latents(state)
            images, resolved = self._one(latents, state.plan, state)
            key = (latents.values.numpy().tobytes(), latents.kind, state.latent.truncation,
                   state.latent.noise, state.seed if state.latent.noise == "random" else None)
            if key != self._plain_key or self._plain is None:
                plain, _ = self._one(latents, Plan(), state)
                self._plain, self._plain_key = to_uint8(plain)[0], key
            plain_img = self._plain
            tiles = [to_uint8(images)[0]] if state.grid else []  # variation v itself, then v+1, ...
            tiles += [to_uint8(self._one(latents, state.plan, state.model_copy(update={"variation": v}))[0])[0]
                      for v in range(state.variation + 1, state.variation + state.grid)]
        selected = tuple(len(b.indices) if b.indices is not None else self._channels(b.path)
                         for b in resolved.bends)
        mosaic = grid(tiles, cols=min(len(tiles), 8), pad=1) if tiles else None
        return Frame(to_uint8(images)[0], plain_img, images.float().cpu(),
                     (time.perf_counter() - t0) * 1000, selected, mosaic, len(tiles))

    @staticmethod
    def frame_parts(frame: Frame) -> tuple[list[str], list[bytes]]:
        """What a frame message carries: the bent and the unbent image as PNG."""
        kinds, parts = ["bent", "plain"], [png_bytes(frame.bent), png_bytes(frame.plain)]
        if frame.grid is not None:
            kinds.append("grid")
            parts.append(png_bytes(frame.grid))
        return kinds, parts

    def _channels(self, path: str) -> int:
        return next(info.channels for info in self.layers if info.path == path)

    # -- what generate writes ------------------------------------------------------------------
    def metadata(self, state: StudioState, frame: Frame) -> dict[str, Any]:
        """The PNG metadata `netbend generate` writes, for this state's image."""
        latents = self.latents(state)
        with self.lock:
            resolved = resolve_plan(state.plan, self.model, seed=state.seed, variation=state.variation,
                                    clusters=self.clusters)
        return {"model": str(self.model_path or "default"), "model_name": self.model.name,
                "model_hash": self.model.model_hash, "plan": "plan.yaml",
                "clusters": str(self.clusters_path) if self.clusters_path and _uses_clusters(state) else None,
                "seed": state.seed, "truncation": state.latent.truncation, "noise": state.latent.noise,
                "variations": state.variation + 1, **self.plugins,
                "latent": _label(latents),
                "latent_seed": latents.seeds[0], "variation": state.variation,
                "resolved_plan": resolved.to_plan_dict()}

    def png(self, state: StudioState) -> bytes:
        frame = self.render(state)
        return png_bytes(frame.bent, {"netbend": json.dumps(self.metadata(state, frame))}, level=6)

    def export(self, state: StudioState) -> dict[str, Any]:
        """The plan YAML, and the `netbend generate` line that renders this image from it.

        A latent that is not a plain seed (a walk between seeds, a loaded file) comes as z/w .npy
        bytes; variation v is image v of ``--variations v+1``.
        """
        latents = self.latents(state)
        plan_yaml = yaml.safe_dump(state.plan_dict(), sort_keys=False, default_flow_style=None)
        seed = latents.seeds[0]
        npy = None
        if seed is not None:
            source = f"--seeds {seed}"
        else:
            buf = io.BytesIO()
            np.save(buf, latents.values.cpu().numpy())
            npy = buf.getvalue()
            source = "--latents latent.npy" if latents.kind == "z" else "--w latent.npy"
        parts = [f"netbend generate --config plan.yaml {source}"]
        if self.model_path:
            parts.append(f"--model {self.model_path}")
        if self.clusters_path and _uses_clusters(state):
            parts.append(f"--clusters {self.clusters_path}")
        parts.append(f"--seed {state.seed} --variations {state.variation + 1}")
        parts.append(f"--truncation {state.latent.truncation!r} --noise {state.latent.noise}")
        name = f"{_label(latents)}_var{state.variation:02d}.png"
        return {"plan_yaml": plan_yaml, "command": " ".join(parts) + " --out out/studio",
                "latent_npy": npy, "image": name}


def describe_layers(layers) -> list[dict[str, Any]]:
    return [{"number": info.number, "path": info.path, "shape": list(info.shape),
             "features": info.channels, "resolution": info.shape[-1]} for info in layers]


def describe_transforms() -> list[dict[str, Any]]:
    """Every registered transform (user-registered ones included) and its parameters."""
    return [{"name": s.name, "description": s.description,
             "params": [{"name": p.name, "kind": p.kind.__name__, "min": p.min, "max": p.max,
                         "unit": p.unit, "doc": p.doc, "default": None if p.required else p.default,
                         "required": p.required} for p in s.params]}
            for s in sorted(TRANSFORMS.values(), key=lambda s: s.name)]


def open_engine(model_path: str | None = None, clusters_path: str | None = None, device: str = "cpu",
                audio: bool = False):
    """An :class:`Engine` for an image generator, or an AudioEngine for a spectrogram VAE file
    (``audio=True`` without a path: the built-in audio model)."""
    from netbend.audio.model import is_audio_model

    if audio or (model_path is not None and Path(model_path).exists() and is_audio_model(Path(model_path))):
        from netbend.studio.audio import AudioEngine

        return AudioEngine(model_path, clusters_path, device=device)
    return Engine(model_path, clusters_path, device=device)


def _label(latents: Latents) -> str:
    """The name `netbend generate` gives this latent: its seed's, or row 0 of the exported .npy."""
    return latents.labels[0] if latents.seeds[0] is not None else f"{latents.kind}0000"


def _uses_clusters(state: StudioState) -> bool:
    return any(e.features == "cluster" for e in state.plan.transforms)
