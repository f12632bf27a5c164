"""IP, MAC and FQDN validation over whole columns.

Exports put several addresses in one cell ("10.0.0.5, fe80::1", ``["10.0.0.5","10.0.0.6"]``): the
first valid one becomes ``ip_address`` and the whole valid list is kept. IPv4 is checked by one
regex over the exploded tokens; only tokens with a colon (IPv6 candidates, rare) go through
``ipaddress``, once per distinct token. A value that is no address at all is dropped and reported.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pandas as pd

from tasks.discovery.cleansing.rules import CleansingRules

_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"  # [0-9], not \d: pyarrow runs it
IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
MAC = r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}"


def _is_ipv6(token: str) -> bool:
    try:
        return isinstance(ipaddress.ip_address(token), ipaddress.IPv6Address)
    except ValueError:
        return False


@dataclass(frozen=True)
class IpColumn:
    first: pd.Series  # the first valid address of each cell (NULL when none)
    lists: pd.Series  # the valid addresses of cells that hold more than one (else NULL)
    invalid: pd.Series  # present cells without any valid address
    listed: int  # cells holding more than one valid address


def ip_addresses(values: pd.Series, rules: CleansingRules) -> IpColumn:
    """Split each cell into tokens, keep the valid IPv4/IPv6 ones (IPv6 in its compressed form)."""
    present = values.ne("")
    single = values.str.fullmatch(IPV4)  # the common case, in one pass (pyarrow)
    first = values.astype(object).where(single, None)
    lists = pd.Series(None, index=values.index, dtype=object)
    rest = present & ~single
    listed = 0
    if rest.any():
        tokens = (
            values[rest]
            .str.replace(rules.ip_wrapping, " ", regex=True)
            .str.strip()
            .str.split(rules.ip_separators, regex=True)
            .explode()
            .astype(object)
        )
        tokens = tokens[tokens.notna() & tokens.ne("")].astype(str)
        valid = tokens.str.fullmatch(IPV4)
        colon = tokens.str.contains(":", regex=False)
        if colon.any():
            distinct = pd.Series(tokens[colon].unique())
            v6 = pd.Series([_is_ipv6(t) for t in distinct], index=distinct.to_numpy())
            valid[colon] = tokens[colon].map(v6).astype(bool)
            compressed = {t: str(ipaddress.ip_address(t)) for t in v6.index[v6.to_numpy()]}
            tokens[colon & valid] = tokens[colon & valid].map(compressed)
        good = tokens[valid.astype(bool)]
        first[rest] = good.groupby(level=0).first().reindex(values.index[rest]).astype(object)
        counts = good.groupby(level=0).size()
        multi = counts.index[counts > 1]
        if len(multi):
            lists[multi] = good[good.index.isin(multi)].groupby(level=0).agg(list)
        listed = len(multi)
    return IpColumn(
        first=first.where(first.notna(), None),
        lists=lists,
        invalid=present & first.isna(),
        listed=listed,
    )


def mac_addresses(values: pd.Series) -> tuple[pd.Series, pd.Series, int]:
    """``(mac, invalid, changed)``: lower-case colon form ("00-50-56-AB-00-01", "0050.56ab.0001" alike).

    A cell with several MACs keeps the first.
    """
    present = values.ne("")
    mac = values.where(values.str.fullmatch(MAC))  # most cells are canonical already: one pass
    todo = present & mac.isna()
    if todo.any():
        cells = values[todo]
        several = cells.str.contains("[,;| \t]", regex=True)
        first = cells.mask(several, cells[several].str.split("[,;| \t]+", regex=True).str[0])
        digits = first.str.replace("[:.-]", "", regex=True).str.lower()
        colon = digits.str[0:2]
        for start in range(2, 12, 2):
            colon = colon + ":" + digits.str[start : start + 2]
        mac[todo] = colon.where(digits.str.fullmatch("[0-9a-f]{12}"))
    invalid = present & mac.isna()
    changed = present & mac.notna() & mac.ne(values)
    return mac.astype(object).where(mac.notna(), None), invalid, int(changed.sum())


def fqdns(values: pd.Series, rules: CleansingRules) -> tuple[pd.Series, pd.Series, int]:
    """``(fqdn, invalid, changed)``: lower case, no trailing dot, valid labels, 253 characters at most."""
    present = values.ne("")
    lowered = values.str.lower().str.rstrip(".")
    label = rules.fqdn_label
    # The label pattern on distinct names only (a bounded repetition is slow in RE2 on many cells).
    distinct = pd.Series(lowered[present].unique(), dtype=str)
    ok = distinct.str.fullmatch(rf"{label}(?:\.{label})*") & distinct.str.len().le(253)
    valid = lowered.map(pd.Series(ok.to_numpy(), index=distinct.to_numpy())).fillna(False).astype(bool)
    fqdn = lowered.where(present & valid)
    changed = present & valid & fqdn.ne(values)
    return fqdn.astype(object).where(fqdn.notna(), None), present & ~valid, int(changed.sum())
