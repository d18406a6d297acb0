"""How well the unsupervised segments (``netbend.clustering.segments``) match the face renderer's
part masks on the built-in face model: mutual information between a pixel's segment and its part,
as a share of the parts' entropy (1: the segment tells the part; 0: nothing), over held-out
latents, and each segment's commonest parts.

The segments are fitted on the general-purpose latents the ``parts`` clustering method uses and
scored on the evaluation latents of ``netbend cluster evaluate``. ``--paths`` replaces the
feature layers (default: the library's choice, the middle of the generator).

Usage::

    python benchmarks/segments_vs_parts.py
    python benchmarks/segments_vs_parts.py --paths convs.3,convs.5,convs.7 --n-segments 12
"""
from __future__ import annotations

import argparse

import torch

from netbend.clustering import segments
from netbend.clustering.evaluate import EVAL_SEED_BASE, face_masks
from netbend.clustering.pipeline import GENERAL_SEED_BASE, SIGNATURE_LATENTS
from netbend.errors import run_script
from netbend.models import load_model


def information_share(seg: torch.Tensor, masks: torch.Tensor) -> tuple[float, torch.Tensor]:
    """Segment masks ``[N, S, H, W]`` and part masks ``[N, P, H, W]`` -> I(segment; part) / H(part)
    and the joint distribution ``[S, P]``."""
    joint = torch.einsum("nshw,nphw->sp", seg.double(), masks.double())
    joint = joint / joint.sum()
    ps, pp = joint.sum(1, keepdim=True), joint.sum(0, keepdim=True)
    mi = (joint * (joint / (ps * pp)).clamp_min(1e-30).log()).sum()
    hp = -(pp * pp.clamp_min(1e-30).log()).sum()
    return float(mi / hp), joint


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n-segments", type=int, default=segments.N_SEGMENTS)
    ap.add_argument("--fit-latents", type=int, default=SIGNATURE_LATENTS)
    ap.add_argument("--n-latents", type=int, default=32, help="held-out latents scored")
    ap.add_argument("--paths", default=None, help="comma list of feature layers (default: the library's)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    model = load_model(None)
    if args.paths:
        segments.feature_paths = lambda _model: args.paths.split(",")
    fit = list(range(GENERAL_SEED_BASE, GENERAL_SEED_BASE + args.fit_latents))
    held = list(range(EVAL_SEED_BASE, EVAL_SEED_BASE + args.n_latents))
    masks, parts = face_masks(model, held)
    seg, _ = segments.fit_segmenter(model, fit, tuple(masks.shape[-2:]), n_segments=args.n_segments)
    share, joint = information_share(seg.masks(model, held, tuple(masks.shape[-2:])), masks)
    print(f"features {', '.join(seg.paths)}; {args.n_segments} segments fitted on {len(fit)} latents; "
          f"scored on {len(held)} held-out latents")
    print(f"I(segment; part) / H(part) = {share:.3f}")
    for s in range(len(joint)):
        row = joint[s] / joint[s].sum().clamp_min(1e-30)
        top = ", ".join(f"{parts[p]} {float(row[p]):.2f}" for p in row.argsort(descending=True)[:3].tolist())
        print(f"  segment {s}: {float(joint[s].sum()):.3f} of the pixels; {top}")


if __name__ == "__main__":
    run_script(main)
