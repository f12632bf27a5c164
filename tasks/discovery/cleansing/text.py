"""Trimming, null tokens and vocabularies: whole-column string rules that say how much they changed.

Each function takes a string column ("" = blank) and returns the new column and the number of
values it changed, so the step can report per rule what cleansing did to the client's data.
"""

from __future__ import annotations

import pandas as pd

from tasks.discovery.cleansing.rules import Vocabulary

_WHITESPACE_RUN = "[ \t\r\n\v\f]+"


def trim(values: pd.Series, *, squeeze: bool) -> tuple[pd.Series, int]:
    """Strip the ends; with ``squeeze`` also fold inner whitespace (line breaks, tabs) to one space."""
    out = values.str.strip()
    if squeeze:
        # Only the few cells that need it go through the replace (pyarrow's RE2 has no Python \s).
        untidy = out.str.contains("[\t\r\n\v\f]|  ", regex=True)
        if untidy.any():
            out = out.mask(untidy, out[untidy].str.replace(_WHITESPACE_RUN, " ", regex=True))
    return out, int(out.ne(values).sum())


def drop_null_tokens(values: pd.Series, tokens: frozenset[str]) -> tuple[pd.Series, int]:
    """A cell that only says "N/A", "-", "unknown", ... becomes blank."""
    hit = values.ne("") & values.str.lower().isin(tokens)
    return values.mask(hit, ""), int(hit.sum())


def apply_vocabulary(values: pd.Series, vocabulary: Vocabulary) -> tuple[pd.Series, pd.Series, int]:
    """``(normalised, unknown, changed)``: each present value as the allowed value its word means.

    ``unknown`` marks present values no word matched: they become the fallback (when the
    vocabulary has one) or NULL; the caller reports those. Missing values stay missing.
    """
    present = values.notna() & values.astype(str).ne("")
    codes, uniques = pd.factorize(values.where(present))  # the lookup runs once per spelling
    words = pd.Series(uniques, dtype=object).astype(str).str.strip().str.lower().map(vocabulary.lookup)
    mapped = pd.Series(words.to_numpy(dtype=object)[codes], index=values.index).where(codes >= 0)
    unknown = present & mapped.isna()
    normalised = mapped.astype(object).where(~unknown, vocabulary.fallback)
    normalised = normalised.where(present, None)
    changed = present & normalised.astype(object).ne(values.astype(object))
    return normalised, unknown, int(changed.sum())
