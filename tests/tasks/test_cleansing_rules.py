"""Pure tests of the cleansing rules: the rule file loader, each rule on small frames, and the
per-rule counts of ``cleanse`` (no database, no Prefect; the gate test runs real GX)."""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import pytest
import yaml

from tasks.discovery.attribute_mapping import map_columns
from tasks.discovery.cleansing.engine import VALUE_DROPPED, cleanse, gate_columns
from tasks.discovery.cleansing.environment import infer_environment, tag_values
from tasks.discovery.cleansing.network import fqdns, ip_addresses, mac_addresses
from tasks.discovery.cleansing.os_names import normalise_os
from tasks.discovery.cleansing.rules import RULES_FILE, cleansing_rules, parse_rules, whole_words
from tasks.discovery.cleansing.text import apply_vocabulary, drop_null_tokens, trim
from tasks.discovery.data_cleansing import GATE_SUITE
from tasks.discovery.lifecycle import resolve
from tasks.quality import validate_frame

RULES = cleansing_rules()


def _document() -> dict[str, Any]:
    return dict(yaml.safe_load(RULES_FILE.read_text(encoding="utf-8")))


def _frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    """String frame indexed by file row numbers (row 1 is the header), as the import step builds it."""
    frame = pd.DataFrame(rows, dtype=str)
    frame.index = range(2, len(frame) + 2)
    return frame


# --- the rule file ----------------------------------------------------------------------------


def test_shipped_rules_load_with_version_and_every_vocabulary() -> None:
    assert RULES.version >= 1
    assert set(RULES.vocabularies) >= {"asset_type", "environment", "business_criticality", "power_state"}
    assert RULES.vocabularies["environment"].lookup["prd"] == "production"
    assert RULES.vocabularies["environment"].lookup["production"] == "production"  # targets match too
    assert {"n/a", "-", "null", "none", "unknown", "tbd"} <= RULES.null_tokens
    assert RULES.size_to_gib["MiB"] == pytest.approx(1 / 1024)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["vocabularies"]["environment"]["words"].update({"prodution": ["x"]}), "prodution"),
        (lambda d: d["os"]["products"][0].update({"match": "windows("}), "bad regex"),
        (lambda d: d["os"]["products"][0].update({"family": "beos"}), "family"),
        (lambda d: d["environment_inference"]["words"].update({"qa": ["qa"]}), "no environment"),
        (lambda d: d["vocabularies"]["power_state"]["words"]["off"].append("running"), "two values"),
        (lambda d: d["units"]["size_to_gib"].update({"MB": 0}), "positive"),
    ],
)
def test_malformed_rules_fail_at_load_time_naming_the_place(edit: Any, message: str) -> None:
    document = copy.deepcopy(_document())
    edit(document)
    with pytest.raises(ValueError, match=message):
        parse_rules(document)


def test_whole_words_hit_only_bounded_words() -> None:
    pattern = whole_words(["dev", "prd"])
    texts = pd.Series(["web-prd-01", "dev01", "uat_dev", "device", "prdx", "PRD"]).str.lower()
    assert texts.str.contains(pattern, regex=True).tolist() == [True, True, True, False, False, True]


# --- text rules -------------------------------------------------------------------------------


def test_trim_and_null_tokens_count_what_they_change() -> None:
    values = pd.Series(["  a ", "b", "Windows\r\nServer  2019", "N/A", " - ", "TBD", "na", ""])
    trimmed, trimmed_count = trim(values, squeeze=True)
    assert trimmed.tolist() == ["a", "b", "Windows Server 2019", "N/A", "-", "TBD", "na", ""]
    assert trimmed_count == 3
    cleaned, nulls = drop_null_tokens(trimmed, RULES.null_tokens)
    assert cleaned.tolist() == ["a", "b", "Windows Server 2019", "", "", "", "na", ""]
    assert nulls == 3


def test_vocabulary_maps_words_falls_back_and_marks_unknown() -> None:
    values = pd.Series(["PRD", "production", "uat", "moon", None])
    normalised, unknown, changed = apply_vocabulary(values, RULES.vocabularies["environment"])
    assert normalised.tolist() == ["production", "production", "test", "other", None]
    assert unknown.tolist() == [False, False, False, True, False]
    assert changed == 3  # "production" was already right


# --- OS names ---------------------------------------------------------------------------------

OS_CASES = [
    ("Microsoft Windows Server 2012 R2 (64-bit)", "Windows Server 2012 R2", "2012 R2", "windows"),
    ("Red Hat Enterprise Linux 7 (64-bit)", "Red Hat Enterprise Linux 7", "7", "linux"),
    ("CentOS 7.9.2009", "CentOS 7", "7.9.2009", "linux"),
    ("Ubuntu Linux (64-bit)", "Ubuntu", None, "linux"),
    ("SUSE Linux Enterprise 12", "SUSE Linux Enterprise Server 12", "12", "linux"),
    ("Windows Server 2019 Datacenter", "Windows Server 2019", "2019", "windows"),
    ("rhel8", "Red Hat Enterprise Linux 8", "8", "linux"),
    ("Win2k12R2", "Windows Server 2012 R2", "2012 R2", "windows"),
    ("Windows 6.3.9600", "Windows 6.3.9600", None, "windows"),  # a build number is not thrown away
    ("IBM AIX 7.2", "AIX 7.2", "7.2", "unix"),
    ("Plan 9", "Plan 9", None, None),
]


def test_os_strings_normalise_to_family_name_and_release() -> None:
    names = pd.Series([c[0] for c in OS_CASES])
    got = normalise_os(names, RULES)
    assert got["name"].tolist() == [c[1] for c in OS_CASES]
    assert got["release"].tolist() == [c[2] for c in OS_CASES]
    assert got["family"].tolist() == [c[3] for c in OS_CASES]


def test_normalised_os_names_resolve_to_the_same_end_of_support_as_the_raw_strings() -> None:
    """Tech debt matches "os_name os_version": normalising the name must not change the verdict."""
    raw = pd.Series([c[0] for c in OS_CASES] + ["Ubuntu Linux (64-bit) 20.04", "CentOS 6.10"])
    got = normalise_os(raw, RULES)
    normalised = got["name"] + " " + got["release"].fillna("")
    before = resolve(raw, "os").set_index("text")
    after = resolve(normalised.str.strip(), "os").set_index("text")
    pairs = pd.DataFrame({"raw": raw, "new": normalised.str.strip()})
    for row in pairs.itertuples():
        assert before.loc[row.raw, "release"] == after.loc[row.new, "release"], row
        assert before.loc[row.raw, "end_of_support"] == after.loc[row.new, "end_of_support"], row


def test_cleanse_keeps_the_raw_os_string_and_fills_only_missing_versions() -> None:
    frame = _frame(
        [
            {"name": "a", "os": "Microsoft Windows Server 2012 R2 (64-bit)", "os_version": ""},
            {"name": "b", "os": "CentOS 7.9.2009", "os_version": "7.4"},
            {"name": "c", "os": "Windows Server 2016", "os_version": "2016"},
        ]
    )
    result = cleanse(frame, map_columns(list(frame.columns)))
    assets = result.assets
    assert assets["os_name"].tolist() == ["Windows Server 2012 R2", "CentOS 7", "Windows Server 2016"]
    assert assets["os_version"].tolist() == ["2012 R2", "7.4", "2016"]
    assert assets["os_family"].tolist() == ["windows", "linux", "windows"]
    assert assets.loc[2, "custom_attributes"] == {"os_name_raw": "Microsoft Windows Server 2012 R2 (64-bit)"}
    assert assets.loc[4, "custom_attributes"] is None  # unchanged: nothing to keep
    assert result.counts["os_normalise"] == 2
    assert result.counts["os_version_derived"] == 1
    assert result.counts["os_family_derived"] == 3


def test_given_os_family_spellings_normalise() -> None:
    frame = _frame(
        [
            {"name": "a", "os_family": "Microsoft Windows"},
            {"name": "b", "os_family": "LINUX"},
            {"name": "c", "os_family": "z/OS"},
        ]
    )
    result = cleanse(frame, map_columns(list(frame.columns)))
    assert result.assets["os_family"].tolist() == ["windows", "linux", "other"]
    assert result.counts["vocabulary:os_family"] == 3


# --- network ----------------------------------------------------------------------------------


def test_ip_cells_keep_first_valid_address_and_the_list() -> None:
    values = pd.Series(
        ["10.0.0.1", "10.0.0.1, 10.0.0.2", "999.1.1.1", "", '["FE80:0:0::1","10.1.1.1"]', "abc; 10.2.2.2"]
    )
    ips = ip_addresses(values, RULES)
    assert ips.first.tolist() == ["10.0.0.1", "10.0.0.1", None, None, "fe80::1", "10.2.2.2"]
    assert ips.lists[1] == ["10.0.0.1", "10.0.0.2"]
    assert ips.lists[4] == ["fe80::1", "10.1.1.1"]
    assert ips.invalid.tolist() == [False, False, True, False, False, False]
    assert ips.listed == 2


def test_macs_normalise_to_lower_colon_form() -> None:
    values = pd.Series(["00-50-56-AB-00-01", "0050.56ab.0002", "00:50:56:ab:00:03", "zz:zz", ""])
    mac, invalid, changed = mac_addresses(values)
    assert mac.tolist() == ["00:50:56:ab:00:01", "00:50:56:ab:00:02", "00:50:56:ab:00:03", None, None]
    assert invalid.tolist() == [False, False, False, True, False]
    assert changed == 2


def test_fqdn_labels_validated() -> None:
    values = pd.Series(
        ["Web01.Corp.Example.com.", "bad..name", "-x.example.com", "a" * 64 + ".com", "db_1.corp"]
    )
    fqdn, invalid, changed = fqdns(values, RULES)
    assert fqdn.tolist() == ["web01.corp.example.com", None, None, None, "db_1.corp"]
    assert invalid.tolist() == [False, True, True, True, False]
    assert changed == 1


def test_invalid_addresses_are_dropped_and_reported_with_row_and_column() -> None:
    frame = _frame(
        [
            {
                "name": "a",
                "ip": "10.0.0.1;10.0.0.9",
                "mac": "00-50-56-AB-00-01",
                "fqdn": "a.corp.example.com",
            },
            {"name": "b", "ip": "10.0.0.300", "mac": "not-a-mac", "fqdn": "b..corp"},
            {"name": "c", "ip": "N/A", "mac": "", "fqdn": ""},
        ]
    )
    result = cleanse(frame, map_columns(list(frame.columns)))
    assets = result.assets
    assert assets["ip_address"].tolist() == ["10.0.0.1", None, None]
    assert assets.loc[2, "custom_attributes"] == {"ip_addresses": ["10.0.0.1", "10.0.0.9"]}
    assert assets["mac_address"].tolist() == ["00:50:56:ab:00:01", None, None]
    assert assets["fqdn"].tolist() == ["a.corp.example.com", None, None]
    problems = result.problems.sort_values(["row_number", "column"])
    assert problems[["row_number", "column", "value", "severity"]].values.tolist() == [
        [3, "fqdn", "b..corp", VALUE_DROPPED],
        [3, "ip", "10.0.0.300", VALUE_DROPPED],
        [3, "mac", "not-a-mac", VALUE_DROPPED],
    ]
    assert problems["reason"].str.len().gt(0).all()
    assert result.counts["ip_invalid"] == result.counts["mac_invalid"] == result.counts["fqdn_invalid"] == 1
    assert result.counts["null_tokens"] == 1
    assert result.counts["ip_list"] == 1


# --- environment inference --------------------------------------------------------------------


def test_environment_inferred_from_tags_names_and_placement_in_that_order() -> None:
    frame = _frame(
        [
            {"name": "web01-prd-fra", "env": "", "tags": "", "cluster": "", "Folder": ""},
            {"name": "app01", "env": "", "tags": "owner=ops; env=dev", "cluster": "cl-prod", "Folder": ""},
            {"name": "db01", "env": "", "tags": "", "cluster": "", "Folder": "/DC1/UAT/Databases"},
            {"name": "lb01", "env": "", "tags": "", "cluster": "cl-stg-02", "Folder": ""},
            {"name": "dev01", "env": "production", "tags": "", "cluster": "", "Folder": ""},
            {"name": "device01", "env": "", "tags": "", "cluster": "", "Folder": ""},
        ]
    )
    mappings = map_columns(list(frame.columns))
    assert {m.source: m.field for m in mappings}["Folder"] is None  # kept raw, still searched
    result = cleanse(frame, mappings)
    assert result.assets["environment"].tolist() == [
        "production",
        "development",
        "test",
        "staging",
        "production",  # given: never overwritten
        None,  # "device" is no "dev"
    ]
    counts = result.counts
    assert counts["environment_inferred"] == 4
    assert counts["environment_inferred:tags"] == 1
    assert counts["environment_inferred:asset_name"] == 1
    assert counts["environment_inferred:cluster"] == 1
    assert counts["environment_inferred:Folder"] == 1


def test_tag_values_and_inference_are_pure_column_functions() -> None:
    tags = pd.Series(["Environment: Prod | owner=x", "env=qa", "owner=y", None])
    values = tag_values(tags, RULES)
    assert values[:2].tolist() == ["Prod", "qa"]
    assert values[2:].isna().all()
    missing = pd.Series([True, True, True, False])
    found, hits = infer_environment(missing, [("tags", tag_values(tags, RULES))], RULES)
    assert found.tolist() == ["production", "test", None, None]
    assert hits == {"tags": 2}


# --- counts and units through cleanse ---------------------------------------------------------


def test_cleanse_counts_every_rule_and_unit_conversion() -> None:
    frame = _frame(
        [
            {
                "name": " web01 ",
                "Memory": "4096",
                "storage_gb": "100 GB",
                "cpu util": "45 %",
                "powerstate": "poweredOn",
            },
            {
                "name": "web02",
                "Memory": "2048",
                "storage_gb": "1 TB",
                "cpu util": "12",
                "powerstate": "unknown",
            },
            {"name": "web03", "Memory": "-", "storage_gb": "512 MiB", "cpu util": "", "powerstate": "on"},
        ]
    )
    mappings = map_columns(list(frame.columns))
    fields = {m.source: m.field for m in mappings}
    assert fields["Memory"] == "memory_gb" and fields["storage_gb"] == "storage_gb"
    result = cleanse(frame, mappings, units={"Memory": "MiB"})
    assets = result.assets
    assert assets["memory_gb"].tolist()[:2] == pytest.approx([4.0, 2.0])
    assert assets["storage_gb"].tolist() == pytest.approx([100.0, 1024.0, 0.5])
    assert assets["asset_name"].tolist() == ["web01", "web02", "web03"]
    assert assets["power_state"].tolist() == ["on", None, "on"]
    counts = result.counts
    assert counts["trim"] == 1
    assert counts["null_tokens"] == 2  # "-" and "unknown"
    assert counts["unit:memory_gb MiB->GiB"] == 2
    assert counts["unit:storage_gb TB->GiB"] == 1
    assert counts["unit:storage_gb MiB->GiB"] == 1
    assert counts["vocabulary:power_state"] == 1
    assert "unit:storage_gb GB->GiB" not in counts  # GB is the field's unit: nothing changed


# --- the gate ---------------------------------------------------------------------------------


def test_cleansed_gate_passes_clean_rows_and_fails_implausible_memory() -> None:
    frame = _frame(
        [
            {
                "name": "a",
                "ip": "10.0.0.1",
                "mac": "00:50:56:ab:00:01",
                "env": "prod",
                "os": "rhel8",
                "memory_gb": "16",
            },
            {"name": "b", "ip": "fe80::1", "mac": "", "env": "", "os": "", "memory_gb": "100000"},
        ]
    )
    assets = cleanse(frame, map_columns(list(frame.columns))).assets
    passed = validate_frame(GATE_SUITE, gate_columns(assets.iloc[:1]))
    assert passed["success"], passed
    failed = validate_frame(GATE_SUITE, gate_columns(assets))
    assert not failed["success"]
    assert [(r["expectation"], r["column"]) for r in failed["results"] if not r["success"]] == [
        ("expect_column_values_to_be_between", "memory_gb")
    ]
