"""Which inventory rows are the same asset: deterministic keys first, then fingerprint candidates.

Pure logic over frames (no database, no Prefect), so it is tested on small hand-built frames.

Why keys first: a shared SMBIOS/VM UUID, MoRefId, FQDN or MAC says "same machine" with certainty
and costs one groupby; only what no key joins needs the (expensive) embedding. Rows linked by any
key form one asset: the connected components of the key graph (union-find, done by
``scipy.sparse.csgraph`` over edge arrays, never a nested loop). Keys are tried in a fixed order of
trust so the metrics can say which key type merged how many rows.

Why the name key can be refused: ``web01`` in two domains is two machines, and a bare ``web01``
cannot say which of them it is, so a short name that goes with two FQDNs or UUIDs is no key.
The fingerprint stage has stronger vetoes (see ``accept_pairs``): it merges only rows from
different imports (one export does not list a machine twice under two names), in a common block,
whose hard facts (digits of the name, IP, cores, memory, identifiers) do not contradict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: Key types in order of trust; the metrics attribute each merge to the first type that made it.
UUID, EXTERNAL_ID, FQDN, MAC, NAME = "uuid", "external_id", "fqdn", "mac", "name"
KEY_TYPES: tuple[str, ...] = (UUID, EXTERNAL_ID, FQDN, MAC, NAME)
FINGERPRINT = "fingerprint"

#: Columns a row carries besides its canonical fields (lineage and the merge order).
IMPORT, SHEET, ROW, RAW, FORMAT, ORDER = (
    "data_import_id",
    "sheet_name",
    "row_number",
    "raw_import_record_id",
    "source_format",
    "import_order",
)
COMPLETENESS = "completeness_score"

_HEX = r"[^0-9a-f]"
_IPV4 = r"^\d{1,3}(\.\d{1,3}){3}$"
_NULL_UUIDS = {"0" * 32, "f" * 32}
_NULL_MACS = {"0" * 12, "f" * 12}
Labels = npt.NDArray[np.int64]


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    """The column as trimmed lower-case strings (missing column or cell -> NA)."""
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    values = frame[column].astype("string").str.strip().str.lower()
    return values.where(values.ne(""), pd.NA)


def normalised_uuid(values: pd.Series) -> pd.Series:
    """32 hex digits, separators and braces removed; the all-zero/all-F placeholders are no key."""
    digits = values.astype("string").str.lower().str.replace(_HEX, "", regex=True)
    ok = digits.str.len().eq(32) & ~digits.isin(_NULL_UUIDS)
    return digits.where(ok.fillna(False), pd.NA)


def normalised_fqdn(values: pd.Series) -> pd.Series:
    names = values.astype("string").str.strip().str.lower().str.rstrip(".")
    ok = names.str.contains(".", regex=False) & ~names.str.match(_IPV4)
    return names.where(ok.fillna(False), pd.NA)


def short_name(values: pd.Series) -> pd.Series:
    """``WEB01.corp.example.com`` -> ``web01``: what a short name and an FQDN of one host share."""
    names = values.astype("string").str.strip().str.lower()
    short = names.str.split(".", n=1).str[0].str.strip()
    ok = short.ne("") & ~names.str.match(_IPV4)
    return short.where(ok.fillna(False), pd.NA)


def _long(frame: pd.DataFrame, key_type: str, values: pd.Series) -> pd.DataFrame:
    present = values.notna()
    positions = np.flatnonzero(present.to_numpy())
    return pd.DataFrame({"pos": positions, "key_type": key_type, "key": values[present].to_numpy()})


def key_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Every deterministic key of every row: ``pos`` (row position), ``key_type``, ``key`` (one row each).

    External ids count only within one source format (a MoRefId ``vm-42`` of two vCenter exports is
    one VM; ``42`` in a CMDB and in a cloud template is not); a cell holding several MACs gives one
    key per MAC.
    """
    parts = []
    for column in ("bios_uuid", "vm_uuid"):
        parts.append(_long(frame, UUID, normalised_uuid(_text(frame, column))))
    external = _text(frame, "external_id")
    source = _text(frame, FORMAT).fillna("")
    parts.append(_long(frame, EXTERNAL_ID, (source + "|" + external).where(external.notna(), pd.NA)))
    parts.append(_long(frame, FQDN, normalised_fqdn(_text(frame, "fqdn"))))
    cells = _text(frame, "mac_address").reset_index(drop=True)
    macs = cells.str.split(r"[\s,;|]+", regex=True).explode().str.replace(_HEX, "", regex=True)
    macs = macs.where(macs.str.len().eq(12) & ~macs.isin(_NULL_MACS), pd.NA).dropna()
    positions = macs.index.to_numpy(dtype=np.int64)
    parts.append(pd.DataFrame({"pos": positions, "key_type": MAC, "key": macs.to_numpy()}))
    for column in ("asset_name", "hostname", "fqdn"):
        parts.append(_long(frame, NAME, short_name(_text(frame, column))))
    keys = pd.concat(parts, ignore_index=True)
    return keys.drop_duplicates(ignore_index=True)


def _star_edges(keys: pd.DataFrame) -> pd.DataFrame:
    """Each row of a key group linked to the group's first row: ``a`` (anchor), ``b`` (row)."""
    anchors = keys.groupby(["key_type", "key"], sort=False)["pos"].transform("min")
    edges = pd.DataFrame({"key_type": keys["key_type"], "a": anchors, "b": keys["pos"]})
    return edges.loc[edges["a"] != edges["b"]]


def _first_key(keys: pd.DataFrame, key_type: str, n: int) -> npt.NDArray[np.object_]:
    """Per row position, one key of ``key_type`` (its smallest) or None."""
    out = np.full(n, None, dtype=object)
    chosen = keys.loc[keys["key_type"] == key_type].groupby("pos")["key"].min()
    out[chosen.index.to_numpy()] = chosen.to_numpy()
    return out


def ambiguous_names(frame: pd.DataFrame, keys: pd.DataFrame) -> set[str]:
    """Short names that name more than one machine: two FQDNs, two VM UUIDs or two BIOS UUIDs.

    Such a name is no key at all (``web01`` of two domains, and a bare ``web01`` cannot say which
    one it is); rows carrying it still merge through their stronger keys.
    """
    names = keys.loc[keys["key_type"] == NAME, ["pos", "key"]]
    if names.empty:
        return set()
    facts = pd.DataFrame(
        {
            "fqdn": normalised_fqdn(_text(frame, "fqdn")).to_numpy(),
            "vm": normalised_uuid(_text(frame, "vm_uuid")).to_numpy(),
            "bios": normalised_uuid(_text(frame, "bios_uuid")).to_numpy(),
        }
    )
    per_name = facts.iloc[names["pos"].to_numpy()].assign(key=names["key"].to_numpy())
    distinct = per_name.groupby("key")[["fqdn", "vm", "bios"]].nunique()
    return set(distinct.index[distinct.gt(1).any(axis=1)])


def _conflict(left: npt.ArrayLike, right: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Element-wise: both present and different (compared as text)."""
    lhs = pd.Series(np.asarray(left, dtype=object)).astype("string")
    rhs = pd.Series(np.asarray(right, dtype=object)).astype("string")
    return (lhs.notna() & rhs.notna() & lhs.ne(rhs)).fillna(False).to_numpy(dtype=bool)


def components(n: int, a: npt.ArrayLike, b: npt.ArrayLike) -> Labels:
    """Connected components of ``n`` nodes and edges ``a[i]-b[i]``; label = smallest member position."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    _, raw = connected_components(graph, directed=False)
    smallest = pd.Series(np.arange(n)).groupby(raw).transform("min").to_numpy()
    return smallest.astype(np.int64)


@dataclass
class KeyMatch:
    labels: Labels  # per row position: the position of its asset's first row
    merged_by: dict[str, int] = field(default_factory=dict)  # rows folded into another, per key type


def match_keys(frame: pd.DataFrame) -> KeyMatch:
    """Group rows that share a deterministic key (``frame`` in row positions 0..n-1)."""
    n = len(frame)
    keys = key_table(frame)
    keys = keys.loc[~((keys["key_type"] == NAME) & keys["key"].isin(ambiguous_names(frame, keys)))]
    edges = _star_edges(keys)
    merged_by: dict[str, int] = {}
    groups = n
    labels = np.arange(n, dtype=np.int64)
    for i, key_type in enumerate(KEY_TYPES):
        upto = edges.loc[edges["key_type"].isin(KEY_TYPES[: i + 1])]
        labels = components(n, upto["a"], upto["b"])
        now = len(np.unique(labels)) if n else 0
        merged_by[key_type] = groups - now
        groups = now
    return KeyMatch(labels=labels, merged_by=merged_by)


# --- merge with provenance ----------------------------------------------------------------


def priority_order(frame: pd.DataFrame) -> pd.Index:
    """Rows best-first: most complete, then earlier import (the order sources were given), then row."""
    keys = pd.DataFrame(
        {
            "c": -frame[COMPLETENESS].fillna(0).to_numpy() if COMPLETENESS in frame else 0,
            "o": frame[ORDER].to_numpy() if ORDER in frame else 0,
            "r": frame[ROW].to_numpy() if ROW in frame else 0,
            "p": np.arange(len(frame)),
        }
    )
    return pd.Index(keys.sort_values(["c", "o", "r", "p"], kind="stable")["p"].to_numpy())


def merge_rows(frame: pd.DataFrame, labels: Labels, fields: Sequence[str]) -> pd.DataFrame:
    """One row per label: each field from the best row that has it, with per-field provenance.

    ``frame`` is in row positions 0..n-1 with lineage columns (``data_import_id``, ``sheet_name``,
    ``row_number``, ``raw_import_record_id``). The result keeps the best row's lineage, ``members``
    (the row positions merged) and, for assets made of more than one row, ``provenance``:
    ``{"fields": {field: {"import", "sheet", "row"}}, "rows": [{"import", "sheet", "row", "raw"}...]}``.
    """
    fields = [f for f in fields if f in frame]
    order = priority_order(frame)
    ordered = frame.iloc[order].reset_index(drop=True)
    label = pd.Series(labels[order.to_numpy()], name="label")
    positions = pd.Series(order.to_numpy(), name="pos")
    present = ordered[fields].notna().to_numpy()
    # per field, the position of the best row that has it (NaN where no row has it)
    source_pos = (
        pd.DataFrame(np.where(present, positions.to_numpy()[:, None], np.nan), columns=fields)
        .groupby(label, sort=True)
        .first()
    )
    merged = ordered[fields].groupby(label, sort=True).first()
    best = positions.groupby(label, sort=True).first()
    lineage = [c for c in (IMPORT, SHEET, ROW, RAW) if c in frame]
    merged[lineage] = frame.iloc[best.to_numpy()][lineage].to_numpy()
    members = positions.groupby(label, sort=True).agg(list)
    merged["members"] = members
    multi = members.loc[members.map(len).gt(1)]
    docs = dict(zip(multi.index, _provenance(frame, source_pos.loc[multi.index], multi), strict=True))
    merged["provenance"] = [docs.get(label) for label in merged.index]
    if "custom_attributes" in frame and len(multi):
        unions = dict(zip(multi.index, _union_custom(frame, multi), strict=True))
        merged["custom_attributes"] = [
            unions.get(label, value)
            for label, value in zip(merged.index, merged["custom_attributes"], strict=True)
        ]
    return merged.reset_index(drop=True)


def _where(frame: pd.DataFrame, pos: int) -> dict[str, object]:
    row = frame.iloc[pos]
    return {
        "import": str(row[IMPORT]) if IMPORT in frame else None,
        "sheet": row[SHEET] if SHEET in frame else None,
        "row": int(row[ROW]) if ROW in frame else pos,
    }


def _provenance(frame: pd.DataFrame, source_pos: pd.DataFrame, members: pd.Series) -> list[dict[str, object]]:
    """Provenance documents of the merged assets (a loop over merged assets only, not over rows)."""
    out = []
    for label, member_positions in members.items():
        picks = source_pos.loc[label].dropna().astype(int)
        rows = [
            {**_where(frame, p), "raw": str(frame[RAW].iloc[p]) if RAW in frame else None}
            for p in member_positions
        ]
        out.append({"fields": {f: _where(frame, p) for f, p in picks.items()}, "rows": rows})
    return out


def _union_custom(frame: pd.DataFrame, members: pd.Series) -> list[dict[str, object] | None]:
    """Unmapped source columns of every merged row; the better row wins a clash (members are best-first)."""
    out: list[dict[str, object] | None] = []
    for member_positions in members:
        union: dict[str, object] = {}
        for p in reversed(member_positions):
            value = frame["custom_attributes"].iloc[p]
            if isinstance(value, dict):
                union.update(value)
        out.append(union or None)
    return out


# --- fingerprint candidates -----------------------------------------------------------------

FINGERPRINT_FIELDS = ("os_name", "cpu_cores", "memory_gb", "ip_address", "application_name", "environment")


def fingerprint_text(frame: pd.DataFrame) -> pd.Series:
    """What the embedding sees: the name (separators as spaces), OS, size, IP, application, environment."""
    name = short_name(_text(frame, "asset_name")).fillna("").str.replace(r"[-_.]+", " ", regex=True)
    text = "host " + name
    for column in FINGERPRINT_FIELDS:
        if column not in frame:
            continue
        values = frame[column]
        if column in ("cpu_cores", "memory_gb"):
            values = pd.to_numeric(values, errors="coerce").round(0).astype("Int64")
        values = values.astype("string").str.strip().str.lower()
        text = text + ("; " + column.split("_")[0] + " " + values).fillna("")
    return text.astype(str)


def content_hash(texts: pd.Series) -> pd.Series:
    """sha1 of each fingerprint text: the cache key of its embedding across runs."""
    return texts.map(lambda t: hashlib.sha1(t.encode("utf-8")).hexdigest())


def block_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Blocking keys per row (``pos``, ``block``): same cores+memory, same name prefix, same IP.

    Two rows are compared by fingerprint only if they share a block, which keeps the candidate
    set small at 100k rows while still catching a renamed host (same size or IP) and a host
    with missing size fields (same name prefix).
    """
    cores = pd.to_numeric(frame.get("cpu_cores"), errors="coerce") if "cpu_cores" in frame else None
    memory = pd.to_numeric(frame.get("memory_gb"), errors="coerce") if "memory_gb" in frame else None
    parts = []
    if cores is not None and memory is not None:
        rounded = memory.round(0).astype("Int64").astype("string")
        spec = "spec:" + cores.astype("Int64").astype("string") + ":" + rounded
        parts.append(_long(frame, "spec", spec.reset_index(drop=True)))
    name = short_name(_text(frame, "asset_name")).str.replace(r"[^a-z0-9]", "", regex=True).str[:4]
    name = "name:" + name.where(name.str.len().ge(3), pd.NA)
    parts.append(_long(frame, "name", name.reset_index(drop=True)))
    ip = _text(frame, "ip_address").str.split(r"[\s,;|]+", regex=True).str[0]
    parts.append(_long(frame, "ip", ("ip:" + ip).reset_index(drop=True)))
    blocks = pd.concat(parts, ignore_index=True).rename(columns={"key": "block"})
    return blocks[["pos", "block"]].drop_duplicates(ignore_index=True)


def candidates(frame: pd.DataFrame, imports: pd.Series) -> npt.NDArray[np.bool_]:
    """Rows worth a fingerprint: in a block with another row from another import.

    ``imports`` holds, per row, the sorted tuple of imports its rows came from (merged assets may
    come from several).
    """
    blocks = block_table(frame)
    if blocks.empty:
        return np.zeros(len(frame), dtype=bool)
    blocks["imports"] = imports.to_numpy()[blocks["pos"].to_numpy()]
    spread = blocks.groupby("block")["imports"].transform("nunique")
    chosen = blocks.loc[spread.gt(1), "pos"].unique()
    out = np.zeros(len(frame), dtype=bool)
    out[chosen] = True
    return out


def _digits(values: pd.Series) -> pd.Series:
    return short_name(values.astype("string")).str.replace(r"\D", "", regex=True).replace("", pd.NA)


def accept_pairs(frame: pd.DataFrame, imports: pd.Series, pairs: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Which near-neighbour pairs (``a``, ``b`` row positions) are the same asset.

    Refused: pairs from a common import, pairs sharing no block, and pairs whose hard facts
    contradict (digits in the name - ``web01`` is not ``web02`` -, primary IP, cores, memory off by
    more than 10 %, UUID, FQDN, MAC).
    """
    if pairs.empty:
        return np.zeros(0, dtype=bool)
    a, b = pairs["a"].to_numpy(), pairs["b"].to_numpy()
    sets = imports.map(set).to_numpy()
    disjoint = np.array([not (sets[i] & sets[j]) for i, j in zip(a, b, strict=True)], dtype=bool)
    blocks = block_table(frame)
    shared = (
        pairs.reset_index(drop=True)
        .reset_index()
        .merge(blocks, left_on="a", right_on="pos")
        .merge(blocks, left_on=["b", "block"], right_on=["pos", "block"])
    )
    in_block = np.zeros(len(pairs), dtype=bool)
    in_block[shared["index"].unique()] = True

    def conflict(values: pd.Series) -> npt.NDArray[np.bool_]:
        v = values.to_numpy(dtype=object)
        return np.asarray(_conflict(v[a], v[b]), dtype=bool)

    keys = key_table(frame)
    n = len(frame)
    contradiction = conflict(_digits(frame["asset_name"]))
    contradiction |= conflict(_text(frame, "ip_address").str.split(r"[\s,;|]+", regex=True).str[0])
    for key_type in (UUID, FQDN, MAC):
        first = _first_key(keys, key_type, n)
        contradiction |= np.asarray(_conflict(first[a], first[b]), dtype=bool)
    cores = pd.to_numeric(frame.get("cpu_cores"), errors="coerce") if "cpu_cores" in frame else None
    if cores is not None:
        contradiction |= conflict(cores.astype("Int64").astype(object))
    if "memory_gb" in frame:
        memory = pd.to_numeric(frame["memory_gb"], errors="coerce").to_numpy(dtype=float)
        ma, mb = memory[a], memory[b]
        with np.errstate(invalid="ignore", divide="ignore"):
            off = np.abs(ma - mb) / np.maximum(ma, mb) > 0.1
        contradiction |= np.nan_to_num(off, nan=0.0).astype(bool)
    return disjoint & in_block & ~contradiction
