"""``mfactory``: run, inspect and administer Migration Factory from the command line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Annotated

import typer

from mfactory.cli_common import locate_or_exit
from mfactory.cli_edit import edit_app
from mfactory.cli_export import export_app
from mfactory.cli_map import map_app
from mfactory.cli_sources import sources_app
from mfactory.settings import PACKAGE_DATA

# This machine-local tool has no network: keep Prefect and CrewAI from phoning home
# (CrewAI's telemetry otherwise hangs at exit). Set before either library is imported.
for _name, _value in (
    ("PREFECT_SERVER_ANALYTICS_ENABLED", "false"),
    ("CREWAI_DISABLE_TELEMETRY", "true"),
    ("OTEL_SDK_DISABLED", "true"),
    ("CREWAI_TRACING_ENABLED", "false"),
):
    os.environ.setdefault(_name, _value)

app = typer.Typer(
    help="Migration Factory: carry a data centre's inventory through a cloud migration.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(
    help="The database in use (embedded PostgreSQL unless DATABASE_URL is set).", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(sources_app, name="sources")
app.add_typer(export_app, name="export")
app.add_typer(edit_app, name="edit")
app.add_typer(map_app, name="map")

SAMPLE_INVENTORY = PACKAGE_DATA / "samples" / "inventory.csv"


def _inventory_parameter(paths: list[Path] | None) -> str | list[str] | None:
    """One file stays a path (as runs always recorded it); several become a list."""
    if not paths:
        return None
    return str(paths[0]) if len(paths) == 1 else [str(p) for p in paths]


SAMPLE_DEPENDENCIES = PACKAGE_DATA / "samples" / "dependencies.csv"
DEMO_CLIENT, DEMO_ENGAGEMENT = "Demo Client", "Demo DC exit"


def _ready() -> None:
    """Apply migrations (idempotent) so a first run needs no set-up step."""
    from db import migrate

    migrate.upgrade()


def _run_master(**parameters: object) -> None:
    from prefect.states import State

    from flows.master import master_flow

    _ready()
    state: State = master_flow(**parameters, return_state=True)  # type: ignore[arg-type]
    master_flow_id = state.state_details.flow_run_id
    typer.echo(f"master flow id: {master_flow_id}")
    typer.echo(f"status: {state.name}" + (f" — {state.message}" if not state.is_completed() else ""))
    _print_status(master_flow_id, as_json=False)
    if not state.is_completed():
        raise typer.Exit(code=1)


@app.command()
def demo(
    max_wave_size: Annotated[int, typer.Option(help="Most assets in one wave.")] = 25,
) -> None:
    """Run the full master flow on the shipped sample for a demo tenant; prints the master flow id."""
    _run_master(
        client=DEMO_CLIENT,
        engagement=DEMO_ENGAGEMENT,
        inventory=str(SAMPLE_INVENTORY),
        dependencies=[str(SAMPLE_DEPENDENCIES)],
        max_wave_size=max_wave_size,
    )


@app.command()
def run(
    client: Annotated[str, typer.Option(help="Client account name (created if new).")],
    engagement: Annotated[str, typer.Option(help="Engagement name (created if new).")],
    inventory: Annotated[
        list[Path] | None,
        typer.Option(help="Inventory export (CSV/XLSX); repeatable: duplicates across files are merged."),
    ] = None,
    dependencies: Annotated[list[Path] | None, typer.Option(help="Dependency export(s); repeatable.")] = None,
    phases: Annotated[
        list[str] | None, typer.Option(help="Phase(s) to run; repeatable. Default: all.")
    ] = None,
    max_wave_size: Annotated[int, typer.Option(help="Most assets in one wave.")] = 25,
    start_date: Annotated[str | None, typer.Option(help="First wave's start date (YYYY-MM-DD).")] = None,
    review: Annotated[
        bool, typer.Option(help="Pause for human review in the Prefect UI (needs PREFECT_API_URL).")
    ] = False,
    map_column: Annotated[
        list[str] | None,
        typer.Option("--map", help="Mapping answer COLUMN=FIELD (or COLUMN=unmapped); repeatable."),
    ] = None,
    six_r: Annotated[
        list[str] | None, typer.Option("--six-r", help="6R override ASSET=STRATEGY; repeatable.")
    ] = None,
    pin: Annotated[
        list[str] | None, typer.Option(help="Keep an asset in a wave: ASSET=WAVE; repeatable.")
    ] = None,
    user: Annotated[str | None, typer.Option(help="Who gives these answers (audit trail).")] = None,
    max_parallel_waves: Annotated[int, typer.Option(min=1, help="Most waves running at once.")] = 3,
    provider: Annotated[str, typer.Option(help="Right-sizing target: aws, azure or gcp.")] = "aws",
    region: Annotated[str | None, typer.Option(help="Target region (default: the provider's).")] = None,
    headroom: Annotated[
        float | None, typer.Option(min=0, help="Headroom over p95 utilisation, e.g. 0.2 (default 0.2).")
    ] = None,
    capacity: Annotated[
        list[str] | None, typer.Option(help="Team hours a week per role ROLE=HOURS; repeatable.")
    ] = None,
) -> None:
    """Run the master flow for one engagement (without --inventory: its registered sources)."""
    if review and not os.environ.get("PREFECT_API_URL"):
        typer.echo("error: --review needs a Prefect server to answer in: set PREFECT_API_URL", err=True)
        raise typer.Exit(code=2)
    _run_master(
        client=client,
        engagement=engagement,
        inventory=_inventory_parameter(inventory),
        dependencies=[str(d) for d in dependencies or []],
        phases=phases or None,
        max_wave_size=max_wave_size,
        start_date=start_date,
        review=review,
        mapping_overrides=_pairs(map_column, "--map"),
        six_r_overrides=_pairs(six_r, "--six-r"),
        wave_pins=_wave_numbers(_pairs(pin, "--pin")),
        user=user,
        max_parallel_waves=max_parallel_waves,
        provider=provider,
        region=region,
        headroom=headroom,
        team_capacity=_hours(_pairs(capacity, "--capacity")),
    )


def _hours(pairs: dict[str, str]) -> dict[str, float]:
    try:
        return {role: float(hours) for role, hours in pairs.items()}
    except ValueError:
        typer.echo(f"error: --capacity needs ROLE=HOURS with a number of hours, got {pairs}", err=True)
        raise typer.Exit(code=2) from None


def _wave_numbers(pins: dict[str, str]) -> dict[str, int]:
    if not all(wave.isdigit() and int(wave) > 0 for wave in pins.values()):
        typer.echo(f"error: --pin needs ASSET=WAVE with a wave number from 1, got {pins}", err=True)
        raise typer.Exit(code=2)
    return {asset: int(wave) for asset, wave in pins.items()}


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """``["a=b", ...]`` -> ``{"a": "b"}``, refusing anything without ``=``."""
    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, answer = value.partition("=")
        if not sep or not key.strip() or not answer.strip():
            typer.echo(f"error: {option} {value!r}: expected NAME=VALUE", err=True)
            raise typer.Exit(code=2)
        pairs[key.strip()] = answer.strip()
    return pairs


def _print_status(master_flow_id: uuid.UUID | None, *, as_json: bool) -> None:
    from db.repositories.runs import status_report
    from db.session import tenant_session

    found_id, tenant = locate_or_exit(master_flow_id)
    with tenant_session(tenant) as session:
        report = status_report(session=session, master_flow_id=found_id)
    assert report is not None
    if as_json:
        typer.echo(json.dumps(report, indent=2, default=str))
        return
    typer.echo(f"master {report['master_flow_id']}: {report['status']}")
    for phase in report["phases"]:
        steps = ", ".join(f"{s['name']}={s['status']}" for s in phase["steps"])
        typer.echo(f"  {phase['phase']:<14} {phase['status']:<12} {steps}")


@app.command()
def status(
    master_flow: Annotated[
        str | None, typer.Option("--master-flow", help="Master flow id (default: latest).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON contract.")] = False,
) -> None:
    """Report a master run (default: the latest), its phase subflows and their steps."""
    _ready()
    _print_status(uuid.UUID(master_flow) if master_flow else None, as_json=as_json)


@app.command()
def rollback(
    master_flow: Annotated[str, typer.Option("--master-flow", help="Master flow id.")],
    phase: Annotated[str, typer.Option(help="Phase to roll back.")] = "discovery",
    cascade: Annotated[bool, typer.Option(help="Roll back later phases first.")] = True,
    reason: Annotated[str, typer.Option(help="Why (kept in flow_rollbacks).")] = "rollback requested",
) -> None:
    """Undo a completed phase of a master run (and, by default, every later phase first)."""
    from flows.rollback import rollback_flow

    _ready()
    result = rollback_flow(master_flow_id=uuid.UUID(master_flow), phase=phase, cascade=cascade, reason=reason)
    typer.echo(json.dumps(result, indent=2, default=str))


@app.command()
def generate(
    assets: Annotated[int, typer.Option(help="Number of assets.")] = 1000,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("synthetic"),
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same files).")] = 42,
    dependencies_per_asset: Annotated[float, typer.Option(help="Average dependencies per asset.")] = 3.0,
) -> None:
    """Write a realistic synthetic inventory.csv + dependencies.csv of any size."""
    from mfactory.synthetic import write_inventory

    inventory_path, dependencies_path = write_inventory(
        out, assets, seed=seed, dependencies_per_asset=dependencies_per_asset
    )
    typer.echo(f"{inventory_path}\n{dependencies_path}")


@app.command()
def serve() -> None:
    """Serve every deployment of prefect.yaml in this process (needs PREFECT_API_URL: a Prefect server).

    The single-process alternative to `prefect deploy --all` + a worker; scheduled runs
    (rediscovery-nightly) and runs triggered from the UI or the API execute here.
    """
    from mfactory.serving import serve_project

    if not os.environ.get("PREFECT_API_URL"):
        typer.echo("PREFECT_API_URL is not set: export it, or run `mfactory ui` (server + serve)", err=True)
        raise typer.Exit(code=2)
    _ready()
    serve_project()


@app.command()
def ui(
    host: Annotated[str, typer.Option(help="Address the Prefect server listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the Prefect server.")] = 4200,
) -> None:
    """Start a Prefect server (its default SQLite) and serve every deployment; prints the UI address."""
    from mfactory.serving import serve_project, start_server
    from mfactory.settings import get_settings

    _ready()
    log = get_settings().home / "prefect-server.log"
    server = start_server(host, port, log=log)
    os.environ["PREFECT_API_URL"] = f"http://{host}:{port}/api"
    typer.echo(f"Prefect UI: http://{host}:{port}  (API {os.environ['PREFECT_API_URL']}, server log {log})")
    typer.echo("Serving the deployments of prefect.yaml; Ctrl-C stops both.")
    try:
        serve_project()
    finally:
        server.terminate()
        server.wait(timeout=30)


@db_app.command("url")
def db_url() -> None:
    """Print the URL of the database in use, as the application role."""
    from sqlalchemy.engine import make_url

    from db.engine import app_url

    _ready()
    typer.echo(make_url(app_url()).set(drivername="postgresql").render_as_string(hide_password=False))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create roles and schema if missing and apply all migrations (idempotent)."""
    _ready()
    typer.echo("schema migration is at head")


@db_app.command("psql")
def db_psql() -> None:
    """Open psql on the database in use, as the application role."""
    from sqlalchemy.engine import make_url

    from db.engine import app_url

    if shutil.which("psql") is None:
        typer.echo("psql is not installed (apt-get install postgresql-client)", err=True)
        raise typer.Exit(code=1)
    _ready()
    url = make_url(app_url()).set(drivername="postgresql")
    sys.exit(subprocess.call(["psql", url.render_as_string(hide_password=False)]))


if __name__ == "__main__":
    app()
