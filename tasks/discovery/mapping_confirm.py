"""Confirming a file's proposed mapping before (or without) an import, for one tenant.

A user who has looked at ``mfactory map FILE`` answers column by column (``COL=FIELD``) or accepts
the proposals as they stand. Each answer goes through ``confirm_mapping``, the one path every
review takes, so it becomes a learned pattern of the tenant and decides the same header (or one
worded nearly the same) on the tenant's next imports; each is audited with who gave it.
All answers are checked before any is stored, so a typo stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy.orm import Session

from db.models import SecurityAuditLog
from db.session import Tenant
from mfactory.canonical import canonical_fields
from mfactory.errors import MappingError
from tasks.discovery.mapping.learning import Confirmation, confirm_mapping
from tasks.discovery.mapping.proposal import ColumnMapping
from tasks.discovery.mapping.units import SIZE_TO_GIB

UNMAPPED = "unmapped"
#: Values of a column kept as evidence of what the confirmed column holds (its value kind).
SAMPLE_VALUES = 200


@dataclass(frozen=True)
class Answer:
    """What the user said about one column: a canonical field (``None``: no field) and its unit."""

    field: str | None
    unit: str | None = None


@dataclass(frozen=True)
class Decision:
    column: str
    proposed: str | None  # what the mapper proposed (before the answer)
    field: str | None
    unit: str | None
    values: pd.Series  # a sample of the column's values, for the pattern's evidence

    @property
    def action(self) -> str:
        return "mapping_confirmed" if self.field == self.proposed else "mapping_override"


def parse_answer(text: str) -> tuple[str, Answer]:
    """``"COL=FIELD"``, ``"COL=FIELD:UNIT"`` or ``"COL=unmapped"`` -> (column, answer).

    The last ``=`` splits, so a column name may itself hold one.
    """
    column, sep, target = text.rpartition("=")
    field, _, unit = target.strip().partition(":")
    if not sep or not column.strip() or not field.strip():
        raise MappingError(f"{text!r}: expected COLUMN=FIELD (or COLUMN=FIELD:UNIT, COLUMN={UNMAPPED})")
    field = field.strip()
    return column.strip(), Answer(None if field == UNMAPPED else field, unit.strip() or None)


def plan_confirmations(
    proposals: Sequence[tuple[ColumnMapping, pd.Series]],
    answers: Mapping[str, Answer],
    *,
    accept_all: bool,
) -> list[Decision]:
    """The decisions to store, one per column, checked as a whole before anything is stored.

    ``answers`` name columns of the file and canonical fields; ``accept_all`` confirms every other
    column the mapper did map, as proposed (an unmapped proposal is only confirmed when answered,
    so a miss is not learned as "no field"). A header proposed differently on two sheets needs an
    answer: a pattern belongs to the header, not to a sheet.
    """
    by_column: dict[str, list[tuple[ColumnMapping, pd.Series]]] = {}
    for mapping, values in proposals:
        by_column.setdefault(mapping.source, []).append((mapping, values))
    unknown_columns = sorted(set(answers) - set(by_column))
    if unknown_columns:
        raise MappingError(f"no column {unknown_columns} in the file (its columns: {sorted(by_column)})")
    fields = canonical_fields()
    unknown_fields = sorted({a.field for a in answers.values() if a.field is not None} - set(fields))
    if unknown_fields:
        raise MappingError(f"{unknown_fields}: not canonical asset fields (or {UNMAPPED!r})")
    bad_units = sorted({a.unit for a in answers.values() if a.unit is not None} - set(SIZE_TO_GIB))
    if bad_units:
        raise MappingError(f"unit {bad_units}: a unit is one of {sorted(SIZE_TO_GIB)}")
    decisions: list[Decision] = []
    for column, seen in by_column.items():
        mapping, values = seen[0]
        sample = values.head(SAMPLE_VALUES)
        if column in answers:
            answer = answers[column]
            decisions.append(Decision(column, mapping.field, answer.field, answer.unit, sample))
            continue
        if not accept_all or mapping.field is None:
            continue
        if len({m.field for m, _ in seen}) > 1:
            found = {m.field for m, _ in seen}
            raise MappingError(
                f"column {column!r} is proposed as {sorted(found, key=str)} on different sheets: answer it"
            )
        unit = mapping.unit if mapping.unit in SIZE_TO_GIB else None
        decisions.append(Decision(column, mapping.field, mapping.field, unit, sample))
    return decisions


def store_confirmations(
    session: Session,
    tenant: Tenant,
    decisions: Sequence[Decision],
    *,
    confirmed_by: str,
    source_name: str,
    share: bool = False,
) -> list[Confirmation]:
    """Learn each decision as a pattern of ``tenant`` (``confirm_mapping``) and audit it."""
    stored: list[Confirmation] = []
    for decision in decisions:
        confirmation = confirm_mapping(
            session,
            tenant,
            source_column=decision.column,
            field=decision.field,
            unit=decision.unit,
            proposed_field=decision.proposed,
            values=decision.values,
            confirmed_by=confirmed_by,
            share=share,
        )
        session.add(
            SecurityAuditLog(
                client_account_id=tenant.client_account_id,
                engagement_id=tenant.engagement_id,
                actor=confirmed_by,
                action=decision.action,
                target_table="agent_learning_patterns",
                target_id=confirmation.pattern_id,
                details={
                    "column": decision.column,
                    "before": decision.proposed,
                    "after": decision.field,
                    "unit": confirmation.unit,
                    "file": source_name,
                    "shared": share,
                },
            )
        )
        stored.append(confirmation)
    session.flush()
    return stored
