"""``mfactory export``: the current wave plan for other tools (JSON contract, CSV, Jira import)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated

import typer

from mfactory.cli_common import locate_or_exit

export_app = typer.Typer(
    help="Export what a run planned, for trackers and other tools.", no_args_is_help=True
)


@export_app.command("waves")
def waves(
    master_flow: Annotated[
        str | None,
        typer.Option(
            "--master-flow", help="Master run whose assessment planned the waves (default: latest)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="The JSON contract (default).")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="One row per asset move.")] = False,
    jira: Annotated[
        bool, typer.Option("--jira", help="Jira CSV import: an Epic per wave, a Task per asset move.")
    ] = False,
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output.")] = None,
) -> None:
    """The waves of the latest (or given) plan, with their assets and the dependencies between waves."""
    from db.migrate import upgrade
    from db.repositories.exports import plan_run, wave_plan
    from db.session import tenant_session
    from mfactory.wave_export import JIRA_COLUMNS, MOVE_COLUMNS, jira_rows, move_rows, to_csv

    if as_json + as_csv + jira > 1:
        typer.echo("error: choose one of --json, --csv, --jira", err=True)
        raise typer.Exit(code=2)
    upgrade()
    wanted = uuid.UUID(master_flow) if master_flow else None
    _, tenant = locate_or_exit(wanted)
    with tenant_session(tenant) as session:
        run = plan_run(session=session, master_flow_id=wanted)
        if run is None:
            typer.echo("error: no accepted wave plan yet (assessment has not handed off)", err=True)
            raise typer.Exit(code=1)
        plan = wave_plan(session=session, run_id=run)
    if as_csv:
        text = to_csv(move_rows(plan), MOVE_COLUMNS)
    elif jira:
        text = to_csv(jira_rows(plan), JIRA_COLUMNS)
    else:
        text = json.dumps(plan, indent=2, default=str) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(
            f"{out}: {sum(len(w['assets']) for w in plan['waves'])} asset moves in {len(plan['waves'])} waves"
        )
