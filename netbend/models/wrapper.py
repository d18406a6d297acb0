"""``StyleGAN2Model``: the model wrapper that bending, layer listing and the CLI use.

Inference only: every call runs in eval mode under ``torch.no_grad``, float32.
Seeds follow the NVlabs convention: seed ``s`` gives ``np.random.RandomState(s).randn(z_dim)``
whatever the batch it is part of.
"""
from __future__ import annotations

import hashlib
from typing import Iterable

import numpy as np
import torch

from netbend.errors import NetbendError
from netbend.models.stylegan2 import Generator

MEAN_W_SAMPLES = 4096
MEAN_W_SEED = 0
NOISE_MODES = ("const", "random", "none")


def weights_hash(module: torch.nn.Module, length: int = 12) -> str:
    """Short hex SHA-256 of a module's state dict (names, dtypes, shapes and values)."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        t = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}:{t.dtype}:{tuple(t.shape)};".encode())
        digest.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return digest.hexdigest()[:length]


class StyleGAN2Model:
    """A StyleGAN2 generator plus what inference needs: mean latent, seeds, noise, truncation.

    Attributes: ``module`` (the :class:`Generator`), ``name``, ``source`` (file format it came
    from), ``paper_layers`` ({1: 'convs.0', ...}), ``z_dim``, ``w_dim``, ``num_ws``,
    ``resolution``, ``mean_w`` ([1, w_dim]), ``model_hash``.
    """

    def __init__(self, generator: Generator, name: str, mean_w: torch.Tensor | None = None,
                 source: str = "native"):
        self.module = generator.eval()
        self.name = name
        self.source = source
        self._mean_w = None if mean_w is None else mean_w.detach().reshape(1, -1).float()
        self.mean_w_from_checkpoint = mean_w is not None
        self._hash: str | None = None
        self.class_index: int | None = None  # conditional models: the class every latent is mapped with

    # -- description ---------------------------------------------------------------------------
    @property
    def z_dim(self) -> int:
        return self.module.z_dim

    @property
    def w_dim(self) -> int:
        return self.module.style_dim

    @property
    def num_ws(self) -> int:
        return self.module.n_latent

    @property
    def resolution(self) -> int:
        return self.module.size

    @property
    def paper_layers(self) -> dict[int, str]:
        return self.module.paper_layers

    @property
    def c_dim(self) -> int:
        """Number of classes of a conditional model (0: unconditional)."""
        return int(getattr(self.module, "c_dim", 0))

    @property
    def device(self) -> torch.device:
        return next(self.module.parameters()).device

    def set_class(self, index: int | None) -> None:
        """Map every latent with one-hot class ``index`` (conditional models only; None clears it)."""
        if index is not None and self.c_dim == 0:
            raise NetbendError(f"--class {index}: model '{self.name}' is unconditional (it has no classes)")
        if index is not None and not 0 <= int(index) < self.c_dim:
            raise NetbendError(f"--class {index}: model '{self.name}' has classes 0-{self.c_dim - 1}")
        self.class_index = None if index is None else int(index)

    @property
    def model_hash(self) -> str:
        if self._hash is None:
            self._hash = weights_hash(self.module)
        return self._hash

    @property
    def mean_w(self) -> torch.Tensor:
        """Mean latent [1, w_dim]: the checkpoint's, else the mean of 4096 seeded samples."""
        if self._mean_w is None:
            gen = torch.Generator().manual_seed(MEAN_W_SEED)
            z = torch.randn(MEAN_W_SAMPLES, self.z_dim, generator=gen).to(self.device)
            self._mean_w = self.mapping(z).mean(0, keepdim=True)
        return self._mean_w.to(self.device)

    def __repr__(self) -> str:
        return (f"StyleGAN2Model(name={self.name!r}, resolution={self.resolution}, z_dim={self.z_dim}, "
                f"w_dim={self.w_dim}, layers={len(self.paper_layers)}, hash={self.model_hash})")

    def to(self, device) -> "StyleGAN2Model":
        self.module.to(device)
        if self._mean_w is not None:
            self._mean_w = self._mean_w.to(device)
        return self

    # -- inference -----------------------------------------------------------------------------
    def latents_from_seeds(self, seeds: Iterable[int]) -> torch.Tensor:
        """Z [N, z_dim] with row i = ``np.random.RandomState(seeds[i]).randn(z_dim)``."""
        rows = [np.random.RandomState(int(s)).randn(self.z_dim) for s in seeds]
        if not rows:
            raise NetbendError("no seeds given")
        return torch.from_numpy(np.stack(rows)).float().to(self.device)

    def mapping(self, z: torch.Tensor) -> torch.Tensor:
        """Z [N, z_dim] -> W [N, w_dim]."""
        z = self._check(z, "z", (self.z_dim,))
        with torch.no_grad():
            if self.c_dim == 0:
                return self.module.mapping(z)
            return self.module.mapping(z, self._one_hot(z.shape[0]))

    def synthesize(self, z: torch.Tensor | None = None, w: torch.Tensor | None = None,
                   truncation: float = 1.0, noise="const", noise_seed: int = 0) -> torch.Tensor:
        """Images [N, 3, H, W] (float, roughly [-1, 1]) from ``z`` or ``w``.

        ``w`` is [N, w_dim] or w+ [N, num_ws, w_dim]. ``truncation`` psi pulls W towards
        :attr:`mean_w` (w' = mean + psi * (w - mean); psi = 1 leaves W untouched). ``noise``:
        ``const`` (the stored noise maps), ``random`` (drawn from a CPU generator seeded with
        ``noise_seed``, [N, 1, H, W] per layer), ``none`` (no noise), or a list of maps, one per
        noise input, [N or 1, 1, r, r] (e.g. a projection's, :func:`load_noise_file`).
        """
        if (z is None) == (w is None):
            raise NetbendError("synthesize needs exactly one of z or w")
        if w is None:
            w = self.mapping(z)
        else:
            w = self._check(w, "w", (self.w_dim,), (self.num_ws, self.w_dim))
        if truncation != 1.0:
            mean = self.mean_w if w.ndim == 2 else self.mean_w[:, None, :]
            w = mean + truncation * (w - mean)
        noises = self._noise(noise, w.shape[0], noise_seed)
        with torch.no_grad():
            return self.module(w=w, noise=noises)

    def dry_run(self) -> torch.Tensor:
        """One batch-1 forward pass (seed 0, constant noise), for layer discovery (a conditional
        model without a chosen class uses class 0: shapes do not depend on it)."""
        if self.c_dim == 0 or self.class_index is not None:
            return self.synthesize(z=self.latents_from_seeds([0]))
        self.class_index = 0
        try:
            return self.synthesize(z=self.latents_from_seeds([0]))
        finally:
            self.class_index = None

    def layer_shapes(self) -> list[tuple[str, tuple[int, ...]]] | None:
        """What :meth:`dry_run` would record, from the architecture's own table; None when the
        generator is not exactly netbend's :class:`Generator` (then the real pass is run)."""
        return self.module.layer_shapes() if type(self.module) is Generator else None

    # -- helpers -------------------------------------------------------------------------------
    def _one_hot(self, batch: int) -> torch.Tensor:
        if self.class_index is None:
            raise NetbendError(f"model '{self.name}' is conditional ({self.c_dim} classes): "
                               f"give --class K (0-{self.c_dim - 1})")
        c = torch.zeros(batch, self.c_dim, device=self.device)
        c[:, self.class_index] = 1
        return c  # [N, c_dim]

    def _noise(self, mode, batch: int, seed: int):
        if isinstance(mode, (list, tuple)):
            return self._check_noise_maps(mode, batch)
        if mode not in NOISE_MODES:
            raise NetbendError(f"unknown noise mode '{mode}'; expected one of {', '.join(NOISE_MODES)}")
        if mode != "random":
            return mode
        gen = torch.Generator().manual_seed(int(seed))
        return [torch.randn(batch, 1, r, r, generator=gen).to(self.device)
                for r in self.module.noise_resolutions()]

    def _check_noise_maps(self, maps, batch: int) -> list[torch.Tensor]:
        res = self.module.noise_resolutions()
        if len(maps) != len(res):
            raise NetbendError(f"{len(maps)} noise maps given; model '{self.name}' has {len(res)} noise inputs")
        out = []
        for i, (m, r) in enumerate(zip(maps, res)):
            m = torch.as_tensor(m, dtype=torch.float32).to(self.device)
            if m.ndim != 4 or m.shape[0] not in (1, batch) or tuple(m.shape[1:]) != (1, r, r):
                raise NetbendError(f"noise map {i} has shape {list(m.shape)}; model '{self.name}' expects "
                                   f"[{'1' if batch == 1 else f'{batch} or 1'}, 1, {r}, {r}]")
            out.append(m)
        return out

    def _check(self, x, label: str, *shapes: tuple[int, ...]) -> torch.Tensor:
        x = torch.as_tensor(x, dtype=torch.float32).to(self.device)
        if not any(x.ndim == len(s) + 1 and tuple(x.shape[1:]) == s for s in shapes):
            want = " or ".join(str([None, *s]) for s in shapes)
            raise NetbendError(f"{label} has shape {list(x.shape)}; model '{self.name}' expects {want}")
        return x


class StyleGAN3Model(StyleGAN2Model):
    """A StyleGAN3 generator (:mod:`netbend.models.stylegan3`) with the same inference interface.

    It has no noise inputs (``noise`` is accepted and changes nothing). :meth:`set_view` moves the
    whole image by transforming the Fourier features of the input layer.
    """

    def set_view(self, translate=(0.0, 0.0), rotate=0.0) -> None:
        """Translate / rotate the image like NVlabs ``gen_images.py --translate DX,DY --rotate DEG``.

        Rotation by ``rotate`` degrees, then translation by ``translate`` in the input's
        coordinate units (the grid spans the image; NVlabs' convention); the input layer gets the
        inverse of that transform. ``(0, 0), 0`` restores the checkpoint's own transform. Arrays
        (``translate`` [N, 2], ``rotate`` [N]) give each sample of the next batch its own view.
        """
        shift = np.asarray(translate, dtype=np.float64).reshape(-1, 2)  # [B, 2]
        angle = np.deg2rad(np.asarray(rotate, dtype=np.float64).reshape(-1))  # [B]
        if not shift.any() and not angle.any():
            self.module.input.view = None
            return
        b = max(len(shift), len(angle))
        shift, angle = np.broadcast_to(shift, (b, 2)), np.broadcast_to(angle, (b,))
        m = np.tile(np.eye(3), (b, 1, 1))  # [B, 3, 3]
        m[:, 0, 0], m[:, 0, 1], m[:, 0, 2] = np.cos(angle), np.sin(angle), shift[:, 0]
        m[:, 1, 0], m[:, 1, 1], m[:, 1, 2] = -np.sin(angle), np.cos(angle), shift[:, 1]
        view = torch.from_numpy(np.linalg.inv(m)).float().to(self.device)
        self.module.input.view = view[0] if b == 1 else view

    def __repr__(self) -> str:
        return super().__repr__().replace("StyleGAN2Model", "StyleGAN3Model", 1)
