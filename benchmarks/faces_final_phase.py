"""Which loss finishes a face-model run best: continue one checkpoint with several losses side by side.

Each variant loads the same ``checkpoint.pt`` of ``netbend faces train`` (weights, EMA, optimiser),
trains it for ``--minutes`` more at a constant learning rate with its own loss (``l1`` or ``l2``,
squared error) and part weight, one process and one torch thread each, all started together; then
the EMA weights are scored on held-out faces like ``netbend faces evaluate``. This is how the final
squared-error phase of the default recipe was chosen (README, "How the recipe was chosen").

    .venv/bin/python benchmarks/faces_final_phase.py --checkpoint runs/faces_v2/checkpoint.pt \\
        --data runs/faces_v2/data --faces 16384 --minutes 6 --lr 9e-4 \\
        --variant l1:4 --variant l1:0 --variant l2:4 --variant l2:1 --variant l2:0
"""
from __future__ import annotations

import argparse
import copy
import json
import multiprocessing
import time
from pathlib import Path

import torch
from faces_recipe import print_table, scores  # benchmarks/ is on sys.path when run as a script

from netbend.faces.dataset import build_cache, load_cache
from netbend.faces.params import latents_for_seeds
from netbend.faces.quality import evaluate
from netbend.faces.train import TrainConfig, _batch, _State, _update_ema, regression_loss
from netbend.models.wrapper import StyleGAN2Model


def run_variant(job: tuple[str, float, str, str, int, float, float, int]) -> dict:
    loss, part_weight, checkpoint, data, faces, minutes, lr, n_eval = job
    torch.set_num_threads(1)
    config = json.loads(torch.load(checkpoint, map_location="cpu", weights_only=True)["config"])
    known = TrainConfig.__dataclass_fields__  # older checkpoints may name options since removed
    cfg = TrainConfig(**{**{k: v for k, v in config.items() if k in known}, "threads": 1})
    state = _State(cfg)
    state.load(Path(checkpoint))
    seeds, images, labels = load_cache(build_cache(data, faces, cfg.size, workers=1))
    z, images, labels = latents_for_seeds(seeds), torch.from_numpy(images), torch.from_numpy(labels)
    for group in state.opt.param_groups:
        group["lr"] = lr
    start, steps = time.time(), 0
    while time.time() - start < minutes * 60:
        zb, target, weight = _batch(state, cfg, z, images, labels, part_weight)
        err = state.gen(zb, noise="none") - target
        value = regression_loss(err, weight, squared=loss == "l2")
        state.opt.zero_grad(set_to_none=True)
        value.backward()
        state.opt.step()
        _update_ema(state, cfg)
        state.step, steps = state.step + 1, steps + 1
    model = StyleGAN2Model(copy.deepcopy(state.ema), name="variant", mean_w=torch.zeros(1, state.ema.style_dim))
    result = evaluate(model, n=n_eval)
    return {"variant": f"{loss}, part weight {part_weight:g}", "steps": steps, **scores(result)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", required=True, help="checkpoint.pt of a faces train run.")
    ap.add_argument("--data", required=True, help="That run's folder of rendered faces (OUT/data).")
    ap.add_argument("--faces", type=int, required=True, help="How many training faces the run used.")
    ap.add_argument("--variant", action="append", required=True, help="LOSS:PART_WEIGHT, LOSS l1 or l2.")
    ap.add_argument("--minutes", type=float, default=6.0)
    ap.add_argument("--lr", type=float, default=9e-4)
    ap.add_argument("--n-eval", type=int, default=256)
    args = ap.parse_args()
    jobs = []
    for spec in args.variant:
        loss, _, weight = spec.partition(":")
        if loss not in ("l1", "l2"):
            ap.error(f"--variant {spec!r}: the loss must be l1 or l2")
        jobs.append((loss, float(weight or 0), args.checkpoint, args.data, args.faces, args.minutes, args.lr,
                     args.n_eval))
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        rows = pool.map(run_variant, jobs)
    print(f"{len(rows)} continuations side by side, {args.minutes:g} min each at lr {args.lr:g}, "
          f"{args.n_eval} held-out faces\n")
    print_table(rows, ("variant", "steps"))


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
