"""Value profiles: what the values of a column look like (IPs, FQDNs, OS strings, sizes, dates, ...).

Why: headers alone are ambiguous (``Memory`` is MiB in one export and GB in another, ``Host``
may be an ESXi host or the server itself). The values settle much of it, and they are cheap to
read from a sample. The whole sample of a sheet is classified at once: columns are stacked
into one long series and each kind's pattern runs once over the values still undecided, so
the cost grows with the sample, not with a Python loop over values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

_IPV4 = r"(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)"
_IPV6 = r"(?=[0-9a-f:]*:[0-9a-f:]*:)(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}(?:%\w+)?"
_IP = f"(?:{_IPV4}|{_IPV6})"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
_TIME = r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[ap]m|z|utc|[+-]\d{2}:?\d{2})?)?"

# (kind, pattern): the first pattern that matches a whole value decides its kind.
KIND_PATTERNS: tuple[tuple[str, str], ...] = (
    ("mac", r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}|[0-9a-f]{2}(?:-[0-9a-f]{2}){5}|[0-9a-f]{4}(?:\.[0-9a-f]{4}){2}"),
    ("ip", _IP),
    ("ip_list", rf"{_IP}(?:\s*[;,|\s]\s*{_IP})+"),
    (
        "uuid",
        r"\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?"
        r"|(?:[0-9a-f]{2} ){7}[0-9a-f]{2}-(?:[0-9a-f]{2} ){7}[0-9a-f]{2}",
    ),
    (
        "date",
        rf"\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}{_TIME}"
        rf"|\d{{1,2}}[-/.]\d{{1,2}}[-/.]\d{{2,4}},?{_TIME}"
        rf"|\d{{1,2}}[- ]{_MONTH}[- ,]+\d{{2,4}}{_TIME}"
        rf"|{_MONTH}\.? \d{{1,2}},? \d{{4}}{_TIME}"
        rf"|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,? .*\d{{4}}.*",
    ),
    ("percent_text", r"[-+]?\d+(?:[.,]\d+)?\s*%"),
    ("size_text", r"\d+(?:[.,]\d+)?\s*(?:b|bytes|kb|kib|mb|mib|gb|gib|tb|tib)"),
    ("int", r"[-+]?\d{1,3}(?:,\d{3})+|[-+]?\d+"),
    ("decimal", r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?\.\d+|[-+]?\d+,\d+|[-+]?\d+\.|[-+]?\d+(?:\.\d+)?e[-+]?\d+"),
    ("bool", r"true|false|yes|no|y|n|t|f"),
    (
        "power",
        r"powered[ _-]?(?:on|off)|suspended|running|stopped|stopping|starting|started|on|off"
        r"|online|offline|shut[ _-]?down|terminated|paused|deallocated",
    ),
    (
        "environment",
        r"prod|production|pre-?prod|test|testing|dev|develop|development|stage|staging|uat|qa|dr"
        r"|sandbox|non-?prod|sit|perf",
    ),
    (
        "criticality",
        r"low|medium|med|high|very high|critical|tier[ -]?[0-4]|(?:mission|business)[ -]critical"
        r"|p[0-4]|sev[ -]?[0-4]",
    ),
    (
        "six_r",
        r"re-?host|re-?platform|re-?factor|re-?architect|re-?write|re-?build|re-?purchase|retire"
        r"|retain|re-?locate|lift[ -]and[ -]shift",
    ),
    ("email", r"[^@\s]+@[^@\s]+\.[a-z]{2,}"),
    ("fqdn", r"(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]*[a-z0-9]\.?"),
    (
        "os",
        r".*\b(?:windows|win\d+|linux|centos|rhel|red ?hat|ubuntu|debian|suse|sles|oracle linux"
        r"|solaris|aix|hp-?ux|freebsd|esxi|photon|rocky|almalinux|amazon linux|fedora|macos|os x)\b.*",
    ),
    ("tags", r"[\w.-]+[:=][\w./-]+(?:[;,|]\s*[\w.-]+[:=][\w./-]+)*"),
    ("path", r"(?:/[^/\s]+)+/?|/|[a-z]:\\.*|\\\\.*"),
    ("token", r"(?=.*[\d_.-])[a-z0-9][\w.-]*"),
    ("word", r"[a-z]+"),
    ("text", r"(?s).+"),
)
KINDS: tuple[str, ...] = tuple(k for k, _ in KIND_PATTERNS)
NUMERIC_KINDS = ("int", "decimal", "percent_text", "size_text")
_SIZE_TO_GIB = {"b": 2.0**-30, "bytes": 2.0**-30, "kb": 2.0**-20, "kib": 2.0**-20, "mb": 2.0**-10,
                "mib": 2.0**-10, "gb": 1.0, "gib": 1.0, "tb": 1024.0, "tib": 1024.0}  # fmt: skip


@dataclass(frozen=True)
class ColumnProfile:
    """The shape of one column's sampled values."""

    rows: int  # rows sampled
    values: int  # non-empty values among them
    kinds: dict[str, float] = field(default_factory=dict)  # kind -> share of the non-empty values
    distinct: float = 0.0  # distinct values / non-empty values
    numeric: float = 0.0  # share of values that are numbers
    median: float | None = None  # of the numeric values (size_text in GiB)
    low: float | None = None  # 5th percentile
    high: float | None = None  # 95th percentile
    integer_share: float = 0.0  # share of numeric values that are whole numbers

    @property
    def filled(self) -> float:
        return self.values / self.rows if self.rows else 0.0

    def share(self, kind: str) -> float:
        return self.kinds.get(kind, 0.0)

    def dominant(self) -> tuple[str | None, float]:
        if not self.kinds:
            return None, 0.0
        kind = max(self.kinds, key=lambda k: self.kinds[k])
        return kind, self.kinds[kind]

    def summary(self) -> dict[str, object]:
        """A short JSON-able description for the evidence of a proposal."""
        kind, share = self.dominant()
        out: dict[str, object] = {
            "filled": round(self.filled, 3),
            "kind": kind,
            "kind_share": round(share, 3),
        }
        if self.median is not None:
            out.update(median=self.median, low=self.low, high=self.high)
        return out


def _classify(values: pd.Series) -> np.ndarray:
    """Kind of each (non-empty, stripped) value, by the first matching pattern."""
    kinds = np.full(len(values), "", dtype=object)
    undecided = np.ones(len(values), dtype=bool)
    for kind, pattern in KIND_PATTERNS:
        if not undecided.any():
            break
        candidates = values[undecided]
        hit = candidates.str.fullmatch(pattern, case=False).to_numpy(dtype=bool)
        index = np.flatnonzero(undecided)[hit]
        kinds[index] = kind
        undecided[index] = False
    return kinds


def _numbers(values: pd.Series, kinds: np.ndarray) -> pd.Series:
    """Numeric value of each numeric-kind value (NaN elsewhere); sizes with units in GiB."""
    text = values.where(np.isin(kinds, NUMERIC_KINDS))
    unit = text.str.extract(r"([a-zA-Z]+)\s*$", expand=False).str.lower()
    digits = text.str.replace(r"\s*(%|[a-zA-Z]+)\s*$", "", regex=True)
    has_point = digits.str.contains(".", regex=False).fillna(False).astype(bool)
    digits = digits.where(has_point, digits.str.replace(",", ".", regex=False))
    digits = digits.where(~has_point, digits.str.replace(",", "", regex=False))
    digits = digits.where(~np.isin(kinds, ("int",)), text.str.replace(",", "", regex=False))
    numbers = pd.to_numeric(digits, errors="coerce")
    factor = unit.map(_SIZE_TO_GIB).where(kinds == "size_text", 1.0).astype(float).fillna(1.0)
    return numbers * factor


def profile_columns(frame: pd.DataFrame, sample_rows: int = 1000) -> dict[str, ColumnProfile]:
    """Profile every column of ``frame`` from its first ``sample_rows`` rows."""
    sample = frame.head(sample_rows)
    columns = [str(c) for c in sample.columns]
    rows = len(sample)
    if rows == 0 or not columns:
        return {c: ColumnProfile(rows=rows, values=0) for c in columns}
    flat = pd.Series(sample.to_numpy(dtype=object).T.ravel(), dtype=object)
    column = np.repeat(np.arange(len(columns)), rows)
    text = flat.where(flat.notna(), "").astype(str).str.strip()
    keep = (text != "").to_numpy()
    values, column = text[keep].reset_index(drop=True), column[keep]
    kinds = _classify(values)
    numbers = _numbers(values, kinds).to_numpy(dtype=float)

    long = pd.DataFrame({"column": column, "kind": kinds, "value": values.to_numpy(), "number": numbers})
    counts = long.groupby("column").size()
    shares = pd.crosstab(long["column"], long["kind"], normalize="index")
    distinct = long.groupby("column")["value"].nunique() / counts
    numeric = long.dropna(subset=["number"])
    stats = numeric.groupby("column")["number"].agg(
        n="size",
        median="median",
        low=lambda s: s.quantile(0.05),
        high=lambda s: s.quantile(0.95),
        whole=lambda s: float((s == np.floor(s)).mean()),
    )

    profiles = {}
    for i, name in enumerate(columns):
        n = int(counts.get(i, 0))
        if n == 0:
            profiles[name] = ColumnProfile(rows=rows, values=0)
            continue
        row = shares.loc[i]
        kind_shares = {k: float(v) for k, v in row.items() if v > 0}
        has_numbers = i in stats.index
        profiles[name] = ColumnProfile(
            rows=rows,
            values=n,
            kinds=kind_shares,
            distinct=float(distinct.get(i, 0.0)),
            numeric=float(stats.at[i, "n"]) / n if has_numbers else 0.0,
            median=float(stats.at[i, "median"]) if has_numbers else None,
            low=float(stats.at[i, "low"]) if has_numbers else None,
            high=float(stats.at[i, "high"]) if has_numbers else None,
            integer_share=float(stats.at[i, "whole"]) if has_numbers else 0.0,
        )
    return profiles
