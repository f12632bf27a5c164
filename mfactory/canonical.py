"""The canonical asset fields (a contract) and their aliases, from versioned reference data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import yaml

from mfactory.settings import PACKAGE_DATA

FIELD_TYPES = ("text", "int", "float", "date", "tags")


@dataclass(frozen=True)
class CanonicalField:
    name: str
    type: str
    aliases: tuple[str, ...] = ()
    scaled: dict[str, float] = field(default_factory=dict)


def normalise_header(header: str) -> str:
    """``'*Memory (In MB)'`` -> ``'memory_in_mb'``: lower case, non-alphanumerics as ``_``."""
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


@lru_cache(maxsize=1)
def canonical_fields() -> dict[str, CanonicalField]:
    raw = yaml.safe_load((PACKAGE_DATA / "canonical_fields.yaml").read_text(encoding="utf-8"))
    fields = {}
    for name, spec in raw.items():
        if spec["type"] not in FIELD_TYPES:
            raise ValueError(f"canonical_fields.yaml: {name} has unknown type {spec['type']!r}")
        fields[name] = CanonicalField(
            name=name,
            type=spec["type"],
            aliases=tuple(str(a) for a in spec.get("aliases", [])),
            scaled={str(k): float(v) for k, v in (spec.get("scaled") or {}).items()},
        )
    return fields


CANONICAL_FIELDS: tuple[str, ...] = tuple(canonical_fields())
