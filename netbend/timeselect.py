"""Feature selections that change over a clip (``redraw:`` in a plan entry with ``features: random``).

- ``redraw: K`` (a whole number): a new random draw every K frames (``1``: every frame). Draw d of
  entry e is the one ``generate`` makes for variation d, so a still of draw d is easy to re-render.
- ``redraw: ordered``: one random order of the layer's features, fixed for the clip; the first
  ``round(fraction * C)`` are selected, so as the fraction follows a curve, features join and leave
  one at a time.
- ``redraw: perlin`` or ``{perlin: 0.5, octaves: 2, seed: 0}``: each feature has its own 1-D Perlin
  noise over time (0.5 Hz here; default 1 Hz); at each moment the ``round(fraction * C)`` features
  whose noise is highest are selected (the threshold is the fraction's quantile). Loops with the clip.

Every choice depends on (run seed, entry, frame or time) alone: frame i is the same in any render.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from netbend.curves import Clock, fractal_noise, noise_gradients
from netbend.errors import NetbendError

REDRAW_MODES = ("every K frames", "ordered", "perlin")


@dataclass(frozen=True)
class Redraw:
    mode: str  # every | ordered | perlin
    every: int = 1
    frequency: float = 1.0
    octaves: int = 1
    seed: int = 0

    def to_yaml(self) -> Any:
        if self.mode == "every":
            return self.every
        if self.mode == "ordered":
            return "ordered"
        return {"perlin": self.frequency, "octaves": self.octaves, "seed": self.seed}


def parse_redraw(value: Any, features: str) -> Redraw:
    if isinstance(value, Redraw):
        return value
    if features != "random":
        raise NetbendError(f"only works with 'features: random' (got features: {features})")
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise NetbendError(f"a redraw interval is a whole number of frames >= 1, got {value}")
        return Redraw("every", every=value)
    if value == "ordered":
        return Redraw("ordered")
    if value == "perlin":
        return Redraw("perlin")
    if isinstance(value, Mapping) and "perlin" in value:
        unknown = [k for k in value if k not in ("perlin", "octaves", "seed")]
        if unknown:
            raise NetbendError(f"unknown key '{unknown[0]}' (keys: perlin, octaves, seed)")
        freq, octaves, seed = value["perlin"], value.get("octaves", 1), value.get("seed", 0)
        if isinstance(freq, bool) or not isinstance(freq, (int, float)) or freq <= 0:
            raise NetbendError(f"perlin: a frequency in Hz > 0, got {freq!r}")
        for name, v in (("octaves", octaves), ("seed", seed)):
            if isinstance(v, bool) or not isinstance(v, int) or v < (1 if name == "octaves" else 0):
                raise NetbendError(f"{name}: must be a whole number >= {1 if name == 'octaves' else 0}, got {v!r}")
        return Redraw("perlin", frequency=float(freq), octaves=octaves, seed=seed)
    raise NetbendError(f"must be a whole number of frames, 'ordered', 'perlin' or {{perlin: HZ}}, got {value!r}")


def timed_selection(redraw: Redraw, fraction: float, n_features: int, *, seed: int, entry_index: int,
                    frame: int, t: float, clock: Clock) -> np.ndarray:
    """Sorted int64 indices chosen at (frame, t); may be empty when the fraction rounds to 0."""
    from netbend.selection import entry_rng, random_count

    if redraw.mode == "every":
        rng = entry_rng(seed, frame // redraw.every, entry_index)
        chosen = rng.choice(n_features, size=random_count(fraction, n_features), replace=False)
        return np.unique(np.asarray(chosen, dtype=np.int64))
    count = int(round(fraction * n_features))
    if redraw.mode == "ordered":
        order = entry_rng(seed, 0, entry_index).permutation(n_features)
        return np.sort(order[:count]).astype(np.int64)
    grads = noise_gradients(_perlin_seed(seed, redraw.seed, entry_index), n_features, redraw.octaves)
    level = fractal_noise(np.full((1, n_features), float(t)), redraw.frequency, grads, clock.duration)[0]
    order = np.argsort(-level, kind="stable")  # highest noise first
    return np.sort(order[:count]).astype(np.int64)


def _perlin_seed(run_seed: int, seed: int, entry_index: int) -> int:
    return int(np.random.SeedSequence([int(run_seed), int(seed), int(entry_index)]).generate_state(1)[0])
