"""Numbers and sizes out of strings: decimal commas, percent signs, units stated per value or per column."""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

_NUMBER = re.compile(r"^\s*[-+]?(\d+([.,]\d*)?|[.,]\d+)\s*%?\s*$")
_SIZE_WITH_UNIT = re.compile(r"^\s*([-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*([KMGT]I?B)\s*$", re.IGNORECASE)


def numbers(values: pd.Series) -> pd.Series:
    """``"12,5"`` -> 12.5, ``"40 %"`` -> 40.0; anything else that is not a number -> NaN."""
    cleaned = values.str.strip().str.rstrip("%").str.strip().str.replace(",", ".", regex=False)
    return pd.to_numeric(cleaned.where(values.str.match(_NUMBER)), errors="coerce")


def percent_signs(values: pd.Series) -> int:
    """How many values carry a percent sign that :func:`numbers` drops."""
    return int((values.str.match(_NUMBER) & values.str.contains("%", regex=False)).sum())


def sizes_in_gib(
    values: pd.Series, column_factor: float, size_to_gib: Mapping[str, float]
) -> tuple[pd.Series, pd.Series]:
    """``(GiB, stated unit)``: a value that states its own unit ("4096 MB", "8GiB") converts by it,
    a bare number by the column's factor.

    Columns pasted together from several exports mix units; without this, every value with a unit
    was dropped as "not a number" (reported, but lost for planning).
    """
    by_upper = {unit.upper(): factor for unit, factor in size_to_gib.items()}
    parts = values.str.extract(_SIZE_WITH_UNIT)
    unit = parts[1].str.upper()
    stated = pd.to_numeric(parts[0].str.replace(",", ".", regex=False), errors="coerce")
    stated = stated * unit.map(by_upper).astype(float)
    return stated.combine_first(numbers(values) * column_factor), unit.where(stated.notna())
