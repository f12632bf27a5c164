"""Weigh the evidence: a choice model over the pair features gives P(column maps to field).

Why a fitted model and not hand-set weights: the weights are then reproducible from labelled
data (``python -m bench.mapping --fit`` refits them), and the benchmark can score each vendor
file with weights fitted *without* it (leave-one-vendor-out). The probability doubles as the
proposal's confidence. Each column *chooses* among all fields and "unmapped" (a conditional
logit), which is the decision the mapper makes; the fit is a small L2-regularised Newton
iteration in numpy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from mfactory.settings import PACKAGE_DATA
from tasks.discovery.mapping.features import FEATURES

WEIGHTS_FILE = PACKAGE_DATA / "mapping_weights.json"
Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Scorer:
    """A choice model: each column picks one of the fields or "unmapped" (score 0)."""

    weights: tuple[float, ...]
    bias: float

    def scores(self, features: Array) -> Array:
        """Score of every (column, field) pair; "unmapped" scores 0, so > 0 means "better than none"."""
        return features @ np.asarray(self.weights) + self.bias

    def probability(self, features: Array) -> Array:
        """``(columns, fields + 1)``: P(column maps to field), last column = P(unmapped); rows sum to 1."""
        scores = np.concatenate([self.scores(features), np.zeros((features.shape[0], 1))], axis=1)
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def to_json(self, note: str) -> str:
        return json.dumps(
            {"features": list(FEATURES), "weights": list(self.weights), "bias": self.bias, "note": note},
            indent=2,
        )


def fit(features: list[Array], choices: list[Array], *, l2: float = 1.0, iterations: int = 100) -> Scorer:
    """Fit the choice model (conditional logit, Newton) on labelled sheets.

    ``features[s]`` is sheet ``s``'s ``(columns, fields, k)`` array; ``choices[s]`` holds the
    index of each column's true field, or -1 for "unmapped".
    """
    x = np.concatenate([f.reshape(-1, f.shape[1], f.shape[2]) for f in features])  # (n, m, k)
    y = np.concatenate(choices)
    n, m, k = x.shape
    # One extra parameter (the bias) that is 1 for every field and 0 for "unmapped".
    x = np.concatenate([x, np.ones((n, m, 1))], axis=2)
    x = np.concatenate([x, np.zeros((n, 1, k + 1))], axis=1)  # option m = unmapped
    target = np.where(y < 0, m, y)
    rows = np.arange(n)
    penalty = np.full(k + 1, l2)
    penalty[-1] = 1e-6  # the bias is (almost) not shrunk

    def loss(beta: Array) -> float:
        s = x @ beta
        top = s.max(axis=1)
        log_norm = top + np.log(np.exp(s - top[:, None]).sum(axis=1))
        return float((log_norm - s[rows, target]).sum() + 0.5 * (penalty * beta**2).sum())

    beta = np.zeros(k + 1)
    current = loss(beta)
    for _ in range(iterations):
        s = x @ beta
        s -= s.max(axis=1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=1, keepdims=True)
        mean = np.einsum("nm,nmk->nk", p, x)
        gradient = (mean - x[rows, target]).sum(axis=0) + penalty * beta
        hessian = np.einsum("nm,nmk,nml->kl", p, x, x) - mean.T @ mean + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        size = 1.0
        while size > 1e-4 and loss(beta - size * step) > current:  # damped Newton: never go uphill
            size /= 2
        beta -= size * step
        previous, current = current, loss(beta)
        if previous - current < 1e-10:
            break
    return Scorer(weights=tuple(float(b) for b in beta[:-1]), bias=float(beta[-1]))


def load_scorer(path: Path = WEIGHTS_FILE) -> Scorer:
    """The shipped weights; refuses a file written for another feature list."""
    return _load(str(path))


@lru_cache(maxsize=4)
def _load(path: str) -> Scorer:
    spec = json.loads(Path(path).read_text(encoding="utf-8"))
    if tuple(spec["features"]) != FEATURES:
        raise ValueError(f"{path}: weights are for features {spec['features']}, the mapper has {FEATURES}")
    return Scorer(weights=tuple(float(w) for w in spec["weights"]), bias=float(spec["bias"]))
