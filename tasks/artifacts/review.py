"""When a figure needs a human: the thresholds the summaries use, in one place.

A mapping below ``LOW_MAPPING_CONFIDENCE`` was matched on weak evidence (anything short of an
exact or known alias); a 6R decision below ``LOW_SIX_R_CONFIDENCE`` came from a rule its
authors marked as a guess (the commercial-database and application rules). Both can be set per
run with the parameters ``review_mapping_below`` / ``review_six_r_below``.
"""

from __future__ import annotations

import datetime as dt

from tasks.phases import PhaseContext

LOW_MAPPING_CONFIDENCE = 0.8
LOW_SIX_R_CONFIDENCE = 0.6


def mapping_threshold(ctx: PhaseContext) -> float:
    return float(ctx.params.get("review_mapping_below") or LOW_MAPPING_CONFIDENCE)


def six_r_threshold(ctx: PhaseContext) -> float:
    return float(ctx.params.get("review_six_r_below") or LOW_SIX_R_CONFIDENCE)


def report_date(ctx: PhaseContext) -> dt.date:
    """The date "past end of support" is judged against: the run's ``as_of``, else today."""
    return dt.date.fromisoformat(ctx.params["as_of"]) if ctx.params.get("as_of") else dt.date.today()


def plural(n: int, noun: str, many: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else (many or noun + 's')}"
