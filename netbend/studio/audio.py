"""The studio on the spectrogram VAE: the same stack bends a clip's decoder pass.

A clip is encoded once (``netbend.audio.autoencode.encode_audio``); each state decodes it with the
plan's bends (``reconstruct``, as ``netbend audio autoencode`` does) and yields the original, plain
and bent spectrograms (``netbend.audio.figures.colorize``) and the plain and bent audio as WAV.
"""
from __future__ import annotations

import io
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from netbend.audio.autoencode import Encoded, PhaseOptions, encode_audio, reconstruct
from netbend.audio.loudness import match_level, rms
from netbend.audio.figures import colorize
from netbend.audio.io import Audio, read_audio
from netbend.audio.synth import render_clip
from netbend.bending import resolve_plan
from netbend.clusters import ClusterSet, find_model_clusters, load_clusters
from netbend.errors import NetbendError
from netbend.layers import list_layers
from netbend.studio.engine import describe_layers, describe_transforms, png_bytes
from netbend.studio.state import StudioState

SYNTH_SEED, SYNTH_CLIPS, SYNTH_SECONDS = 2, 3, 3.0


@dataclass(frozen=True)
class AudioFrame:
    original: torch.Tensor  # unit spectrograms [frames, bins]
    plain: torch.Tensor
    bent: torch.Tensor
    plain_wav: bytes
    bent_wav: bytes
    bent_samples: np.ndarray
    ms: float
    selected: tuple[int, ...]


def wav_bytes(samples: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    """WAV as `netbend audio autoencode --out x.wav` writes it (clipped, 16-bit)."""
    buf = io.BytesIO()
    y = np.asarray(samples, dtype=np.float32).reshape(-1)
    if subtype == "PCM_16":
        y = np.clip(y, -1.0, 1.0)
    sf.write(buf, y, int(rate), format="WAV", subtype=subtype)
    return buf.getvalue()


class AudioEngine:
    """Loads the audio model (and clusters), holds clips, renders studio states as sound."""

    kind = "audio"

    def __init__(self, model_path: str | None = None, clusters_path: str | None = None,
                 device: str = "cpu"):
        from netbend.audio.model import load_audio_model

        self.lock = threading.RLock()
        self.model_path, self.device = model_path, device
        self.model = load_audio_model(model_path, device=device)
        self.clusters: ClusterSet | None = (load_clusters(clusters_path) if clusters_path
                                            else find_model_clusters(self.model, model_path))
        self.clusters_path = self.clusters.source if self.clusters is not None else None
        self.layers = list_layers(self.model)
        self.latent_files: dict[str, Path] = {}
        rate = self.model.spec.sample_rate
        self.clips: dict[str, Audio] = {}
        for i in range(SYNTH_CLIPS):
            y = render_clip(SYNTH_SEED, i, seconds=SYNTH_SECONDS, sample_rate=rate).astype(np.float32)
            self.clips[f"synth{i}"] = Audio(y, rate, rate, 1, y.size, f"synth{i}.wav")
        self._encoded: dict[str, Encoded] = {}
        self._plain: dict[tuple, tuple[torch.Tensor, bytes]] = {}

    def info(self) -> dict[str, Any]:
        return {"model": {"kind": "audio", "name": self.model.name, "path": self.model_path,
                          "hash": self.model.model_hash, "sample_rate": self.model.spec.sample_rate,
                          "paper_layers": {str(k): v for k, v in self.model.paper_layers.items()}},
                "layers": describe_layers(self.layers), "transforms": describe_transforms(),
                "clusters": {"source": self.clusters_path,
                             "layers": {k: [len(c) for c in v] for k, v in self.clusters.layers.items()}
                             if self.clusters else {}},
                "clips": [{"id": k, "seconds": round(a.seconds, 2), "name": Path(a.path).name}
                          for k, a in self.clips.items()]}

    def set_clusters(self, path: str) -> None:
        clusters = load_clusters(path)
        with self.lock:
            self.clusters, self.clusters_path = clusters, path

    def add_clip(self, path: Path, name: str) -> dict[str, Any]:
        audio = read_audio(path, self.model.spec.sample_rate)
        key = f"clip{len(self.clips)}"
        self.clips[key] = Audio(audio.samples, audio.sample_rate, audio.source_rate, audio.source_channels,
                                audio.source_frames, name)
        return {"id": key, "seconds": round(audio.seconds, 2), "name": name}

    def _clip(self, state: StudioState) -> Audio:
        if state.audio.clip not in self.clips:
            raise NetbendError(f"audio.clip: no clip '{state.audio.clip}' (clips: {', '.join(self.clips)})")
        return self.clips[state.audio.clip]

    def check(self, state: StudioState) -> None:
        resolve_plan(state.plan, self.model, seed=state.seed, variation=state.variation,
                     clusters=self.clusters)
        self._clip(state)

    def options(self, state: StudioState) -> PhaseOptions:
        return PhaseOptions(state.audio.phase, state.audio.iterations, 0.99, state.seed)

    def render(self, state: StudioState) -> AudioFrame:
        t0 = time.perf_counter()
        audio = self._clip(state)
        with self.lock:
            if state.audio.clip not in self._encoded:
                self._encoded[state.audio.clip] = encode_audio(self.model, audio)
            enc = self._encoded[state.audio.clip]
            resolved = resolve_plan(state.plan, self.model, seed=state.seed, variation=state.variation,
                                    clusters=self.clusters)
            options = self.options(state)
            level = rms(audio.samples)  # played as loud as the clip, as `audio autoencode` writes it
            y, unit = reconstruct(self.model, enc, resolved, options)
            y = match_level(y, level)[0]
            key = (state.audio.clip, options)
            if key not in self._plain:
                py, punit = reconstruct(self.model, enc, None, options)
                py = match_level(py, level)[0]
                self._plain[key] = (punit, wav_bytes(py, audio.source_rate))
            plain_unit, plain_wav = self._plain[key]
        selected = tuple(len(b.indices) if b.indices is not None else
                         next(i.channels for i in self.layers if i.path == b.path) for b in resolved.bends)
        return AudioFrame(enc.unit, plain_unit, unit, plain_wav, wav_bytes(y, audio.source_rate), y,
                          (time.perf_counter() - t0) * 1000, selected)

    @staticmethod
    def frame_parts(frame: AudioFrame) -> tuple[list[str], list[bytes]]:
        pngs = [png_bytes(np.ascontiguousarray(colorize(u))) for u in (frame.original, frame.plain, frame.bent)]
        return ["original", "plain", "bent", "plain.wav", "bent.wav"], pngs + [frame.plain_wav, frame.bent_wav]

    def png(self, state: StudioState) -> bytes:
        frame = self.render(state)
        return png_bytes(np.ascontiguousarray(colorize(frame.bent)), level=6)

    def export(self, state: StudioState) -> dict[str, Any]:
        """The plan, the clip (float WAV at the model's rate: read back exactly) and the
        `netbend audio autoencode` line that renders the same bent audio."""
        import yaml

        audio = self._clip(state)
        plan_yaml = yaml.safe_dump(state.plan_dict(), sort_keys=False, default_flow_style=None)
        clip = wav_bytes(audio.samples, audio.sample_rate, subtype="FLOAT")
        parts = ["netbend audio autoencode clip.wav --config plan.yaml"]
        if self.model_path:
            parts.append(f"--model {self.model_path}")
        if self.clusters_path and any(e.features == "cluster" for e in state.plan.transforms):
            parts.append(f"--clusters {self.clusters_path}")
        parts.append(f"--seed {state.seed} --variations {state.variation + 1}")
        parts.append(f"--phase {state.audio.phase} --iterations {state.audio.iterations} --out bent.wav")
        exact = audio.source_rate == audio.sample_rate
        name = "bent.wav" if state.variation == 0 else f"bent_var{state.variation:02d}.wav"
        return {"plan_yaml": plan_yaml, "command": " ".join(parts), "latent_npy": None, "clip_wav": clip,
                "image": name, "exact": exact}

    def add_latent_file(self, path: Path, kind: str) -> dict[str, Any]:
        raise NetbendError("latent files: the audio studio bends clips; upload a clip instead")
