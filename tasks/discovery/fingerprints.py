"""Fingerprint vectors of assets: embed only what needs it, and each distinct text only once.

Embedding costs ~1 ms per text on two cores, so this module (1) embeds only the candidates the
blocking in ``tasks.discovery.dedup`` chose, (2) embeds each distinct text once, and (3) reuses
vectors this engagement stored in an earlier run for the same text (``assets.fingerprint_hash``,
the sha1 of the text) instead of embedding them again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from agents.embeddings import Embedder, Vectors, get_embedder
from db.repositories.dedup import stored_fingerprints
from db.repositories.learning import vector_literal
from db.session import Tenant
from tasks.discovery.dedup import content_hash


@dataclass(frozen=True)
class Fingerprints:
    literals: pd.Series  # pgvector text literal per row
    hashes: pd.Series  # content hash per row
    embedded: int  # distinct texts embedded now
    reused: int  # distinct texts whose stored vector was reused


def fingerprints(
    *, session: Session, tenant: Tenant, texts: pd.Series, embedder: Embedder | None = None
) -> Fingerprints:
    """Vectors (as pgvector literals) for ``texts``, from the store where possible.

    Without ``embedder`` the process-wide MiniLM model is loaded, and only if a text needs it.
    """
    hashes = content_hash(texts)
    distinct = pd.Series(texts.to_numpy(), index=hashes.to_numpy())
    distinct = distinct[~distinct.index.duplicated()]
    stored = stored_fingerprints(session=session, tenant=tenant, hashes=list(distinct.index))
    missing = distinct[~distinct.index.isin(list(stored))]
    vectors: Vectors = np.zeros((0, 0), dtype=np.float32)
    if len(missing):
        vectors = (embedder or get_embedder()).embed(list(missing.to_numpy()))
    literal_of = {h: vector_literal(v) for h, v in stored.items()}
    literal_of.update({h: vector_literal(v) for h, v in zip(missing.index, vectors, strict=True)})
    return Fingerprints(
        literals=hashes.map(literal_of),
        hashes=hashes,
        embedded=len(missing),
        reused=len(distinct) - len(missing),
    )
