"""Pure tests of the attribute mapper: header reading, value profiles, units, assignment, scoring.

No database and no Prefect; the MiniLM model is real (loaded once per test process).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from agents.embeddings import get_embedder
from mfactory.settings import EMBEDDING_DIM, PROJECT_ROOT
from tasks.discovery.mapping.assign import assign
from tasks.discovery.mapping.evaluation import Counts, load_labelled, score
from tasks.discovery.mapping.headers import read_header, segment
from tasks.discovery.mapping.knowledge import load_knowledge
from tasks.discovery.mapping.mapper import default_mapper
from tasks.discovery.mapping.profile import profile_columns
from tasks.discovery.mapping.proposal import LearnedHint
from tasks.discovery.mapping.scorer import fit
from tasks.discovery.mapping.signatures import detect_format, load_signatures
from tasks.discovery.mapping.training import blind_knowledge, fit_on

MAPPING_DIR = PROJECT_ROOT.parent / "shared" / "data" / "mapping"


@pytest.fixture(scope="module")
def labelled() -> dict[str, object]:
    return {f.name: f for f in load_labelled(MAPPING_DIR)}


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "text", "unit", "dimension", "qualifier", "part"),
    [
        ("RAM.TotalSizeInMB", "ram total size in mb", "MB", "size", None, False),
        ("*Memory (In MB)", "memory in mb", "MB", "size", None, False),
        ("TotalDiskAllocatedGiB", "total disk allocated gib", "GiB", "size", None, False),
        ("CPU.UsagePct.Max", "cpu usage pct max", None, "percent", "peak", False),
        ("NICs", "nics", None, None, None, False),
        ("Number of disks", "number of disks", None, "count", None, False),
        ("Disk 1 size (In GB)", "disk 1 size in gb", "GB", "size", None, True),
        ("Network In throughput", "network in throughput", None, "rate_bytes", None, True),
        (
            "Disk 1 read ops (operations per second)",
            "disk 1 read ops operations per second",
            None,
            "rate_ops",
            None,
            True,
        ),
        ("In Use MiB", "in use mib", "MiB", "size", None, False),
    ],
)
def test_read_header(
    header: str, text: str, unit: str | None, dimension: str | None, qualifier: str | None, part: bool
) -> None:
    """Headers become plain words; units, dimension, statistic and 'one part of a total' are read off."""
    info = read_header(header)
    assert (info.text, info.unit, info.dimension, info.qualifier, info.part) == (
        text,
        unit,
        dimension,
        qualifier,
        part,
    )


def test_segment_run_together_words_only_with_a_full_cover() -> None:
    vocabulary = load_knowledge().vocabulary
    assert segment("memorysize", vocabulary) == "memory size"
    assert segment("totaldiskcount", vocabulary) == "total disk count"
    assert segment("hostname", vocabulary) == "hostname"  # a known word itself stays whole
    assert segment("template", vocabulary) == "template"  # no cover by known words: kept


# --- value profiles ------------------------------------------------------------------------


def _profile_frame() -> pd.DataFrame:
    n = 40
    rows = np.arange(n)
    return pd.DataFrame(
        {
            "ip": [f"10.0.{i // 250}.{i % 250 + 1}" for i in rows],
            "ips": [f"10.0.0.{i + 1};192.168.1.{i + 1}" for i in rows],
            "fqdn": [f"web{i:03d}.corp.example.com" for i in rows],
            "mac": [f"00:50:56:aa:00:{i:02x}" for i in rows],
            "uuid": [f"4206{i:04d}-aaaa-bbbb-cccc-{i:012d}" for i in rows],
            "os": ["Microsoft Windows Server 2019 (64-bit)", "Red Hat Enterprise Linux 8 (64-bit)"]
            * (n // 2),
            "size": ["16 GB", "512 MiB"] * (n // 2),
            "date": ["2021-04-15", "2020/09/10 10:00:00", "15-Apr-2021", "04/15/2021"] * (n // 4),
            "pct": [f"{(i * 2.5) % 100:.1f}" for i in rows],
            "power": ["poweredOn", "poweredOff", "Running", "Stopped"] * (n // 4),
            "tags": ["env:prod;app:erp", "env:dev"] * (n // 2),
            "cores": [str(2 ** (i % 4)) for i in rows],
            "mostly_empty": [""] * (n - 2) + ["x1", "x2"],
        }
    )


def test_profile_kinds_of_typical_inventory_values() -> None:
    """Each column's values are classified by kind (all at once, vectorised) with numeric stats."""
    profiles = profile_columns(_profile_frame())
    expected = {
        "ip": "ip",
        "ips": "ip_list",
        "fqdn": "fqdn",
        "mac": "mac",
        "uuid": "uuid",
        "os": "os",
        "size": "size_text",
        "date": "date",
        "pct": "decimal",
        "power": "power",
        "tags": "tags",
        "cores": "int",
    }
    for column, kind in expected.items():
        assert profiles[column].dominant() == (kind, 1.0), column
    assert profiles["size"].median == pytest.approx((16 + 0.5) / 2)  # 16 GB and 512 MiB, in GiB
    assert profiles["cores"].integer_share == 1.0
    assert (profiles["cores"].low, profiles["cores"].high) == (1.0, 8.0)
    assert profiles["ip"].distinct == 1.0
    assert profiles["mostly_empty"].filled == pytest.approx(2 / 40)


def test_profile_samples_rows_and_survives_empty_input() -> None:
    frame = pd.DataFrame({"a": ["1"] * 50 + ["x"] * 50})
    assert profile_columns(frame, sample_rows=50)["a"].dominant() == ("int", 1.0)
    empty = profile_columns(pd.DataFrame(columns=["a", "b"]))
    assert empty["a"].values == 0 and empty["a"].dominant() == (None, 0.0)


# --- units: "Memory" is MiB in RVTools, GB elsewhere ----------------------------------------


def _memory_frame(values: list[str], extra: dict[str, list[str]] | None = None) -> pd.DataFrame:
    names = [f"app{i:03d}" for i in range(len(values))]
    return pd.DataFrame({"Server": names, "Memory": values, **(extra or {})})


def test_memory_unit_from_values_when_the_header_says_none() -> None:
    """The same header maps to memory_gb, in MiB when the values are MiB-sized and GiB when not."""
    mapper = default_mapper()
    mib = {m.source: m for m in mapper.propose(_memory_frame(["4096", "8192", "16384"] * 5)).columns}
    gib = {m.source: m for m in mapper.propose(_memory_frame(["4", "8", "16"] * 5)).columns}
    assert mib["Memory"].field == gib["Memory"].field == "memory_gb"
    assert (mib["Memory"].unit, mib["Memory"].scale) == ("MiB", pytest.approx(1 / 1024))
    assert (gib["Memory"].unit, gib["Memory"].scale) == ("GiB", 1.0)
    assert mib["Memory"].evidence["unit_source"] == "magnitude"


def test_header_unit_that_contradicts_the_values_is_flagged() -> None:
    frame = pd.DataFrame({"Server": [f"a{i}" for i in range(12)], "Memory (GB)": ["8192", "16384"] * 6})
    memory = {m.source: m for m in default_mapper().propose(frame).columns}["Memory (GB)"]
    assert (memory.field, memory.unit, memory.scale) == ("memory_gb", "GB", 1.0)
    assert memory.needs_review and "unit_conflict" in memory.evidence


def test_rvtools_signature_says_memory_is_mib(labelled: dict[str, object]) -> None:
    """A recognised RVTools vInfo sheet takes the unit from the format, and the format is named."""
    rvtools = labelled["rvtools_vinfo.csv"]
    proposal = default_mapper().propose(rvtools.frame)  # type: ignore[attr-defined]
    by_source = {m.source: m for m in proposal.columns}
    assert proposal.format == "rvtools_vinfo"
    assert (by_source["Memory"].field, by_source["Memory"].unit, by_source["Memory"].method) == (
        "memory_gb",
        "MiB",
        "signature",
    )
    assert by_source["Provisioned MiB"].field is None


def test_percent_given_as_fraction_is_scaled() -> None:
    frame = pd.DataFrame({"Server": [f"a{i}" for i in range(10)], "CPU utilization": ["0.25", "0.5"] * 5})
    cpu = {m.source: m for m in default_mapper().propose(frame).columns}["CPU utilization"]
    assert (cpu.field, cpu.unit, cpu.scale) == ("cpu_utilization_avg", "fraction", 100.0)


# --- learned hints, formats, assignment -----------------------------------------------------


def test_learned_hint_decides_unless_values_contradict_it() -> None:
    mapper = default_mapper()
    frame = pd.DataFrame({"Svc Bucket": ["payments", "hr"] * 10, "Weird": ["10.0.0.1", "10.0.0.2"] * 10})
    hints = {
        "Svc Bucket": LearnedHint("business_unit", None, 0.97, 1.0, "svc bucket"),
        "Weird": LearnedHint("cpu_cores", None, 0.99, 1.0, "weird"),  # IPs are no core counts
    }
    by_source = {m.source: m for m in mapper.propose(frame, learned=hints).columns}
    assert (by_source["Svc Bucket"].field, by_source["Svc Bucket"].method) == ("business_unit", "learned")
    assert by_source["Svc Bucket"].confidence == pytest.approx(0.97)
    assert by_source["Svc Bucket"].evidence["learned"]["pattern"] == "svc bucket"
    assert by_source["Weird"].method != "learned"
    assert by_source["Weird"].field != "cpu_cores"


def test_learned_unit_yields_to_values_of_another_scale() -> None:
    frame = _memory_frame(["4", "8", "16"] * 5, {"Mem Alloc": ["4", "8", "16"] * 5}).drop(columns="Memory")
    hints = {"Mem Alloc": LearnedHint("memory_gb", "MiB", 0.95, 1.0, "mem alloc")}
    memory = {m.source: m for m in default_mapper().propose(frame, learned=hints).columns}["Mem Alloc"]
    assert (memory.field, memory.unit, memory.scale) == ("memory_gb", "GiB", 1.0)
    assert memory.needs_review and "learned unit MiB" in memory.evidence["unit_conflict"]


def test_format_detection() -> None:
    signatures = load_signatures()
    assert detect_format(["VM", "Powerstate", "Template", "DNS Name", "CPUs", "Memory"], signatures) is None
    rvtools = [
        "VM",
        "Powerstate",
        "Template",
        "DNS Name",
        "CPUs",
        "Memory",
        "NICs",
        "Disks",
        "Primary IP Address",
        "Provisioned MiB",
        "In Use MiB",
        "Resource pool",
        "Folder",
        "Annotation",
    ]
    found = detect_format(rvtools, signatures)
    assert found is not None and found.name == "rvtools_vinfo"
    assert detect_format(["asset_name", "hostname", "cpu_cores", "memory_gb", "os_name"], signatures) is None


def test_assignment_gives_a_field_to_the_strongest_column_once() -> None:
    scores = np.array([[2.0, -1.0], [3.0, 0.5], [-2.0, -3.0]])
    assert assign(scores) == [None, 0, None]  # 3.0 alone beats 2.0 + 0.5
    assert assign(scores, forced={0: 0}) == [0, 1, None]  # a pinned column keeps its field
    assert assign(np.array([[1.0], [1.0]])) == [0, None]  # on a tie the earlier column wins


def test_choice_model_fit_learns_which_evidence_matters() -> None:
    """On synthetic sheets where only feature 0 marks the right field, its weight comes out largest."""
    rng = np.random.default_rng(3)
    sheets, choices = [], []
    for _ in range(30):
        x = rng.normal(0, 1, size=(6, 5, 3))
        y = rng.integers(-1, 5, size=6)
        for i, j in enumerate(y):
            if j >= 0:
                x[i, j, 0] += 3.0
        sheets.append(x)
        choices.append(y)
    scorer = fit(sheets, choices, l2=0.1)
    assert scorer.weights[0] > 1.0 > max(abs(w) for w in scorer.weights[1:])
    probability = scorer.probability(sheets[0])
    assert probability.shape == (6, 6) and np.allclose(probability.sum(axis=1), 1.0)


# --- scoring on the labelled files -----------------------------------------------------------


def test_score_counts_columns() -> None:
    truth = {"a": "hostname", "b": None, "c": "memory_gb", "d": None, "e": "fqdn"}
    predicted = {"a": "hostname", "b": "tags", "c": "storage_gb", "d": None, "e": None}
    counts = score(predicted, truth)
    assert counts == Counts(tp=1, fp=2, fn=2, tn=1, columns=5)
    assert (counts.precision, counts.recall, counts.accuracy) == (
        pytest.approx(1 / 3),
        pytest.approx(1 / 3),
        0.4,
    )
    with pytest.raises(ValueError, match="no prediction"):
        score({"a": "hostname"}, truth)


def test_shipped_mapper_on_the_labelled_vendor_layouts(labelled: dict[str, object]) -> None:
    """As shipped (formats known) every labelled column of the four vendor layouts is right."""
    mapper = default_mapper()
    total = Counts()
    for file in labelled.values():
        proposal = mapper.propose(file.frame)  # type: ignore[attr-defined]
        total += score({m.source: m.field for m in proposal.columns}, file.truth)  # type: ignore[attr-defined]
    assert total.f1 == 1.0, total


def test_vendor_blind_leave_one_vendor_out(labelled: dict[str, object]) -> None:
    """A vendor format never seen (its spellings withheld, no signatures, weights fitted without it).

    This is the honest generalisation figure of bench/mapping.py; valentine's best matcher
    reaches F1 0.79 on the same files (docs/benchmarks.md).
    """
    files = list(labelled.values())
    embedder = get_embedder()
    total = Counts()
    for held_out in files:
        scorer = fit_on([f for f in files if f is not held_out], embedder)  # type: ignore[arg-type]
        mapper = replace(default_mapper(), knowledge=blind_knowledge(held_out), scorer=scorer, signatures=())  # type: ignore[arg-type]
        proposal = mapper.propose(held_out.frame)  # type: ignore[attr-defined]
        total += score({m.source: m.field for m in proposal.columns}, held_out.truth)  # type: ignore[attr-defined]
    assert total.f1 >= 0.85, total
    assert total.precision >= 0.85, total


def test_embedder_is_shared_and_normalised() -> None:
    embedder = get_embedder()
    assert embedder is get_embedder()
    vectors = embedder.embed(["memory", "RAM size in MB", "memory"])
    assert vectors.shape == (3, EMBEDDING_DIM)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.array_equal(vectors[0], vectors[2])
