"""Fitting the scorer's weights on labelled files, as if each file's format were unknown.

Every file is turned into training examples with its own header spellings withheld from
the knowledge (``Knowledge.without``) and no format signatures: the weights then learn how
to combine evidence for a header the mapper has never seen, which is the case they exist
for. The benchmark uses the same function to fit leave-one-vendor-out weights.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from agents.embeddings import Embedder
from tasks.discovery.mapping.evaluation import LabelledFile
from tasks.discovery.mapping.features import pair_features
from tasks.discovery.mapping.headers import read_header
from tasks.discovery.mapping.knowledge import Knowledge, load_knowledge
from tasks.discovery.mapping.profile import profile_columns
from tasks.discovery.mapping.scorer import Scorer, fit

L2 = 0.3  # ridge penalty of the fit; the benchmark reports the leave-one-vendor-out result with it


def blind_knowledge(file: LabelledFile) -> Knowledge:
    """The shipped knowledge minus every alias spelled like one of this file's headers."""
    return load_knowledge().without(list(file.truth))


def example(
    file: LabelledFile, embedder: Embedder, sample_rows: int = 1000
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """``(features (columns, fields, k), choice per column (-1 = unmapped))`` of one labelled file."""
    knowledge = blind_knowledge(file)
    columns = [str(c) for c in file.frame.columns]
    headers = [read_header(c, knowledge.vocabulary) for c in columns]
    profiles = profile_columns(file.frame, sample_rows)
    features = pair_features(headers, [profiles[c] for c in columns], knowledge, embedder)
    names = knowledge.names
    choices = np.array([names.index(f) if (f := file.truth[c]) else -1 for c in columns], dtype=np.int64)
    return features.values, choices


def fit_on(files: Sequence[LabelledFile], embedder: Embedder) -> Scorer:
    """Weights fitted on ``files`` (each with its own spellings withheld)."""
    examples = [example(f, embedder) for f in files]
    return fit([x for x, _ in examples], [y for _, y in examples], l2=L2)
