"""Join enrichment tables onto the asset table, one value per asset (vectorised group-bys).

RVTools puts a VM's sockets in vCPU, its MAC addresses in vNetwork and its disks in vDisk;
Google Migration Center puts disks, performance samples and tags in their own tables keyed by
MachineId. The asset list is vInfo / vmInfo; the other tables fill what it lacks. The plan
(which table, which key, which column, how to aggregate) comes from format detection
(``formats.TablePlan.joins``); this module only executes it, on string frames, so the joined
columns reach mapping and cleansing exactly like the asset table's own columns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd


def _key(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """One join key per row; rows with any empty key part get no key (they join nothing)."""
    parts = [frame[c].astype(str).str.strip() for c in columns]
    key = parts[0] if len(parts) == 1 else parts[0].str.cat(parts[1:], sep="\x1f")
    empty = pd.concat([p.eq("") for p in parts], axis=1).any(axis=1)
    return key.mask(empty)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.4f}".rstrip("0").rstrip(".")


def _aggregate(table: pd.DataFrame, key: pd.Series, column: Mapping[str, Any]) -> pd.Series:
    """The joined values of one column, indexed by key, as strings."""
    how, source = column["how"], column["source"]
    if how == "count":
        return key.value_counts().astype(str)
    if how == "pairs":
        name, value = (table[c].astype(str).str.strip() for c in source)
        pairs = (name + "=" + value).where(name.ne(""))
        return pairs.groupby(key).agg(lambda s: "; ".join(s.dropna()))
    text = table[source].astype(str).str.strip()
    if how == "first":
        return text.where(text.ne("")).groupby(key).first().dropna()
    numbers = pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce")
    grouped = numbers.groupby(key)
    result = grouped.sum(min_count=1) if how == "sum" else grouped.mean() if how == "mean" else grouped.max()
    return result.dropna().map(_number_text)


def enrich(
    assets: pd.DataFrame, tables: Mapping[str, pd.DataFrame], joins: Sequence[Mapping[str, Any]]
) -> pd.DataFrame:
    """``assets`` with one more string column per planned join column ("" where nothing joins)."""
    out = assets.copy()
    for join in joins:
        table = tables.get(join["sheet"])
        asset_key = _key(out, join["on"])
        for column in join["columns"]:
            if table is None or table.empty:
                out[column["as"]] = ""
                continue
            values = _aggregate(table, _key(table, join["sheet_on"]), column)
            out[column["as"]] = asset_key.map(values).fillna("").astype(str)
    return out
