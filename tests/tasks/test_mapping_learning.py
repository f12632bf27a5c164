"""Learned mapping patterns on the real PostgreSQL: reuse within a tenant, isolation across tenants.

A mapping a user confirms for tenant A is found again (by embedding similarity, threshold in
SQL) for A's next file with a similar header; tenant B never sees it unless A shared it *and*
B opted in, and then only through the owner-defined function, which returns the pattern alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, text

from db.repositories.imports import save_field_mappings
from db.repositories.learning import NEAREST_SQL, _vector_array
from db.session import Tenant, tenant_session
from mfactory.errors import MappingError
from tasks.discovery.attribute_mapping import map_frame
from tasks.discovery.mapping.learning import confirm_mapping, find_learned, record_applied
from tests.db.helpers import new_import

MakeTenant = Callable[..., Tenant]
HEADER, NEXT_HEADER, FIELD = "Svc Bucket", "SVC bucket", "business_unit"


def _file(header: str) -> pd.DataFrame:
    n = 12
    return pd.DataFrame(
        {
            "Server": [f"app{i:03d}" for i in range(n)],
            header: ["payments", "lending", "hr"] * (n // 3),
            "Operating System": ["Windows Server 2019", "RHEL 8"] * (n // 2),
        }
    )


def _field(
    frame: pd.DataFrame, column: str, learned: dict[str, object] | None = None
) -> tuple[str | None, str]:
    mapping = {m.source: m for m in map_frame(frame, learned=learned).columns}[column]  # type: ignore[arg-type]
    return mapping.field, mapping.method


@pytest.fixture
def tenants(make_tenant: MakeTenant) -> tuple[Tenant, Tenant]:
    return make_tenant(), make_tenant()


def test_the_mapper_alone_does_not_know_the_header() -> None:
    """The premise of the tests below: without a learned pattern the header is not mapped to FIELD."""
    assert _field(_file(HEADER), HEADER)[0] != FIELD
    assert _field(_file(NEXT_HEADER), NEXT_HEADER)[0] != FIELD


def test_confirmed_mapping_is_reused_for_that_tenant_only(
    tenants: tuple[Tenant, Tenant], admin_engine: Engine
) -> None:
    a, b = tenants
    proposed = _field(_file(HEADER), HEADER)[0]
    with tenant_session(a) as session:
        confirmation = confirm_mapping(
            session, a, source_column=HEADER, field=FIELD, proposed_field=proposed, confirmed_by="ana"
        )
    assert confirmation.insight_type == "corrected"

    following = _file(NEXT_HEADER)  # A's next import: a similar header, not the same string
    with tenant_session(a) as session:
        learned = find_learned(session, list(following.columns))
        assert set(learned) == {NEXT_HEADER}  # the threshold (in SQL) keeps the other columns out
        assert learned[NEXT_HEADER].similarity >= 0.9 and not learned[NEXT_HEADER].shared
        assert _field(following, NEXT_HEADER, learned) == (FIELD, "learned")
        record_applied(session, list(learned.values()))

    with tenant_session(b) as session:
        assert find_learned(session, list(following.columns)) == {}
        assert find_learned(session, list(following.columns), include_shared=True) == {}  # A did not share
        assert session.execute(text("SELECT count(*) FROM migration.agent_learning_patterns")).scalar() == 0
    assert _field(following, NEXT_HEADER, {})[0] != FIELD

    with admin_engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT pattern_type, insight_type, pattern_key, pattern_value, validated, shareable,"
                " applied_count, evidence FROM migration.agent_learning_patterns WHERE id = :i"
            ),
            {"i": confirmation.pattern_id},
        ).one()
    assert (row.pattern_type, row.insight_type, row.pattern_key, row.pattern_value) == (
        "column_mapping",
        "corrected",
        "svc bucket",
        FIELD,
    )
    assert (row.validated, row.shareable, row.applied_count) == (True, False, 1)
    assert row.evidence["confirmed_by"] == "ana" and "payments" not in str(row.evidence)


def test_shared_pattern_reaches_another_tenant_only_when_it_opts_in(tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    with tenant_session(a) as session:
        confirm_mapping(session, a, source_column=HEADER, field=FIELD, share=True)
    following = _file(NEXT_HEADER)
    with tenant_session(b) as session:
        assert find_learned(session, list(following.columns), include_shared=False) == {}
        learned = find_learned(session, list(following.columns), include_shared=True)
    hint = learned[NEXT_HEADER]
    assert (hint.field, hint.shared, hint.pattern_id) == (FIELD, True, None)
    assert _field(following, NEXT_HEADER, learned) == (FIELD, "shared")


def test_shared_path_returns_the_pattern_only_and_needs_a_tenant(tenants: tuple[Tenant, Tenant]) -> None:
    a, b = tenants
    with tenant_session(a) as session:
        confirm_mapping(session, a, source_column="Rack Zone", field="datacenter", share=True)
        vector = session.execute(
            text(
                "SELECT embedding::text FROM migration.agent_learning_patterns"
                " WHERE pattern_key = 'rack zone'"
            )
        ).scalar_one()
    query = text("SELECT * FROM migration.shared_mapping_patterns(ARRAY[CAST(:v AS vector)], 0.01, 5)")
    with tenant_session(b) as session:
        result = session.execute(query, {"v": vector})
        assert list(result.keys()) == [
            "query_index",
            "pattern_key",
            "target_field",
            "unit",
            "distance",
            "confidence",
        ]
        rows = result.all()
        assert [(r.pattern_key, r.target_field) for r in rows] == [("rack zone", "datacenter")]
    with tenant_session(a) as session:  # the owner of a pattern reaches it through RLS, not here
        assert session.execute(query, {"v": vector}).all() == []
    with tenant_session(None) as session:  # no tenant context, no rows
        assert session.execute(query, {"v": vector}).all() == []


def test_confirmation_updates_the_stored_proposal(
    tenants: tuple[Tenant, Tenant], admin_engine: Engine
) -> None:
    a, _ = tenants
    data_import = new_import(a)
    with tenant_session(a) as session:
        session.add(data_import)
        session.flush()
        save_field_mappings(
            session=session,
            tenant=a,
            data_import_id=data_import.id,
            sheet_name="",
            mappings=[
                {
                    "source_column": "Mem",
                    "target_field": None,
                    "confidence": 0.4,
                    "method": "unmapped",
                    "evidence": {"scale": 1.0, "unit": None, "needs_review": True},
                },
            ],
        )
        first = confirm_mapping(
            session, a, source_column="Mem", field="memory_gb", unit="MiB", data_import_id=data_import.id
        )
        # Confirming again against the (now updated) proposal is a confirmation, not a correction.
        again = confirm_mapping(
            session, a, source_column="Mem", field="memory_gb", data_import_id=data_import.id
        )
    assert first.insight_type == "corrected" and again.insight_type == "confirmed"
    assert first.pattern_id == again.pattern_id  # one pattern per header and tenant, replaced
    assert first.scale == again.scale == pytest.approx(1 / 1024)  # no unit named: the proposed one stays
    with admin_engine.connect() as conn:
        row = conn.execute(
            text("SELECT * FROM migration.import_field_mappings WHERE data_import_id = :d"),
            {"d": data_import.id},
        ).one()
    assert (row.target_field, row.method, row.confirmed_by_user, row.confidence) == (
        "memory_gb",
        "user",
        True,
        1.0,
    )
    assert row.evidence["scale"] == pytest.approx(1 / 1024) and row.evidence["needs_review"] is False


def test_confirmation_rejects_unknown_fields_and_units(tenants: tuple[Tenant, Tenant]) -> None:
    a, _ = tenants
    with tenant_session(a) as session:
        with pytest.raises(MappingError, match="not a canonical asset field"):
            confirm_mapping(session, a, source_column="x", field="ram_size")
        with pytest.raises(MappingError, match="does not apply"):
            confirm_mapping(session, a, source_column="x", field="hostname", unit="MiB")
        with pytest.raises(MappingError, match="has no column"):
            confirm_mapping(session, a, source_column="x", field="hostname", data_import_id=uuid.uuid4())


def test_pattern_search_is_served_by_the_hnsw_index(tenants: tuple[Tenant, Tenant]) -> None:
    """The query shape (ORDER BY distance LIMIT k, threshold in WHERE) can use the HNSW index.

    On a small table the planner rightly prefers the tenant's btree index and a sort; with
    those paths disabled the plan must be an HNSW index scan ordered by cosine distance.
    """
    a, _ = tenants
    with tenant_session(a) as session:
        session.execute(text("SET LOCAL enable_seqscan = off"))
        session.execute(text("SET LOCAL enable_sort = off"))
        plan = "\n".join(
            session.execute(
                text("EXPLAIN " + str(NEAREST_SQL)),
                {
                    "embeddings": _vector_array(np.ones((2, 384), dtype=np.float32)),
                    "t": "column_mapping",
                    "d": 0.1,
                    "k": 5,
                },
            ).scalars()
        )
    assert "Index Scan using ix_agent_learning_patterns_embedding_hnsw" in plan
    assert (
        "Order By: (p.embedding <=> q.embedding)" in plan or "Order By: (embedding <=> q.embedding)" in plan
    )
