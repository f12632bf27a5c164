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

from tasks.graph_components import component_labels

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
_SEPARATORS = r"[\s,;|]+"
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
    short = names.str.replace(r"\..*$", "", regex=True).str.strip()
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
    several = cells.str.contains(_SEPARATORS, regex=True).fillna(False)
    macs = pd.concat([cells[~several], cells[several].str.split(_SEPARATORS, regex=True).explode()])
    macs = macs.str.replace(_HEX, "", regex=True)
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
    _, raw = component_labels(n, a, b)
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
    by_label = np.argsort(label.to_numpy(), kind="stable")  # keeps the best-first order within a label
    counts = label.value_counts(sort=False).reindex(merged.index).to_numpy()
    chunks = np.split(positions.to_numpy()[by_label], np.cumsum(counts)[:-1])
    members = pd.Series([c.tolist() for c in chunks], index=merged.index, dtype=object)
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


def _provenance(frame: pd.DataFrame, source_pos: pd.DataFrame, members: pd.Series) -> list[dict[str, object]]:
    """Provenance documents of the merged assets (a loop over merged assets only, not over all rows)."""
    n = len(frame)
    imports = frame[IMPORT].astype(str).to_numpy() if IMPORT in frame else np.full(n, None)
    sheets = frame[SHEET].to_numpy() if SHEET in frame else np.full(n, None)
    numbers = frame[ROW].to_numpy() if ROW in frame else np.arange(n)
    raws = frame[RAW].astype(object).to_numpy() if RAW in frame else np.full(n, None)
    where = [
        {"import": i, "sheet": s, "row": int(r)} for i, s, r in zip(imports, sheets, numbers, strict=True)
    ]
    fields = list(source_pos.columns)
    picks = source_pos.to_numpy()
    out = []
    for row_picks, member_positions in zip(picks, members, strict=True):
        chosen = {f: where[int(p)] for f, p in zip(fields, row_picks, strict=True) if p == p}
        rows = [{**where[p], "raw": None if raws[p] is None else str(raws[p])} for p in member_positions]
        out.append({"fields": chosen, "rows": rows})
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

MAX_BLOCK = 50
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


def _first_ip(frame: pd.DataFrame) -> pd.Series:
    return _text(frame, "ip_address").str.replace(r"[\s,;|].*$", "", regex=True)


def _digits(values: pd.Series) -> pd.Series:
    digits = short_name(values.astype("string")).str.replace(r"\D", "", regex=True)
    return digits.where(digits.ne(""), pd.NA)


def _cores(frame: pd.DataFrame) -> pd.Series:
    if "cpu_cores" not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return pd.to_numeric(frame["cpu_cores"], errors="coerce").round(0).astype("Int64").astype("string")


def block_table(frame: pd.DataFrame, max_block: int = MAX_BLOCK) -> pd.DataFrame:
    """Blocking keys per row (``pos``, ``block``): the same primary IP, or the same digits in the name
    and the same cores (letters only: the same 4-letter name prefix).

    Two rows are compared by fingerprint only if they share a block; a block of more than
    ``max_block`` rows says nothing (``01`` of every ``*01`` host) and is dropped. This keeps the
    candidates few at 100k rows while still catching a renamed host (same IP, or same number and
    size) whose keys all differ.
    """
    name = _text(frame, "asset_name")
    digits = _digits(name)
    prefix = short_name(name).str.replace(r"[^a-z]", "", regex=True).str[:4]
    by_name = ("d:" + digits + ":" + _cores(frame).fillna("?")).fillna(
        "p:" + prefix.where(prefix.str.len().ge(3))
    )
    blocks = pd.concat(
        [
            _long(frame, "ip", ("ip:" + _first_ip(frame)).reset_index(drop=True)),
            _long(frame, "name", by_name.reset_index(drop=True)),
        ],
        ignore_index=True,
    ).rename(columns={"key": "block"})
    blocks = blocks[["pos", "block"]].drop_duplicates(ignore_index=True)
    size = blocks.groupby("block")["pos"].transform("size")
    return blocks.loc[size.le(max_block)].reset_index(drop=True)


def candidates(frame: pd.DataFrame, imports: pd.Series) -> npt.NDArray[np.bool_]:
    """Rows worth a fingerprint: in a block with another row from another import.

    ``imports`` holds, per row, the sorted tuple of imports its rows came from (merged assets may
    come from several).
    """
    blocks = block_table(frame)
    out = np.zeros(len(frame), dtype=bool)
    if blocks.empty:
        return out
    blocks["imports"] = imports.to_numpy()[blocks["pos"].to_numpy()]
    spread = blocks.groupby("block")["imports"].transform("nunique")
    out[blocks.loc[spread.gt(1), "pos"].unique()] = True
    return out


def _facts(frame: pd.DataFrame) -> dict[str, npt.NDArray[np.object_]]:
    """The hard facts two rows must not contradict, normalised, one array per fact."""
    mac = (
        _text(frame, "mac_address")
        .str.replace(r"[\s,;|].*$", "", regex=True)
        .str.replace(_HEX, "", regex=True)
    )
    facts = {
        "digits": _digits(_text(frame, "asset_name")),
        "ip": _first_ip(frame),
        "vm": normalised_uuid(_text(frame, "vm_uuid")),
        "bios": normalised_uuid(_text(frame, "bios_uuid")),
        "fqdn": normalised_fqdn(_text(frame, "fqdn")),
        "mac": mac.where(mac.str.len().eq(12), pd.NA),
        "cores": _cores(frame),
    }
    return {k: v.astype(object).where(v.notna(), None).to_numpy() for k, v in facts.items()}


def accept_pairs(frame: pd.DataFrame, imports: pd.Series, pairs: pd.DataFrame) -> npt.NDArray[np.bool_]:
    """Which near-neighbour pairs (``a``, ``b`` row positions) are the same asset.

    Refused: pairs from a common import, pairs sharing no block, and pairs whose hard facts
    contradict (digits in the name - ``web01`` is not ``web02`` -, primary IP, cores, memory off by
    more than 10 %, VM/BIOS UUID, FQDN, MAC).
    """
    if pairs.empty:
        return np.zeros(0, dtype=bool)
    a, b = pairs["a"].to_numpy(dtype=np.int64), pairs["b"].to_numpy(dtype=np.int64)
    sets = imports.map(set).to_numpy()
    disjoint = np.array([not (sets[i] & sets[j]) for i, j in zip(a, b, strict=True)], dtype=bool)
    blocks = block_table(frame)
    numbered = pd.DataFrame({"i": np.arange(len(a)), "a": a, "b": b})
    shared = numbered.merge(blocks, left_on="a", right_on="pos").merge(
        blocks, left_on=["b", "block"], right_on=["pos", "block"]
    )
    in_block = np.zeros(len(a), dtype=bool)
    in_block[shared["i"].unique()] = True
    contradiction = np.zeros(len(a), dtype=bool)
    for values in _facts(frame).values():
        contradiction |= _conflict(values[a], values[b])
    if "memory_gb" in frame:
        memory = pd.to_numeric(frame["memory_gb"], errors="coerce").to_numpy(dtype=float)
        ma, mb = memory[a], memory[b]
        with np.errstate(invalid="ignore", divide="ignore"):
            off = np.abs(ma - mb) / np.maximum(ma, mb) > 0.1
        contradiction |= np.nan_to_num(off, nan=0.0).astype(bool)
    return disjoint & in_block & ~contradiction
