"""``--variant 'NAME=JSON'`` arguments of the recipe benchmarks, parsed once."""
from __future__ import annotations

import json


def parse_variants(specs: list[str]) -> list[tuple[str, dict]]:
    """``['name={"lr": 0.001}', ...]`` -> ``[('name', {'lr': 0.001}), ...]`` (no JSON: no fields)."""
    variants = []
    for spec in specs:
        name, _, fields = spec.partition("=")
        variants.append((name.strip(), json.loads(fields or "{}")))
    return variants
