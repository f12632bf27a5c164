"""OS family, name and version from the many ways exports spell an operating system.

"Microsoft Windows Server 2012 R2 (64-bit)" becomes os_name "Windows Server 2012 R2", os_version
"2012 R2" (where empty) and os_family "windows"; "rhel8" becomes "Red Hat Enterprise Linux 8".
Matching runs on the *distinct* strings of a column (a handful to a few thousand) and maps back,
so a 100,000-row inventory costs as much as its few hundred OS spellings. A string in which the
product is found but no release is kept as it is when it holds a digit: "Win 6.3.9600" must not
lose the build number the end-of-support matcher (tasks/discovery/lifecycle.py) can still use.
"""

from __future__ import annotations

import pandas as pd

from tasks.discovery.cleansing.rules import CleansingRules

OS_COLUMNS = ["name", "release", "family"]


def _tidy_release(release: pd.Series) -> pd.Series:
    """``"2012r2"`` / ``"2012  r2"`` -> ``"2012 R2"``, ``"12 sp5"`` -> ``"12 SP5"``, ``"xp"`` -> ``"XP"``."""
    upper = release.str.upper().str.replace(r"\s+", " ", regex=True)
    return upper.str.replace(r"(\d)\s*(R2|SP\d)", r"\1 \2", regex=True)


def recognise(distinct: pd.Series, rules: CleansingRules) -> pd.DataFrame:
    """One row per input string: normalised ``name`` (null: keep the original), ``release``, ``family``."""
    clean = (
        distinct.astype(str)
        .str.lower()
        .str.replace(rules.os_noise, " ", regex=True)
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
    )
    product = pd.Series(None, index=distinct.index, dtype=object)
    release = pd.Series(None, index=distinct.index, dtype=object)
    family = pd.Series(None, index=distinct.index, dtype=object)
    major = pd.Series(None, index=distinct.index, dtype=object)
    for rule in rules.os_products:
        hit = product.isna() & clean.str.contains(rule.match, regex=True)
        if rule.exclude:
            hit &= ~clean.str.contains(rule.exclude, regex=True)
        if not hit.any():
            continue
        product[hit] = rule.name
        family[hit] = rule.family
        for pattern in rule.versions:
            todo = hit & release.isna()
            if not todo.any():
                break
            release[todo] = clean[todo].str.extract(pattern, expand=False).astype(object)
        found = hit & release.notna()
        if rule.aliases and found.any():
            spelled = release[found].astype(str).str.replace(r"\s+", "", regex=True)
            release[found] = spelled.map(rule.aliases).fillna(release[found]).astype(object)
        release[found] = _tidy_release(release[found].astype(str)).astype(object)
        major[found] = release[found]
        if rule.major and found.any():
            part = release[found].astype(str).str.extract(rule.major, expand=False)
            major[found] = part.fillna(release[found]).astype(object)
    with_release = product + " " + major
    digitless = ~clean.str.contains(r"\d", regex=True)
    name = with_release.where(release.notna(), product.where(digitless))
    for fam, pattern in rules.os_families:
        family = family.mask(family.isna() & clean.str.contains(pattern, regex=True), fam)
    return pd.DataFrame({"name": name, "release": release, "family": family}, index=distinct.index)


def normalise_os(os_name: pd.Series, rules: CleansingRules) -> pd.DataFrame:
    """Per row: ``name`` (normalised, or the input where unrecognised), ``release``, ``family``."""
    distinct = pd.Series(os_name.dropna().unique(), dtype=object)
    verdicts = recognise(distinct, rules)
    verdicts.index = pd.Index(distinct)
    out = pd.DataFrame(index=os_name.index)
    for column in OS_COLUMNS:
        out[column] = os_name.map(verdicts[column]).astype(object)
    out["name"] = out["name"].where(out["name"].notna(), os_name).astype(object)
    return out.where(out.notna(), None)


def families_of(texts: pd.Series, rules: CleansingRules) -> pd.Series:
    """os_family of free text ("Microsoft Windows", "Linux 64-bit") by the family patterns; NULL if none."""
    lowered = texts.fillna("").astype(str).str.lower()
    family = pd.Series(None, index=texts.index, dtype=object)
    for fam, pattern in rules.os_families:
        family = family.mask(family.isna() & lowered.str.contains(pattern, regex=True), fam)
    return family
