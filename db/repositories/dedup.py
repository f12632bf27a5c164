"""Asset fingerprints: reuse stored vectors by content hash, find near duplicates through HNSW.

The similarity query is one set-based statement for all query assets: each one's neighbours come
from a LATERAL subquery ordered by cosine distance with a LIMIT (so the HNSW index on
``assets.fingerprint``, migration 0005, serves it), with the distance threshold in the WHERE
clause. The tenant filter is explicit (``client_account_id``/``engagement_id``) on top of
row-level security, so the plan and the result do not depend on the policy alone.

Why ``hnsw.ef_search`` is set here: pgvector (0.6 here, no iterative index scans) filters *after*
the index scan, which yields at most ``ef_search`` candidates; other tenants' and other runs'
fingerprints near the query take places in that list. The value is set transaction-locally
(``set_config(..., true)`` = ``SET LOCAL``) for this statement's transaction only, and scaled to
the share of the index the filter keeps (``ef_search_for``); bench/dedup.py measures recall@10
against exact search for several values (docs/benchmarks.md).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.session import Tenant

SIMILAR_SQL = text(
    "SELECT q.id AS query_id, m.id AS match_id, m.distance"
    "  FROM migration.assets q"
    " CROSS JOIN LATERAL ("
    "   SELECT a.id, a.fingerprint <=> q.fingerprint AS distance"
    "     FROM migration.assets a"
    "    WHERE a.client_account_id = :c AND a.engagement_id = :e"
    "      AND a.master_flow_id = ANY(CAST(:runs AS uuid[]))"
    "      AND a.id <> q.id"
    "      AND a.fingerprint <=> q.fingerprint <= :d"
    "    ORDER BY a.fingerprint <=> q.fingerprint"
    "    LIMIT :k) m"
    " WHERE q.id = ANY(CAST(:ids AS uuid[])) AND q.fingerprint IS NOT NULL"
    " ORDER BY q.id, m.distance"
)


#: pgvector's upper bound for hnsw.ef_search.
MAX_EF_SEARCH = 1000


def ef_search_for(*, session: Session, k: int, own_rows: int, floor: int) -> int:
    """An ``ef_search`` large enough that ~2k of the scan's candidates pass the tenant/run filter.

    The filter keeps about ``own_rows / rows in the index`` of what the scan yields, if the query's
    neighbours spread over tenants like the index does; the index size comes from the catalogue
    (``pg_class.reltuples``, refreshed by the ANALYZE after each bulk load), which is no tenant data.
    """
    indexed = session.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = 'migration.ix_assets_fingerprint_hnsw'::regclass")
    ).scalar_one()
    total = max(float(indexed or 0), float(own_rows), 1.0)
    wanted = 2 * k * total / max(own_rows, 1)
    return int(min(MAX_EF_SEARCH, max(floor, math.ceil(wanted))))


def set_ef_search(session: Session, ef_search: int) -> None:
    """``SET LOCAL hnsw.ef_search``: the candidate list of this transaction's HNSW scans."""
    session.execute(text("SELECT set_config('hnsw.ef_search', :v, true)"), {"v": str(int(ef_search))})


def similar_assets(
    *,
    session: Session,
    tenant: Tenant,
    asset_ids: Sequence[uuid.UUID],
    master_flow_ids: Sequence[uuid.UUID],
    max_distance: float,
    k: int,
    ef_search: int,
    own_rows: int | None = None,
) -> pd.DataFrame:
    """Per query asset, up to ``k`` assets of ``master_flow_ids`` within ``max_distance`` (cosine).

    ``ef_search`` is used as given, or, with ``own_rows`` (fingerprints the filter lets through),
    as the floor of ``ef_search_for``. Returns ``query_id``, ``match_id``, ``distance`` (nearest
    first per query).
    """
    columns = ["query_id", "match_id", "distance"]
    if not asset_ids:
        return pd.DataFrame(columns=columns)
    if own_rows is not None:
        ef_search = ef_search_for(session=session, k=k, own_rows=own_rows, floor=ef_search)
    set_ef_search(session, ef_search)
    result = session.execute(
        SIMILAR_SQL,
        {
            "c": tenant.client_account_id,
            "e": tenant.engagement_id,
            "runs": [str(r) for r in master_flow_ids],
            "ids": [str(i) for i in asset_ids],
            "d": max_distance,
            "k": k,
        },
    )
    return pd.DataFrame(result.fetchall(), columns=columns)


def stored_fingerprints(*, session: Session, tenant: Tenant, hashes: Sequence[str]) -> dict[str, np.ndarray]:
    """Vectors this engagement already stored for these content hashes (any of its runs)."""
    if not hashes:
        return {}
    rows = session.execute(
        text(
            "SELECT DISTINCT ON (fingerprint_hash) fingerprint_hash, fingerprint::text AS v"
            "  FROM migration.assets"
            " WHERE engagement_id = :e AND client_account_id = :c"
            "   AND fingerprint_hash = ANY(CAST(:h AS text[])) AND fingerprint IS NOT NULL"
            " ORDER BY fingerprint_hash"
        ),
        {"h": list(hashes), "e": tenant.engagement_id, "c": tenant.client_account_id},
    ).all()
    return {r.fingerprint_hash: np.array(r.v.strip("[]").split(","), dtype=np.float32) for r in rows}


def delete_assets(*, session: Session, asset_ids: Sequence[uuid.UUID]) -> int:
    """Delete assets by id (their rows were merged into another asset of the same run)."""
    if not asset_ids:
        return 0
    result = session.execute(
        text("DELETE FROM migration.assets WHERE id = ANY(CAST(:ids AS uuid[]))"),
        {"ids": [str(i) for i in asset_ids]},
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
