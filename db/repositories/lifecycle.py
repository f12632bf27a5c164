"""Tech debt in the database: the distinct OS/DB strings of a run in, end-of-support verdicts out.

Matching happens in Python on the *distinct* strings (tasks/discovery/lifecycle.py); this module
reads those strings with the same SQL expressions it later joins on, and writes the verdicts to
every asset in one UPDATE. Severity has no column of its own (no migration for it): it goes into
``custom_attributes -> 'tech_debt'`` next to the product, release and date it came from.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

#: The strings matched per asset: OS name + version; the DB engine + version, else the description.
OS_TEXT = "nullif(concat_ws(' ', a.os_name, a.os_version), '')"
DB_TEXT = (
    "coalesce(nullif(concat_ws(' ', a.database_engine, a.database_version), ''), nullif(a.description, ''))"
)
TECH_DEBT_KEY = "tech_debt"
STAGE_COLUMNS = ["kind", "text", "product", "release", "end_of_support", "severity", "rank"]


def lifecycle_texts(*, session: Session, master_flow_id: uuid.UUID) -> pd.DataFrame:
    """Distinct (kind, text) of the run's assets, with how many assets carry each."""
    result = session.execute(
        text(
            f"""
            SELECT kind, txt AS text, count(*) AS assets FROM (
                SELECT 'os' AS kind, {OS_TEXT} AS txt FROM migration.assets a WHERE a.master_flow_id = :m
                UNION ALL
                SELECT 'database', {DB_TEXT} FROM migration.assets a WHERE a.master_flow_id = :m
            ) t WHERE txt IS NOT NULL GROUP BY 1, 2 ORDER BY 1, 2
            """
        ),
        {"m": master_flow_id},
    )
    return pd.DataFrame(result.fetchall(), columns=["kind", "text", "assets"])


def _stage(session: Session, matches: pd.DataFrame) -> None:
    cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.execute("DROP TABLE IF EXISTS stage_lifecycle")
    cursor.execute(
        "CREATE TEMP TABLE stage_lifecycle (kind text, text text, product text, release text,"
        " end_of_support date, severity text, rank int, PRIMARY KEY (kind, text)) ON COMMIT DROP"
    )
    values = matches[STAGE_COLUMNS].astype(object).where(matches[STAGE_COLUMNS].notna(), None)
    with cursor.copy(f"COPY stage_lifecycle ({', '.join(STAGE_COLUMNS)}) FROM STDIN") as copy:
        for row in values.itertuples(index=False, name=None):
            copy.write_row(row)
    cursor.execute("ANALYZE stage_lifecycle")


def apply_lifecycle(
    *,
    session: Session,
    master_flow_id: uuid.UUID,
    matches: pd.DataFrame,
    as_of: dt.date,
    table_as_of: dt.date,
) -> dict[str, int]:
    """Stamp every asset of the run: earliest end-of-support date of its OS and DB, and its severity.

    ``matches`` has one row per (kind, text) with product, release, end_of_support, severity and
    rank (``SEVERITY_RANK``); an asset's severity is the worse of its OS's and its database's.
    Assets whose strings match nothing keep a null date and get no tech_debt entry.
    """
    _stage(session, matches)
    row = session.execute(
        text(
            f"""
            WITH verdicts AS (
                SELECT a.id, o.product AS os_product, o.release AS os_release, o.end_of_support AS os_eos,
                       o.severity AS os_severity, d.product AS db_product, d.release AS db_release,
                       d.end_of_support AS db_eos, d.severity AS db_severity,
                       CASE WHEN coalesce(o.rank, -1) >= coalesce(d.rank, -1) THEN o.severity
                            ELSE d.severity END AS severity
                  FROM migration.assets a
                  LEFT JOIN stage_lifecycle o ON o.kind = 'os' AND o.text = {OS_TEXT}
                  LEFT JOIN stage_lifecycle d ON d.kind = 'database' AND d.text = {DB_TEXT}
                                             AND d.product IS NOT NULL
                 WHERE a.master_flow_id = :m AND (o.text IS NOT NULL OR d.text IS NOT NULL)
            ), updated AS (
                UPDATE migration.assets a
                   SET end_of_support_date = least(v.os_eos, v.db_eos),
                       custom_attributes = coalesce(a.custom_attributes, '{{}}'::jsonb)
                           || jsonb_build_object('{TECH_DEBT_KEY}', jsonb_strip_nulls(jsonb_build_object(
                                'severity', v.severity, 'as_of', CAST(:as_of AS date),
                                'table_as_of', CAST(:table_as_of AS date),
                                'os', CASE WHEN v.os_product IS NOT NULL THEN jsonb_build_object(
                                    'product', v.os_product, 'release', v.os_release,
                                    'end_of_support', v.os_eos, 'severity', v.os_severity) END,
                                'database', CASE WHEN v.db_product IS NOT NULL THEN jsonb_build_object(
                                    'product', v.db_product, 'release', v.db_release,
                                    'end_of_support', v.db_eos, 'severity', v.db_severity) END)))
                  FROM verdicts v WHERE a.id = v.id
                RETURNING a.id, a.end_of_support_date
            )
            SELECT count(*) AS assessed, count(end_of_support_date) AS dated FROM updated
            """
        ),
        {"m": master_flow_id, "as_of": as_of, "table_as_of": table_as_of},
    ).one()
    return {"assets_assessed": int(row.assessed), "assets_with_end_of_support": int(row.dated)}


def tech_debt_assets(*, session: Session, master_flow_id: uuid.UUID) -> pd.DataFrame:
    """One row per assessed asset of the run: what ``lifecycle.summarise`` needs."""
    key = TECH_DEBT_KEY
    result = session.execute(
        text(
            f"""
            SELECT application_name, custom_attributes -> '{key}' ->> 'severity' AS severity,
                   end_of_support_date AS end_of_support,
                   concat_ws(' ', custom_attributes -> '{key}' -> 'os' ->> 'product',
                             custom_attributes -> '{key}' -> 'os' ->> 'release') AS os_product_release,
                   concat_ws(' ', custom_attributes -> '{key}' -> 'database' ->> 'product',
                             custom_attributes -> '{key}' -> 'database' ->> 'release') AS db_product_release
              FROM migration.assets WHERE master_flow_id = :m AND custom_attributes ? '{key}'
            """
        ),
        {"m": master_flow_id},
    )
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for column in ("os_product_release", "db_product_release"):
        frame[column] = frame[column].replace("", None)
    return frame


def as_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe rows (dates as ISO strings) for step metrics."""
    out = frame.astype(object).where(frame.notna(), None)
    return [
        {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()}
        for row in out.to_dict("records")
    ]
