"""What the mapper knows about the canonical fields, from the two versioned data files.

``canonical_fields.yaml`` is the contract (names, types, aliases, scaled aliases);
``mapping_fields.yaml`` adds what a mapper needs on top: a description to compare meanings,
the value kinds, ranges and units each field accepts. ``Knowledge.without`` withholds
header spellings, which is how the benchmark scores formats the mapper has never seen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

import yaml

from mfactory.canonical import canonical_fields, normalise_header
from mfactory.settings import PACKAGE_DATA
from tasks.discovery.mapping.headers import comparable_tokens, words
from tasks.discovery.mapping.profile import KINDS

DIMENSIONS = ("size", "percent", "rate_bytes", "rate_ops", "count", "date")


@dataclass(frozen=True)
class FieldKnowledge:
    name: str
    type: str
    description: str
    aliases: tuple[str, ...]  # normalised spellings (canonical_fields.yaml + mapping_fields.yaml)
    values: dict[str, float]  # value kind -> weight in [0, 1]; other kinds count against
    range: tuple[float, float] | None = None
    integer: bool = False
    distinct: str | None = None  # high | low
    dimension: str | None = None
    qualifier: str | None = None  # avg | peak
    aggregate: bool = False
    unit: str | None = None  # GiB for sizes

    def spellings(self) -> tuple[str, ...]:
        """The field name and every alias, as plain words."""
        return tuple(dict.fromkeys(words(s.replace("_", " ")) for s in (self.name, *self.aliases)))

    def token_sets(self) -> tuple[frozenset[str], ...]:
        return tuple(frozenset(comparable_tokens(s)) for s in self.spellings())


def compact(text: str) -> str:
    """Letters and digits only: ``'ip_address'`` and ``'IPAddress'`` both give ``'ipaddress'``."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


@dataclass(frozen=True)
class Knowledge:
    fields: tuple[FieldKnowledge, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @cached_property
    def vocabulary(self) -> frozenset[str]:
        """Every word of the fields' names, spellings and descriptions (to split run-together words)."""
        return frozenset(
            w
            for f in self.fields
            for text in (*f.spellings(), f.description)
            for w in text.split()
            if w.isalpha()
        )

    @cached_property
    def specificity(self) -> dict[str, float]:
        """Per value kind, 1 / the number of fields that take it fully: an IP says more than a word."""
        counts = {k: sum(1 for f in self.fields if f.values.get(k, 0.0) >= 0.8) for k in KINDS}
        return {k: 1.0 / c if c else 0.0 for k, c in counts.items()}

    def without(self, headers: list[str] | tuple[str, ...]) -> Knowledge:
        """The same knowledge minus every alias spelled like one of ``headers`` (field names stay)."""
        hidden = {compact(h) for h in headers}
        return Knowledge(
            tuple(
                replace(f, aliases=tuple(a for a in f.aliases if compact(a) not in hidden))
                for f in self.fields
            )
        )


def _check(name: str, spec: dict[str, object]) -> None:
    unknown = set(spec.get("values", {})) - set(KINDS)  # type: ignore[arg-type]
    if unknown:
        raise ValueError(f"mapping_fields.yaml: {name} lists unknown value kinds {sorted(unknown)}")
    if spec.get("dimension") not in (None, *DIMENSIONS):
        raise ValueError(f"mapping_fields.yaml: {name} has unknown dimension {spec.get('dimension')!r}")


@lru_cache(maxsize=1)
def load_knowledge() -> Knowledge:
    """Every canonical field with what the mapper knows about it (cached per process)."""
    extra = yaml.safe_load((PACKAGE_DATA / "mapping_fields.yaml").read_text(encoding="utf-8"))
    contract = canonical_fields()
    missing = sorted(set(contract) - set(extra))
    if missing:
        raise ValueError(f"mapping_fields.yaml: no entry for canonical fields {missing}")
    fields = []
    for name, canonical in contract.items():
        spec = extra[name]
        _check(name, spec)
        aliases = [
            *canonical.aliases,
            *canonical.scaled,
            *(normalise_header(a) for a in spec.get("aliases", [])),
        ]
        fields.append(
            FieldKnowledge(
                name=name,
                type=canonical.type,
                description=str(spec["description"]),
                aliases=tuple(dict.fromkeys(a for a in aliases if a != name)),
                values={str(k): float(v) for k, v in spec.get("values", {}).items()},
                range=tuple(spec["range"]) if spec.get("range") else None,  # type: ignore[arg-type]
                integer=bool(spec.get("integer", False)),
                distinct=spec.get("distinct"),
                dimension=spec.get("dimension"),
                qualifier=spec.get("qualifier"),
                aggregate=bool(spec.get("aggregate", False)),
                unit=spec.get("unit"),
            )
        )
    return Knowledge(tuple(fields))
