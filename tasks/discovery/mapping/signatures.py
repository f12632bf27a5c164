"""Known export formats (RVTools, AWS Migration Hub, Azure Migrate, Google Migration Center, ServiceNow).

Why: some meanings are facts about a vendor, not about the header text: RVTools writes
``Memory`` in MiB without saying so, and ``Provisioned MiB`` is not the disk capacity. When a
sheet's header row matches a known format, its documented column meanings and units take
precedence over what the evidence alone would suggest.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import yaml

from mfactory.canonical import canonical_fields
from mfactory.settings import PACKAGE_DATA
from tasks.discovery.mapping.headers import SIZE_UNITS
from tasks.discovery.mapping.knowledge import compact

MIN_DETECTED = 4


@dataclass(frozen=True)
class ColumnHint:
    field: str | None  # None: the column has no canonical field
    unit: str | None


@dataclass(frozen=True)
class FormatSignature:
    name: str
    title: str
    detect: frozenset[str]  # compact headers
    min_share: float
    columns: dict[str, ColumnHint]  # compact header -> hint

    def share(self, headers: list[str]) -> float:
        """Share of this format's typical headers present in ``headers``."""
        present = {compact(h) for h in headers} & self.detect
        if len(present) < MIN_DETECTED:
            return 0.0
        return len(present) / len(self.detect)

    def hint(self, header: str) -> ColumnHint | None:
        return self.columns.get(compact(header))


@lru_cache(maxsize=1)
def load_signatures() -> tuple[FormatSignature, ...]:
    """Every known format from ``format_signatures.yaml`` (validated against the contract)."""
    raw = yaml.safe_load((PACKAGE_DATA / "format_signatures.yaml").read_text(encoding="utf-8"))
    fields, units = set(canonical_fields()), set(SIZE_UNITS.values())
    signatures = []
    for name, spec in raw.items():
        columns = {}
        for header, hint in (spec.get("columns") or {}).items():
            field, unit = hint.get("field"), hint.get("unit")
            if field is not None and field not in fields:
                raise ValueError(f"format_signatures.yaml: {name}/{header}: unknown field {field!r}")
            if unit is not None and unit not in units:
                raise ValueError(f"format_signatures.yaml: {name}/{header}: unknown unit {unit!r}")
            columns[compact(str(header))] = ColumnHint(field=field, unit=unit)
        signatures.append(
            FormatSignature(
                name=name,
                title=str(spec.get("title", name)),
                detect=frozenset(compact(str(h)) for h in spec["detect"]),
                min_share=float(spec.get("min_share", 0.6)),
                columns=columns,
            )
        )
    return tuple(signatures)


def detect_format(headers: list[str], signatures: tuple[FormatSignature, ...]) -> FormatSignature | None:
    """The known format whose typical headers this sheet has most of (if enough of them)."""
    scored = [(s.share(headers), s) for s in signatures]
    scored = [(share, s) for share, s in scored if share >= s.min_share]
    return max(scored, key=lambda item: item[0])[1] if scored else None
