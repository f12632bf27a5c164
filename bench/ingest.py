"""Ingest benchmark: the discovery import path against a raw psycopg COPY of the same rows.

Run with ``python -m bench.ingest --rows 100000``. One run

1. migrates the schema (``db.migrate.upgrade``) and writes a seeded synthetic ``inventory.csv`` of
   ``--rows`` assets into a temporary folder (timed, but part of neither measurement);
2. creates a fresh tenant, a master flow and a discovery phase flow, then runs the first four discovery
   steps exactly as ``tasks.steps.run_step`` runs their work: each in its own
   ``tenant_session(tenant, flow_run_id=phase_flow_id, step_name=step)`` transaction, as the
   application role, under row-level security and change capture (the ``phase_steps`` bookkeeping
   transactions around each step are not included);
3. as the baseline, reads the same CSV with the ``csv`` module and COPYs every row, as JSON text, into a
   bare ``bench_raw(row_number int, record jsonb)`` table as the admin role, in one COPY and one
   transaction.

It prints seconds and rows/s per step, the two ratios to the baseline, a small breakdown of where the
import step's time goes, and the peak RSS of the process. Every figure is measured in the run itself.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.orm import Session

from db.engine import admin_url
from db.migrate import upgrade
from db.repositories.runs import create_master_flow, create_phase_flow
from db.repositories.tenants import ensure_tenant
from db.session import tenant_session
from mfactory.synthetic import write_inventory
from tasks.discovery.attribute_mapping import propose_mappings
from tasks.discovery.data_cleansing import cleanse_imports
from tasks.discovery.data_import import import_sources
from tasks.discovery.inventory import build_inventory
from tasks.discovery.readers import read_source
from tasks.phases import DISCOVERY, PhaseContext

DEFAULT_ROWS = 100_000
SEED = 42
StepWork = Callable[[Session, PhaseContext], dict[str, Any]]
#: The steps timed on our path, in order (the same functions the discovery tasks wrap).
STEPS: tuple[tuple[str, StepWork], ...] = (
    ("data_import", import_sources),
    ("attribute_mapping", propose_mappings),
    ("data_cleansing", cleanse_imports),
    ("inventory", build_inventory),
)


@dataclass(frozen=True)
class Timing:
    label: str
    seconds: float
    rows: int

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as t: ...`` leaves the elapsed seconds in ``t[0]``."""
    elapsed = [0.0]
    start = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed[0] = time.perf_counter() - start


def libpq_url() -> str:
    """The admin URL without SQLAlchemy's driver suffix, as psycopg/libpq wants it."""
    url = admin_url()
    prefix = "postgresql+psycopg://"
    return "postgresql://" + url[len(prefix) :] if url.startswith(prefix) else url


def setup_run() -> PhaseContext:
    """A fresh tenant, master flow and discovery phase flow (random ids), as the real master flow makes."""
    with tenant_session(None) as session:
        tenant = ensure_tenant(session=session, client="bench", engagement=f"ingest-{uuid.uuid4()}")
    master_flow_id, phase_flow_id = uuid.uuid4(), uuid.uuid4()
    with tenant_session(tenant) as session:
        create_master_flow(
            session=session, tenant=tenant, master_flow_id=master_flow_id, parameters={"benchmark": "ingest"}
        )
        create_phase_flow(
            session=session,
            tenant=tenant,
            phase_flow_id=phase_flow_id,
            master_flow_id=master_flow_id,
            phase=DISCOVERY,
            input_handoff_id=None,
        )
    return PhaseContext(
        client_account_id=tenant.client_account_id,
        engagement_id=tenant.engagement_id,
        master_flow_id=master_flow_id,
        phase_flow_id=phase_flow_id,
        phase=DISCOVERY,
    )


def run_ours(ctx: PhaseContext, rows: int) -> tuple[list[Timing], dict[str, dict[str, Any]]]:
    """Each step's work in its own captured tenant transaction (commit included in the timing)."""
    timings: list[Timing] = []
    metrics: dict[str, dict[str, Any]] = {}
    for name, work in STEPS:
        with (
            stopwatch() as elapsed,
            tenant_session(ctx.tenant, flow_run_id=ctx.phase_flow_id, step_name=name) as session,
        ):
            metrics[name] = work(session, ctx)
        timings.append(Timing(name, elapsed[0], rows))
    return timings, metrics


def run_raw_copy(path: Path, url: str) -> tuple[Timing, int]:
    """csv-module read + JSON per row + one COPY into a bare table, as the admin role."""
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw")
        conn.execute("CREATE TABLE bench_raw (row_number int, record jsonb)")
        conn.commit()
        with stopwatch() as elapsed:
            with path.open(newline="", encoding="utf-8") as handle:
                reader = csv.reader(handle)
                header = next(reader)
                rows = [
                    (n, json.dumps(dict(zip(header, row, strict=True)), ensure_ascii=False))
                    for n, row in enumerate(reader, start=2)
                ]
            copy_sql = "COPY bench_raw (row_number, record) FROM STDIN"
            with conn.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
            conn.commit()
        count = conn.execute("SELECT count(*) FROM bench_raw").fetchone()
    return Timing("raw COPY (csv read + COPY)", elapsed[0], len(rows)), int(count[0]) if count else 0


def written_rows(url: str, ctx: PhaseContext) -> dict[str, int]:
    """Rows our path left in the database for this run (admin role, so RLS does not hide them)."""
    queries = {
        "raw_import_records": "SELECT count(*) FROM migration.raw_import_records r"
        " JOIN migration.data_imports d ON d.id = r.data_import_id"
        " WHERE d.phase_flow_id = %s",
        "assets": "SELECT count(*) FROM migration.assets WHERE discovery_flow_id = %s",
        "change_log": "SELECT count(*) FROM migration.change_log WHERE flow_run_id = %s",
    }
    counts: dict[str, int] = {}
    with psycopg.connect(url) as conn:
        for name, sql in queries.items():
            row = conn.execute(sql, (ctx.phase_flow_id,)).fetchone()
            counts[name] = int(row[0]) if row else 0
    return counts


def import_breakdown(path: Path) -> dict[str, float]:
    """Pure-Python parts of data_import re-timed on their own (outside the measured path)."""
    with stopwatch() as read:
        source = read_source(path)
    frame = source.sheets[0].frame
    with stopwatch() as encode:
        frame.to_json(orient="records", lines=True, force_ascii=False).splitlines()
    with stopwatch() as ids:
        [uuid.uuid4() for _ in range(len(frame))]
    return {
        "read_source (detect + csv parse, all str)": read[0],
        "frame.to_json per row (JSON encoding)": encode[0],
        "uuid4 per row": ids[0],
    }


def print_table(rows: list[Timing]) -> None:
    width = max(len(t.label) for t in rows)
    print(f"{'step':<{width}}  {'seconds':>9}  {'rows/s':>10}")
    for t in rows:
        print(f"{t.label:<{width}}  {t.seconds:>9.3f}  {t.rate:>10,.0f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="synthetic inventory rows (assets)")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the synthetic inventory")
    args = parser.parse_args(argv)
    if args.rows < 1:
        parser.error("--rows must be at least 1")

    with stopwatch() as migrate_time:
        upgrade()
    url = libpq_url()
    with tempfile.TemporaryDirectory(prefix="mfbench-") as tmp:
        with stopwatch() as generate_time:
            inventory_path, _ = write_inventory(Path(tmp), args.rows, seed=args.seed)
        size_mib = inventory_path.stat().st_size / 2**20
        print(f"rows: {args.rows:,}  seed: {args.seed}  inventory.csv: {size_mib:.1f} MiB")
        print(f"setup (not measured): migrate {migrate_time[0]:.2f}s, generate {generate_time[0]:.2f}s")
        rss_after_generate = peak_rss_mib()

        ctx = setup_run().model_copy(update={"params": {"inventory": str(inventory_path)}})
        ours, metrics = run_ours(ctx, args.rows)
        rss_after_ours = peak_rss_mib()
        raw, raw_count = run_raw_copy(inventory_path, url)
        rss_after_raw = peak_rss_mib()
        breakdown = import_breakdown(inventory_path)
        counts = written_rows(url, ctx)

    total = Timing("total ours (file -> assets)", sum(t.seconds for t in ours), args.rows)
    print()
    print_table([*ours, total, raw])
    print()
    data_import = ours[0]
    print(f"ours (data_import) vs raw COPY: {data_import.seconds / raw.seconds:.2f}x slower")
    print(f"ours (file→assets) vs raw COPY: {total.seconds / raw.seconds:.2f}x slower")
    print()
    print(f"rows written by ours: {counts}; bench_raw: {raw_count:,}")
    print(
        f"assets: {metrics['inventory'].get('assets')}, "
        f"duplicates merged: {metrics['inventory'].get('duplicates_merged')}, "
        f"rows rejected: {metrics['data_cleansing'].get('rows_rejected')}, "
        f"values dropped: {metrics['data_cleansing'].get('values_dropped')}"
    )
    print(f"data_import breakdown (re-timed alone, of {data_import.seconds:.3f}s):")
    for label, seconds in breakdown.items():
        print(f"  {label}: {seconds:.3f}s")
    print(
        f"peak RSS: {rss_after_generate:.0f} MiB after generation, {rss_after_ours:.0f} MiB after ours, "
        f"{rss_after_raw:.0f} MiB after raw COPY"
    )


if __name__ == "__main__":
    main()
