"""Environment inference where the inventory leaves it empty: from tags, names, then placement.

Teams encode the environment everywhere but in the environment column: ``env=prod`` tags,
``web01-prd-fra`` host names, a ``Production`` VM folder or a ``cl-dev-02`` cluster. Sources are
tried in the order of the rule file (the owner's tag, then the name, then where the asset sits);
the first that names an environment wins, and each source's hits are counted separately.
"""

from __future__ import annotations

import re

import pandas as pd

from tasks.discovery.cleansing.rules import CleansingRules


def tag_values(tags: pd.Series, rules: CleansingRules) -> pd.Series:
    """The value of the first environment tag (``env=prod``, ``Environment: Dev``) of each raw tags cell."""
    keys = "|".join(re.escape(k) for k in rules.env_tag_keys)
    pattern = rf"(?i)(?:^|[;,|])\s*(?:{keys})\s*[:=]\s*([^;,|]+)"
    return tags.fillna("").astype(str).str.extract(pattern, expand=False).str.strip()


def infer_environment(
    missing: pd.Series, sources: list[tuple[str, pd.Series]], rules: CleansingRules
) -> tuple[pd.Series, dict[str, int]]:
    """``(environment, hits per source)`` for the rows flagged ``missing`` (NULL where nothing says).

    ``sources`` are ``(label, text column)`` pairs in priority order, on the same index as ``missing``.
    """
    found = pd.Series(None, index=missing.index, dtype=object)
    hits: dict[str, int] = {}
    for label, texts in sources:
        todo = missing & found.isna() & texts.notna()
        if not todo.any():
            continue
        lowered = texts[todo].astype(str).str.lower()
        before = int(found.notna().sum())
        for environment, pattern in rules.env_words:
            hit = lowered.str.contains(pattern, regex=True) & found[todo].isna()
            found[hit[hit].index] = environment
        gained = int(found.notna().sum()) - before
        if gained:
            hits[label] = hits.get(label, 0) + gained
    return found.where(found.notna(), None), hits
