"""Image distances for projection, per image (no download): pixel L1/L2, MS-SSIM, noise penalty.

Every function takes images ``[N, C, H, W]`` in [-1, 1] and returns one value per image ``[N]``,
so a batch of projections is a sum of independent problems.
"""
from __future__ import annotations

import torch
from torch.nn import functional as F

# Wang, Simoncelli and Bovik (2003), MS-SSIM: per-scale exponents, finest scale first.
MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03


def l1(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference per image [N] (on the [-1, 1] scale)."""
    return (x - y).abs().flatten(1).mean(1)


def l2(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean squared difference per image [N] (on the [-1, 1] scale)."""
    return (x - y).square().flatten(1).mean(1)


def psnr(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """PSNR in dB per image [N], peak = the full [-1, 1] range (same as uint8 PSNR with peak 255)."""
    mse = ((x - y) / 2).square().flatten(1).mean(1)
    return 10 * torch.log10(1 / mse.clamp_min(1e-12))


def msssim_scales(resolution: int, window: int = SSIM_WINDOW) -> int:
    """How many MS-SSIM scales fit: the coarsest scale must still hold one whole window (<= 5)."""
    scales = 1
    while scales < len(MSSSIM_WEIGHTS) and resolution // 2 ** scales >= window:
        scales += 1
    return scales


def _gaussian(window: int, sigma: float, device, dtype) -> torch.Tensor:
    r = torch.arange(window, device=device, dtype=dtype) - (window - 1) / 2
    g = torch.exp(-r.square() / (2 * sigma ** 2))
    return g / g.sum()  # [window]


def _blur(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian filter, 'valid' borders: [N, C, H, W] -> [N, C, H-w+1, W-w+1]."""
    c = x.shape[1]
    x = F.conv2d(x, g.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, g.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def _ssim_parts(x: torch.Tensor, y: torch.Tensor, g: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(luminance * contrast-structure, contrast-structure), each averaged per image [N]; x, y in [0, 1]."""
    c1, c2 = SSIM_K1 ** 2, SSIM_K2 ** 2
    mx, my = _blur(x, g), _blur(y, g)
    sxx = _blur(x * x, g) - mx * mx
    syy = _blur(y * y, g) - my * my
    sxy = _blur(x * y, g) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    lum = (2 * mx * my + c1) / (mx * mx + my * my + c1)
    return (lum * cs).flatten(1).mean(1), cs.flatten(1).mean(1)


def msssim(x: torch.Tensor, y: torch.Tensor, scales: int | None = None) -> torch.Tensor:
    """Multi-scale SSIM per image [N] (1 = identical), at ``scales`` scales (default: all that fit).

    The standard exponents of the scales used are renormalised to sum to 1; negative contrast
    terms are clamped to 0 (as the usual differentiable implementations do). x, y in [-1, 1].
    """
    scales = scales or msssim_scales(min(x.shape[-2:]))
    weights = torch.tensor(MSSSIM_WEIGHTS[:scales], device=x.device, dtype=x.dtype)
    weights = weights / weights.sum()
    g = _gaussian(min(SSIM_WINDOW, *x.shape[-2:]), SSIM_SIGMA, x.device, x.dtype)
    x, y = (x + 1) / 2, (y + 1) / 2
    terms = []
    for s in range(scales):
        full, cs = _ssim_parts(x, y, g)
        terms.append((full if s == scales - 1 else cs).clamp_min(1e-6))
        if s < scales - 1:
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    return torch.prod(torch.stack(terms, 1) ** weights, 1)


def noise_penalty(noises: list[torch.Tensor]) -> torch.Tensor:
    """NVlabs' projector noise regulariser, per image [N].

    For each map [N, 1, r, r] and each octave down to 8x8 (2x2 average pooling between them):
    the squared mean of the map times itself shifted by one pixel, horizontally and vertically
    (with wrap-around). Zero for maps with no spatial autocorrelation at any scale.
    """
    total = 0
    for v in noises:
        while True:
            total = total + (v * v.roll(1, dims=3)).flatten(1).mean(1).square() \
                + (v * v.roll(1, dims=2)).flatten(1).mean(1).square()
            if v.shape[2] <= 8:
                break
            v = F.avg_pool2d(v, 2)
    return total


def normalise_noise_(noises: list[torch.Tensor]) -> None:
    """In place: each image's map to zero mean and unit mean square (NVlabs' projector, per step)."""
    with torch.no_grad():
        for v in noises:
            v -= v.mean(dim=(1, 2, 3), keepdim=True)
            v *= v.square().mean(dim=(1, 2, 3), keepdim=True).rsqrt()
