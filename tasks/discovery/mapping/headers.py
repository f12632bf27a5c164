"""What a column header says: words, unit, dimension, statistic, and whether it names a part.

Vendors spell the same thing ``RAM.TotalSizeInMB``, ``*Memory (In MB)`` and ``MemoryGiB``:
headers are split into plain words (camel case, dots, brackets), units are read off them
(they decide the scale of the values) and the words are reduced to comparable tokens.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

# Size units as written in headers -> the unit name kept in proposals.
SIZE_UNITS = {
    "b": "B", "byte": "B", "bytes": "B",
    "kb": "KB", "kib": "KiB", "mb": "MB", "mib": "MiB",
    "gb": "GB", "gib": "GiB", "tb": "TB", "tib": "TiB",
}  # fmt: skip
# Words that keep their letter case as one token (else camel-case splitting breaks them).
_WHOLE = re.compile(r"(VMware|[vV]Center|vSphere|MoRef|SMBios|SMBIOS|UUID|IPv4|IPv6|GiB|MiB|KiB|TiB|MHz|GHz)")
_PLURAL_ACRONYM = re.compile(r"\b([A-Z]{2,})s\b")
_CAMEL_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_CAMEL_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_NON_WORD = re.compile(r"[^a-z0-9%]+")
_INDEXED = re.compile(r"\b(disk|nic|network adapter|adapter|interface|cpu|volume|partition|drive)\s*\d+\b")

_DIRECTION = {"read", "reads", "write", "writes", "inbound", "outbound", "rx", "tx", "sent", "received"}
# "in"/"out" name a direction only next to a traffic word ("Network In", "out throughput").
_IN_OUT = re.compile(
    r"\b(network|net|traffic|bytes|packets)\s+(in|out)\b|\b(in|out)\s+(throughput|traffic|bandwidth)\b"
)
_PERCENT = {"%", "pct", "percent", "percentage"}
_RATE = {"throughput", "bandwidth", "mbps", "kbps", "gbps", "bps"}
_OPS = {"ops", "iops", "operations"}
_DATE = {"date", "time", "timestamp", "datetime"}
_COUNT = {"count", "number", "num", "qty", "quantity"}
_PEAK = {"max", "maximum", "peak"}
_AVG = {"avg", "average", "mean"}
_STOP = {"the", "of", "in", "according", "to", "a", "an", "per", "by", "is", "and", "for", "with"}
# Token spellings reduced to one form for lexical comparison (meaning is the embedding's job).
_SYNONYMS = {
    "ram": "memory", "mem": "memory",
    "util": "utilization", "utilisation": "utilization", "usage": "utilization",
    "pct": "percent", "percentage": "percent",
    "max": "peak", "maximum": "peak", "average": "avg", "mean": "avg",
    "vcpu": "cpu", "processor": "cpu",
    "addr": "address", "ips": "ip",
    "num": "number", "no": "number", "qty": "number",
    "centre": "center", "datacentre": "datacenter", "use": "used",
}  # fmt: skip
_KEEP_S = {
    "status",
    "bios",
    "smbios",
    "os",
    "ops",
    "iops",
    "dns",
    "vmware tools",
    "mbps",
    "kbps",
    "gbps",
    "bps",
    "ms",
}


@dataclass(frozen=True)
class HeaderInfo:
    """One column header, read."""

    raw: str
    text: str  # plain words, for the embedding
    tokens: tuple[str, ...]  # comparable tokens (no units, no stop words)
    compact: str  # all letters and digits, lower case: "RAM.TotalSizeInMB" -> "ramtotalsizeinmb"
    unit: str | None  # size unit named in the header (MB, MiB, GiB, ...)
    dimension: str | None  # size | percent | rate_bytes | rate_ops | count | date
    qualifier: str | None  # avg | peak
    part: bool  # one item of a repeated group ("Disk 1 ...") or one direction ("Network In ...")


def words(header: str) -> str:
    """``'RAM.TotalSizeInMB'`` -> ``'ram total size in mb'``; ``'*Server Name'`` -> ``'server name'``."""
    text = header.strip().lstrip("*").strip()
    text = _PLURAL_ACRONYM.sub(lambda m: " " + m.group(1).lower() + "s ", text)
    text = _WHOLE.sub(lambda m: " " + m.group(1).lower() + " ", text)
    text = _CAMEL_ACRONYM.sub(r"\1 \2", text)
    text = _CAMEL_LOWER_UPPER.sub(r"\1 \2", text)
    text = text.lower().replace("%", " % ")
    return " ".join(_NON_WORD.sub(" ", text).split())


def stem(token: str) -> str:
    """A light plural strip: ``cores`` -> ``core``, ``addresses`` -> ``address``."""
    if token in _KEEP_S or len(token) <= 3:
        return token
    if token.endswith("sses"):
        return token[:-2]
    if token.endswith("ies"):
        return token[:-3] + "y"
    if token.endswith("s") and not token.endswith("ss"):
        return token[:-1]
    return token


def comparable_tokens(text: str) -> tuple[str, ...]:
    """Tokens for lexical comparison: stop words and units dropped, synonyms unified, stemmed."""
    out = []
    for token in text.split():
        if token in _STOP or token in SIZE_UNITS or token == "%":
            continue
        token = _SYNONYMS.get(token, token)
        out.append(stem(token))
    return tuple(out)


def _dimension(tokens: list[str], unit: str | None, text: str) -> str | None:
    has = set(tokens)
    rate = bool(has & _RATE) or "per second" in text or "per sec" in text or bool(has & {"ps", "sec"})
    if has & _OPS or (rate and has & {"operation", "reads", "writes", "read", "write"} and unit is None):
        return "rate_ops"
    if rate:
        return "rate_bytes"
    if has & _PERCENT:
        return "percent"
    if unit is not None:
        return "size"
    if has & _DATE:
        return "date"
    if has & _COUNT or text.startswith("number of"):
        return "count"
    return None


_SHORT_WORDS = frozenset({"os", "ip", "id", "vm", "dc", "io", "mb", "gb", "no"})


def segment(token: str, vocabulary: frozenset[str]) -> str:
    """Split a run-together word into known words: ``powerstate`` -> ``power state``.

    Only a complete cover of the token by known words (each 3+ letters, or a known short
    word) is accepted, with the fewest pieces; otherwise the token is kept as it is.
    """
    if len(token) < 6 or token in vocabulary or not token.isalpha():
        return token
    n = len(token)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for end in range(1, n + 1):
        for start in range(max(0, end - 20), end):
            piece = token[start:end]
            prefix = best[start]
            if prefix is None or piece not in vocabulary:
                continue
            if len(piece) < 3 and piece not in _SHORT_WORDS:
                continue
            candidate = [*prefix, piece]
            if best[end] is None or len(candidate) < len(best[end]):  # type: ignore[arg-type]
                best[end] = candidate
    pieces = best[n]
    return " ".join(pieces) if pieces and len(pieces) > 1 else token


@lru_cache(maxsize=65_536)
def read_header(header: str, vocabulary: frozenset[str] = frozenset()) -> HeaderInfo:
    """Read one header (cached: the same headers come back with every file of a format).

    ``vocabulary`` (known words) lets run-together words be split: ``Powerstate``.
    """
    text = " ".join(segment(t, vocabulary) for t in words(header).split())
    tokens = text.split()
    units = [SIZE_UNITS[t] for t in tokens if t in SIZE_UNITS and t not in ("b",)]
    unit = units[-1] if units else None
    has = set(tokens)
    qualifier = "peak" if has & _PEAK else "avg" if has & _AVG else None
    part = bool(_INDEXED.search(text) or _IN_OUT.search(text)) or bool(has & _DIRECTION)
    return HeaderInfo(
        raw=header,
        text=text,
        tokens=comparable_tokens(text),
        compact=re.sub(r"[^a-z0-9]", "", header.lower()),
        unit=unit,
        dimension=_dimension(tokens, unit, text),
        qualifier=qualifier,
        part=part,
    )
