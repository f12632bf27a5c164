"""Recognise known export layouts (RVTools, AWS, Azure, Google, ServiceNow...) from table headers.

Clients rename files ("export (3).csv") but not the columns a tool writes, so the format is
decided from each table's header row against the signatures in ``import_formats.yaml``. The
result also says what each table is for (asset list, enrichment joined per asset, reference,
dependencies) and which unit each size column is in: headers often say it ("In Use MiB",
"RAM.TotalSizeInMB"), some formats only imply it (RVTools ``Memory`` is MiB), and old RVTools
writes ``MB`` where it means MiB. That evidence travels with the import so cleansing converts right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from mfactory.settings import PACKAGE_DATA

ASSETS, ENRICHMENT, REFERENCE, DEPENDENCIES = "assets", "enrichment", "reference", "dependencies"
ROLES = (ASSETS, ENRICHMENT, REFERENCE, DEPENDENCIES)
JOIN_HOWS = ("first", "sum", "mean", "max", "count", "pairs")


def header_key(header: str) -> str:
    """``'*Memory (In MB)'`` -> ``'memoryinmb'``: the form signatures are compared in."""
    return re.sub(r"[^a-z0-9%#]+", "", str(header).lower())


@dataclass(frozen=True)
class TableKind:
    """One table layout of a format (an RVTools tab, a Migration Center table...)."""

    format: str
    name: str
    role: str
    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    min_any: int = 1
    one_of: tuple[str, ...] = ()
    units: dict[str, str] = field(default_factory=dict)
    join: dict[str, Any] | None = None

    def score(self, keys: set[str]) -> int | None:
        """How many signature columns ``keys`` has, or None when the table is not of this kind."""
        if not all(header_key(c) in keys for c in self.all):
            return None
        hits = sum(header_key(c) in keys for c in self.any)
        if self.any and hits < self.min_any:
            return None
        if self.one_of and not any(header_key(c) in keys for c in self.one_of):
            return None
        return len(self.all) + hits


@dataclass(frozen=True)
class ExportFormat:
    name: str
    label: str
    source_kind: str
    other_tables: str
    mb_means_mib: bool
    tables: tuple[TableKind, ...]


@lru_cache(maxsize=1)
def export_formats() -> dict[str, ExportFormat]:
    raw = yaml.safe_load((PACKAGE_DATA / "import_formats.yaml").read_text(encoding="utf-8"))
    formats = {}
    for name, spec in raw.items():
        tables = []
        for table, t in spec["tables"].items():
            if t["role"] not in ROLES:
                raise ValueError(f"import_formats.yaml: {name}.{table} has unknown role {t['role']!r}")
            for column in (t.get("join") or {}).get("columns", []):
                if column["how"] not in JOIN_HOWS:
                    raise ValueError(
                        f"import_formats.yaml: {name}.{table} joins with unknown {column['how']!r}"
                    )
            tables.append(
                TableKind(
                    format=name,
                    name=table,
                    role=t["role"],
                    all=tuple(t.get("all", [])),
                    any=tuple(t.get("any", [])),
                    min_any=int(t.get("min_any", 1)),
                    one_of=tuple(t.get("one_of", [])),
                    units={str(k): str(v) for k, v in (t.get("units") or {}).items()},
                    join=t.get("join"),
                )
            )
        formats[name] = ExportFormat(
            name=name,
            label=spec["label"],
            source_kind=spec["source_kind"],
            other_tables=spec.get("other_tables", REFERENCE),
            mb_means_mib=bool(spec.get("mb_means_mib", False)),
            tables=tuple(tables),
        )
    return formats


# --- units ---------------------------------------------------------------------------------

_SIZE = r"(KiB|MiB|GiB|TiB|KB|MB|GB|TB)"
_UNIT_IN_HEADER = re.compile(
    rf"(?:(?<![A-Za-z])(?:In\s*)?{_SIZE}(?![a-z]))|(?:(?<=[a-z])(?:In)?{_SIZE}(?![a-z]))"
)
_RATE = re.compile(r"per\s*sec|persecond|/\s*s\b|\bps\b", re.IGNORECASE)
_PERCENT = re.compile(r"%|percent|pct", re.IGNORECASE)


def header_unit(header: str, *, mb_means_mib: bool = False) -> str | None:
    """The unit a header states: ``'In Use MiB'`` -> MiB, ``'CPU.UsagePct.Avg'`` -> %, else None."""
    if _PERCENT.search(header):
        return "%"
    found = _UNIT_IN_HEADER.search(header)
    if not found:
        return None
    unit = found.group(1) or found.group(2)
    if mb_means_mib and unit in ("KB", "MB", "GB", "TB"):
        unit = unit[0] + "iB"
    return f"{unit}/s" if _RATE.search(header) else unit


def column_units(
    headers: Sequence[str], fmt: ExportFormat | None, kind: TableKind | None
) -> dict[str, dict[str, str]]:
    """``{column: {"unit", "from"}}`` for every column whose unit is stated or implied."""
    implied = {header_key(k): v for k, v in (kind.units if kind else {}).items()}
    units: dict[str, dict[str, str]] = {}
    for header in headers:
        stated = header_unit(header, mb_means_mib=bool(fmt and fmt.mb_means_mib))
        if stated:
            said = header_unit(header)
            how = (
                "header"
                if said == stated
                else f"header says {said}; {fmt.label if fmt else ''} means {stated}"
            )
            units[header] = {"unit": stated, "from": how}
        elif header_key(header) in implied:
            label = f"{fmt.label} {kind.name}" if fmt and kind else "format"
            units[header] = {
                "unit": implied[header_key(header)],
                "from": f"{label}: unit implied by the format",
            }
    return units


# --- detection -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TablePlan:
    """What detection decided for one table."""

    name: str
    role: str
    kind: str | None
    units: dict[str, dict[str, str]]
    joins: tuple[dict[str, Any], ...] = ()

    @property
    def joined_columns(self) -> list[str]:
        return [c["as"] for j in self.joins for c in j["columns"]]


@dataclass(frozen=True)
class Detection:
    format: str  # a format name of import_formats.yaml, or the container (csv | xlsx | bundle)
    label: str
    source_kind: str | None  # inventory | dependencies for known formats
    tables: dict[str, TablePlan]


def _best_kind(keys: set[str]) -> TableKind | None:
    best: tuple[int, TableKind] | None = None
    for fmt in export_formats().values():
        for kind in fmt.tables:
            score = kind.score(keys)
            if score is not None and (best is None or score > best[0]):
                best = (score, kind)
    return best[1] if best else None


def _present(wanted: str | Sequence[str], by_key: dict[str, str]) -> str | None:
    """The actual header of the first of ``wanted`` (a name or alternatives) a table has."""
    for name in [wanted] if isinstance(wanted, str) else wanted:
        if header_key(name) in by_key:
            return by_key[header_key(name)]
    return None


def _resolve_join(
    asset_headers: Sequence[str], taken: set[str], sheet: str, headers: Sequence[str], join: dict[str, Any]
) -> dict[str, Any] | None:
    """The concrete join of one enrichment table onto the asset table, or None when no key fits."""
    mine = {header_key(h): h for h in asset_headers}
    theirs = {header_key(h): h for h in headers}
    for candidate in join["keys"]:
        if all(header_key(c) in mine and header_key(c) in theirs for c in candidate):
            on = [mine[header_key(c)] for c in candidate]
            sheet_on = [theirs[header_key(c)] for c in candidate]
            break
    else:
        return None
    columns = []
    for spec in join["columns"]:
        target = spec["as"]
        if header_key(target) in taken:
            continue
        if spec["how"] == "count":
            source: Any = None
        elif spec["how"] == "pairs":
            pair = [_present(c, theirs) for c in spec["source"]]
            if None in pair:
                continue
            source = pair
        else:
            source = _present(spec["source"], theirs)
            if source is None:
                continue
        taken.add(header_key(target))
        columns.append({"source": source, "as": target, "how": spec["how"]})
    if not columns:
        return None
    return {"sheet": sheet, "on": on, "sheet_on": sheet_on, "columns": columns}


def detect(tables: Sequence[tuple[str, Sequence[str]]], container: str) -> Detection:
    """Decide the format of a file from its tables' ``(name, headers)`` and plan every table."""
    kinds = {name: _best_kind({header_key(h) for h in headers}) for name, headers in tables}
    votes: dict[str, int] = {}
    for kind in kinds.values():
        if kind is not None:
            votes[kind.format] = votes.get(kind.format, 0) + 1 + (kind.role in (ASSETS, DEPENDENCIES))
    if not votes:
        plans = {
            name: TablePlan(name, ASSETS, None, column_units(headers, None, None)) for name, headers in tables
        }
        return Detection(format=container, label=f"{container.upper()} table", source_kind=None, tables=plans)

    fmt = export_formats()[max(votes, key=lambda f: (votes[f], -list(export_formats()).index(f)))]
    plans = {}
    for name, headers in tables:
        kind = kinds[name] if kinds[name] is not None and kinds[name].format == fmt.name else None  # type: ignore[union-attr]
        role = kind.role if kind else fmt.other_tables
        plans[name] = TablePlan(name, role, kind.name if kind else None, column_units(headers, fmt, kind))

    headers_of = dict(tables)
    for asset in [p for p in plans.values() if p.role == ASSETS]:
        taken = {header_key(h) for h in headers_of[asset.name]}
        joins = []
        for plan in plans.values():
            kind = kinds[plan.name]
            if plan.role != ENRICHMENT or kind is None or not kind.join:
                continue
            resolved = _resolve_join(
                headers_of[asset.name], taken, plan.name, headers_of[plan.name], kind.join
            )
            if resolved:
                joins.append(resolved)
        units = dict(asset.units)
        for join in joins:
            source_units = plans[join["sheet"]].units
            for column in join["columns"]:
                src = column["source"]
                if isinstance(src, str) and src in source_units and column["how"] != "count":
                    units[column["as"]] = {**source_units[src], "from": f"joined from {join['sheet']}.{src}"}
        plans[asset.name] = TablePlan(asset.name, ASSETS, asset.kind, units, tuple(joins))
    return Detection(format=fmt.name, label=fmt.label, source_kind=fmt.source_kind, tables=plans)
