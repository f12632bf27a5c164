"""Numbers and sizes out of strings: decimal commas, percent signs, units stated per value or per column.

Parsing runs on the *distinct* strings of a column (inventories repeat "4", "16384", "50" endlessly)
and maps back by position, so its cost follows the number of spellings, not of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

# Plain-string patterns without \s, \d or flags, so pandas runs them in pyarrow (RE2), not per cell
# in Python; the values are trimmed before they get here.
_NUMBER = r"^[-+]?([0-9]+([.,][0-9]*)?|[.,][0-9]+) *%?$"
_SIZE_WITH_UNIT = r"^([-+]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)) *([KkMmGgTt][Ii]?[Bb])$"


def per_distinct(values: pd.Series, parse: Callable[[pd.Series], pd.DataFrame]) -> pd.DataFrame:
    """``parse`` applied to the distinct values only, its columns spread back onto every row."""
    codes, uniques = pd.factorize(values)
    parsed = parse(pd.Series(uniques, dtype=object).astype(str)).reset_index(drop=True)
    taken = parsed.take(np.where(codes >= 0, codes, 0))
    taken.index = values.index
    return taken.where(pd.Series(codes >= 0, index=values.index), axis=0)


def _numbers(values: pd.Series) -> pd.DataFrame:
    cleaned = values.str.rstrip("%").str.rstrip(" ").str.replace(",", ".", regex=False)
    return pd.DataFrame({"number": pd.to_numeric(cleaned.where(values.str.match(_NUMBER)), errors="coerce")})


def numbers(values: pd.Series) -> pd.Series:
    """``"12,5"`` -> 12.5, ``"40 %"`` -> 40.0; anything else that is not a number -> NaN."""
    return per_distinct(values, _numbers)["number"].astype(float)


def percent_signs(values: pd.Series, parsed: pd.Series) -> int:
    """How many values :func:`numbers` parsed (``parsed``) carried a percent sign it dropped."""
    return int((values.str.contains("%", regex=False) & parsed.notna()).sum())


def sizes_in_gib(
    values: pd.Series, column_factor: float, size_to_gib: Mapping[str, float]
) -> tuple[pd.Series, pd.Series]:
    """``(GiB, stated unit)``: a value that states its own unit ("4096 MB", "8GiB") converts by it,
    a bare number by the column's factor.

    Columns pasted together from several exports mix units; without this, every value with a unit
    was dropped as "not a number" (reported, but lost for planning).
    """
    by_upper = {unit.upper(): factor for unit, factor in size_to_gib.items()}

    def parse(distinct: pd.Series) -> pd.DataFrame:
        parts = distinct.str.extract(_SIZE_WITH_UNIT)
        unit = parts[1].str.upper()
        stated = pd.to_numeric(parts[0].str.replace(",", ".", regex=False), errors="coerce")
        stated = stated * unit.map(by_upper).astype(float)
        bare = _numbers(distinct)["number"] * column_factor
        return pd.DataFrame({"gib": stated.combine_first(bare), "unit": unit.where(stated.notna())})

    parsed = per_distinct(values, parse)
    return parsed["gib"].astype(float), parsed["unit"]
