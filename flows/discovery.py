"""Discovery: Data Import → Attribute Mapping → Data Cleansing → Inventory → Dependencies → Tech Debt."""

from __future__ import annotations

from flows.phase_flow import phase_flow
from tasks.discovery.attribute_mapping import attribute_mapping
from tasks.discovery.data_cleansing import data_cleansing
from tasks.discovery.data_import import data_import
from tasks.discovery.dependencies import dependencies
from tasks.discovery.inventory import inventory
from tasks.discovery.tech_debt import tech_debt
from tasks.phases import DISCOVERY

STEPS = (data_import, attribute_mapping, data_cleansing, inventory, dependencies, tech_debt)


discovery_flow = phase_flow(
    DISCOVERY,
    STEPS,
    "Import the inventory and dependency files and build the engagement's asset inventory. "
    "Writes data_imports, raw_import_records, import_field_mappings, assets and asset_dependencies; "
    "on failure all of it is undone and the run ends RolledBack.",
)
