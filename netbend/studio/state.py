"""The studio's whole state as data: a plan's ``transforms:`` list plus a few fields.

One object seen three ways: what the page sends, a preset file, and (its enabled entries) the plan
YAML that ``netbend generate`` renders to the same image::

    model: null                # checkpoint path; null is the built-in model
    seed: 0                    # run seed: random selections and random noise
    variation: 0               # which random draw of the random selections
    grid: 0                    # also show this many variations from 'variation' on (0: none)
    latent: {seed: 0, walk: 0.0, walk_seeds: 4, truncation: 1.0, noise: const}
    audio: {clip: synth0, phase: original, iterations: 16}   # the spectrogram VAE only
    transforms:                # plan entries; 'enabled: false' keeps an entry but skips it
    - {layer: 2, transform: rotate, params: {angle: 45.0}, features: all, enabled: true}

Validation reuses :class:`netbend.plan.Plan`, so a bad entry reads exactly as the CLI words it.
"""
from __future__ import annotations

import json
from typing import Any, Literal, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from netbend.errors import NetbendError, closest
from netbend.plan import Plan

STATE_KEYS = ("model", "seed", "variation", "grid", "latent", "audio", "transforms", "format")
MAX_GRID = 16
FORMAT = "netbend-studio"
MAX_SEED = 2**32 - 1


class LatentState(BaseModel):
    """Where the latent comes from: a walk on a loop through seeds, or a row of a loaded .npy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = Field(0, ge=0, le=MAX_SEED)
    walk: float = Field(0.0, ge=0.0, le=1.0)
    walk_seeds: int = Field(4, ge=1, le=64)
    truncation: float = Field(1.0, ge=-4.0, le=4.0)
    noise: Literal["const", "random", "none"] = "const"
    file: str | None = None  # an uploaded latent's id (see Engine.add_latent_file)
    kind: Literal["z", "w"] = "z"
    row: int = Field(0, ge=0)

    @property
    def seeds(self) -> list[int]:
        return [(self.seed + k) % (MAX_SEED + 1) for k in range(self.walk_seeds)]


class AudioState(BaseModel):
    """For the spectrogram VAE: which clip, and how spectrograms become sound again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    clip: str = "synth0"
    phase: Literal["original", "griffinlim"] = "original"
    iterations: int = Field(16, ge=0, le=256)


class StudioState(BaseModel):
    """A validated studio state. ``plan`` holds the enabled entries, in order."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    model: str | None = None
    seed: int = 0
    variation: int = 0
    grid: int = 0  # also show this many variations, from ``variation`` on (0: none)
    latent: LatentState = LatentState()
    audio: AudioState = AudioState()
    entries: tuple[dict[str, Any], ...] = ()  # every entry as the page shows it (with 'enabled')
    plan: Plan = Plan(source="stack")

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "model": self.model, "seed": self.seed, "variation": self.variation,
                "grid": self.grid,
                "latent": self.latent.model_dump(), "audio": self.audio.model_dump(), "transforms": [dict(e) for e in self.entries]}

    def plan_dict(self) -> dict[str, Any]:
        """The plan of the enabled entries (what `netbend generate --config` reads)."""
        return self.plan.to_dict()


def parse_state(data: Any, source: str = "state") -> StudioState:
    """Validate a state mapping (from the page, a preset or OSC) or raise a one-line NetbendError."""
    if not isinstance(data, Mapping):
        raise NetbendError(f"{source}: a studio state is a mapping with keys {', '.join(STATE_KEYS)}")
    for key in data:
        if key not in STATE_KEYS:
            raise NetbendError(f"{source}: unknown key '{key}'" + closest(str(key), STATE_KEYS))
    for key, top in (("seed", MAX_SEED), ("variation", MAX_SEED), ("grid", MAX_GRID)):
        v = data.get(key, 0)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= top:
            raise NetbendError(f"{source}: {key}: must be a whole number 0-{top}, got {v!r}")
    latent = _section(LatentState, data, "latent", source)
    audio = _section(AudioState, data, "audio", source)
    model = data.get("model")
    if model is not None and not isinstance(model, str):
        raise NetbendError(f"{source}: model: must be a checkpoint path or null, got {model!r}")
    raw = data.get("transforms") or []
    if not isinstance(raw, list):
        raise NetbendError(f"{source}: transforms: must be a list of entries")
    entries, enabled = [], []
    for i, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise NetbendError(f"{source}: transforms[{i}]: each entry must be a mapping")
        entry = dict(entry)
        on = entry.pop("enabled", True)
        if not isinstance(on, bool):
            raise NetbendError(f"{source}: transforms[{i}].enabled: must be true or false, got {on!r}")
        entries.append(entry)
        enabled.append(on)
    every = Plan.from_dict({"transforms": entries}, source=source)  # words errors as the CLI does
    kept = tuple(e for e, on in zip(every.transforms, enabled) if on)
    shown = tuple({**_entry_dict(e), "enabled": on} for e, on in zip(every.transforms, enabled))
    return StudioState(model=model, seed=data.get("seed", 0), variation=data.get("variation", 0),
                       grid=data.get("grid", 0),
                       latent=latent, audio=audio, entries=shown, plan=Plan(transforms=kept, source=source))


def _section(cls: type[BaseModel], data: Mapping[str, Any], key: str, source: str) -> Any:
    try:
        return cls.model_validate(data.get(key) or {})
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise NetbendError(f"{source}: {key}.{where}: {first['msg']}") from None


def _entry_dict(entry: Any) -> dict[str, Any]:
    return Plan(transforms=(entry,)).to_dict()["transforms"][0]


def load_state_text(text: str, source: str) -> StudioState:
    """A state (preset) from YAML or JSON text; a plain plan file is a state with defaults."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise NetbendError(f"{source}: not valid YAML ({' '.join(str(err).split())})") from None
    if data is None:
        data = {}
    return parse_state(data, source)


def dump_state(state: StudioState) -> str:
    return yaml.safe_dump(state.to_dict(), sort_keys=False, default_flow_style=None)


def state_json(state: StudioState) -> str:
    return json.dumps(state.to_dict())
