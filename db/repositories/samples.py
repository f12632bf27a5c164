"""A sample of an import's original rows, for work that looks at values but not at every row."""

from __future__ import annotations

import uuid

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session


def sample_raw_frame(
    *, session: Session, data_import_id: uuid.UUID, sheet_name: str, columns: list[str], rows: int
) -> pd.DataFrame:
    """The first ``rows`` original rows of a sheet (file order), as strings, columns in file order."""
    records = session.execute(
        text(
            "SELECT record FROM migration.raw_import_records"
            " WHERE data_import_id = :d AND sheet_name = :s ORDER BY row_number LIMIT :n"
        ),
        {"d": data_import_id, "s": sheet_name, "n": rows},
    ).scalars()
    frame = pd.DataFrame.from_records(list(records), columns=columns)
    return frame.astype(object).where(frame.notna(), "")
