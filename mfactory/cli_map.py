"""``mfactory map``: the proposed mapping of a file, and ``mfactory map confirm`` to teach it.

``mfactory map FILE`` (the ``show`` command, the default) reads the file and proposes a canonical
field per column without importing anything; with ``--client/--engagement`` it also uses what that
tenant confirmed before (learned patterns). ``mfactory map confirm FILE`` stores the user's answers
as learned patterns of the tenant, so its next import of a similar file maps those columns with
the confidence of a confirmed pattern.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    from db.session import Tenant
    from tasks.discovery.readers import SourceFile, SourceSheet


class _ShowByDefault(TyperGroup):
    """``mfactory map FILE ...`` means ``mfactory map show FILE ...``: the first word that is not a
    subcommand is the file (``map show confirm`` reads a file named ``confirm``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] != "--help":
            args = ["show", *args]
        return super().parse_args(ctx, args)


map_app = typer.Typer(
    cls=_ShowByDefault,
    help="Propose the column mapping of a file (map FILE), or confirm/correct it for a tenant (map confirm).",
    no_args_is_help=True,
)

FileArgument = Annotated[Path, typer.Argument(help="Inventory export to read (nothing is imported).")]


def _read(file: Path) -> SourceFile:
    from mfactory.errors import ImportFormatError
    from tasks.discovery.readers import read_source

    try:
        return read_source(file)
    except ImportFormatError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def _tenant(client: str, engagement: str, *, create: bool) -> Tenant | None:
    from db.migrate import upgrade
    from db.repositories.tenants import ensure_tenant
    from db.session import tenant_session
    from mfactory.errors import TenantContextError

    upgrade()
    try:
        with tenant_session(None) as session:
            return ensure_tenant(session=session, client=client, engagement=engagement, create=create)
    except TenantContextError:
        return None


def _proposals(source: SourceFile, tenant: Tenant | None) -> list[tuple[SourceSheet, Any, Any]]:
    """(sheet, ColumnMapping, column values) of every column of the asset sheets; with a tenant, its
    learned patterns take part (read only: nothing is counted as applied, nothing imported)."""
    from db.session import tenant_session
    from tasks.discovery.asset_sheets import source_asset_frames
    from tasks.discovery.attribute_mapping import map_frame
    from tasks.discovery.mapping.learning import find_learned

    frames = source_asset_frames(source)
    if tenant is None:
        learned: list[dict[str, Any]] = [{} for _ in frames]
    else:
        with tenant_session(tenant) as session:
            learned = [find_learned(session, list(frame.columns)) for _, frame in frames]
    return [
        (sheet, m, frame[m.source])
        for (sheet, frame), hints in zip(frames, learned, strict=True)
        for m in map_frame(frame, learned=hints).columns
    ]


def _both_or_neither(client: str | None, engagement: str | None) -> None:
    if (client is None) != (engagement is None):
        typer.echo("error: give --client and --engagement together", err=True)
        raise typer.Exit(code=2)


@map_app.command("show")
def show(
    file: FileArgument,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON contract.")] = False,
    client: Annotated[
        str | None,
        typer.Option(help="Client account whose confirmed mappings take part (with --engagement)."),
    ] = None,
    engagement: Annotated[str | None, typer.Option(help="Engagement of --client.")] = None,
) -> None:
    """Show the proposed column mapping of FILE's asset sheets without importing anything."""
    _both_or_neither(client, engagement)
    source = _read(file)
    tenant = None
    if client is not None and engagement is not None:
        tenant = _tenant(client, engagement, create=False)
        if tenant is None:
            note = f"note: no engagement {engagement!r} of {client!r}: no learned patterns used"
            typer.echo(note, err=True)
    proposals = _proposals(source, tenant)
    if as_json:
        columns = [
            {"sheet": sheet.name or None, "source": m.source, "field": m.field, "confidence": m.confidence}
            for sheet, m, _ in proposals
        ]
        typer.echo(json.dumps({"format": source.format, "columns": columns}, indent=2))
        return
    for _, m, _ in proposals:
        unit = f" [{m.unit}]" if m.unit else ""
        notes = ("  (learned)" if m.method in ("learned", "shared") else "") + (
            "  (review)" if m.needs_review else ""
        )
        typer.echo(f"{m.source:<40} -> {(m.field or '(unmapped)') + unit:<34} {m.confidence:.2f}{notes}")


@map_app.command("confirm")
def confirm(
    file: FileArgument,
    client: Annotated[str, typer.Option(help="Client account name (created if new).")],
    engagement: Annotated[str, typer.Option(help="Engagement name (created if new).")],
    answer: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="COLUMN=FIELD, COLUMN=FIELD:UNIT (sizes: MiB, GB, ...) or COLUMN=unmapped; repeatable.",
        ),
    ] = None,
    accept_all: Annotated[
        bool,
        typer.Option(help="Also confirm every other mapped column as proposed (unmapped ones stay open)."),
    ] = False,
    user: Annotated[str | None, typer.Option(help="Who confirms (audit trail); default: OS user.")] = None,
    share: Annotated[
        bool,
        typer.Option(help="Let other tenants that opt in reuse these patterns (header and field only)."),
    ] = False,
) -> None:
    """Confirm or correct FILE's proposed mapping for a tenant; later imports reuse it (learned patterns).

    Every answer is checked first (columns of FILE, canonical fields): one mistake stores nothing.
    Each stored answer is audited (security_audit_logs) with the user who gave it.
    """
    from db.session import tenant_session
    from mfactory.errors import MappingError
    from tasks.discovery.mapping_confirm import parse_answer, plan_confirmations, store_confirmations

    if not answer and not accept_all:
        typer.echo("error: give --set COLUMN=FIELD (repeatable) and/or --accept-all", err=True)
        raise typer.Exit(code=2)
    try:
        answers = dict(parse_answer(a) for a in answer or [])
    except MappingError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    source = _read(file)
    tenant = _tenant(client, engagement, create=False)
    proposals = _proposals(source, tenant)
    confirmed_by = user or getpass.getuser()
    try:
        columns = [(m, values) for _, m, values in proposals]
        decisions = plan_confirmations(columns, answers, accept_all=accept_all)
        # Created only once every answer is known good: a rejected answer leaves no empty engagement.
        tenant = tenant or _tenant(client, engagement, create=True)
        assert tenant is not None  # created if new
        with tenant_session(tenant) as session:
            stored = store_confirmations(
                session, tenant, decisions, confirmed_by=confirmed_by, source_name=str(file), share=share
            )
    except MappingError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    for decision, confirmation in zip(decisions, stored, strict=True):
        unit = f" [{confirmation.unit}]" if confirmation.unit else ""
        target = (decision.field or "(unmapped)") + unit
        typer.echo(f"{decision.column:<40} -> {target:<34} {confirmation.insight_type}")
    typer.echo(f"{len(stored)} mapping(s) learned for {client} / {engagement} (by {confirmed_by})")
