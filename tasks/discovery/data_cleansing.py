"""Turn mapped string columns into typed canonical values, column by column (vectorised).

A bad cell (``"abc"`` as cores) is dropped to NULL and reported; a row that cannot be an
asset at all (no name of any kind) is rejected and reported. Both go to the errors file
with file row, column, value and reason; every other row goes on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from db.models import DataImport
from db.models.assets import SIX_R
from db.repositories.imports import load_problems, mark_problems
from mfactory.canonical import canonical_fields
from tasks.discovery.asset_sheets import is_asset_sheet, sheet_frame
from tasks.discovery.attribute_mapping import ColumnMapping, stored_mappings
from tasks.discovery.errors_file import errors_file_path, write_errors_file
from tasks.discovery.imports_of_run import INVENTORY, run_imports
from tasks.discovery.mapping_review import apply_mapping_answers
from tasks.phases import DISCOVERY, PhaseContext
from tasks.steps import step_task

VALUE_DROPPED = "value_dropped"
ROW_REJECTED = "row_rejected"

ASSET_TYPE_WORDS = {
    "virtual_machine": ("vm", "virtual", "virtual_machine", "virtual machine", "guest"),
    "server": ("server", "physical", "host", "baremetal", "bare metal"),
    "database": ("database", "db", "dbms", "sql"),
    "application": ("application", "app", "service", "software"),
    "network_device": ("network", "router", "switch", "firewall"),
    "storage": ("storage", "san", "nas"),
    "container": ("container", "pod", "kubernetes"),
    "load_balancer": ("load_balancer", "load balancer", "lb"),
}
ENVIRONMENT_WORDS = {
    "production": ("prod", "production", "prd", "live", "p"),
    "staging": ("staging", "stage", "stg", "preprod", "pre-prod"),
    "test": ("test", "tst", "qa", "uat", "testing"),
    "development": ("dev", "development", "develop", "sandbox"),
    "dr": ("dr", "disaster recovery", "disaster_recovery"),
}
CRITICALITY_WORDS = {
    "low": ("low", "4", "tier 4", "tier4"),
    "medium": ("medium", "med", "moderate", "3", "tier 3", "tier3"),
    "high": ("high", "2", "tier 2", "tier2"),
    "critical": ("critical", "mission critical", "1", "tier 1", "tier1", "very high"),
}
POWER_WORDS = {
    "on": ("on", "poweredon", "powered on", "running", "up", "active"),
    "off": ("off", "poweredoff", "powered off", "stopped", "down", "deallocated"),
    "suspended": ("suspended", "paused"),
}
SIX_R_WORDS = {s: (s,) for s in SIX_R} | {"rehost": ("rehost", "lift and shift", "lift-and-shift")}
OS_FAMILY_PATTERNS = (
    ("windows", r"windows"),
    ("linux", r"linux|ubuntu|red ?hat|rhel|centos|suse|sles|debian|oracle linux|amazon linux|rocky|alma"),
    ("unix", r"aix|solaris|hp-?ux|sunos|bsd"),
)
# Size fields are in GiB ("GB" in field names); a column whose unit is known converts from it.
# MB and MiB convert alike: vendors write "MB" for binary megabytes (RVTools did until 4.x).
SIZE_TO_GIB = {
    "KB": 1 / 1024**2,
    "KiB": 1 / 1024**2,
    "MB": 1 / 1024,
    "MiB": 1 / 1024,
    "GB": 1.0,
    "GiB": 1.0,
    "TB": 1024.0,
    "TiB": 1024.0,
}
_NUMBER = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)\s*%?\s*$")
_SIZE_WITH_UNIT = re.compile(r"^\s*([-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*([KMGT]I?B)\s*$", re.IGNORECASE)
_UNIT_BY_UPPER = {unit.upper(): factor for unit, factor in SIZE_TO_GIB.items()}


@dataclass(frozen=True)
class Cleansed:
    assets: pd.DataFrame  # canonical columns + row_number, sheet_name, custom_attributes
    problems: pd.DataFrame  # row_number, sheet_name, column, value, reason, severity


def _vocabulary(values: pd.Series, words: dict[str, tuple[str, ...]]) -> pd.Series:
    lookup = {w: key for key, synonyms in words.items() for w in synonyms} | {k: k for k in words}
    return values.str.strip().str.lower().map(lookup)


def _numbers(values: pd.Series) -> pd.Series:
    cleaned = values.str.strip().str.rstrip("%").str.replace(",", ".", regex=False)
    return pd.to_numeric(cleaned.where(values.str.match(_NUMBER)), errors="coerce")


def _sizes_in_gib(values: pd.Series, column_factor: float) -> pd.Series:
    """Sizes in GiB: a value that states its own unit ("4096 MB", "8GiB", "1 TB") converts by it,
    a bare number by the column's unit.

    Columns pasted together from several exports mix units; without this, every value with a unit
    was dropped as "not a number" (reported, but lost for planning).
    """
    parts = values.str.extract(_SIZE_WITH_UNIT)
    stated = pd.to_numeric(parts[0].str.replace(",", ".", regex=False), errors="coerce")
    stated = stated * parts[1].str.upper().map(_UNIT_BY_UPPER).astype(float)
    return stated.combine_first(_numbers(values) * column_factor)


_TAG_PAIR = re.compile(r"^([^:=]+?)\s*[:=]\s*(.*)$")


def parse_tags(text: str) -> dict[str, str] | None:
    """``"env:prod; owner=ops; legacy"`` -> ``{"env": "prod", "owner": "ops", "legacy": "true"}``."""
    tags: dict[str, str] = {}
    for part in (p.strip() for p in re.split(r"[;,|]", text)):
        if not part:
            continue
        pair = _TAG_PAIR.match(part)
        if pair:
            tags[pair.group(1)] = pair.group(2)
        else:
            tags[part] = "true"
    return tags or None


def _tags(values: pd.Series) -> pd.Series:
    return values.map(lambda v: parse_tags(v) if v else None)


def derive_os_family(os_name: pd.Series) -> pd.Series:
    lowered = os_name.fillna("").str.lower()
    family = pd.Series(None, index=os_name.index, dtype=object)
    for name, pattern in reversed(OS_FAMILY_PATTERNS):
        family = family.mask(lowered.str.contains(pattern, regex=True), name)
    return family.where(os_name.notna() | family.notna())


def unit_factor(mapping: ColumnMapping, units: Mapping[str, str]) -> float:
    """Factor from the column's values to its field's unit.

    A mapping that already scales (a "MB" alias of a GB field) wins; otherwise a size field
    converts from the unit the import found for the column (stated in the header, or implied by
    the format: RVTools ``Memory`` is MiB). Without evidence the values are taken as they are.
    """
    if mapping.scale != 1.0 or mapping.field is None or not mapping.field.endswith("_gb"):
        return mapping.scale
    return SIZE_TO_GIB.get(units.get(mapping.source, ""), 1.0)


def cleanse(
    frame: pd.DataFrame,
    mappings: list[ColumnMapping],
    *,
    sheet_name: str = "",
    units: Mapping[str, str] | None = None,
) -> Cleansed:
    """Type and normalise ``frame`` (string columns, index = file row numbers).

    ``units`` maps a source column to its unit (``{"Memory": "MiB"}``), as the import found it.
    """
    units = units or {}
    fields = canonical_fields()
    out = pd.DataFrame(index=frame.index)
    problems: list[pd.DataFrame] = []

    def report(mask: pd.Series, column: str, reason: str, severity: str = VALUE_DROPPED) -> None:
        if mask.any():
            problems.append(
                pd.DataFrame(
                    {
                        "row_number": frame.index[mask],
                        "sheet_name": sheet_name,
                        "column": column,
                        "value": frame.loc[mask, column].astype(str) if column in frame else "",
                        "reason": reason,
                        "severity": severity,
                    }
                )
            )

    for m in mappings:
        if m.field is None:
            continue
        raw = frame[m.source].astype(str).str.strip()
        present = raw.ne("")
        kind = fields[m.field].type
        if kind in ("int", "float"):
            if m.field.endswith("_gb"):
                numbers = _sizes_in_gib(raw, unit_factor(m, units))
            else:
                numbers = _numbers(raw) * unit_factor(m, units)
            bad = present & (numbers.isna() | (numbers < 0))
            report(bad, m.source, "not a non-negative number")
            numbers = numbers.where(~bad)
            if kind == "int":
                numbers = numbers.round().astype("Int64")
            out[m.field] = numbers
        elif kind == "date":
            dates = pd.to_datetime(raw.where(present), errors="coerce", format="mixed")
            report(present & dates.isna(), m.source, "not a date")
            out[m.field] = dates.dt.date.where(dates.notna(), None)
        elif kind == "tags":
            out[m.field] = _tags(raw)
        else:
            out[m.field] = raw.where(present, None)

    vocabularies = {
        "asset_type": (ASSET_TYPE_WORDS, "other"),
        "environment": (ENVIRONMENT_WORDS, "other"),
        "business_criticality": (CRITICALITY_WORDS, None),
        "power_state": (POWER_WORDS, None),
        "six_r_strategy": (SIX_R_WORDS, None),
    }
    source_of = {m.field: m.source for m in mappings if m.field}
    for column, (words, fallback) in vocabularies.items():
        if column not in out:
            continue
        normalised = _vocabulary(out[column].fillna(""), words)
        unknown = out[column].notna() & normalised.isna()
        if fallback is None:
            report(unknown, source_of[column], f"not a known {column.replace('_', ' ')}")
        normalised = normalised.where(~unknown, fallback)
        out[column] = normalised.where(out[column].notna(), None)

    if "os_name" in out:
        derived = derive_os_family(out["os_name"])
        out["os_family"] = out["os_family"].fillna(derived) if "os_family" in out else derived
    if "asset_type" not in out:
        out["asset_type"] = "server"
    out["asset_type"] = out["asset_type"].fillna("server")

    name = pd.Series(None, index=frame.index, dtype=object)
    for candidate in ("asset_name", "hostname", "fqdn", "external_id"):
        if candidate in out:
            name = name.fillna(out[candidate])
    if "hostname" not in out and "fqdn" in out:
        out["hostname"] = out["fqdn"].str.split(".").str[0]
    out["asset_name"] = name
    nameless = name.isna()
    if nameless.any():
        problems.append(
            pd.DataFrame(
                {
                    "row_number": frame.index[nameless],
                    "sheet_name": sheet_name,
                    "column": "",
                    "value": "",
                    "reason": "no asset name, hostname, FQDN or id",
                    "severity": ROW_REJECTED,
                }
            )
        )

    unmapped = [m.source for m in mappings if m.field is None]
    if unmapped:
        extra = frame[unmapped].replace("", np.nan)
        out["custom_attributes"] = [
            {k: v for k, v in row.items() if isinstance(v, str)} or None for row in extra.to_dict("records")
        ]
    out["row_number"] = frame.index
    out["sheet_name"] = sheet_name
    columns = ["row_number", "sheet_name", "column", "value", "reason", "severity"]
    problem_frame = pd.concat(problems, ignore_index=True) if problems else pd.DataFrame(columns=columns)
    return Cleansed(assets=out.loc[~nameless], problems=problem_frame)


# --- the step --------------------------------------------------------------------------


def cleansed_sheets(session: Session, ctx: PhaseContext) -> list[tuple[DataImport, pd.DataFrame, Cleansed]]:
    """Cleanse every asset sheet of this run's inventory imports (shared by cleansing and inventory).

    Enrichment and reference sheets are no asset lists: their rows reach assets only through the
    columns joined onto the asset sheet.
    """
    out = []
    for data_import in run_imports(session, ctx, INVENTORY):
        mappings = stored_mappings(session, data_import.id)
        for sheet in data_import.sheets:
            if not is_asset_sheet(sheet):
                continue
            raw = sheet_frame(session, data_import, sheet)
            units = {column: u["unit"] for column, u in (sheet.get("units") or {}).items()}
            result = cleanse(raw, mappings[sheet["name"]], sheet_name=sheet["name"], units=units)
            out.append((data_import, raw, result))
    return out


def cleanse_imports(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Apply reviewed mappings, validate every inventory row; attach problems, rewrite the errors file."""
    metrics: dict[str, Any] = {
        **apply_mapping_answers(session, ctx),
        "rows": 0,
        "rows_rejected": 0,
        "values_dropped": 0,
        "errors_files": [],
    }
    imports: dict[Any, DataImport] = {}
    for data_import, raw, result in cleansed_sheets(session, ctx):
        problems = result.problems
        mark_problems(session=session, data_import_id=data_import.id, problems=problems)
        rejected = int((problems["severity"] == ROW_REJECTED).sum()) if len(problems) else 0
        metrics["rows"] += len(raw)
        metrics["rows_rejected"] += rejected
        metrics["values_dropped"] += len(problems) - rejected
        data_import.rejected_count = (data_import.rejected_count or 0) + rejected
        imports[data_import.id] = data_import
    for data_import in imports.values():
        problems = load_problems(session=session, data_import_id=data_import.id)
        if problems.empty:
            continue
        path = write_errors_file(
            path=errors_file_path(data_import.id), source_name=data_import.source_name, problems=problems
        )
        data_import.errors_file = str(path)
        metrics["errors_files"].append(str(path))
    return metrics


data_cleansing = step_task(DISCOVERY, "data_cleansing", cleanse_imports)
