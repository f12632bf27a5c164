"""End-of-support lookup for OS and database strings, severity, and the tech-debt summary (pure).

Inventories spell the same release many ways ("Microsoft Windows Server 2012 R2 (64-bit)",
"Win2k12R2", "6.3.9600"; "Ubuntu Linux (64-bit)" with "20.04" in another column), so matching
is two-stage and table-driven: the product by a regex, then the release by the product's own
version regexes and a table of names and aliases. Everything works on the *distinct* strings of
a run (a handful to a few thousand), with vectorised pandas string operations, never per asset.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pandas as pd
import yaml

from mfactory.settings import PACKAGE_DATA

LIFECYCLE_FILE = PACKAGE_DATA / "os_lifecycle.yaml"
KINDS = ("os", "database")
#: Worst first; ``unknown`` = a string was given but no dated release matched it.
SEVERITIES = ("critical", "high", "medium", "none", "unknown")
SEVERITY_RANK = {"unknown": 0, "none": 1, "medium": 2, "high": 3, "critical": 4}
MATCH_COLUMNS = ["text", "product", "release", "end_of_support", "source"]
_BITNESS = re.compile(r"\(?\b(?:32|64)[- ]?bits?\b\)?|\bx86[_-]64\b|\bamd64\b|\bx64\b|\bx86\b|\bi[36]86\b")


@dataclass(frozen=True)
class Lifecycle:
    """The parsed lifecycle table: one row per (product, release key) plus the product rules."""

    as_of: dt.date
    high_within_months: int
    medium_within_months: int
    products: list[dict[str, Any]]
    releases: pd.DataFrame  # product, key, release, end_of_support, source


def release_key(values: pd.Series) -> pd.Series:
    """Lower-case without whitespace, so "2008 R2", "2008r2" and "2008  r2" are one key."""
    return values.str.lower().str.replace(r"\s+", "", regex=True)


def parse_lifecycle(document: dict[str, Any]) -> Lifecycle:
    """Validate and flatten the YAML document; a malformed table fails loudly at load time."""
    rows = []
    for product in document["products"]:
        if product["kind"] not in KINDS:
            raise ValueError(f"{product['product']}: kind must be one of {KINDS}")
        if not product.get("source"):
            raise ValueError(f"{product['product']}: every product needs a source")
        for pattern in [product["match"], product.get("exclude") or "x", *product["versions"]]:
            re.compile(pattern)
        for release in product["releases"]:
            for name in [release["release"], *release.get("aliases", [])]:
                rows.append(
                    {
                        "product": product["product"],
                        "key": str(name),
                        "release": str(release["release"]),
                        "end_of_support": release["end_of_support"],
                        "source": product["source"],
                    }
                )
    releases = pd.DataFrame(rows)
    releases["key"] = release_key(releases["key"])
    duplicated = releases.duplicated(["product", "key"])
    if duplicated.any():
        raise ValueError(f"release keys listed twice: {releases.loc[duplicated, ['product', 'key']].values}")
    severity = document["severity"]
    return Lifecycle(
        as_of=document["as_of"],
        high_within_months=int(severity["high_within_months"]),
        medium_within_months=int(severity["medium_within_months"]),
        products=document["products"],
        releases=releases,
    )


@lru_cache(maxsize=1)
def lifecycle_table() -> Lifecycle:
    """The shipped, dated table (mfactory/data/os_lifecycle.yaml)."""
    return parse_lifecycle(yaml.safe_load(LIFECYCLE_FILE.read_text(encoding="utf-8")))


def normalise_text(texts: pd.Series) -> pd.Series:
    """Lower-case, drop bitness ("(64-bit)", "x86_64") whose digits look like versions, squeeze spaces."""
    return (
        texts.fillna("")
        .astype(str)
        .str.lower()
        .str.replace(_BITNESS, " ", regex=True)
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
    )


def resolve(texts: pd.Series, kind: str, table: Lifecycle | None = None) -> pd.DataFrame:
    """Product, release, end-of-support date and source of each distinct text of one ``kind``.

    Returns one row per distinct input (``MATCH_COLUMNS``); product/release are null when not
    recognised, the date is null when not recognised or not published in the table.
    """
    table = table or lifecycle_table()
    distinct = pd.Series(texts.dropna().astype(str).unique(), dtype=object)
    clean = normalise_text(distinct)
    product = pd.Series(None, index=distinct.index, dtype=object)
    key = pd.Series(None, index=distinct.index, dtype=object)
    for rule in (p for p in table.products if p["kind"] == kind):
        hit = product.isna() & clean.str.contains(rule["match"], regex=True)
        if rule.get("exclude"):
            hit &= ~clean.str.contains(rule["exclude"], regex=True)
        if not hit.any():
            continue
        product[hit] = rule["product"]
        known = set(table.releases.loc[table.releases["product"] == rule["product"], "key"])
        for pattern in rule["versions"]:
            todo = hit & key.isna()
            if not todo.any():
                break
            found = release_key(clean[todo].str.extract(pattern, expand=False).astype(object))
            key[todo] = found.where(found.isin(known))
    frame = pd.DataFrame({"text": distinct, "product": product, "key": key})
    merged = frame.merge(table.releases, on=["product", "key"], how="left", suffixes=("", "_table"))
    merged["end_of_support"] = pd.to_datetime(merged["end_of_support"]).dt.date
    merged["end_of_support"] = (
        merged["end_of_support"].astype(object).where(merged["end_of_support"].notna(), None)
    )
    merged["source"] = merged["source"].where(merged["product"].notna())
    for column in ("product", "release", "source"):
        merged[column] = merged[column].astype(object).where(merged[column].notna(), None)
    return merged[MATCH_COLUMNS]


def severity(
    end_of_support: pd.Series, today: dt.date, *, high_within_months: int, medium_within_months: int
) -> pd.Series:
    """critical when past (the date is the last supported day), high/medium when it ends soon.

    ``unknown`` where there is no date. A date exactly ``n`` months ahead is outside the window.
    """
    dates = pd.to_datetime(end_of_support)
    now = pd.Timestamp(today)
    high = now + pd.DateOffset(months=high_within_months)
    medium = now + pd.DateOffset(months=medium_within_months)
    out = pd.Series("none", index=end_of_support.index, dtype=object)
    out[dates < medium] = "medium"
    out[dates < high] = "high"
    out[dates < now] = "critical"
    out[dates.isna()] = "unknown"
    return out


def worst(a: pd.Series, b: pd.Series) -> pd.Series:
    """Element-wise worse of two severities (a known one beats ``unknown``)."""
    ranks = pd.DataFrame({"a": a.map(SEVERITY_RANK), "b": b.map(SEVERITY_RANK)})
    inverse = {v: k for k, v in SEVERITY_RANK.items()}
    return ranks.max(axis=1, skipna=True).map(inverse)


def summarise(assets: pd.DataFrame, *, top: int = 25) -> dict[str, Any]:
    """Per-engagement and per-application tech debt from one row per assessed asset.

    ``assets`` has application_name, severity, end_of_support (date or null), os_product_release
    and db_product_release. The per-application table is sorted worst first; ``top`` caps it.
    """
    frame = assets.copy()
    frame["application_name"] = frame["application_name"].fillna("(no application)")
    counts = pd.crosstab(frame["application_name"], frame["severity"]).reindex(
        columns=SEVERITIES, fill_value=0
    )
    per_app = counts.copy()
    per_app["assets"] = counts.sum(axis=1)
    per_app["earliest_end_of_support"] = frame.groupby("application_name")["end_of_support"].min()
    rank = frame.assign(rank=frame["severity"].map(SEVERITY_RANK)).groupby("application_name")["rank"].max()
    inverse = {v: k for k, v in SEVERITY_RANK.items()}
    per_app["worst_severity"] = rank.map(inverse)
    per_app["rank"] = rank
    per_app = (
        per_app.reset_index()
        .sort_values(
            ["rank", "critical", "high", "medium", "application_name"],
            ascending=[False, False, False, False, True],
        )
        .drop(columns="rank")
        .reset_index(drop=True)
    )
    releases = pd.concat([frame["os_product_release"], frame["db_product_release"]]).dropna()
    by_release = releases.value_counts()
    per_severity = frame["severity"].value_counts().reindex(SEVERITIES, fill_value=0)
    applications_worst = per_app["worst_severity"].value_counts().reindex(SEVERITIES, fill_value=0)
    return {
        "engagement": {
            "assets_assessed": len(frame),
            "assets_by_severity": {k: int(v) for k, v in per_severity.items()},
            "applications": len(per_app),
            "applications_by_worst_severity": {k: int(v) for k, v in applications_worst.items()},
            "releases": {str(k): int(v) for k, v in by_release.items()},
        },
        "applications": per_app,
        "top_applications": per_app.head(top),
    }
