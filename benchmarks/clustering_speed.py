"""Clustering speed on the default model (CPU).

1. Per-sample clustering of every layer for one latent: one forward pass with capture hooks,
   each layer's maps through its CNN, k-means. Target: under 1 s of CPU time.
2. CNN training time per layer for both presets: seconds per optimiser step measured at each
   preset's map size, depth and batch size, times the preset's steps (latents x features /
   batch x epochs). With ``--timing runs/x/timing.json`` the measured wall/CPU time of a real
   default-preset run is printed beside the projection.

    python benchmarks/clustering_speed.py --cnn netbend/clustering/default_faces_cnn.safetensors
    python benchmarks/clustering_speed.py --cnn runs/faces/cnn --timing runs/faces/timing.json

Use ``--threads 1`` on a shared machine (the default): several threads fight for the cores.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F


def per_sample(model, cnn: str, repeats: int, seed: int) -> dict[str, float]:
    from netbend.clustering.embed import cluster_embeddings, embed_seeds, load_embedders

    emb = load_embedders(cnn)
    ks = {key: e.k for key, e in emb.items()}
    cpu, wall = [], []
    for r in range(repeats + 1):
        c0, w0 = time.process_time(), time.perf_counter()
        vectors = embed_seeds(model, emb, [seed + r])
        cluster_embeddings(vectors, ks, seed=0)
        if r:  # the first run warms up
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
    return {"layers": len(emb), "cpu_s_median": statistics.median(cpu),
            "wall_s_median": statistics.median(wall), "repeats": repeats}


def step_time(cfg, batch: int, steps: int = 2) -> float:
    from netbend.clustering.model import MetricCNN

    model = MetricCNN(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    x = torch.randn(batch, 1, cfg.in_height, cfg.in_width)
    y = torch.randint(0, cfg.n_features, (batch,))
    times = []
    for i in range(steps + 1):
        c0 = time.process_time()
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            times.append(time.process_time() - c0)
    return statistics.median(times)


def training(model, preset_name: str) -> list[dict[str, float]]:
    from netbend.clustering.model import CNNConfig
    from netbend.clustering.pipeline import describe
    from netbend.clustering.presets import get_preset

    preset = get_preset(preset_name)
    rows = []
    for row in describe(model, preset):
        cfg = CNNConfig(*row["size"], n_features=row["channels"], depth=row["depth"])
        per_step = step_time(cfg, row["batch_size"])
        steps = -(-preset.n_train * row["channels"] // row["batch_size"]) * preset.epochs
        rows.append({"layer": row["key"], "size": "x".join(map(str, row["size"])),
                     "depth": row["depth"], "batch": row["batch_size"], "steps": steps,
                     "s_per_step": per_step, "projected_cpu_s": per_step * steps})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model file (default: the built-in model)")
    ap.add_argument("--cnn", default=None, help="trained CNNs: folder of checkpoints or file")
    ap.add_argument("--timing", default=None, help="timing.json of a `cluster run`")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-training", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from netbend.models import load_model

    model = load_model(args.model)
    print(f"model {model.name} ({model.model_hash}), torch threads {torch.get_num_threads()}")
    if args.cnn:
        r = per_sample(model, args.cnn, args.repeats, seed=123)
        print(f"per-sample clustering, {r['layers']} layers, one latent: CPU {r['cpu_s_median']:.3f} s,"
              f" wall {r['wall_s_median']:.3f} s (median of {r['repeats']}); target CPU < 1 s")
    if args.skip_training:
        return
    real = json.load(open(args.timing))["layers"] if args.timing else {}
    for preset in ("default", "paper"):
        rows = training(model, preset)
        total = sum(r["projected_cpu_s"] for r in rows)
        print(f"\ntraining, preset {preset}: projected CPU time per layer (total {total:.0f} s "
              f"= {total / 3600:.2f} h)")
        print("layer  maps     depth  batch   steps   s/step  projected CPU s" +
              ("  measured CPU s / wall s" if real and preset == "default" else ""))
        for r in rows:
            extra = ""
            if real and preset == "default" and r["layer"] in real:
                m = real[r["layer"]]
                extra = f"  {m['cpu_s']:.1f} / {m['wall_s']:.1f}"
            print(f"{r['layer']:>5}  {r['size']:<8} {r['depth']:>5}  {r['batch']:>5}  {r['steps']:>6}  "
                  f"{r['s_per_step']:.3f}  {r['projected_cpu_s']:>14.1f}{extra}")


if __name__ == "__main__":
    from netbend.errors import run_script

    run_script(main)
