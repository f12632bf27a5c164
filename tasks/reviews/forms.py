"""The typed forms the Prefect UI shows when a phase pauses for a human (``pause_flow_run`` input)."""

from __future__ import annotations

from prefect.input import RunInput
from pydantic import Field


class MappingReview(RunInput):
    """Confirm the flagged column mappings, or override some of them."""

    reviewer: str = Field(default="", description="Your name (kept in the audit trail).")
    overrides: dict[str, str] = Field(
        default_factory=dict,
        description='Source column -> canonical field, or "unmapped". '
        "Flagged columns left out are confirmed as proposed.",
    )


class EditorReview(RunInput):
    """Override 6R decisions before the plan is handed to planning."""

    reviewer: str = Field(default="", description="Your name (kept in the audit trail).")
    six_r_overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Asset name -> rehost, replatform, refactor, rearchitect, rewrite, repurchase, "
        "retire, retain or relocate. Overridden assets are locked against later re-runs.",
    )


class CutoverApproval(RunInput):
    """Approve (or refuse) the cutover of the planned waves."""

    approved: bool = Field(default=False, description="Tick to approve the cutover.")
    approver: str = Field(default="", description="Your name (kept in the audit trail).")
    note: str = Field(default="", description="Why, or conditions of the approval.")
