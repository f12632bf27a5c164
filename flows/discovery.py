"""Discovery: Data Import → Attribute Mapping → Data Cleansing → Inventory → Dependencies → Tech Debt."""

from __future__ import annotations

import uuid
from typing import Any

from prefect import flow
from prefect.states import State

from tasks.discovery.attribute_mapping import attribute_mapping
from tasks.discovery.data_cleansing import data_cleansing
from tasks.discovery.data_import import data_import
from tasks.discovery.dependencies import dependencies
from tasks.discovery.inventory import inventory
from tasks.discovery.tech_debt import tech_debt
from tasks.phase_runner import run_phase
from tasks.phases import DISCOVERY

STEPS = (data_import, attribute_mapping, data_cleansing, inventory, dependencies, tech_debt)


@flow(name="discovery", flow_run_name="discovery")
def discovery_flow(
    client_account_id: uuid.UUID,
    engagement_id: uuid.UUID,
    master_flow_id: uuid.UUID,
    input_handoff_id: uuid.UUID | None = None,
    params: dict[str, Any] | None = None,
) -> dict[str, Any] | State[Any]:
    """Import the inventory and dependency files and build the engagement's asset inventory.

    Writes data_imports, raw_import_records, import_field_mappings, assets and
    asset_dependencies; on failure all of it is undone and the run ends ``RolledBack``.
    """
    return run_phase(
        DISCOVERY,
        STEPS,
        client_account_id=client_account_id,
        engagement_id=engagement_id,
        master_flow_id=master_flow_id,
        input_handoff_id=input_handoff_id,
        params=params or {},
    )
