"""The typed forms the Prefect UI shows when a phase pauses for a human (``pause_flow_run`` input)."""

from __future__ import annotations

import datetime as dt

from prefect.input import RunInput
from pydantic import BaseModel, Field


class MappingReview(RunInput):
    """Confirm the flagged column mappings, or override some of them."""

    reviewer: str = Field(default="", description="Your name (kept in the audit trail).")
    overrides: dict[str, str] = Field(
        default_factory=dict,
        description='Source column -> canonical field, or "unmapped". '
        "Flagged columns left out are confirmed as proposed.",
    )


class WaveDateRange(BaseModel):
    """A wave's dates; without an end the wave keeps its planned length."""

    start: dt.date
    end: dt.date | None = None


class EditorReview(RunInput):
    """Override the plan before it is handed to planning: 6R, wave membership, wave dates, locks.

    The answers are stored as the engagement's overrides (like ``mfactory edit``), audited, and
    applied again by every later run until revoked (``mfactory edit revoke``).
    """

    reviewer: str = Field(default="", description="Your name (kept in the audit trail).")
    six_r_overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Asset name -> rehost, replatform, refactor, rearchitect, rewrite, repurchase, "
        "retire, retain or relocate. Overridden assets are locked against later re-runs.",
    )
    wave_overrides: dict[str, int] = Field(
        default_factory=dict, description="Asset name -> the wave number it must move in."
    )
    wave_dates: dict[int, WaveDateRange] = Field(
        default_factory=dict,
        description="Wave number -> its start (and end) date; later waves follow it.",
    )
    locks: list[str] = Field(
        default_factory=list, description="Asset names whose current 6R strategy and wave are kept."
    )
    reason: str = Field(default="", description="Why (kept with each override).")


class CutoverApproval(RunInput):
    """Approve (or refuse) the cutover of the planned waves."""

    approved: bool = Field(default=False, description="Tick to approve the cutover.")
    approver: str = Field(default="", description="Your name (kept in the audit trail).")
    note: str = Field(default="", description="Why, or conditions of the approval.")
