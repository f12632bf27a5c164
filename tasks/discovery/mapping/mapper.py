"""Propose a canonical field for every column of a sheet, with a confidence and the evidence.

The order of authority: what a user confirmed (learned patterns of this tenant, then,
opted in, patterns other tenants chose to share), then what a known export format
documents, then the weighed evidence of header text, meaning, values and units. Whatever
decides, every proposal carries its unit and scale and is flagged for review when its
confidence is below the threshold or its unit is doubtful.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from agents.embeddings import Embedder, get_embedder
from mfactory.settings import get_settings
from tasks.discovery.mapping.assign import assign
from tasks.discovery.mapping.features import FEATURES, PairFeatures, pair_features, value_fit
from tasks.discovery.mapping.headers import HeaderInfo, read_header
from tasks.discovery.mapping.knowledge import Knowledge, compact, load_knowledge
from tasks.discovery.mapping.profile import ColumnProfile, profile_columns
from tasks.discovery.mapping.proposal import ColumnMapping, LearnedHint, SheetProposal
from tasks.discovery.mapping.scorer import Scorer, load_scorer
from tasks.discovery.mapping.signatures import FormatSignature, detect_format, load_signatures
from tasks.discovery.mapping.units import choose_unit

# A known format's documented meaning is near-certain; a confirmed pattern as sure as its match.
SIGNATURE_CONFIDENCE = 0.97
# A learned field is not applied to values that plainly cannot be that field (IPs as cpu_cores).
MIN_VALUE_FIT_FOR_LEARNED = -0.5


@dataclass(frozen=True)
class _Decision:
    field: int | None
    method: str
    confidence: float
    unit_hint: str | None = None
    note: dict[str, Any] | None = None


@dataclass(frozen=True)
class Mapper:
    """The mapper with its knowledge; ``default_mapper()`` builds it from the shipped data."""

    knowledge: Knowledge
    scorer: Scorer
    signatures: tuple[FormatSignature, ...]
    embedder: Embedder
    review_threshold: float
    sample_rows: int = 1000

    def headers(self, columns: list[str]) -> list[HeaderInfo]:
        return [read_header(c, self.knowledge.vocabulary) for c in columns]

    def propose(
        self, frame: pd.DataFrame, *, learned: Mapping[str, LearnedHint] | None = None
    ) -> SheetProposal:
        """One proposal per column of ``frame`` (header + a sample of its values), in column order."""
        columns = [str(c) for c in frame.columns]
        headers = self.headers(columns)
        profiles = profile_columns(frame, self.sample_rows)
        column_profiles = [profiles[c] for c in columns]
        features = pair_features(headers, column_profiles, self.knowledge, self.embedder)
        scores = self.scorer.scores(features.values)
        probability = self.scorer.probability(features.values)
        signature = detect_format(columns, self.signatures) if self.signatures else None
        decisions = self._pinned(columns, column_profiles, learned or {}, signature, probability)
        chosen = assign(scores, forced={i: d.field for i, d in decisions.items()})
        proposals = []
        for i in range(len(columns)):
            decision = decisions.get(i) or self._modelled(i, chosen[i], features, probability)
            proposals.append(
                self._proposal(
                    i, headers[i], column_profiles[i], decision, features, probability[i], signature
                )
            )
        return SheetProposal(columns=tuple(proposals), format=signature.name if signature else None)

    def _pinned(
        self,
        columns: list[str],
        profiles: list[ColumnProfile],
        learned: Mapping[str, LearnedHint],
        signature: FormatSignature | None,
        probability: np.ndarray,
    ) -> dict[int, _Decision]:
        """Columns decided by a learned pattern or a known format, before the assignment."""
        names = self.knowledge.names
        decisions: dict[int, _Decision] = {}
        taken: set[int] = set()
        for i, column in enumerate(columns):
            hint = learned.get(column)
            if hint is None:
                continue
            if hint.field is None:
                confidence = hint.confidence * hint.similarity
                decisions[i] = _Decision(None, "shared" if hint.shared else "learned", confidence, hint.unit)
                continue
            j = names.index(hint.field)
            fit = value_fit(profiles[i], self.knowledge.fields[j])
            if j in taken or fit < MIN_VALUE_FIT_FOR_LEARNED:
                continue
            taken.add(j)
            method = "shared" if hint.shared else "learned"
            note = {
                "pattern": hint.pattern_key,
                "similarity": round(hint.similarity, 4),
                "shared": hint.shared,
            }
            decisions[i] = _Decision(j, method, hint.confidence * hint.similarity, hint.unit, note)
        if signature is None:
            return decisions
        for i, column in enumerate(columns):
            column_hint = signature.hint(column)
            if i in decisions or column_hint is None:
                continue
            if column_hint.field is None:
                decisions[i] = _Decision(None, "signature", SIGNATURE_CONFIDENCE, column_hint.unit)
                continue
            j = names.index(column_hint.field)
            if j in taken:
                continue
            taken.add(j)
            confidence = max(SIGNATURE_CONFIDENCE, float(probability[i, j]))
            decisions[i] = _Decision(j, "signature", confidence, column_hint.unit)
        return decisions

    def _modelled(
        self, i: int, field: int | None, features: PairFeatures, probability: np.ndarray
    ) -> _Decision:
        if field is None:
            return _Decision(None, "unmapped", float(probability[i, -1]))
        if features.values[i, field, FEATURES.index("exact")] > 0:
            name = self.knowledge.names[field]
            method = "exact" if compact(features.columns[i]) == compact(name) else "alias"
        else:
            method = "model"
        return _Decision(field, method, float(probability[i, field]))

    def _proposal(
        self,
        i: int,
        header: HeaderInfo,
        profile: ColumnProfile,
        decision: _Decision,
        features: PairFeatures,
        probability: np.ndarray,
        signature: FormatSignature | None,
    ) -> ColumnMapping:
        names = self.knowledge.names
        ranked = np.argsort(-probability[:-1])[:3]
        evidence: dict[str, Any] = {
            "header": header.text,
            "values": profile.summary(),
            "candidates": [{"field": names[j], "p": round(float(probability[j]), 4)} for j in ranked],
            "p_unmapped": round(float(probability[-1]), 4),
        }
        if signature is not None:
            evidence["format"] = signature.name
        if decision.note:
            evidence["learned"] = decision.note
        shown = decision.field if decision.field is not None else int(ranked[0]) if len(ranked) else None
        if shown is not None:
            evidence["features"] = {
                "field": names[shown],
                **{f: round(float(v), 4) for f, v in zip(FEATURES, features.values[i, shown], strict=True)},
            }
        unit, scale, conflict = None, 1.0, None
        if decision.field is not None:
            hint_source = {"signature": "signature"}.get(decision.method, "learned")
            choice = choose_unit(
                self.knowledge.fields[decision.field], header, profile,
                hint=decision.unit_hint, hint_source=hint_source if decision.unit_hint else None,
            )  # fmt: skip
            unit, scale, conflict = choice.unit, choice.scale, choice.conflict
            if choice.source:
                evidence["unit_source"] = choice.source
            if conflict:
                evidence["unit_conflict"] = conflict
        confidence = round(float(decision.confidence), 4)
        return ColumnMapping(
            source=features.columns[i],
            field=names[decision.field] if decision.field is not None else None,
            confidence=confidence,
            method=decision.method,
            scale=scale,
            unit=unit,
            needs_review=confidence < self.review_threshold or conflict is not None,
            evidence=evidence,
        )


@lru_cache(maxsize=1)
def default_mapper() -> Mapper:
    """The mapper with the shipped knowledge, weights and formats (one per process)."""
    settings = get_settings()
    return Mapper(
        knowledge=load_knowledge(),
        scorer=load_scorer(),
        signatures=load_signatures(),
        embedder=get_embedder(),
        review_threshold=settings.mapping_review_threshold,
        sample_rows=settings.mapping_sample_rows,
    )
