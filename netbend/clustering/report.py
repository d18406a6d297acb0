"""Markdown tables of an evaluation report (see :mod:`netbend.clustering.evaluate`)."""
from __future__ import annotations

from typing import Any

import numpy as np

GROUPINGS = ("cnn", "raw", "random")


def _f(x: float) -> str:
    return "-" if x != x else f"{x:.2f}"


def summary_table(report: dict[str, Any]) -> str:
    """One row per layer: mean best-part alignment and edit locality (lift) per grouping."""
    head = ("| layer | features: cluster sizes | alignment CNN | raw k-means | random "
            "| locality CNN (lift) | raw k-means | random |")
    lines = [head, "|" + "---|" * 8]
    totals = {g: {"alignment": [], "locality": [], "lift": []} for g in GROUPINGS}
    for key, layer in report["layers"].items():
        s = layer["summary"]
        for g in GROUPINGS:
            for m in totals[g]:
                totals[g][m].append(s[g][m])
        sizes = layer["sizes"]
        lines.append(f"| {key} | {sum(sizes)}: {'/'.join(map(str, sizes))} | "
                     + " | ".join(_f(s[g]["alignment"]) for g in GROUPINGS) + " | "
                     + " | ".join(f"{_f(s[g]['locality'])} ({_f(s[g]['lift'])})" for g in GROUPINGS)
                     + " |")
    mean = {g: {m: float(np.nanmean(v)) for m, v in totals[g].items()} for g in GROUPINGS}
    lines.append("| **mean** | | " + " | ".join(f"**{_f(mean[g]['alignment'])}**" for g in GROUPINGS)
                 + " | " + " | ".join(f"**{_f(mean[g]['locality'])} ({_f(mean[g]['lift'])})**"
                                      for g in GROUPINGS) + " |")
    return "\n".join(lines)


def wins(report: dict[str, Any], metric: str = "alignment", over: str = "random") -> tuple[int, int]:
    """(layers where the CNN grouping scores higher than ``over`` on ``metric``, layers)."""
    layers = report["layers"].values()
    return (sum(l["summary"]["cnn"][metric] > l["summary"][over][metric] for l in layers),
            len(report["layers"]))


def cluster_table(report: dict[str, Any], grouping: str = "cnn") -> str:
    """Every cluster of ``grouping``: size, best part, alignment, locality, eyes scores."""
    lines = ["| layer | cluster | size | best part | alignment | locality (lift) "
             "| eyes alignment | eyes locality |", "|" + "---|" * 8]
    for key, layer in report["layers"].items():
        for s in layer["groupings"][grouping][0]:
            lines.append(f"| {key} | {s['cluster']} | {s['size']} | {s['best_part']} | "
                         f"{_f(s['alignment'])} | {_f(s['locality'])} ({_f(s['lift'])}) | "
                         f"{_f(s['eyes_alignment'])} | {_f(s['eyes_locality'])} |")
    return "\n".join(lines)


def eye_candidates(report: dict[str, Any], top: int = 5) -> list[tuple[str, int, float, float]]:
    """CNN clusters ranked by how much of their ablation's change lands on the eyes:
    (layer, cluster, eyes locality, eyes alignment)."""
    rows = [(key, s["cluster"], s["eyes_locality"], s["eyes_alignment"])
            for key, layer in report["layers"].items() for s in layer["groupings"]["cnn"][0]]
    rows.sort(key=lambda r: -(r[2] if r[2] == r[2] else -1))
    return rows[:top]


def markdown(report: dict[str, Any]) -> str:
    w_align, n = wins(report, "alignment")
    w_loc, _ = wins(report, "locality")
    w_lift, _ = wins(report, "lift")
    w_raw, _ = wins(report, "alignment", over="raw")
    eyes = eye_candidates(report)
    return "\n\n".join([
        f"Evaluation over {report['n_latents']} latents; random groups averaged over "
        f"{report['random_draws']} draws; raw k-means on {report['raw_latents']} latents' maps "
        f"downsampled to <= {report['raw_max_side']} px.",
        summary_table(report),
        f"CNN clusters beat random groups on alignment in {w_align}/{n} layers, on edit locality "
        f"in {w_loc}/{n} layers and on its lift in {w_lift}/{n} layers; they beat raw-map "
        f"k-means on alignment in {w_raw}/{n} layers.",
        "Clusters whose ablation changes the eyes most (layer, cluster, eyes locality, eyes "
        "alignment): " + "; ".join(f"{k}/{c}: {_f(l)}, {_f(a)}" for k, c, l, a in eyes),
        "Per cluster (CNN grouping):",
        cluster_table(report),
    ]) + "\n"


def plan_table(parts: dict[str, dict[str, float]]) -> str:
    """Mean pixel change of a plan on each part, elsewhere, and the ratio."""
    lines = ["| part | change on part | change elsewhere | ratio |", "|---|---|---|---|"]
    for name, r in parts.items():
        lines.append(f"| {name} | {r['inside']:.3f} | {r['outside']:.3f} | {r['ratio']:.2f} |")
    return "\n".join(lines)
