"""Scoring a mapper against labelled files: precision, recall and F1 over columns.

A column counts as a true positive when it is mapped to its labelled field, a false
positive when it is mapped to any other field (a wrong field, or a field where the label
says "no canonical field"), and a false negative when it has a labelled field and is not
mapped to it. Correctly unmapped columns count in none of the three (they show in accuracy).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from tasks.discovery.readers import read_source


@dataclass(frozen=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0  # correctly left unmapped
    columns: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn,
            self.columns + other.columns,
        )  # fmt: skip

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        """Share of columns given exactly their label (a field, or "no canonical field")."""
        return (self.tp + self.tn) / self.columns if self.columns else 0.0


def score(predicted: Mapping[str, str | None], truth: Mapping[str, str | None]) -> Counts:
    """Compare one file's predicted mapping with its labels (every labelled column must be predicted)."""
    missing = sorted(set(truth) - set(predicted))
    if missing:
        raise ValueError(f"no prediction for labelled columns {missing}")
    tp = fp = fn = tn = 0
    for column, expected in truth.items():
        got = predicted[column]
        if got is not None and got == expected:
            tp += 1
        elif got is not None:
            fp += 1
        if expected is not None and got != expected:
            fn += 1
        if expected is None and got is None:
            tn += 1
    return Counts(tp, fp, fn, tn, len(truth))


@dataclass(frozen=True)
class LabelledFile:
    path: Path
    frame: pd.DataFrame
    truth: dict[str, str | None]

    @property
    def name(self) -> str:
        return self.path.name


def load_labelled(directory: Path) -> list[LabelledFile]:
    """The labelled files listed in ``directory/truth.json``, read as the importer reads them."""
    spec = json.loads((directory / "truth.json").read_text(encoding="utf-8"))
    files = []
    for entry in spec["files"]:
        path = directory / entry["path"]
        frame = read_source(path).sheets[0].frame
        if set(map(str, frame.columns)) != set(entry["truth"]):
            raise ValueError(f"{path}: truth.json does not list exactly the file's columns")
        files.append(LabelledFile(path=path, frame=frame, truth=dict(entry["truth"])))
    return files
