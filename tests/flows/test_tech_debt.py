"""Tech debt on a real discovery run of the shipped sample: every OS resolves to a release, severities land.

Two sample releases (Ubuntu 22.04, AIX 7.2) are recognised but undated in the table: severity "unknown".
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from sqlalchemy import Engine

from tasks.discovery.lifecycle import resolve
from tests.flows.test_master_discovery import (
    SAMPLE_INVENTORY,
    Engagement,
    phase_row,
    rows,
    run_master,
    steps_of,
)

pytestmark = pytest.mark.usefixtures("database", "prefect_server")


def test_discovery_of_sample_resolves_every_os_and_summarises_tech_debt(
    admin_engine: Engine, new_engagement: Callable[[], Engagement]
) -> None:
    run = run_master(new_engagement())  # as_of 2025-01-01
    assert run.state.is_completed(), run.state
    assets = pd.DataFrame(
        rows(
            admin_engine,
            "SELECT asset_name, application_name, os_name, os_version, description, end_of_support_date,"
            " custom_attributes -> 'tech_debt' AS tech_debt FROM migration.assets WHERE master_flow_id = :m",
            m=run.master_flow_id,
        )
    )
    sample = pd.read_csv(SAMPLE_INVENTORY, dtype=str)
    assert len(assets) == len(sample)
    # every asset's OS resolved to a product and release
    assert assets["tech_debt"].map(lambda t: bool(t and t.get("os", {}).get("release"))).all()
    # the stored date is the earliest of the OS and DB dates the pure matcher gives
    os_dates = resolve(assets["os_name"] + " " + assets["os_version"], "os").set_index("text")[
        "end_of_support"
    ]
    db_dates = resolve(assets["description"], "database").set_index("text")["end_of_support"]
    expected = pd.concat(
        [
            (assets["os_name"] + " " + assets["os_version"]).map(os_dates),
            assets["description"].map(db_dates),
        ],
        axis=1,
    ).min(axis=1)
    got = pd.to_datetime(assets["end_of_support_date"])
    assert (pd.to_datetime(expected).fillna(pd.Timestamp.max) == got.fillna(pd.Timestamp.max)).all()
    severities = assets["tech_debt"].map(lambda t: t["severity"])
    past = got < pd.Timestamp("2025-01-01")
    assert (severities[past] == "critical").all()
    assert (severities[~past & got.notna()] != "critical").all()
    assert assets["tech_debt"].map(lambda t: t["as_of"] == "2025-01-01").all()

    metrics = steps_of(admin_engine, phase_row(admin_engine, run.master_flow_id)["id"])["tech_debt"][
        "metrics"
    ]
    assert metrics["assets_assessed"] == len(assets)
    assert metrics["assets_by_severity"]["critical"] == int(past.sum())
    assert metrics["end_of_support_past"] == int(past.sum())
    assert sum(metrics["assets_by_severity"].values()) == len(assets)
    assert metrics["lifecycle_table_as_of"]
    top = pd.DataFrame(metrics["top_applications"])
    worst_app = top.iloc[0]
    assert worst_app["worst_severity"] == "critical"
    app_assets = assets[assets["application_name"] == worst_app["application_name"]]
    assert worst_app["assets"] == len(app_assets)
    assert worst_app["critical"] == int(
        (app_assets["tech_debt"].map(lambda t: t["severity"]) == "critical").sum()
    )
