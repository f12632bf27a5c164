"""Evidence for every (column, canonical field) pair, as one numeric array.

Each feature answers one question a person would ask when mapping a column by hand:
is the header a known spelling of the field, do the words overlap, does it *mean* the same
(embedding similarity), do the values look like the field's values, does a unit in the
header fit the field, is the column only a part of what the field totals, and does the
statistic (average / peak) agree. The scorer weighs them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agents.embeddings import Embedder
from tasks.discovery.mapping.headers import HeaderInfo
from tasks.discovery.mapping.knowledge import FieldKnowledge, Knowledge, compact
from tasks.discovery.mapping.profile import ColumnProfile

FEATURES: tuple[str, ...] = (
    "exact",  # header spelled like the field name or a known alias
    "lexical",  # word overlap with the field's spellings (Dice)
    "semantic",  # cosine similarity of header and field meanings (MiniLM)
    "semantic_gap",  # how far below the column's best semantic match this field is
    "values",  # value profile fits the field (-1 .. 1; 0 when there are no values)
    "values_specific",  # the values are of a kind few fields take, and this field takes it
    "unit",  # the header's unit dimension fits (+1) or contradicts (-1) the field
    "part",  # the header names one item or one direction of a field that is a total (-1)
    "qualifier",  # average / peak agree (+1) or disagree (-1)
)
Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class PairFeatures:
    """``values[i, j, k]``: feature ``FEATURES[k]`` of column ``i`` against field ``j``."""

    columns: tuple[str, ...]
    fields: tuple[str, ...]
    values: Array

    def of(self, feature: str) -> Array:
        return self.values[:, :, FEATURES.index(feature)]


def value_fit(profile: ColumnProfile, field: FieldKnowledge) -> float:
    """How well the sampled values fit the field: +1 all expected kinds, -1 all foreign kinds."""
    if profile.values == 0:
        return 0.0
    fit = sum(share * field.values.get(kind, -1.0) for kind, share in profile.kinds.items())
    if field.range and profile.numeric > 0 and profile.low is not None and profile.high is not None:
        low, high = field.range
        if profile.low < low or profile.high > high:
            fit -= profile.numeric
    if field.integer and profile.numeric > 0:
        fit -= (1.0 - profile.integer_share) * profile.numeric
    if profile.values >= 10:
        if field.distinct == "high":
            fit -= max(0.0, 0.9 - profile.distinct)
        elif field.distinct == "low" and profile.values >= 20:
            fit -= max(0.0, profile.distinct - 0.5)
    return float(np.clip(fit, -1.0, 1.0))


def specific_fit(profile: ColumnProfile, field: FieldKnowledge, specificity: dict[str, float]) -> float:
    """Share of values of a kind that only few fields take (IPs, UUIDs, dates...) and this one does."""
    return float(
        sum(s * max(field.values.get(k, 0.0), 0.0) * specificity[k] for k, s in profile.kinds.items())
    )


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    return 2.0 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def _unit_fit(header: HeaderInfo, field: FieldKnowledge) -> float:
    if header.dimension is None:
        return 0.0
    if field.dimension == header.dimension:
        return 1.0
    # A count header ("Number of ...") says nothing against a field that is not a count.
    if header.dimension == "count" and field.dimension is None:
        return 0.0
    return -1.0


def _qualifier_fit(header: HeaderInfo, field: FieldKnowledge) -> float:
    if field.qualifier is None:
        return 0.0
    if header.qualifier is None:
        return -0.5 if field.qualifier == "peak" else 0.0
    return 1.0 if header.qualifier == field.qualifier else -1.0


def field_texts(field: FieldKnowledge) -> tuple[str, ...]:
    """What a field's meaning is compared with: its spellings and its description."""
    return (*field.spellings(), field.description)


def semantic_similarity(headers: list[HeaderInfo], knowledge: Knowledge, embedder: Embedder) -> Array:
    """Cosine similarity of each header with each field (best over the field's texts)."""
    texts = [field_texts(f) for f in knowledge.fields]
    flat = [t for group in texts for t in group]
    owner = np.repeat(np.arange(len(texts)), [len(g) for g in texts])
    field_vectors = embedder.embed(flat)
    header_vectors = embedder.embed([h.text or h.raw for h in headers])
    similarity = header_vectors @ field_vectors.T  # (columns, texts)
    best = np.full((len(headers), len(texts)), -1.0)
    np.maximum.at(best.T, owner, similarity.T)
    return best


def pair_features(
    headers: list[HeaderInfo],
    profiles: list[ColumnProfile],
    knowledge: Knowledge,
    embedder: Embedder,
) -> PairFeatures:
    """The feature array of every (column, field) pair of one sheet."""
    n, m = len(headers), len(knowledge.fields)
    out = np.zeros((n, m, len(FEATURES)))
    if n == 0:
        return PairFeatures((), knowledge.names, out)
    semantic = semantic_similarity(headers, knowledge, embedder)
    out[:, :, FEATURES.index("semantic")] = semantic
    out[:, :, FEATURES.index("semantic_gap")] = semantic - semantic.max(axis=1, keepdims=True)
    spellings = [{compact(f.name), *(compact(a) for a in f.aliases)} for f in knowledge.fields]
    token_sets = [f.token_sets() for f in knowledge.fields]
    specificity = knowledge.specificity
    index = {name: k for k, name in enumerate(FEATURES)}
    for i, (header, profile) in enumerate(zip(headers, profiles, strict=True)):
        tokens = frozenset(header.tokens)
        header_compact = compact(header.raw)
        for j, field in enumerate(knowledge.fields):
            row = out[i, j]
            row[index["exact"]] = 1.0 if header_compact in spellings[j] else 0.0
            row[index["lexical"]] = max((_dice(tokens, s) for s in token_sets[j]), default=0.0)
            row[index["values"]] = value_fit(profile, field)
            row[index["values_specific"]] = specific_fit(profile, field, specificity)
            row[index["unit"]] = _unit_fit(header, field)
            row[index["part"]] = -1.0 if header.part and field.aggregate else 0.0
            row[index["qualifier"]] = _qualifier_fit(header, field)
    return PairFeatures(tuple(h.raw for h in headers), knowledge.names, out)
