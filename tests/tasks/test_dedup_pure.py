"""Dedup logic on small hand-built frames with known answers (no database, no Prefect)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tasks.discovery import dedup


def _frame(**columns: list[object]) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base: dict[str, list[object]] = {
        "data_import_id": ["i1"] * n,
        "sheet_name": [""] * n,
        "row_number": list(range(2, n + 2)),
        "raw_import_record_id": [f"r{i}" for i in range(n)],
        "import_order": [0] * n,
        "completeness_score": [0.5] * n,
    }
    return pd.DataFrame(base | columns)


def _groups(labels: np.ndarray) -> list[list[int]]:
    return sorted(sorted(np.flatnonzero(labels == lab).tolist()) for lab in np.unique(labels))


def test_short_name_fqdn_and_case_are_one_asset() -> None:
    frame = _frame(asset_name=["web01", "WEB01.corp.example.com", "Web01 ", "web02"])
    match = dedup.match_keys(frame)
    assert _groups(match.labels) == [[0, 1, 2], [3]]
    assert match.merged_by == {"uuid": 0, "external_id": 0, "fqdn": 0, "mac": 0, "name": 2}


def test_uuid_forms_mac_lists_and_external_ids_within_one_source_format() -> None:
    frame = _frame(
        asset_name=["a", "b", "c", "d", "e", "f", "g"],
        vm_uuid=["4213AB00-0000-1111-2222-333344445555", None, None, None, None, None, None],
        bios_uuid=[None, "{4213ab00-0000-1111-2222-333344445555}", None, None, None, None, "0" * 32],
        mac_address=[None, None, "00:50:56:AA:BB:CC", "00-50-56-aa-bb-cc; 00:50:56:00:00:09"] + [None] * 3,
        external_id=[None, None, None, None, "vm-7", "vm-7", "vm-7"],
        source_format=["rvtools", "cmdb", "rvtools", "cmdb", "rvtools", "rvtools", "aws"],
    )
    match = dedup.match_keys(frame)
    # all-zero UUID is no key; vm-7 of the AWS template is not vm-7 of RVTools
    assert _groups(match.labels) == [[0, 1], [2, 3], [4, 5], [6]]
    assert (match.merged_by["uuid"], match.merged_by["external_id"], match.merged_by["mac"]) == (1, 1, 1)


def test_a_short_name_of_two_machines_is_no_key() -> None:
    """web01 in two domains: the bare web01 cannot say which one it is, so nothing merges by name."""
    frame = _frame(
        asset_name=["web01", "web01", "web01"],
        fqdn=["web01.a.example.com", "web01.b.example.com", None],
    )
    assert _groups(dedup.match_keys(frame).labels) == [[0], [1], [2]]


def test_transitive_keys_make_one_component() -> None:
    frame = _frame(
        asset_name=["x1", "y1", "z1"],
        vm_uuid=["11111111-1111-1111-1111-111111111111", "11111111-1111-1111-1111-111111111111", None],
        mac_address=[None, "00:50:56:00:00:01", "00:50:56:00:00:01"],
    )
    assert _groups(dedup.match_keys(frame).labels) == [[0, 1, 2]]


def test_merge_takes_each_field_from_the_best_row_and_records_provenance() -> None:
    frame = _frame(
        asset_name=["web01", "WEB01.corp.example.com", "db01"],
        memory_gb=[16.0, None, 8.0],
        owner=[None, "alice", None],
        os_name=["Windows 2019", "Windows Server 2019", None],
        custom_attributes=[{"Folder": "prod"}, {"Folder": "x", "Rack": "r1"}, None],
    )
    frame["data_import_id"] = ["A", "B", "A"]
    frame["import_order"] = [0, 1, 0]
    frame["completeness_score"] = [0.4, 0.6, 0.2]
    labels = np.array([0, 0, 2])
    fields = ["asset_name", "memory_gb", "owner", "os_name", "custom_attributes"]
    merged = dedup.merge_rows(frame, labels, fields)
    assert len(merged) == 2
    web = merged.iloc[0]
    # row 1 (more complete) wins name and OS; memory only row 0 has
    assert (web["asset_name"], web["memory_gb"], web["owner"], web["os_name"]) == (
        "WEB01.corp.example.com",
        16.0,
        "alice",
        "Windows Server 2019",
    )
    assert web["raw_import_record_id"] == "r1" and web["data_import_id"] == "B"
    assert web["custom_attributes"] == {"Folder": "x", "Rack": "r1"}
    fields = web["provenance"]["fields"]
    assert fields["memory_gb"] == {"import": "A", "sheet": "", "row": 2}
    assert fields["owner"] == {"import": "B", "sheet": "", "row": 3}
    assert "os_name" in fields and fields["os_name"]["import"] == "B"
    rows = [(r["import"], r["row"], r["raw"]) for r in web["provenance"]["rows"]]
    assert rows == [("B", 3, "r1"), ("A", 2, "r0")]
    assert merged.iloc[1]["provenance"] is None and merged.iloc[1]["members"] == [2]


def test_candidates_need_a_shared_block_with_another_import() -> None:
    frame = pd.DataFrame(
        {
            "asset_name": [
                "app01",
                "payroll-app01",
                "zeta9",
                "omega7",
                "omega-7b",
                "solo5",
                "solo-5",
                "lone",
            ],
            "cpu_cores": [2, 2, 64, 2, 2, 4, 8, 2],
            "ip_address": [
                "10.0.0.3",
                "10.0.0.3",
                "10.9.9.9",
                "10.0.0.7",
                "10.0.0.8",
                None,
                None,
                "10.0.0.3",
            ],
        }
    )
    imports = pd.Series([("A",), ("B",), ("B",), ("A",), ("B",), ("A",), ("B",), ("B",)])
    # same IP; same number and cores; solo5/solo-5 differ in cores; lone shares the IP block of app01
    expected = [True, True, False, True, True, False, False, True]
    assert dedup.candidates(frame, imports).tolist() == expected


def test_a_block_too_big_to_mean_anything_is_dropped() -> None:
    frame = pd.DataFrame({"asset_name": [f"web{i:02d}" for i in range(60)], "ip_address": ["10.0.0.1"] * 60})
    imports = pd.Series([("A",), ("B",)] * 30)
    assert not dedup.candidates(frame, imports).any()
    assert dedup.candidates(frame.head(10), imports.head(10)).all()


def test_accept_pairs_vetoes_contradictions() -> None:
    frame = pd.DataFrame(
        {
            "asset_name": ["app01", "payroll-app01", "app02", "app01-old", "app01", "app01x"],
            "cpu_cores": [2, 2, 2, 2, 2, 4],
            "memory_gb": [8.0, 8.0, 8.0, 8.0, 8.0, 8.0],
            "ip_address": ["10.0.0.3", "10.0.0.3", "10.0.0.3", "10.0.0.8", None, "10.0.0.3"],
        }
    )
    imports = pd.Series([("A",), ("B",), ("B",), ("B",), ("A",), ("B",)])
    pairs = pd.DataFrame({"a": [0, 0, 0, 0, 0], "b": [1, 2, 3, 4, 5]})
    # 1: renamed, same facts -> yes; 2: other digits; 3: other IP; 4: same import; 5: other cores
    assert dedup.accept_pairs(frame, imports, pairs).tolist() == [True, False, False, False, False]


def test_fingerprint_text_and_hash_are_stable() -> None:
    frame = pd.DataFrame(
        {
            "asset_name": ["WEB-01.corp.example.com"],
            "os_name": ["Ubuntu"],
            "cpu_cores": [2],
            "memory_gb": [7.9],
        },
    )
    text = dedup.fingerprint_text(frame)
    assert text.tolist() == ["host web 01; os ubuntu; cpu 2; memory 8"]
    assert dedup.content_hash(text).tolist() == dedup.content_hash(text.copy()).tolist()
    assert len(dedup.content_hash(text).iloc[0]) == 40
