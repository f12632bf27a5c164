"""All tables of schema ``migration``; importing this module registers them on ``Base``."""

from db.models.assets import Asset
from db.models.audit import Feedback, SecurityAuditLog
from db.models.base import SCHEMA, Base
from db.models.imports import DataImport, ImportFieldMapping, RawImportRecord
from db.models.learning import AgentLearningPattern, LlmUsageLog
from db.models.orchestration import (
    ChangeLog,
    FlowHandoff,
    FlowRollback,
    MasterFlow,
    PhaseFlow,
    PhaseStep,
)
from db.models.overrides import PlanningOverride
from db.models.planning import AssetDependency, MigrationWave, UnresolvedEndpoint
from db.models.sources import EngagementSource
from db.models.tenancy import ClientAccount, Engagement

__all__ = [
    "SCHEMA",
    "AgentLearningPattern",
    "Asset",
    "AssetDependency",
    "Base",
    "ChangeLog",
    "ClientAccount",
    "DataImport",
    "Engagement",
    "EngagementSource",
    "Feedback",
    "FlowHandoff",
    "FlowRollback",
    "ImportFieldMapping",
    "LlmUsageLog",
    "MasterFlow",
    "MigrationWave",
    "PhaseFlow",
    "PhaseStep",
    "PlanningOverride",
    "RawImportRecord",
    "SecurityAuditLog",
    "UnresolvedEndpoint",
]

# Tables whose rows belong to one engagement (RLS + composite tenant FK).
TENANT_TABLES = tuple(
    t.name for t in Base.metadata.sorted_tables if "engagement_id" in t.c and t.name != "engagements"
)
# Data tables whose changes a flow makes are captured in change_log for rollback. The run
# record itself (flows, steps, handoffs, rollbacks, logs) is history and is not undone.
CAPTURED_TABLES = (
    "data_imports",
    "raw_import_records",
    "import_field_mappings",
    "migration_waves",
    "assets",
    "asset_dependencies",
    "unresolved_endpoints",
    "agent_learning_patterns",
    "feedback",
)
