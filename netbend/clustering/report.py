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


def _q(values, lo: float = 5, hi: float = 95) -> str:
    v = np.asarray(values, dtype=float)
    return f"[{np.nanpercentile(v, lo):.3f}, {np.nanpercentile(v, hi):.3f}]"


def specificity_table(report: dict[str, Any]) -> str:
    """One row per layer: specificity of the CNN clusters (90% interval over latent resamples), of
    raw-map k-means, and of random groups (mean, and the 5-95% range over draws)."""
    lines = ["| layer | specificity CNN [90% over latents] | raw k-means | random mean [5-95% of draws] "
             "| CNN / random |", "|" + "---|" * 5]
    cnn_boot, rand_draws, raw, cnn = [], [], [], []
    for key, layer in report["layers"].items():
        s, boot = layer["summary"], layer.get("specificity_bootstrap") or {}
        c, r = s["cnn"]["specificity"], s["random"]["specificity"]
        cnn.append(c), raw.append(s["raw"]["specificity"])
        rand_draws.append(s["random"]["specificity_draws"])
        cnn_boot.append(boot.get("cnn", [[c]])[0])
        lines.append(f"| {key} | {c:.3f} {_q(cnn_boot[-1])} | {s['raw']['specificity']:.3f} | "
                     f"{r:.3f} {_q(rand_draws[-1])} | {c / r if r > 0 else float('nan'):.2f}x |")
    per_draw = np.nanmean(np.asarray(rand_draws, dtype=float), 0)   # [draws]: mean over layers
    boot_mean = np.nanmean(np.asarray(cnn_boot, dtype=float), 0)    # [resamples]
    c, r = float(np.nanmean(cnn)), float(np.nanmean(per_draw))
    lines.append(f"| **mean** | **{c:.3f}** {_q(boot_mean)} | **{float(np.nanmean(raw)):.3f}** | "
                 f"**{r:.3f}** {_q(per_draw)} | **{c / r if r > 0 else float('nan'):.2f}x** |")
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
    w_spec, _ = wins(report, "specificity")
    w_spec_raw, _ = wins(report, "specificity", over="raw")
    eyes = eye_candidates(report)
    return "\n\n".join([
        f"Evaluation over {report['n_latents']} latents; random groups averaged over "
        f"{report['random_draws']} draws; raw k-means on {report['raw_latents']} latents' maps "
        f"downsampled to <= {report['raw_max_side']} px.",
        summary_table(report),
        f"CNN clusters beat random groups on alignment in {w_align}/{n} layers, on edit locality "
        f"in {w_loc}/{n} layers and on its lift in {w_lift}/{n} layers; they beat raw-map "
        f"k-means on alignment in {w_raw}/{n} layers. Lift favours random groups: a small "
        "ablation's change gathers on the small, high-contrast eyes, so it is high without any "
        "part being owned.",
        "Specificity (total-variation distance of where a cluster's ablation changes the image, over "
        "the parts present in most faces, from where ablating the whole layer does):",
        specificity_table(report),
        f"CNN clusters beat random groups on specificity in {w_spec}/{n} layers and raw-map k-means "
        f"in {w_spec_raw}/{n} layers.",
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
