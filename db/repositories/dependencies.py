"""Dependency observations -> asset_dependencies edges and unresolved_endpoints, set-based.

Three statements do the work whatever the size of the lists:
1. every observation row of every dependency table is parsed into a transaction-local stage
   (host and port split from ``host:port`` cells, ports from ``443/tcp``, a Timeslot parsed
   where it is a date, a netstat row turned client -> server when its source holds the service
   port and its destination an ephemeral one);
2. both ends are resolved against one name table of the run's assets: asset name, hostname,
   FQDN, the short name of a dotted name and every address in ``ip_address`` (which may hold a
   list) or in ``custom_attributes.ip_addresses`` (where cleansing keeps a cell's valid addresses
   when it holds several), case-insensitive. A key two assets share at its best rank resolves to neither
   ("ambiguous") rather than to a guess;
3. one INSERT folds repeated observations into one edge per (source, target) with the count,
   the distinct ports and protocols and the first/last time seen; self-edges are dropped; one
   more INSERT lists every endpoint that matched nothing, per import and side.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.repositories.bulk import STATISTICS_THRESHOLD, refresh_statistics
from db.session import Tenant
from mfactory.endpoints import ENDPOINT, EPHEMERAL_PORT, IP_LIKE, NO_PEER, PORT_CELL

#: How an end was matched, best first; a match through a short name is less certain.
NAME, IP, SHORT_NAME = "name", "ip", "short_name"
SHORT_NAME_CONFIDENCE = 0.9
#: Separators of an address list in ``assets.ip_address``.
IP_LIST_SEPARATORS = r"[,;[:space:]]+"
#: Memory for the step's sorts and hashes (transaction-local; the default 4 MB spills to disk).
WORK_MEM = "128MB"


@dataclass(frozen=True)
class ObservationColumns:
    """Which raw column holds each part of an observation (None: the table has none)."""

    source: str
    target: str
    source_ip: str | None = None
    target_ip: str | None = None
    port: str | None = None
    protocol: str | None = None
    dependency_type: str | None = None
    observed_at: str | None = None
    observations: str | None = None


@dataclass(frozen=True)
class ObservationTable:
    data_import_id: uuid.UUID
    sheet_name: str
    columns: ObservationColumns


STAGE = """
DROP TABLE IF EXISTS dependency_observations;
CREATE TEMP TABLE dependency_observations (
    data_import_id uuid, row_number int, src_host text, src_port int, dst_host text, dst_port int,
    src_ip text, dst_ip text, port int, protocol text, dependency_type text, observed_at timestamptz,
    weight int
) ON COMMIT DROP
"""


def _cell(column: str | None, *, lower: bool = True) -> str:
    """A raw cell as trimmed (lower-case) text, NULL when empty or when the table has no such column."""
    if column is None:
        return "NULL::text"
    trimmed = f"btrim(r.record ->> {_literal(column)})"
    return f"NULLIF({'lower(' + trimmed + ')' if lower else trimmed}, '')"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


ENDPOINTS = ("src", "dst", "src_ip", "dst_ip")


def _host(end: str) -> str:
    """The host of endpoint cell ``<end>`` from its match ``<end>_m``; NULL for "any" and loopback."""
    host = f"rtrim(btrim(coalesce({end}_m[1], {end}_m[2], {end})), '.')"
    return f"CASE WHEN {host} = ANY(:no_peer) THEN NULL ELSE {host} END"


def _number(digits: str) -> str:
    """A port number from its text (at most five digits, or ``*``), NULL outside 1..65535. The cast
    sits in a nested CASE: PostgreSQL does not promise to test ``AND`` operands left to right."""
    return (
        f"CASE WHEN {digits} ~ '^[0-9]+$' THEN CASE WHEN ({digits})::int BETWEEN 1 AND 65535"
        f" THEN ({digits})::int END END"
    )


def _stage_table(session: Session, table: ObservationTable) -> int:
    """Parse one table's rows into the stage. ``OFFSET 0`` keeps each level a separate step, so
    every regular expression runs once per cell instead of once per reference to its result."""
    c = table.columns
    cells = ", ".join(
        [
            f"{_cell(c.source)} AS src",
            f"{_cell(c.target)} AS dst",
            f"{_cell(c.source_ip)} AS src_ip",
            f"{_cell(c.target_ip)} AS dst_ip",
            f"{_cell(c.port)} AS port",
            f"{_cell(c.protocol)} AS protocol",
            f"{_cell(c.dependency_type, lower=False)} AS kind",
            f"{_cell(c.observed_at, lower=False)} AS observed",
            f"{_cell(c.observations)} AS weight",
        ]
    )
    matches = ", ".join(f"regexp_match({end}, :endpoint) AS {end}_m" for end in ENDPOINTS)
    sql = f"""
    INSERT INTO dependency_observations
    SELECT :d, row_number, {_host("src")}, {_number("src_m[3]")}, {_host("dst")}, {_number("dst_m[3]")},
           {_host("src_ip")}, {_host("dst_ip")}, {_number("coalesce(port_m[1], port_m[3])")},
           protocol, coalesce(kind, 'network'),
           CASE WHEN pg_input_is_valid(observed, 'timestamptz') THEN observed::timestamptz END,
           coalesce(CASE WHEN weight ~ '^[0-9]{{1,9}}$' THEN NULLIF(weight::int, 0) END, 1)
      FROM (SELECT *, {matches}, regexp_match(port, :port_cell) AS port_m
              FROM (SELECT r.row_number, {cells}
                      FROM migration.raw_import_records r
                     WHERE r.data_import_id = :d AND r.sheet_name = :s AND r.is_valid OFFSET 0) e
            OFFSET 0) m
    """
    result = session.execute(
        text(sql),
        {
            "d": table.data_import_id,
            "s": table.sheet_name,
            "endpoint": ENDPOINT,
            "port_cell": PORT_CELL,
            "no_peer": list(NO_PEER),
        },
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# A netstat line taken on the server has the service port on its own (source) side and the
# client's ephemeral port on the other: turn it round so every edge reads client -> server.
ORIENT = f"""
UPDATE dependency_observations
   SET src_host = dst_host, dst_host = src_host, src_ip = dst_ip, dst_ip = src_ip,
       src_port = dst_port, dst_port = src_port
 WHERE port IS NULL AND src_port < {EPHEMERAL_PORT} AND dst_port >= {EPHEMERAL_PORT};
UPDATE dependency_observations SET port = dst_port WHERE port IS NULL;
ANALYZE dependency_observations
"""

# One row per lookup key of the run's assets; a key shared by two assets at its best rank is
# ambiguous (n > 1) and resolves nothing.
NAMES = """
DROP TABLE IF EXISTS dependency_names;
CREATE TEMP TABLE dependency_names ON COMMIT DROP AS
WITH assets AS (
    SELECT id, lower(btrim(asset_name)) AS asset_name, lower(rtrim(btrim(hostname), '.')) AS hostname,
           lower(rtrim(btrim(fqdn), '.')) AS fqdn, ip_address, custom_attributes -> 'ip_addresses' AS ips
      FROM migration.assets WHERE master_flow_id = :m
), keys AS (
    SELECT asset_name AS key, id, 1 AS pref FROM assets
    UNION ALL SELECT hostname, id, 2 FROM assets
    UNION ALL SELECT fqdn, id, 3 FROM assets
    UNION ALL SELECT split_part(name, '.', 1), id, 4
      FROM assets, LATERAL (VALUES (asset_name), (hostname), (fqdn)) n (name)
     WHERE name LIKE '%_._%' AND name !~ :ip_like
    UNION ALL SELECT lower(ip), id, 5
      FROM assets, LATERAL regexp_split_to_table(btrim(ip_address), :ip_list) ip
     WHERE ip_address IS NOT NULL
    UNION ALL SELECT lower(ip), id, 5  -- cleansing keeps the first valid address, the list aside
      FROM assets, LATERAL jsonb_array_elements_text(ips) ip
     WHERE jsonb_typeof(ips) = 'array'
), ranked AS (
    SELECT DISTINCT key, id, pref, min(pref) OVER (PARTITION BY key) AS best
      FROM keys WHERE key IS NOT NULL AND key <> ''
)
SELECT key, min(pref) AS pref, (array_agg(id))[1] AS id, count(DISTINCT id) AS n
  FROM ranked WHERE pref = best GROUP BY key;
ANALYZE dependency_names
"""


def _resolve(side: str) -> str:
    """Columns ``<side>_id``, ``<side>_how`` and ``<side>_reason`` of one end of an observation."""
    host, ip = f"o.{side}_host", f"o.{side}_ip"
    name, addr, short = f"{side}_n", f"{side}_i", f"{side}_s"
    how = f"CASE WHEN {name}.pref = 5 THEN '{IP}' WHEN {name}.pref = 4 THEN '{SHORT_NAME}' ELSE '{NAME}' END"
    return f"""
           CASE WHEN {name}.n = 1 THEN {name}.id WHEN {addr}.n = 1 THEN {addr}.id
                WHEN {short}.n = 1 THEN {short}.id END AS {side}_id,
           CASE WHEN {name}.n = 1 THEN {how} WHEN {addr}.n = 1 THEN '{IP}'
                WHEN {short}.n = 1 THEN '{SHORT_NAME}' END AS {side}_how,
           CASE WHEN coalesce({name}.n, 0) <> 1 AND coalesce({addr}.n, 0) <> 1 AND coalesce({short}.n, 0) <> 1
                     AND coalesce({host}, {ip}) IS NOT NULL
                THEN CASE WHEN greatest({name}.n, {addr}.n, {short}.n) > 1 THEN 'ambiguous' ELSE 'unknown' END
           END AS {side}_reason"""


def _joins(side: str) -> str:
    host, ip = f"o.{side}_host", f"o.{side}_ip"
    return f"""
      LEFT JOIN dependency_names {side}_n ON {side}_n.key = {host}
      LEFT JOIN dependency_names {side}_i ON {side}_i.key = {ip}
      LEFT JOIN dependency_names {side}_s ON {side}_s.key = split_part({host}, '.', 1)
                AND {host} LIKE '%_._%' AND {host} !~ :ip_like AND {side}_s.pref <> 5"""


LINKS = f"""
DROP TABLE IF EXISTS dependency_links;
CREATE TEMP TABLE dependency_links ON COMMIT DROP AS
SELECT o.*, {_resolve("src")}, {_resolve("dst")}
  FROM dependency_observations o {_joins("src")} {_joins("dst")};
ANALYZE dependency_links
"""

EDGES = f"""
WITH per_import AS (
    SELECT src_id, dst_id, jsonb_object_agg(data_import_id, rows) AS rows
      FROM (SELECT src_id, dst_id, data_import_id, array_agg(row_number ORDER BY row_number) AS rows
              FROM dependency_links
             WHERE src_id IS NOT NULL AND dst_id IS NOT NULL AND src_id <> dst_id
             GROUP BY 1, 2, 3) g
     GROUP BY 1, 2
), edges AS (
    SELECT src_id, dst_id,
           min(dependency_type) AS dependency_type,
           mode() WITHIN GROUP (ORDER BY port) AS port,
           min(protocol) AS protocol,
           (array_agg(data_import_id))[1] AS data_import_id,
           sum(weight) AS observation_count,
           array_agg(DISTINCT port) FILTER (WHERE port IS NOT NULL) AS ports,
           array_agg(DISTINCT protocol) FILTER (WHERE protocol IS NOT NULL) AS protocols,
           min(observed_at) AS first_seen, max(observed_at) AS last_seen,
           bool_or('{IP}' IN (src_how, dst_how)) AS by_ip,
           bool_or('{NAME}' IN (src_how, dst_how)) AS by_name,
           bool_or('{SHORT_NAME}' IN (src_how, dst_how)) AS by_short_name
      FROM dependency_links
     WHERE src_id IS NOT NULL AND dst_id IS NOT NULL AND src_id <> dst_id
     GROUP BY 1, 2
)
INSERT INTO migration.asset_dependencies
    (id, client_account_id, engagement_id, source_asset_id, target_asset_id, dependency_type, port,
     protocol, evidence, confidence, data_import_id, observation_count, ports, protocols, first_seen,
     last_seen)
SELECT gen_random_uuid(), :c, :e, e.src_id, e.dst_id, e.dependency_type, e.port, e.protocol,
       jsonb_build_object('rows', p.rows, 'matched_by', to_jsonb(array_remove(ARRAY[
           CASE WHEN e.by_ip THEN '{IP}' END, CASE WHEN e.by_name THEN '{NAME}' END,
           CASE WHEN e.by_short_name THEN '{SHORT_NAME}' END], NULL))),
       CASE WHEN e.by_short_name THEN {SHORT_NAME_CONFIDENCE} ELSE 1.0 END,
       e.data_import_id, e.observation_count, e.ports, e.protocols, e.first_seen, e.last_seen
  FROM edges e JOIN per_import p USING (src_id, dst_id)
"""

UNRESOLVED = """
WITH ends AS (
    SELECT data_import_id, coalesce(src_host, src_ip) AS endpoint, 'source' AS side, src_reason AS reason,
           weight, port, dst_id AS peer
      FROM dependency_links WHERE src_reason IS NOT NULL
    UNION ALL
    SELECT data_import_id, coalesce(dst_host, dst_ip), 'target', dst_reason, weight, port, src_id
      FROM dependency_links WHERE dst_reason IS NOT NULL
)
INSERT INTO migration.unresolved_endpoints
    (id, client_account_id, engagement_id, data_import_id, endpoint, side, reason, observations, ports, peers)
SELECT gen_random_uuid(), :c, :e, data_import_id, endpoint, side, min(reason), sum(weight),
       array_agg(DISTINCT port) FILTER (WHERE port IS NOT NULL), count(DISTINCT peer)
  FROM ends GROUP BY data_import_id, endpoint, side
"""

COUNTS = f"""
SELECT count(*) AS rows,
       coalesce(sum(weight), 0) AS observations,
       count(*) FILTER (WHERE src_host IS NULL AND src_ip IS NULL OR dst_host IS NULL AND dst_ip IS NULL)
           AS rows_without_endpoint,
       count(*) FILTER (WHERE src_reason IS NOT NULL OR dst_reason IS NOT NULL) AS unresolved_rows,
       count(*) FILTER (WHERE src_id = dst_id) AS self_rows,
       count(*) FILTER (WHERE src_id <> dst_id) AS linked_rows,
       count(*) FILTER (WHERE '{IP}' IN (src_how, dst_how)) AS rows_matched_by_ip,
       count(*) FILTER (WHERE '{SHORT_NAME}' IN (src_how, dst_how)) AS rows_matched_by_short_name
  FROM dependency_links
"""


def _script(session: Session, sql: str, params: dict[str, Any] | None = None) -> None:
    """Run the statements of ``sql`` (separated by ``;`` at a line end) one by one: a statement
    with parameters must go alone."""
    for statement in sql.split(";\n"):
        if statement.strip():
            session.execute(text(statement), params or {})


def link_dependencies(
    *, session: Session, tenant: Tenant, master_flow_id: uuid.UUID, tables: list[ObservationTable]
) -> dict[str, Any]:
    """Turn the observation rows of ``tables`` into this run's edges and unresolved endpoints.

    Returns the counts and, under ``seconds``, how long each stage took (parse, resolve, edges,
    unresolved endpoints), so a slow run says where its time went.
    """
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        seconds[name] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()

    # Sorting a few hundred thousand observations for the aggregates fits in memory with this.
    session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))
    _script(session, STAGE)
    for table in tables:
        _stage_table(session, table)
    _script(session, ORIENT)
    lap("parse")
    _script(session, NAMES, {"m": master_flow_id, "ip_like": IP_LIKE, "ip_list": IP_LIST_SEPARATORS})
    _script(session, LINKS, {"ip_like": IP_LIKE})
    lap("resolve")
    tenant_ids = {"c": tenant.client_account_id, "e": tenant.engagement_id}
    edges = int(session.execute(text(EDGES), tenant_ids).rowcount)  # type: ignore[attr-defined]
    if edges >= STATISTICS_THRESHOLD:
        refresh_statistics(session=session, table="asset_dependencies")
    lap("edges")
    unresolved = int(session.execute(text(UNRESOLVED), tenant_ids).rowcount)  # type: ignore[attr-defined]
    counts = session.execute(text(COUNTS)).one()._asdict()
    lap("unresolved")
    return {
        "edges": edges,
        "unresolved_endpoints": unresolved,
        **{k: int(v) for k, v in counts.items()},
        "seconds": seconds,
    }


#: The run's assets numbered 0..n-1 (by id): the graph measures work on these integers, which
#: numpy sorts and counts fast, instead of on UUID objects.
_NUMBERED = """
WITH a AS (SELECT id, (row_number() OVER (ORDER BY id) - 1)::int AS k, asset_name, application_name
             FROM migration.assets WHERE master_flow_id = :m)
"""


def run_graph(*, session: Session, master_flow_id: uuid.UUID) -> tuple[pd.DataFrame, pd.Series]:
    """The run's edges as ``[source, target]`` asset numbers, and each asset number's application."""
    edges = session.execute(
        text(
            _NUMBERED + "SELECT s.k, t.k FROM migration.asset_dependencies d"
            " JOIN a s ON s.id = d.source_asset_id JOIN a t ON t.id = d.target_asset_id"
        ),
        {"m": master_flow_id},
    ).all()
    apps = session.execute(
        text(_NUMBERED + "SELECT k, application_name FROM a WHERE application_name IS NOT NULL"),
        {"m": master_flow_id},
    ).all()
    frame = pd.DataFrame(edges, columns=["source", "target"])
    application = pd.Series([a[1] for a in apps], index=[a[0] for a in apps], dtype=object)
    return frame, application


def asset_labels(*, session: Session, master_flow_id: uuid.UUID, numbers: list[int]) -> pd.DataFrame:
    """``[number, asset_name, application_name]`` of the given asset numbers (see ``run_graph``)."""
    found = session.execute(
        text(_NUMBERED + "SELECT k, asset_name, application_name FROM a WHERE k = ANY(:k)"),
        {"m": master_flow_id, "k": numbers},
    ).all()
    return pd.DataFrame(found, columns=["number", "asset_name", "application_name"])


def unresolved_endpoints(
    *, session: Session, master_flow_id: uuid.UUID, limit: int | None = None
) -> pd.DataFrame:
    """Endpoints of the run's dependency imports that matched no asset, most observed first."""
    result = session.execute(
        text(
            "SELECT u.endpoint, u.side, u.reason, u.observations, u.ports, u.peers, d.source_name AS file"
            "  FROM migration.unresolved_endpoints u"
            "  JOIN migration.data_imports d ON d.id = u.data_import_id"
            " WHERE d.master_flow_id = :m"
            " ORDER BY u.observations DESC, u.endpoint, u.side LIMIT :n"
        ),
        {"m": master_flow_id, "n": limit},
    )
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))
