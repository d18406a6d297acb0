"""How close a model's faces are to the renderer's, on held-out latents.

Measures, for the latents of the held-out seeds (:func:`netbend.faces.dataset.eval_seeds`) or others:

* **PSNR** (dB) of the model's 8-bit image against the renderer's, per image, then averaged;
* per part (eyes, nose, mouth), over the pixels the renderer labels as that part:
  - **colour class agreement**: each pixel's *colour class* is the nearest (RGB distance) entry of
    the face's palette, the list of flat colours the renderer painted for that face (sclera, iris,
    pupil, lips, nose, skin shades, ...); a pixel is right when the model's pixel has the same colour
    class as the renderer's pixel;
  - **part accuracy**: the part that the model pixel's colour class belongs to is the right part;
    the same classification applied to the renderer's own image gives the ceiling (anti-aliased
    edges and shading are not flat colours), reported beside it;
* **where the error is**: each label's share of the total squared error, beside its share of the
  pixels.
"""
from __future__ import annotations

import numpy as np
import torch

from netbend.faces.dataset import EVAL_SEED0, eval_seeds
from netbend.faces.params import params_from_latent
from netbend.faces.render import LABELS, render_face

PARTS = ("eyes", "nose", "mouth")


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Model output [N, 3, H, W] in about [-1, 1] -> uint8 [N, H, W, 3]."""
    x = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).cpu().numpy()


def psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image PSNR in dB of uint8 images [N, H, W, 3]."""
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).reshape(len(a), -1).mean(axis=1)
    return 10.0 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-10))


def colour_classes(image: np.ndarray, palette) -> tuple[np.ndarray, np.ndarray]:
    """(palette index [H, W], part label [H, W]) of each pixel's nearest palette colour."""
    colours = np.stack([c for c, _ in palette]) * 255.0  # [P, 3]
    owners = np.array([label for _, label in palette])
    d = ((image.astype(np.float32)[:, :, None, :] - colours[None, None]) ** 2).sum(-1)  # [H, W, P]
    index = d.argmin(axis=-1)
    return index, owners[index]


def model_images(model, z: torch.Tensor, batch: int = 64) -> np.ndarray:
    """uint8 [N, H, W, 3] faces of a model wrapper for latents z (constant noise)."""
    return np.concatenate([to_uint8(model.synthesize(z=z[i:i + batch], noise="const"))
                           for i in range(0, len(z), batch)])


def evaluate(model, n: int = 256, first_seed: int = EVAL_SEED0) -> dict:
    """Quality of ``model`` against the renderer on seeds ``first_seed ..`` (default: the ``n``
    held-out seeds; 0 scores the first training faces instead). See the module docs."""
    seeds = list(range(first_seed, first_seed + n))
    z = model.latents_from_seeds(seeds).cpu()
    fake = model_images(model, z.to(model.device))
    size = fake.shape[1]
    counts = {p: np.zeros(4) for p in PARTS}  # pixels, class agree, part right, ceiling right
    real = np.zeros_like(fake)
    error, area = np.zeros(len(LABELS)), np.zeros(len(LABELS))  # squared error, pixels per label
    for i, u in enumerate(params_from_latent(z)):
        real[i], labels, palette = render_face(u, size, palette=True)
        _tally(counts, real[i], fake[i], labels, palette)
        se = ((fake[i].astype(np.float64) - real[i]) ** 2).sum(-1)  # [H, W]
        error += np.bincount(labels.ravel(), se.ravel(), len(LABELS))
        area += np.bincount(labels.ravel(), minlength=len(LABELS))
    scores = psnr(fake, real)
    result = {"n": n, "seeds": f"{seeds[0]}-{seeds[-1]}", "held_out": first_seed >= EVAL_SEED0, "resolution": size,
              "psnr_mean_db": float(scores.mean()), "psnr_min_db": float(scores.min()),
              "psnr_of_mean_mse_db": float(10 * np.log10(255.0 ** 2 / np.mean(
                  ((fake.astype(np.float64) - real) ** 2)))), "parts": {},
              "error_share": {name: {"error": error[k] / error.sum(), "pixels": area[k] / area.sum()}
                              for k, name in enumerate(LABELS)}}
    for part, (pixels, agree, right, ceiling) in counts.items():
        result["parts"][part] = {"pixels": int(pixels), "colour_class_agreement": agree / pixels,
                                 "part_accuracy": right / pixels, "part_accuracy_renderer": ceiling / pixels}
    return result


def _tally(counts, real, fake, labels, palette) -> None:
    real_idx, real_part = colour_classes(real, palette)
    fake_idx, fake_part = colour_classes(fake, palette)
    for part in PARTS:
        k = LABELS.index(part)
        where = labels == k
        counts[part] += [where.sum(), (real_idx == fake_idx)[where].sum(), (fake_part == k)[where].sum(),
                         (real_part == k)[where].sum()]


def format_report(result: dict) -> str:
    """A Markdown table of an :func:`evaluate` result."""
    kind = "held-out seeds" if result["held_out"] else "seeds"
    lines = [f"{kind} {result['seeds']} ({result['n']} faces, {result['resolution']} px)",
             f"PSNR: mean {result['psnr_mean_db']:.2f} dB, min {result['psnr_min_db']:.2f} dB, "
             f"of the mean MSE {result['psnr_of_mean_mse_db']:.2f} dB", "",
             "| part | pixels | colour-class agreement | part accuracy (model) | part accuracy (renderer, ceiling) |",
             "|---|---|---|---|---|"]
    for part, r in result["parts"].items():
        lines.append(f"| {part} | {r['pixels']} | {r['colour_class_agreement']:.3f} | {r['part_accuracy']:.3f} "
                     f"| {r['part_accuracy_renderer']:.3f} |")
    lines += ["", "| label | share of the squared error | share of the pixels |", "|---|---|---|"]
    lines += [f"| {name} | {r['error']:.3f} | {r['pixels']:.3f} |" for name, r in result["error_share"].items()]
    return "\n".join(lines)


def comparison_grid(model, seeds=None, cols: int = 8) -> np.ndarray:
    """uint8 grid: a row of renderer faces above the model's faces, per group of ``cols`` seeds."""
    from netbend.media import grid

    seeds = list(seeds) if seeds is not None else eval_seeds(cols)
    z = model.latents_from_seeds(seeds)
    fake = model_images(model, z)
    size = fake.shape[1]
    real = np.stack([render_face(u, size)[0] for u in params_from_latent(z.cpu())])
    tiles = []
    for start in range(0, len(seeds), cols):
        tiles += list(real[start:start + cols]) + list(fake[start:start + cols])
    return grid(tiles, cols)
