"""Projection: find w (or w+) and noise maps that make a StyleGAN2 draw given images.

The method of NVlabs' stylegan2-ada projector, batched: start every image at the model's mean w
and at random unit noise maps; Adam with a warm-up / cosine ramp-down learning rate; Gaussian
noise added to w that decays to zero; the noise maps' autocorrelation penalised and each map
renormalised after every step. Each image's problem is independent (per-image losses are
summed; Adam is element-wise), so batching changes nothing but speed.

Example::

    model = load_model(None)
    result = project(model, targets)          # targets: [N, 3, 64, 64] in [-1, 1]
    images = render(model, result.w, result.noises)
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import torch

from netbend.errors import NetbendError
from netbend.projection import losses
from netbend.projection.config import ProjectionConfig
from netbend.projection.objective import FeatureNet, Objective
from netbend.projection.schedule import latent_noise_at, lr_at

W_STD_SAMPLES = 4096


@dataclass(frozen=True)
class StepReport:
    """What one optimisation step measured, per image: total loss, each term, PSNR (dB)."""

    step: int
    loss: torch.Tensor
    terms: dict[str, torch.Tensor]
    psnr: torch.Tensor
    images: torch.Tensor  # [N, 3, H, W], this step's synthesis (detached)


@dataclass
class Projection:
    """The best w/w+ [N, w_dim] / [N, num_ws, w_dim] and noise maps [N, 1, r, r] per image."""

    w: torch.Tensor
    noises: list[torch.Tensor]
    best_loss: torch.Tensor  # [N] image loss of the kept result
    best_step: list[int]
    steps_run: int
    stopped: str | None = None  # why the run stopped early, if it did
    history: list[dict] = field(default_factory=list)  # per step: mean loss, mean PSNR


def check_projectable(model) -> None:
    """Projection needs a StyleGAN2/3 with a mapping network (for the mean and spread of W).

    StyleGAN3 models have no noise inputs (only w is optimised); a conditional model projects
    with the class set by ``model.set_class``.
    """
    if not hasattr(model, "synthesize") or not hasattr(type(model), "mean_w"):
        raise NetbendError(f"model '{getattr(model, 'name', model)}' is not a StyleGAN2 image model; "
                           "projection needs one")
    depth = getattr(model.module, "n_mlp", None)
    if depth is None:
        depth = getattr(getattr(model.module, "mapping", None), "num_layers", 0)  # StyleGAN3
    if depth < 1:
        raise NetbendError(f"model '{model.name}' has no mapping network (0 mapping layers); projection "
                           "starts from the mean w and needs the mapping network to find it")


def w_stats(model) -> tuple[torch.Tensor, float]:
    """(mean w [1, w_dim], spread of W: sqrt of the summed per-dimension variance), seeded samples."""
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(W_STD_SAMPLES, model.z_dim, generator=gen).to(model.device)
    w = model.mapping(z)  # [S, w_dim], the model's class for a conditional model
    mean = model.mean_w
    return mean, float((w - mean).square().sum(1).mean().sqrt())


def render(model, w: torch.Tensor, noises: list[torch.Tensor]) -> torch.Tensor:
    """Images [N, 3, H, W] of w/w+ [N, ...] and noise maps [N or 1, 1, r, r], one image at a time.

    Batch 1 makes the pixels equal to ``netbend generate --w ... --noise-file ...``.
    """
    return torch.cat([model.synthesize(w=w[i:i + 1], noise=[n[i:i + 1] if len(n) > 1 else n for n in noises])
                      for i in range(len(w))])


def project(model, targets: torch.Tensor, config: ProjectionConfig = ProjectionConfig(), *,
            networks: Mapping[str, FeatureNet] | None = None, indices: list[int] | None = None,
            callback: Callable[[StepReport], None] | None = None) -> Projection:
    """Optimise w/w+ and noise maps so that ``model`` draws ``targets`` [N, 3, H, W] in [-1, 1].

    Image i's random draws (initial noise maps, latent noise) come from its own generator seeded
    with (``config.seed``, ``indices[i]``) (default: its position), so an image projects the same
    whatever else shares its batch (up to float rounding).
    """
    check_projectable(model)
    g = model.module
    if tuple(targets.shape[1:]) != (3, g.size, g.size):
        raise NetbendError(f"targets have shape {list(targets.shape)}; model '{model.name}' draws "
                           f"[N, 3, {g.size}, {g.size}]")
    targets = targets.to(model.device, torch.float32)
    objective = Objective(config.loss, targets, networks)
    n, device = len(targets), model.device
    rngs = [torch.Generator().manual_seed(config.seed * 1_000_003 + i) for i in (indices or range(n))]
    w_opt, noises, w_std = _start(model, rngs, config)
    shape = tuple(w_opt.shape)
    optimiser = torch.optim.Adam([w_opt] + (noises if config.optimise_noise else []), betas=(0.9, 0.999),
                                 lr=config.lr)
    best = Projection(w_opt.detach().clone(), [v.detach().clone() for v in noises],
                      torch.full((n,), math.inf, device=device), [-1] * n, 0)
    requires = [p.requires_grad for p in g.parameters()]
    g.requires_grad_(False)
    try:
        for step in range(config.steps):
            t = step / config.steps
            for group in optimiser.param_groups:
                group["lr"] = lr_at(t, config.lr, config.lr_rampup, config.lr_rampdown)
            sigma = w_std * latent_noise_at(t, config.latent_noise, config.latent_noise_ramp)
            w_in = w_opt + _draw(rngs, shape[1:], device) * sigma if sigma > 0 else w_opt
            images = g(w=w_in, noise=noises)
            image_loss, terms = objective(images)
            total = image_loss + config.noise_regularize * losses.noise_penalty(noises)
            if not torch.isfinite(total).all():
                best.stopped = f"the loss became NaN or infinite at step {step}; kept the best result so far"
                break
            _keep_best(best, image_loss.detach(), w_in.detach(), noises, step)
            optimiser.zero_grad(set_to_none=True)
            total.sum().backward()
            optimiser.step()
            if config.optimise_noise:
                losses.normalise_noise_(noises)
            best.steps_run = step + 1
            report = StepReport(step, image_loss.detach(), {k: v.detach() for k, v in terms.items()},
                                losses.psnr(images.detach(), targets), images.detach())
            best.history.append({"step": step, "loss": float(report.loss.mean()),
                                 "psnr": float(report.psnr.mean())})
            if callback:
                callback(report)
    finally:
        for p, r in zip(g.parameters(), requires):
            p.requires_grad_(r)
    return best


def _start(model, rngs: list[torch.Generator], config: ProjectionConfig):
    """(w [N, w_dim] or [N, num_ws, w_dim] at the mean w, unit noise maps [N, 1, r, r], spread of W)."""
    g, n = model.module, len(rngs)
    mean_w, w_std = w_stats(model)
    shape = (n, g.style_dim) if config.space == "w" else (n, g.n_latent, g.style_dim)
    w_opt = mean_w.reshape(1, *[1] * (len(shape) - 2), -1).expand(shape).clone().requires_grad_(True)
    noises = [_draw(rngs, (1, r, r), model.device).requires_grad_(config.optimise_noise)
              for r in g.noise_resolutions()]
    return w_opt, noises, w_std


def _draw(rngs: list[torch.Generator], shape: tuple[int, ...], device) -> torch.Tensor:
    """[N, *shape] standard normal, row i from generator i."""
    return torch.stack([torch.randn(shape, generator=r) for r in rngs]).to(device)


def _keep_best(best: Projection, loss: torch.Tensor, w: torch.Tensor, noises: list[torch.Tensor],
               step: int) -> None:
    better = loss < best.best_loss  # [N]
    if not better.any():
        return
    best.best_loss = torch.where(better, loss, best.best_loss)
    best.w[better] = w[better]
    for kept, v in zip(best.noises, noises):
        kept[better] = v.detach()[better]
    best.best_step = [step if b else s for b, s in zip(better.tolist(), best.best_step)]
