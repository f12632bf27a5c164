"""Step 4 — Inventory: one asset per distinct machine, with lineage to its raw record(s).

Rows of every inventory file of the run are deduplicated in two stages (``tasks.discovery.dedup``):
deterministic keys in pandas, then fingerprint near-duplicates through the HNSW index in
PostgreSQL. An asset made of several rows takes each field from the best row that has it and
records where each field came from (``assets.provenance``).

Scope of "across imports": duplicates are merged across all files and sheets of one discovery
run. Assets of the engagement's earlier runs are not merged into: each run's assets are the
snapshot its later phases plan against and its rollback removes, so a merge must not reach into
another run's rows. An earlier run still helps: its stored fingerprints are reused for unchanged
texts (``fingerprint_hash``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from agents.embeddings import Embedder
from db.repositories.assets import ASSET_COLUMNS, copy_assets, update_assets
from db.repositories.dedup import delete_assets, similar_assets
from db.session import Tenant
from tasks.discovery import dedup
from tasks.discovery.data_cleansing import cleansed_sheets
from tasks.discovery.data_import import sources
from tasks.discovery.fingerprints import fingerprints
from tasks.discovery.imports_of_run import INVENTORY
from tasks.phases import DISCOVERY, PhaseContext
from tasks.steps import step_task

KEY_FIELDS = (
    "asset_name",
    "asset_type",
    "hostname",
    "ip_address",
    "os_name",
    "cpu_cores",
    "memory_gb",
    "storage_gb",
    "environment",
    "application_name",
)
#: Cosine distance under which two blocked, non-contradicting fingerprints are one asset
#: (bench/dedup.py calibrates it on a synthetic set with known duplicates).
MAX_FINGERPRINT_DISTANCE = 0.2
NEIGHBOURS = 30
EF_SEARCH = 100
_LINEAGE = {"data_import_id", "raw_import_record_id", "id", "client_account_id", "engagement_id"}


def completeness(frame: pd.DataFrame) -> pd.Series:
    """Share of the key fields that are present, per row."""
    present = pd.DataFrame({f: frame[f].notna() if f in frame else False for f in KEY_FIELDS})
    return present.mean(axis=1).round(3)


def inventory_rows(session: Session, ctx: PhaseContext) -> pd.DataFrame:
    """Every cleansed asset row of the run's inventory files, with lineage and source order.

    The source order (the order the files were given) decides between equally complete rows.
    """
    given = [str(path) for kind, path in sources(ctx) if kind == INVENTORY]
    frames, order = [], {}
    for data_import, raw, result in cleansed_sheets(session, ctx):
        name = data_import.source_name
        order[data_import.id] = given.index(name) if name in given else len(given) + len(order)
        assets = result.assets.copy()
        assets["raw_import_record_id"] = raw.loc[assets.index, "raw_import_record_id"]
        assets["data_import_id"] = data_import.id
        assets[dedup.FORMAT] = data_import.source_format
        frames.append(assets)
    if not frames:
        raise ValueError("no inventory rows to build assets from")
    rows = pd.concat(frames, ignore_index=True)
    if rows.empty:
        raise ValueError("every inventory row was rejected (no name, hostname, FQDN or id): see errors file")
    rows[dedup.ORDER] = rows["data_import_id"].map(order)
    rows[dedup.COMPLETENESS] = completeness(rows)
    return rows


def asset_fields(rows: pd.DataFrame) -> list[str]:
    """The asset columns a merge decides field by field."""
    return [c for c in rows.columns if c in ASSET_COLUMNS and c not in _LINEAGE and c != dedup.COMPLETENESS]


def _imports(rows: pd.DataFrame, members: pd.Series) -> pd.Series:
    """Per merged asset, the sorted tuple of the imports its rows came from."""
    imports = rows["data_import_id"].astype(str).to_numpy()
    return members.map(lambda m: tuple(sorted(set(imports[m]))))


def deduplicate_rows(
    *,
    session: Session,
    tenant: Tenant,
    run: dict[str, Any],
    rows: pd.DataFrame,
    embedder: Embedder | None = None,
    max_distance: float = MAX_FINGERPRINT_DISTANCE,
    ef_search: int = EF_SEARCH,
    neighbours: int = NEIGHBOURS,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Write one asset per distinct machine of ``rows``; returns the assets written and the metrics.

    ``run`` holds the run's columns set on every asset (``master_flow_id``, ``discovery_flow_id``).
    """
    fields = asset_fields(rows)
    keyed = dedup.match_keys(rows)
    assets = dedup.merge_rows(rows, keyed.labels, fields)
    imports = _imports(rows, assets["members"])
    chosen = dedup.candidates(assets, imports)
    metrics: dict[str, Any] = {
        "rows": len(rows),
        "merged_by_key": keyed.merged_by,
        "fingerprint_candidates": int(chosen.sum()),
    }
    prints = fingerprints(
        session=session, tenant=tenant, texts=dedup.fingerprint_text(assets.loc[chosen]), embedder=embedder
    )
    assets["fingerprint"] = prints.literals.reindex(assets.index)
    assets["fingerprint_hash"] = prints.hashes.reindex(assets.index)
    metrics |= {"fingerprints_embedded": prints.embedded, "fingerprints_reused": prints.reused}
    assets = _finish(assets, run)
    ids = np.array(copy_assets(session=session, tenant=tenant, frame=assets), dtype=object)
    assets["id"] = ids
    pairs = similar_assets(
        session=session,
        tenant=tenant,
        asset_ids=list(ids[chosen]),
        master_flow_ids=[run["master_flow_id"]],
        max_distance=max_distance,
        k=neighbours,
        ef_search=ef_search,
        own_rows=int(chosen.sum()),
    )
    position = pd.Series(np.arange(len(assets)), index=ids)
    pairs = pairs.assign(
        a=position.reindex(pairs["query_id"]).to_numpy(), b=position.reindex(pairs["match_id"]).to_numpy()
    )
    accepted = pairs.loc[dedup.accept_pairs(assets, imports, pairs[["a", "b"]])]
    metrics["fingerprint_pairs_within_distance"] = _unordered(pairs)
    metrics["fingerprint_pairs_refused"] = _unordered(pairs) - _unordered(accepted)
    groups = dedup.components(len(assets), accepted["a"], accepted["b"])
    merged_by_fingerprint = len(assets) - len(np.unique(groups))
    metrics["merged_by_fingerprint"] = merged_by_fingerprint
    if merged_by_fingerprint:
        assets = _merge_fingerprint_groups(session, rows, keyed.labels, assets, groups, fields, run)
    metrics["duplicates_merged"] = len(rows) - len(assets)
    metrics["merged_assets"] = int(assets["provenance"].notna().sum())
    return assets, metrics


def _unordered(pairs: pd.DataFrame) -> int:
    """Distinct pairs, (a, b) and (b, a) counted once."""
    a, b = pairs["a"].to_numpy(dtype=np.int64), pairs["b"].to_numpy(dtype=np.int64)
    return len(pd.DataFrame({"lo": np.minimum(a, b), "hi": np.maximum(a, b)}).drop_duplicates())


def _finish(assets: pd.DataFrame, run: dict[str, Any]) -> pd.DataFrame:
    assets[dedup.COMPLETENESS] = completeness(assets)
    for column, value in run.items():
        assets[column] = value
    assets["six_r_locked"] = False
    return assets


def _merge_fingerprint_groups(
    session: Session,
    rows: pd.DataFrame,
    key_labels: dedup.Labels,
    assets: pd.DataFrame,
    groups: dedup.Labels,
    fields: list[str],
    run: dict[str, Any],
) -> pd.DataFrame:
    """Re-merge the rows of assets the fingerprints joined; update each group's first asset, delete the rest.

    ``groups`` labels each asset by the first asset of its group; the rows of an asset follow it.
    """
    asset_of_row = np.searchsorted(np.unique(key_labels), key_labels)
    merged = dedup.merge_rows(rows, groups[asset_of_row], fields)
    firsts = np.unique(groups)
    sizes = pd.Series(groups).value_counts().reindex(firsts).to_numpy()
    merged["id"] = assets.loc[firsts, "id"].to_numpy()
    for column in ("fingerprint", "fingerprint_hash"):
        merged[column] = assets.loc[firsts, column].to_numpy()
    merged = _finish(merged, run)
    columns = [
        c
        for c in merged.columns
        if c in ASSET_COLUMNS and c not in ("id", "client_account_id", "engagement_id")
    ]
    update_assets(session=session, frame=merged.loc[sizes > 1], columns=columns)
    delete_assets(session=session, asset_ids=list(set(assets["id"]) - set(merged["id"])))
    return merged


def build_inventory(session: Session, ctx: PhaseContext) -> dict[str, Any]:
    """Create the assets of this run from the cleansed inventory rows, duplicates merged."""
    run = {"master_flow_id": ctx.master_flow_id, "discovery_flow_id": ctx.phase_flow_id}
    assets, metrics = deduplicate_rows(
        session=session,
        tenant=ctx.tenant,
        run=run,
        rows=inventory_rows(session, ctx),
    )
    return {
        "assets": len(assets),
        "duplicates_merged": metrics.pop("duplicates_merged"),
        **metrics,
        "by_type": assets["asset_type"].value_counts().to_dict(),
        "completeness_avg": round(float(assets[dedup.COMPLETENESS].mean()), 3),
    }


inventory = step_task(DISCOVERY, "inventory", build_inventory)
