"""Ingest benchmark: the discovery import step against a raw binary COPY of the same rows, in one run.

Run with ``python -m bench.ingest --rows 100000`` (``--format xlsx`` for a workbook, ``--all-steps`` to
time mapping, cleansing and inventory too). One run

1. migrates the schema and writes a seeded synthetic asset table of ``--rows`` rows and the first
   ``--columns`` (default 25) synthetic asset columns, as ``inventory.csv`` or ``inventory.xlsx``, into a
   temporary folder (timed, but part of no measurement);
2. **ours**: creates a fresh tenant, master flow and discovery phase flow, then runs the data_import
   step's work (``import_sources``: read, detect, COPY into the import's own partition, attach it to
   ``raw_import_records`` with its indexes, foreign keys, policy, change capture and statistics)
   exactly as ``tasks.steps.run_step`` runs it: in a ``tenant_session(tenant, flow_run_id=...,
   step_name=...)`` transaction as the application role, commit included;
3. **raw binary COPY** (the baseline the issue sets): reads the same file with the plainest reader (the
   ``csv`` module; calamine for a workbook), then one ``COPY ... (FORMAT BINARY)`` of the rows as
   ``(row_number int4, c0 .. cN text)`` into a bare logged table with one text column per file column
   (no keys, indexes, RLS or triggers) as the admin role, and commits. A second baseline COPYs the same
   rows, shaped as ``raw_import_records`` rows (uuid ids, tenant ids, JSON text record), in binary into a
   table created ``LIKE migration.raw_import_records INCLUDING ALL`` (same columns and indexes; no RLS,
   foreign keys or capture trigger): what the storage of our table costs without the guarantees.

It prints seconds and rows/s of each, the ratios, the split of the file read path, the split of our
import step, and the peak RSS of the process. Every figure is measured in the run itself.
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
from db.repositories.raw_copy_text import RawRowsHeader, copy_lines
from db.repositories.runs import create_master_flow, create_phase_flow
from db.repositories.tenants import ensure_tenant
from db.session import tenant_session
from mfactory.synthetic import ASSET_COLUMNS, generate_inventory
from tasks.discovery import formats, readers
from tasks.discovery.attribute_mapping import propose_mappings
from tasks.discovery.data_cleansing import cleanse_imports
from tasks.discovery.data_import import copy_source_rows, import_sources, record_source
from tasks.discovery.inventory import build_inventory
from tasks.phases import DISCOVERY, PhaseContext

DEFAULT_ROWS = 100_000
DEFAULT_COLUMNS = 25
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


def write_table(directory: Path, rows: int, columns: int, seed: int, fmt: str) -> Path:
    """The first ``columns`` synthetic asset columns of ``rows`` assets as ``inventory.<fmt>``."""
    assets, _ = generate_inventory(rows, seed=seed)
    table = assets.iloc[:, :columns]
    path = directory / f"inventory.{fmt}"
    if fmt == "csv":
        table.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        return path
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("vInfo")
    sheet.append(list(table.columns))
    for values in table.astype(str).itertuples(index=False, name=None):  # setup only, not measured
        sheet.append(list(values))
    book.save(path)
    return path


def run_ours(ctx: PhaseContext, rows: int, all_steps: bool) -> tuple[list[Timing], dict[str, dict[str, Any]]]:
    """Each step's work in its own captured tenant transaction (commit included in the timing)."""
    timings: list[Timing] = []
    metrics: dict[str, dict[str, Any]] = {}
    for name, work in STEPS if all_steps else STEPS[:1]:
        with (
            stopwatch() as elapsed,
            tenant_session(ctx.tenant, flow_run_id=ctx.phase_flow_id, step_name=name) as session,
        ):
            metrics[name] = work(session, ctx)
        timings.append(Timing(name, elapsed[0], rows))
    return timings, metrics


def plain_rows(path: Path) -> tuple[list[str], list[list[Any]]]:
    """Header and rows of the file by the plainest reader: the csv module, or calamine for a workbook."""
    if path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        grid = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
        return [str(h) for h in grid[0]], [[str(v) for v in row] for row in grid[1:]]
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        return next(reader), list(reader)


def run_raw_binary_copy(path: Path, url: str) -> tuple[Timing, Timing, int]:
    """Baseline: plain read + one binary COPY into a bare 25-text-column table, as the admin role.

    Returns the timing of read + COPY + commit, of COPY + commit alone, and the rows in the table.
    """
    with psycopg.connect(url) as conn:
        with stopwatch() as total:
            header, rows = plain_rows(path)
            width = len(header)
            conn.execute("DROP TABLE IF EXISTS bench_raw_cells")
            cells = ", ".join(f"c{i} text" for i in range(width))
            conn.execute(f"CREATE TABLE bench_raw_cells (row_number int, {cells})")
            with stopwatch() as copy_only:
                copy_sql = "COPY bench_raw_cells FROM STDIN (FORMAT BINARY)"
                with conn.cursor() as cursor, cursor.copy(copy_sql) as copy:
                    copy.set_types(["int4"] + ["text"] * width)
                    for n, row in enumerate(rows, start=2):
                        copy.write_row((n, *row))
                conn.commit()
        count = conn.execute("SELECT count(*) FROM bench_raw_cells").fetchone()
    return (
        Timing("raw binary COPY (read + COPY)", total[0], len(rows)),
        Timing("  of which COPY + commit", copy_only[0], len(rows)),
        int(count[0]) if count else 0,
    )


def run_raw_records_copy(path: Path, url: str) -> Timing:
    """Second baseline: plain read, the rows as raw_import_records rows (uuid4 ids, JSON text records),
    binary COPY into a table LIKE it (same columns and indexes; no RLS, foreign keys or capture
    trigger), commit; as the admin role."""
    tenant, data_import = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_raw_records")
        conn.execute("CREATE TABLE bench_raw_records (LIKE migration.raw_import_records INCLUDING ALL)")
        conn.commit()
        with stopwatch() as elapsed:
            header, rows = plain_rows(path)
            copy_sql = (
                "COPY bench_raw_records (id, client_account_id, engagement_id, data_import_id, sheet_name,"
                " row_number, record, is_valid, errors) FROM STDIN (FORMAT BINARY)"
            )
            with conn.cursor() as cursor, cursor.copy(copy_sql) as copy:
                copy.set_types(["uuid", "uuid", "uuid", "uuid", "text", "int4", "jsonb", "bool", "jsonb"])
                for n, row in enumerate(rows, start=2):
                    record = json.dumps(dict(zip(header, row, strict=True)), ensure_ascii=False)
                    copy.write_row((uuid.uuid4(), tenant, tenant, data_import, "", n, record, True, None))
            conn.commit()
    return Timing("raw binary COPY, LIKE raw_import_records (read + COPY)", elapsed[0], len(rows))


def written_rows(url: str, ctx: PhaseContext) -> dict[str, int]:
    """Rows our path left in the database for this run (admin role, so RLS does not hide them)."""
    queries = {
        "raw_import_records": "SELECT count(*) FROM migration.raw_import_records r"
        " JOIN migration.data_imports d ON d.id = r.data_import_id"
        " WHERE d.phase_flow_id = %s",
        "assets": "SELECT count(*) FROM migration.assets WHERE discovery_flow_id = %s",
        # Captured row changes (an INSERT entry holds all its ids), then the log rows that hold them.
        "change_log": "SELECT coalesce(sum(coalesce(cardinality(row_ids), 1)), 0)"
        " FROM migration.change_log WHERE flow_run_id = %s",
        "change_log entries": "SELECT count(*) FROM migration.change_log WHERE flow_run_id = %s",
    }
    counts: dict[str, int] = {}
    with psycopg.connect(url) as conn:
        for name, sql in queries.items():
            row = conn.execute(sql, (ctx.phase_flow_id,)).fetchone()
            counts[name] = int(row[0]) if row else 0
    return counts


def read_path_split(path: Path) -> dict[str, float]:
    """``read_source`` on ``path`` re-timed piece by piece, beside plain readers of the same file."""
    split: dict[str, float] = {}
    with stopwatch() as t:
        raw = path.read_bytes()
    split["read bytes"] = t[0]
    with stopwatch() as t:
        readers._digest(path, raw)
    split["sha256"] = t[0]
    if path.suffix == ".xlsx":
        with stopwatch() as t:
            tables = readers._workbook_tables(raw, str(path))
        split["workbook -> tables (calamine, cell text, header, rejects)"] = t[0]
    else:
        with stopwatch() as t:
            text, _ = readers.decode(raw, str(path))
            readers._refuse_non_text(text, str(path))
        split["encoding detection + decode"] = t[0]
        with stopwatch() as t:
            delimiter = readers.sniff_delimiter(text)
        split["delimiter sniff"] = t[0]
        with stopwatch() as t:
            fast = readers._arrow_text_table(raw, text, "utf-8", delimiter, str(path), "")
        split["pyarrow parse + header, blank/long rows, frame (regular files)"] = t[0]
        with stopwatch() as t:
            records, notes = readers._text_records(text, str(path), delimiter)
            table = readers.table_from_records(records, str(path), notes=notes)
        split["  for reference: the csv module path (irregular files)"] = t[0]
        tables = [fast or table] if (fast or table) is not None else []
    with stopwatch() as t:
        formats.detect([(tb.name, list(tb.frame.columns)) for tb in tables], path.suffix.lstrip("."))
    split["format detection"] = t[0]
    with stopwatch() as t:
        readers.read_source(path)
    split["read_source, all of it"] = t[0]
    if path.suffix != ".xlsx":
        import pandas as pd

        with stopwatch() as t:
            pd.read_csv(path, dtype=str, keep_default_na=False)
        split["for reference: pandas.read_csv(dtype=str)"] = t[0]
    with stopwatch() as t:
        plain_rows(path)
    split["for reference: plain reader of the baseline"] = t[0]
    return split


def import_split(path: Path) -> dict[str, float]:
    """Our import step's parts re-timed alone, in a fresh tenant (read, COPY + INSERT, commit)."""
    ctx = setup_run()
    split: dict[str, float] = {}
    with stopwatch() as t:
        source = readers.read_source(path)
    split["read_source"] = t[0]
    with tenant_session(ctx.tenant, flow_run_id=ctx.phase_flow_id, step_name="data_import") as session:
        record = record_source(session, ctx, kind="inventory", path=path, source=source, sheets=[])
        with stopwatch() as t:
            for sheet in source.sheets:
                header = RawRowsHeader(sheet_name=sheet.name, id_prefix="0" * 28)
                for _ in copy_lines(sheet.frame, header):
                    pass
        split["  build the COPY text alone (Arrow; part of the next line)"] = t[0]
        with stopwatch() as t:
            copy_source_rows(session=session, tenant=ctx.tenant, data_import_id=record.id, source=source)
        split["copy_raw_records (open partition, COPY, attach, ANALYZE)"] = t[0]
        with stopwatch() as t:
            session.commit()
    split["commit"] = t[0]
    return split


def print_table(rows: list[Timing]) -> None:
    width = max(len(t.label) for t in rows)
    print(f"{'step':<{width}}  {'seconds':>9}  {'rows/s':>10}")
    for t in rows:
        print(f"{t.label:<{width}}  {t.seconds:>9.3f}  {t.rate:>10,.0f}")


def print_split(title: str, split: dict[str, float]) -> None:
    print(title)
    for label, seconds in split.items():
        print(f"  {label}: {seconds:.3f}s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="synthetic inventory rows (assets)")
    parser.add_argument("--columns", type=int, default=DEFAULT_COLUMNS, help="asset columns in the file")
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv", help="file written and read")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the synthetic inventory")
    parser.add_argument(
        "--all-steps", action="store_true", help="also time attribute_mapping, data_cleansing and inventory"
    )
    args = parser.parse_args(argv)
    if args.rows < 1 or not 1 <= args.columns <= len(ASSET_COLUMNS):
        parser.error("--rows must be at least 1 and --columns between 1 and the synthetic asset columns")

    with stopwatch() as migrate_time:
        upgrade()
    url = libpq_url()
    with tempfile.TemporaryDirectory(prefix="mfbench-") as tmp:
        with stopwatch() as generate_time:
            path = write_table(Path(tmp), args.rows, args.columns, args.seed, args.format)
        size_mib = path.stat().st_size / 2**20
        print(
            f"rows: {args.rows:,}  columns: {args.columns}  seed: {args.seed}"
            f"  {path.name}: {size_mib:.1f} MiB"
        )
        print(f"setup (not measured): migrate {migrate_time[0]:.2f}s, generate {generate_time[0]:.2f}s")
        rss_after_generate = peak_rss_mib()

        ctx = setup_run().model_copy(update={"params": {"inventory": str(path)}})
        ours, metrics = run_ours(ctx, args.rows, args.all_steps)
        rss_after_ours = peak_rss_mib()
        raw, raw_copy_only, raw_count = run_raw_binary_copy(path, url)
        like_ours = run_raw_records_copy(path, url)
        counts = written_rows(url, ctx)
        reading = read_path_split(path)
        importing = import_split(path)

    data_import = ours[0]
    rows_table = [*ours]
    if args.all_steps:
        rows_table.append(Timing("total ours (file -> assets)", sum(t.seconds for t in ours), args.rows))
    print()
    print_table([*rows_table, raw, raw_copy_only, like_ours])
    print()
    print(
        f"ours (data_import) / raw binary COPY, rows/s: {data_import.rate / raw.rate:.0%}"
        f" (target >= 50%); against COPY alone: {data_import.rate / raw_copy_only.rate:.0%};"
        f" against the table LIKE raw_import_records: {data_import.rate / like_ours.rate:.0%}"
    )
    print(f"rows written by ours: {counts}; bench_raw_cells: {raw_count:,}")
    if args.all_steps:
        print(
            f"assets: {metrics['inventory'].get('assets')}, "
            f"rows rejected: {metrics['data_cleansing'].get('rows_rejected')}, "
            f"values dropped: {metrics['data_cleansing'].get('values_dropped')}"
        )
    print_split(f"read path of {path.name} (re-timed alone):", reading)
    print_split(f"data_import split (re-timed alone; measured step {data_import.seconds:.3f}s):", importing)
    print(
        f"peak RSS: {rss_after_generate:.0f} MiB after generation, {rss_after_ours:.0f} MiB after ours,"
        f" {peak_rss_mib():.0f} MiB at the end"
    )


if __name__ == "__main__":
    main()
