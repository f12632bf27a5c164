"""Dedup benchmark: precision/recall of inventory dedup, and recall@10 of the HNSW fingerprint search.

Run with ``python -m bench.dedup --assets 2000``. One run

1. migrates the schema and builds a synthetic set with known duplicates from the seeded generator
   (``mfactory.synthetic``): a vCenter-like export of every asset, a CMDB-like export of a part of
   them (other case, FQDN instead of short name, renamed hosts that share no key, missing fields,
   UUIDs written as SMBIOS ``{UPPER}``) plus CMDB-only hosts that look like the others, and an AWS
   template with MACs and upper-case names. Every row knows the asset it describes.
2. runs the real dedup path (``tasks.discovery.inventory.deduplicate_rows``: keys in pandas, MiniLM
   fingerprints, tenant-filtered HNSW query in PostgreSQL, merge with provenance) for a fresh
   tenant per fingerprint distance threshold, and scores pairwise precision/recall of the merged
   assets against the truth, for the key stage alone and for the whole;
3. loads MiniLM fingerprints of synthetic inventories for three tenants (a real-looking
   neighbourhood: random vectors mislead, HNSW recall collapses on them), then compares the
   tenant-filtered HNSW query (``db.repositories.dedup.SIMILAR_SQL``) with the exact answer
   (same query with ``enable_indexscan = off``, a sequential scan and sort) for several
   ``hnsw.ef_search`` values, the HNSW plan forced with ``enable_sort = off``: recall@10 and
   milliseconds per query; and the plan the planner picks on its own at the adaptive value.

Every figure is measured in the run itself.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import text

from agents.embeddings import get_embedder
from bench.ingest import setup_run
from db.migrate import upgrade
from db.repositories.assets import copy_assets
from db.repositories.dedup import SIMILAR_SQL, ef_search_for, set_ef_search
from db.repositories.imports import create_data_import
from db.repositories.learning import vector_literal
from db.session import tenant_session
from mfactory.synthetic import generate_inventory
from tasks.discovery import dedup
from tasks.discovery.inventory import (
    EF_SEARCH,
    MAX_FINGERPRINT_DISTANCE,
    NEIGHBOURS,
    completeness,
    deduplicate_rows,
)

FIELDS = [
    "asset_name",
    "asset_type",
    "fqdn",
    "ip_address",
    "mac_address",
    "vm_uuid",
    "os_name",
    "cpu_cores",
    "memory_gb",
    "storage_gb",
    "environment",
    "application_name",
]


def _source(frame: pd.DataFrame, name: str, fmt: str, order: int) -> pd.DataFrame:
    out = frame.reset_index(drop=True)
    out["data_import_id"] = name
    out["sheet_name"] = ""
    out["row_number"] = np.arange(2, len(out) + 2)
    out["raw_import_record_id"] = None  # no raw records in this benchmark; lineage is the import and row
    out[dedup.FORMAT] = fmt
    out[dedup.ORDER] = order
    return out


def synthetic_sources(n_assets: int, seed: int = 11) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rows of three exports with a ``truth`` column (the asset each row describes); and the mix."""
    rng = np.random.default_rng(seed)
    assets, _ = generate_inventory(n_assets, seed=seed, dependencies_per_asset=0)
    base = assets[FIELDS].astype(object).where(assets[FIELDS].notna(), None)
    base["cpu_cores"] = pd.to_numeric(base["cpu_cores"]).astype("Int64")
    base["memory_gb"] = pd.to_numeric(base["memory_gb"]).astype(float)
    base["truth"] = np.arange(n_assets)
    vcenter = base.copy()

    cmdb = base.sample(frac=0.6, random_state=seed).copy()
    kind = rng.choice(["fqdn", "case", "renamed", "plain"], size=len(cmdb), p=[0.3, 0.25, 0.2, 0.25])
    names = cmdb["asset_name"].astype(str)
    cmdb["asset_name"] = np.select(
        [kind == "fqdn", kind == "case", kind == "renamed"],
        [
            cmdb["fqdn"].astype(str).str.upper(),
            names.str.upper(),
            "srv-" + names.str.replace("-", "", regex=False),
        ],
        names,
    )
    renamed = kind == "renamed"
    cmdb.loc[renamed, ["fqdn", "mac_address", "vm_uuid"]] = None
    smbios = ~renamed & (rng.random(len(cmdb)) < 0.5)
    cmdb["bios_uuid"] = np.where(smbios, "{" + cmdb["vm_uuid"].astype(str).str.upper() + "}", None)
    cmdb.loc[:, "vm_uuid"] = None
    cmdb.loc[kind != "fqdn", "fqdn"] = None
    cmdb.loc[:, "mac_address"] = None
    for column in ("memory_gb", "os_name", "application_name", "ip_address"):
        blank = rng.random(len(cmdb)) < (0.2 if column != "ip_address" else 0.1)
        blank &= ~(renamed & (column == "ip_address"))  # a renamed host with no IP has nothing left to match
        cmdb.loc[blank, column] = None
    # CMDB-only hosts that look like their neighbours (not duplicates): half are clones with other
    # numbers and their own IPs; half are hard: the same name but another suffix ("vm0001-test" ->
    # "vm0001-old"), no IP, and the attributes of some other asset (same size by chance, at times)
    extra = base.sample(frac=0.1, random_state=seed + 1).copy()
    hard = np.arange(len(extra)) % 2 == 1
    renumbered = (
        extra["asset_name"]
        .astype(str)
        .str.replace(r"\d+", lambda m: str(int(m.group()) + 50_000), regex=True)
    )
    resuffixed = extra["asset_name"].astype(str).str.replace(r"-[a-z]+$", "-old", regex=True)
    extra["asset_name"] = np.where(hard, resuffixed, renumbered)
    extra[["fqdn", "mac_address", "vm_uuid"]] = None
    donors = base.sample(n=int(hard.sum()), random_state=seed + 3, replace=True)
    for column in ("os_name", "cpu_cores", "memory_gb", "storage_gb", "application_name", "environment"):
        extra.loc[hard, column] = donors[column].to_numpy()
    extra["ip_address"] = (
        "10.250."
        + pd.Series(np.arange(len(extra)) // 250).astype(str).to_numpy()
        + "."
        + pd.Series(np.arange(len(extra)) % 250).astype(str).to_numpy()
    )
    extra.loc[hard, "ip_address"] = None
    extra["truth"] = np.arange(n_assets, n_assets + len(extra))
    cmdb = pd.concat([cmdb, extra])

    aws = base.sample(frac=0.15, random_state=seed + 2)[
        ["asset_name", "mac_address", "ip_address", "cpu_cores", "memory_gb", "os_name", "truth"]
    ].copy()
    aws["asset_name"] = aws["asset_name"].astype(str).str.upper()
    rows = pd.concat(
        [
            _source(vcenter, "vcenter", "rvtools", 0),
            _source(cmdb, "cmdb", "cmdb", 1),
            _source(aws, "aws", "aws", 2),
        ],
        ignore_index=True,
    )
    rows[dedup.COMPLETENESS] = completeness(rows)
    mix = {f"cmdb_{k}": int((kind == k).sum()) for k in ("fqdn", "case", "renamed", "plain")}
    mix |= {"cmdb_only_lookalikes": len(extra), "aws_rows": len(aws), "rows": len(rows)}
    return rows, mix


def pair_scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Pairwise precision/recall: pairs of rows put together vs pairs that belong together."""

    def pairs(counts: pd.Series) -> int:
        return int((counts * (counts - 1) // 2).sum())

    both = pairs(pd.Series(list(zip(truth, predicted, strict=True))).value_counts())
    said, real = pairs(pd.Series(predicted).value_counts()), pairs(pd.Series(truth).value_counts())
    precision = both / said if said else 1.0
    recall = both / real if real else 1.0
    return {"precision": precision, "recall": recall, "pairs_true": real, "pairs_predicted": said}


def run_dedup(rows: pd.DataFrame, max_distance: float, neighbours: int = NEIGHBOURS) -> dict[str, Any]:
    ctx = setup_run()
    start = time.perf_counter()
    with tenant_session(ctx.tenant, flow_run_id=ctx.phase_flow_id, step_name="inventory") as session:
        imports = {
            name: create_data_import(
                session=session,
                tenant=ctx.tenant,
                master_flow_id=ctx.master_flow_id,
                phase_flow_id=ctx.phase_flow_id,
                source_name=f"{name}.csv",
                source_kind="inventory",
                source_format=fmt,
                file_sha256="0" * 64,
                status="imported",
                sheets=[],
            ).id
            for name, fmt in rows.groupby("data_import_id")[dedup.FORMAT].first().items()
        }
        assets, metrics = deduplicate_rows(
            session=session,
            tenant=ctx.tenant,
            run={"master_flow_id": ctx.master_flow_id, "discovery_flow_id": ctx.phase_flow_id},
            rows=rows.drop(columns=["truth"]).assign(data_import_id=rows["data_import_id"].map(imports)),
            embedder=get_embedder(),
            max_distance=max_distance,
            neighbours=neighbours,
        )
    seconds = time.perf_counter() - start
    predicted = np.empty(len(rows), dtype=np.int64)
    for label, members in enumerate(assets["members"]):
        predicted[members] = label
    keys_only = dedup.match_keys(rows).labels
    truth = rows["truth"].to_numpy()
    return {
        "max_distance": max_distance,
        "seconds": seconds,
        "assets": len(assets),
        "true_assets": int(pd.Series(truth).nunique()),
        "keys": pair_scores(truth, keys_only),
        "all": pair_scores(truth, predicted),
        "metrics": metrics,
    }


def recall_at_k(n_per_tenant: int, queries: int, ef_values: list[int], k: int = 10) -> list[dict[str, Any]]:
    """Tenant-filtered HNSW vs exact top-k on MiniLM fingerprints of three tenants' inventories."""
    embedder = get_embedder()
    contexts = []
    for seed in (101, 202, 303):
        ctx = setup_run()
        assets, _ = generate_inventory(n_per_tenant, seed=seed, dependencies_per_asset=0)
        vectors = embedder.embed(list(dedup.fingerprint_text(assets)))
        frame = assets[["asset_name", "asset_type"]].assign(
            fingerprint=[vector_literal(v) for v in vectors],
            master_flow_id=ctx.master_flow_id,
            six_r_locked=False,
        )
        with tenant_session(ctx.tenant) as session:
            ids = copy_assets(session=session, tenant=ctx.tenant, frame=frame)
        contexts.append((ctx, ids))
    ctx, ids = contexts[0]
    rng = np.random.default_rng(5)
    chosen = [str(i) for i in rng.choice(np.array(ids, dtype=object), size=queries, replace=False)]
    params = {
        "c": ctx.tenant.client_account_id,
        "e": ctx.tenant.engagement_id,
        "runs": [str(ctx.master_flow_id)],
        "ids": chosen,
        "d": 2.0,
        "k": k,
    }

    def answer(session: Any) -> tuple[dict[str, set[str]], float]:
        start = time.perf_counter()
        found: dict[str, set[str]] = {q: set() for q in chosen}
        for r in session.execute(SIMILAR_SQL, params):
            found[str(r.query_id)].add(str(r.match_id))
        return found, (time.perf_counter() - start) * 1000 / queries

    with tenant_session(ctx.tenant) as session:
        session.execute(text("SET LOCAL enable_indexscan = off"))
        exact, exact_ms = answer(session)
        plan = "\n".join(r[0] for r in session.execute(text("EXPLAIN " + str(SIMILAR_SQL)), params))
        assert "ix_assets_fingerprint_hnsw" not in plan, "the exact search must not use the index"
    with tenant_session(ctx.tenant) as session:
        adaptive = ef_search_for(session=session, k=k, own_rows=n_per_tenant, floor=EF_SEARCH)
        indexed = session.execute(
            text(
                "SELECT reltuples FROM pg_class WHERE oid = 'migration.ix_assets_fingerprint_hnsw'::regclass"
            )
        ).scalar_one()
    print(
        f"index: {indexed:.0f} fingerprints, the queried tenant's run holds {n_per_tenant} "
        f"({n_per_tenant / indexed:.1%}); adaptive ef_search = {adaptive}"
    )
    out = []
    # forced: enable_sort = off leaves the HNSW index as the only ordered path (the plan the planner
    # takes for a large tenant); the last row is the planner's own choice at the adaptive ef_search
    for ef, forced in [*((ef, True) for ef in [*ef_values, adaptive]), (adaptive, False)]:
        with tenant_session(ctx.tenant) as session:
            set_ef_search(session, ef)
            if forced:
                session.execute(text("SET LOCAL enable_sort = off"))
            plan = "\n".join(r[0] for r in session.execute(text("EXPLAIN " + str(SIMILAR_SQL)), params))
            approximate, ms = answer(session)
        hits = sum(len(approximate[q] & exact[q]) for q in chosen)
        total = sum(len(exact[q]) for q in chosen)
        out.append(
            {
                "ef_search": ef if forced else f"{ef} (planner's choice)",
                "recall": hits / total,
                "ms_per_query": ms,
                "exact_ms_per_query": exact_ms,
                "uses_hnsw": "ix_assets_fingerprint_hnsw" in plan,
            }
        )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=2000, help="synthetic assets behind the three exports")
    parser.add_argument(
        "--distances", type=float, nargs="+", default=[0.06, 0.09, MAX_FINGERPRINT_DISTANCE, 0.16]
    )
    parser.add_argument("--recall-assets", type=int, default=5000, help="fingerprints per tenant (3 tenants)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--neighbours", type=int, default=NEIGHBOURS, help="k of the dedup similarity query")
    parser.add_argument("--ef", type=int, nargs="+", default=[10, 20, 40, EF_SEARCH, 200, 400])
    args = parser.parse_args(argv)
    upgrade()
    rows, mix = synthetic_sources(args.assets)
    print(f"synthetic set: {mix}")
    get_embedder()
    print(
        "\n| max cosine distance | assets (true) | key stage P / R | keys + fingerprint P / R | "
        "merged by key | by fingerprint | pairs within distance / refused | embedded | s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for distance in args.distances:
        r = run_dedup(rows, distance, args.neighbours)
        m = r["metrics"]
        by_key = ", ".join(f"{k} {v}" for k, v in m["merged_by_key"].items())
        print(
            f"| {distance:g} | {r['assets']} ({r['true_assets']}) | {r['keys']['precision']:.4f} / "
            f"{r['keys']['recall']:.4f} | {r['all']['precision']:.4f} / {r['all']['recall']:.4f} | "
            f"{by_key} | "
            f"{m['merged_by_fingerprint']} | {m['fingerprint_pairs_within_distance']} / "
            f"{m['fingerprint_pairs_refused']} | {m['fingerprints_embedded']} | {r['seconds']:.1f} |"
        )
    if not args.recall_assets:
        return
    print(
        f"\nrecall@10, tenant-filtered HNSW vs exact: 3 tenants x {args.recall_assets} fingerprints, "
        f"{args.queries} queries of one tenant"
    )
    print("| hnsw.ef_search | recall@10 | ms/query (HNSW) | ms/query (exact) | plan uses HNSW |")
    print("|---|---|---|---|---|")
    for r in recall_at_k(args.recall_assets, args.queries, args.ef):
        print(
            f"| {r['ef_search']} | {r['recall']:.4f} | {r['ms_per_query']:.2f} | "
            f"{r['exact_ms_per_query']:.2f} | {r['uses_hnsw']} |"
        )


if __name__ == "__main__":
    main()
