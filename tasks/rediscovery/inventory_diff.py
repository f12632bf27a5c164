"""What changed between two discoveries of the same engagement: new, changed, disappeared assets.

Pure logic over frames (no database, no Prefect): assets are matched on their normalised name
(trimmed, case-folded), the identity a re-export keeps; every compared column is tested
vectorised, with "both missing" counting as equal.
"""

from __future__ import annotations

import pandas as pd

#: Columns whose change a migration team cares about between two exports.
COMPARED: tuple[str, ...] = (
    "asset_type",
    "ip_address",
    "os_name",
    "os_version",
    "cpu_cores",
    "memory_gb",
    "storage_gb",
    "power_state",
    "environment",
    "application_name",
    "hypervisor_host",
)
NEW, CHANGED, DISAPPEARED = "new", "changed", "disappeared"


def _keyed(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    keyed = frame.assign(key=frame["asset_name"].astype("string").str.strip().str.casefold())
    return keyed.drop_duplicates("key").set_index("key")[["asset_name", *columns]]


def _rows(names: pd.Series, change: str, fields: pd.Series | str = "") -> pd.DataFrame:
    return pd.DataFrame({"asset_name": names, "change": change, "changed_fields": fields})


def diff_inventories(
    previous: pd.DataFrame, current: pd.DataFrame, compared: tuple[str, ...] = COMPARED
) -> pd.DataFrame:
    """One row per new, changed or disappeared asset: ``asset_name, change, changed_fields``.

    ``changed_fields`` lists ``column: before -> after`` for changed assets. Sorted by change,
    then name, so the same two inventories always give the same report.
    """
    columns = [c for c in compared if c in previous.columns and c in current.columns]
    before, after = _keyed(previous, columns), _keyed(current, columns)
    both = before.index.intersection(after.index)
    old, new = before.loc[both, columns], after.loc[both, columns]
    described = pd.Series("", index=both, dtype="string")
    for column in columns:
        a, b = old[column].astype("string"), new[column].astype("string")
        same = (a == b).fillna(False) | (a.isna() & b.isna())
        text = column + ": " + a.fillna("-") + " -> " + b.fillna("-") + "; "
        described = described + text.where(~same, "")
    described = described.str.removesuffix("; ")
    changed = described[described.ne("")]
    report = pd.concat(
        [
            _rows(after.loc[after.index.difference(before.index), "asset_name"], NEW),
            _rows(after.loc[changed.index, "asset_name"], CHANGED, changed),
            _rows(before.loc[before.index.difference(after.index), "asset_name"], DISAPPEARED),
        ],
        ignore_index=True,
    )
    order = {NEW: 0, CHANGED: 1, DISAPPEARED: 2}
    return (
        report.assign(_o=report["change"].map(order))
        .sort_values(["_o", "asset_name"], kind="stable")
        .drop(columns="_o")
        .reset_index(drop=True)[["asset_name", "change", "changed_fields"]]
    )


def summarise(report: pd.DataFrame) -> dict[str, int]:
    counts = report["change"].value_counts()
    return {kind: int(counts.get(kind, 0)) for kind in (NEW, CHANGED, DISAPPEARED)}
