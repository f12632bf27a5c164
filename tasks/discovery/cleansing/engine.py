"""The rule engine: one asset sheet's mapped string columns in, typed and normalised columns out.

``cleanse`` applies the rules of ``mfactory/data/cleansing_rules.yaml`` column by column (the
modules beside this one hold each kind of rule) and counts, per rule, the values it changed. It
is pure - a frame and its mappings in, a ``Cleansed`` out - so the cleansing step and the
inventory step (which cleanses again rather than storing an intermediate table) get the same rows.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mfactory.canonical import canonical_fields, normalise_header
from tasks.discovery.cleansing.environment import infer_environment, tag_values
from tasks.discovery.cleansing.network import fqdns, ip_addresses, mac_addresses
from tasks.discovery.cleansing.numbers import numbers, percent_signs, sizes_in_gib
from tasks.discovery.cleansing.os_names import families_of, normalise_os
from tasks.discovery.cleansing.rules import CleansingRules, cleansing_rules
from tasks.discovery.cleansing.text import apply_vocabulary, drop_null_tokens, trim
from tasks.discovery.mapping.proposal import ColumnMapping

VALUE_DROPPED = "value_dropped"
ROW_REJECTED = "row_rejected"
#: Columns the cleansed gate looks at (expectations/cleansed.json); absent ones are validated as empty.
GATE_COLUMNS = {
    "asset_name": object,
    "asset_type": object,
    "environment": object,
    "os_family": object,
    "power_state": object,
    "business_criticality": object,
    "ip_address": object,
    "mac_address": object,
    "fqdn": object,
    "memory_gb": float,
    "storage_gb": float,
}
#: Rules counted on every run, also when they changed nothing (a zero is a result too).
COUNTED_RULES = (
    "trim",
    "null_tokens",
    "percent_sign",
    "number_invalid",
    "date_invalid",
    "os_normalise",
    "os_version_derived",
    "os_family_derived",
    "ip_invalid",
    "ip_list",
    "mac_normalise",
    "mac_invalid",
    "fqdn_normalise",
    "fqdn_invalid",
    "environment_inferred",
)
_TAG_PAIR = re.compile(r"^([^:=]+?)\s*[:=]\s*(.*)$")


@dataclass(frozen=True)
class Cleansed:
    assets: pd.DataFrame  # canonical columns + row_number, sheet_name, custom_attributes
    problems: pd.DataFrame  # row_number, sheet_name, column, value, reason, severity
    counts: dict[str, int] = field(default_factory=dict)  # values changed, per rule


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
    return values.map(lambda v: parse_tags(v) if v else None).astype(object)


def unit_factor(
    mapping: ColumnMapping, units: Mapping[str, str], size_to_gib: Mapping[str, float] | None = None
) -> float:
    """Factor from the column's values to its field's unit.

    A mapping that already scales (a "MB" alias of a GB field) wins; otherwise a size field
    converts from the unit the import found for the column (stated in the header, or implied by
    the format: RVTools ``Memory`` is MiB). Without evidence the values are taken as they are.
    """
    if mapping.scale != 1.0 or mapping.field is None or not mapping.field.endswith("_gb"):
        return mapping.scale
    factors = size_to_gib if size_to_gib is not None else cleansing_rules().size_to_gib
    return factors.get(units.get(mapping.source, ""), 1.0)


def _empty(index: pd.Index, dtype: Any = object) -> pd.Series:
    return pd.Series(None, index=index, dtype=dtype)


class _Cleansing:
    """One sheet's cleansing in progress: the typed columns, the problems and the per-rule counts."""

    def __init__(self, frame: pd.DataFrame, sheet_name: str, rules: CleansingRules) -> None:
        self.frame, self.sheet_name, self.rules = frame, sheet_name, rules
        self.out = pd.DataFrame(index=frame.index)
        self.extras: dict[str, pd.Series] = {}  # into custom_attributes
        self.problems: list[pd.DataFrame] = []
        self.counts: Counter[str] = Counter({rule: 0 for rule in COUNTED_RULES})

    def report(self, mask: pd.Series, column: str, reason: str, severity: str = VALUE_DROPPED) -> None:
        if not mask.any():
            return
        frame = self.frame
        self.problems.append(
            pd.DataFrame(
                {
                    "row_number": frame.index[mask.to_numpy()],
                    "sheet_name": self.sheet_name,
                    "column": column,
                    "value": frame.loc[mask, column].astype(str) if column in frame else "",
                    "reason": reason,
                    "severity": severity,
                }
            )
        )

    def text(self, source: str, kind: str) -> pd.Series:
        """The source column trimmed and without null tokens ("" = missing)."""
        raw = self.frame[source].fillna("").astype(str)
        trimmed, changed = trim(raw, squeeze=self.rules.squeeze_whitespace and kind == "text")
        self.counts["trim"] += changed
        cleaned, nulls = drop_null_tokens(trimmed, self.rules.null_tokens)
        self.counts["null_tokens"] += nulls
        return cleaned

    def number(self, m: ColumnMapping, raw: pd.Series, kind: str, units: Mapping[str, str]) -> None:
        assert m.field is not None
        present = raw.ne("")
        factor = unit_factor(m, units, self.rules.size_to_gib)
        unit_name = units.get(m.source) or m.unit or f"x{factor:g}"
        if m.field.endswith("_gb"):
            values, stated = sizes_in_gib(raw, factor, self.rules.size_to_gib)
            by_upper = {u.upper(): (u, f) for u, f in self.rules.size_to_gib.items()}
            for unit, n in stated.value_counts().items():
                spelled, unit_factor_ = by_upper[str(unit)]
                if unit_factor_ != 1.0:
                    self.counts[f"unit:{m.field} {spelled}->GiB"] += int(n)
            bare = present & stated.isna()
            target = "GiB"
        else:
            values = numbers(raw) * factor
            bare = present
            target = "field unit"
        if factor != 1.0:
            self.counts[f"unit:{m.field} {unit_name}->{target}"] += int((bare & values.notna()).sum())
        self.counts["percent_sign"] += percent_signs(raw, values)
        bad = present & (values.isna() | (values < 0))
        self.report(bad, m.source, "not a non-negative number")
        self.counts["number_invalid"] += int(bad.sum())
        values = values.where(~bad)
        self.out[m.field] = values.round().astype("Int64") if kind == "int" else values

    def network(self, m: ColumnMapping, raw: pd.Series) -> None:
        assert m.field is not None
        if m.field == "ip_address":
            ips = ip_addresses(raw, self.rules)
            self.report(ips.invalid, m.source, "not an IP address (IPv4 or IPv6)")
            self.counts["ip_invalid"] += int(ips.invalid.sum())
            self.counts["ip_list"] += ips.listed
            self.out["ip_address"] = ips.first
            self.extras["ip_addresses"] = ips.lists
            return
        if m.field == "mac_address":
            value, invalid, changed = mac_addresses(raw)
            rule, reason = "mac", "not a MAC address"
        else:
            value, invalid, changed = fqdns(raw, self.rules)
            rule, reason = "fqdn", "not a valid FQDN (labels of letters, digits, hyphens)"
        self.report(invalid, m.source, reason)
        self.counts[f"{rule}_invalid"] += int(invalid.sum())
        self.counts[f"{rule}_normalise"] += changed
        self.out[m.field] = value

    def vocabularies(self, source_of: Mapping[str, str]) -> None:
        for column, vocabulary in self.rules.vocabularies.items():
            if column not in self.out:
                continue
            original = self.out[column]
            values = original
            if column == "os_family":  # "Microsoft Windows Server" is windows too
                lowered = original.where(original.isna(), original.astype(str).str.lower())
                values = lowered.map(vocabulary.lookup).fillna(families_of(original, self.rules))
                values = values.fillna(original).where(original.notna(), None)
            normalised, unknown, _ = apply_vocabulary(values, vocabulary)
            if vocabulary.fallback is None:
                self.report(unknown, source_of[column], f"not a known {column.replace('_', ' ')}")
            changed = original.notna() & normalised.astype(object).ne(original.astype(object))
            self.counts[f"vocabulary:{column}"] += int(changed.sum())
            self.out[column] = normalised

    def operating_system(self) -> None:
        out = self.out
        if "os_name" not in out:
            return
        verdicts = normalise_os(out["os_name"], self.rules)
        changed = out["os_name"].notna() & verdicts["name"].ne(out["os_name"])
        self.counts["os_normalise"] += int(changed.sum())
        self.extras["os_name_raw"] = out["os_name"].where(changed, None)
        out["os_name"] = verdicts["name"]
        version = out["os_version"] if "os_version" in out else _empty(out.index)
        derived = version.isna() & verdicts["release"].notna()
        self.counts["os_version_derived"] += int(derived.sum())
        out["os_version"] = version.astype(object).where(~derived, verdicts["release"])
        family = out["os_family"] if "os_family" in out else _empty(out.index)
        filled = family.isna() & verdicts["family"].notna()
        self.counts["os_family_derived"] += int(filled.sum())
        out["os_family"] = family.astype(object).where(~filled, verdicts["family"])

    def environment(self, mappings: list[ColumnMapping]) -> None:
        out, rules = self.out, self.rules
        current = out["environment"] if "environment" in out else _empty(out.index)
        missing = current.isna()
        if not missing.any():
            return
        sources: list[tuple[str, pd.Series]] = []
        tags_source = next((m.source for m in mappings if m.field == "tags"), None)
        if tags_source is not None:
            sources.append(("tags", tag_values(self.frame[tags_source], rules)))
        sources += [(c, out[c]) for c in rules.env_name_columns if c in out]
        sources += [(c, out[c]) for c in rules.env_place_columns if c in out]
        place = re.compile(rules.env_place_headers)
        sources += [
            (m.source, self.frame[m.source].astype(object).where(self.frame[m.source].ne(""), None))
            for m in mappings
            if m.field is None and place.search(normalise_header(m.source))
        ]
        inferred, hits = infer_environment(missing, sources, rules)
        for label, n in hits.items():
            self.counts[f"environment_inferred:{label}"] += n
        self.counts["environment_inferred"] += int(inferred.notna().sum())
        combined = current.astype(object).where(~missing, inferred)
        out["environment"] = combined.where(combined.notna(), None)

    def custom_attributes(self, mappings: list[ColumnMapping]) -> None:
        unmapped = [m.source for m in mappings if m.field is None]
        extra = self.frame[unmapped].astype(object).where(self.frame[unmapped].ne(""), None)
        for name, values in self.extras.items():
            if values.notna().any():
                extra[name] = values.astype(object)
        if extra.shape[1] == 0:
            return
        self.out["custom_attributes"] = [
            {k: v for k, v in row.items() if isinstance(v, str | list)} or None
            for row in extra.to_dict("records")
        ]


def cleanse(
    frame: pd.DataFrame,
    mappings: list[ColumnMapping],
    *,
    sheet_name: str = "",
    units: Mapping[str, str] | None = None,
    rules: CleansingRules | None = None,
) -> Cleansed:
    """Type and normalise ``frame`` (string columns, index = file row numbers) by the cleansing rules.

    ``units`` maps a source column to its unit (``{"Memory": "MiB"}``), as the import found it.
    Every rule counts the values it changed (``Cleansed.counts``); dropped values and rejected
    rows are reported with file row and column (``Cleansed.problems``).
    """
    units = units or {}
    rules = rules or cleansing_rules()
    fields = canonical_fields()
    job = _Cleansing(frame, sheet_name, rules)
    out = job.out
    for m in mappings:
        if m.field is None:
            continue
        kind = fields[m.field].type
        raw = job.text(m.source, kind)
        present = raw.ne("")
        if kind in ("int", "float"):
            job.number(m, raw, kind, units)
        elif m.field in ("ip_address", "mac_address", "fqdn"):
            job.network(m, raw)
        elif kind == "date":
            dates = pd.to_datetime(raw.where(present), errors="coerce", format="mixed")
            job.report(present & dates.isna(), m.source, "not a date")
            job.counts["date_invalid"] += int((present & dates.isna()).sum())
            out[m.field] = dates.dt.date.where(dates.notna(), None)
        elif kind == "tags":
            out[m.field] = _tags(raw)
        else:
            out[m.field] = raw.astype(object).where(present, None)

    job.vocabularies({m.field: m.source for m in mappings if m.field})
    job.operating_system()
    job.environment(mappings)
    asset_type = rules.vocabularies["asset_type"].default
    out["asset_type"] = out["asset_type"].fillna(asset_type) if "asset_type" in out else asset_type

    name = pd.Series(None, index=frame.index, dtype=object)
    for candidate in ("asset_name", "hostname", "fqdn", "external_id"):
        if candidate in out:
            name = name.fillna(out[candidate])
    if "hostname" not in out and "fqdn" in out:
        out["hostname"] = out["fqdn"].str.split(".").str[0]
    out["asset_name"] = name
    nameless = name.isna()
    job.report(nameless, "", "no asset name, hostname, FQDN or id", ROW_REJECTED)

    job.custom_attributes(mappings)
    out["row_number"] = frame.index
    out["sheet_name"] = sheet_name
    columns = ["row_number", "sheet_name", "column", "value", "reason", "severity"]
    problem_frame = (
        pd.concat(job.problems, ignore_index=True) if job.problems else pd.DataFrame(columns=columns)
    )
    return Cleansed(assets=out.loc[~nameless], problems=problem_frame, counts=dict(job.counts))


def gate_columns(assets: pd.DataFrame) -> pd.DataFrame:
    """The columns the cleansed gate validates; a column no sheet had is present and empty."""
    return pd.DataFrame(
        {
            column: assets[column].astype(dtype) if column in assets else _empty(assets.index, dtype)
            for column, dtype in GATE_COLUMNS.items()
        },
        index=assets.index,
    )
