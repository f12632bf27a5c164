"""The downloadable errors file of an import: one line per problem (file, sheet, row, column, value, reason).

AWS and Azure hand back such a file so the client can fix the rows and send them again; ours
is rebuilt from the problems stored on the raw rows (import and cleansing alike), so it always
matches the database, also after a step was retried. Cells that a spreadsheet would run as a
formula (``=cmd|...``) are written with a leading apostrophe: the file is meant to be opened.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd

from mfactory.csv_safety import FORMULA_START
from mfactory.settings import get_settings

COLUMNS = ["file", "sheet", "row", "column", "value", "reason", "severity"]


def errors_file_path(data_import_id: uuid.UUID | str) -> Path:
    return get_settings().home / "imports" / f"{data_import_id}-errors.csv"


def _inert(values: pd.Series) -> pd.Series:
    text = values.fillna("").astype(str)
    return text.mask(text.str.startswith(FORMULA_START), "'" + text)


def write_errors_file(*, path: Path, source_name: str, problems: pd.DataFrame) -> Path:
    """Write ``problems`` (sheet_name, row_number, column, value, reason, severity) as the errors CSV."""
    out = pd.DataFrame(
        {
            "file": _inert(pd.Series([source_name] * len(problems), dtype=object)).to_numpy(),
            "sheet": _inert(problems["sheet_name"]).to_numpy(),  # workbook sheet names may start with "="
            "row": problems["row_number"].astype(int).to_numpy(),
            "column": _inert(problems["column"]).to_numpy(),
            "value": _inert(problems["value"]).to_numpy(),
            "reason": problems["reason"].to_numpy(),
            "severity": problems["severity"].to_numpy(),
        },
        columns=COLUMNS,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    out.sort_values(["sheet", "row"], kind="stable").to_csv(path, index=False, encoding="utf-8")
    return path
