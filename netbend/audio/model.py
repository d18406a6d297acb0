"""The audio model wrapper: a trained :class:`SpectrogramVAE` plus its spectrogram config.

A model file is one ``.safetensors`` file: the weights, and under the metadata
key ``netbend`` a JSON object ``{"format": "netbend.spectrogram_vae", "version": 1,
"size", "latent", "name", "spec": {sample_rate, n_fft, hop, frames, db_ref,
db_floor}}``. A folder holding ``model.safetensors`` is accepted in place of the file.
Loading never runs code from the file. The wrapper is what plans, bending and
``netbend layers`` work with: ``.module`` is the whole VAE, the bendable layers
are ``decoder.deconv1`` ... ``decoder.deconv5`` (paper layers 1-5) and
``.dry_run()`` decodes one latent so hooks on the decoder fire.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from netbend.audio.spectrogram import SpecConfig
from netbend.audio.vae import LATENT, SIZES, SpectrogramVAE
from netbend.devices import pick_device
from netbend.errors import NetbendError
from netbend.fileio import atomic_path

DEFAULT_MODEL = Path(__file__).parent / "default" / "model.safetensors"
FORMAT = "netbend.spectrogram_vae"
META_KEY = "netbend"


class AudioModel:
    """A spectrogram VAE ready for autoencoding, sampling and bending."""

    paper_layers = {k: f"decoder.deconv{k}" for k in range(1, 6)}

    def __init__(self, vae: SpectrogramVAE, spec: SpecConfig, name: str = "spectrogram-vae",
                 model_hash: str = "", device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.module = vae.to(self.device).eval()  # eval: batch norm uses its running statistics
        self.spec = spec
        self.name = name
        self.model_hash = model_hash or _state_hash(vae.state_dict())

    @property
    def size(self) -> str:
        return self.module.size

    @property
    def latent(self) -> int:
        return self.module.encoder.latent

    @torch.no_grad()
    def encode(self, spec: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Unit spectrogram windows [N, 128, 513] (or [N, 1, 128, 513]) -> (mean, logvar) [N, latent]."""
        x = spec.reshape(-1, 1, self.spec.frames, self.spec.bins).to(self.device, torch.float32)
        return self.module.encoder(x)

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents [N, latent] -> unit spectrogram windows [N, 128, 513]."""
        out = self.module.decoder(z.to(self.device, torch.float32))  # [N, 1, 128, 513]
        return out[:, 0]

    def latents_from_seeds(self, seeds: list[int]) -> torch.Tensor:
        """One standard-normal latent per seed: [len(seeds), latent], independent of device."""
        z = [torch.randn(self.latent, generator=torch.Generator().manual_seed(int(s))) for s in seeds]
        return torch.stack(z).to(self.device)

    @torch.no_grad()
    def run_seeds(self, seeds: list[int]) -> torch.Tensor:
        """Decode the latents of ``seeds`` (used by clustering to capture activations)."""
        return self.decode(self.latents_from_seeds(seeds))

    @torch.no_grad()
    def dry_run(self) -> torch.Tensor:
        """Decode one zero latent (batch 1) so hooks on decoder layers fire."""
        return self.module.decoder(torch.zeros(1, self.latent, device=self.device))

    def config(self) -> dict:
        return {"format": FORMAT, "version": 1, "size": self.size,
                "latent": self.latent, "name": self.name, "spec": self.spec.to_dict()}

    def save(self, path: str | os.PathLike, half: bool = False) -> Path:
        """Write weights + config to one safetensors file, atomically."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().cpu().contiguous() for k, v in self.module.state_dict().items()}
        if half:
            state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        with atomic_path(path) as tmp:
            save_file(state, str(tmp), metadata={META_KEY: json.dumps(self.config())})
        return path


def _state_hash(state: dict) -> str:
    h = hashlib.sha256()
    for key in sorted(state):
        h.update(key.encode())
        h.update(state[key].detach().cpu().float().numpy().tobytes())
    return h.hexdigest()[:12]


def is_audio_model(path: str | os.PathLike) -> bool:
    """True when ``path`` (file or folder) is a netbend spectrogram VAE file."""
    try:
        _read_config(Path(path) / "model.safetensors" if Path(path).is_dir() else Path(path))
        return True
    except (NetbendError, SafetensorError, OSError, ValueError):
        return False


def _read_config(path: Path) -> dict:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    try:
        config = json.loads(meta[META_KEY])
    except (KeyError, ValueError):
        raise NetbendError(f"{path}: not a netbend model file (no '{META_KEY}' metadata)") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise NetbendError(f"{path}: not a spectrogram VAE model (format {config.get('format')!r})")
    if config.get("size") not in SIZES:
        raise NetbendError(f"{path}: unknown model size {config.get('size')!r}; known: {', '.join(SIZES)}")
    return config


def load_audio_model(path: str | os.PathLike | None = None, device: str = "auto") -> AudioModel:
    """Load a model file (None: the built-in default model)."""
    path = Path(path) if path is not None else DEFAULT_MODEL
    if path.is_dir():
        path = path / "model.safetensors"
    if not path.is_file():
        raise NetbendError(f"{path}: no such model file")
    try:
        config = _read_config(path)
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as err:
        raise NetbendError(f"{path}: cannot read model file ({err})") from None
    vae = SpectrogramVAE(config["size"], int(config.get("latent", LATENT)))
    try:
        vae.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    except RuntimeError as err:
        raise NetbendError(f"{path}: weights do not match a '{config['size']}' model "
                           f"({str(err).splitlines()[0]})") from None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return AudioModel(vae, SpecConfig.from_dict(config["spec"]), config.get("name", path.stem),
                      digest, pick_device(device))
