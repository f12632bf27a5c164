"""The end-of-support matcher, severity and tech-debt summary, without Prefect or a database."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from mfactory.settings import PACKAGE_DATA
from mfactory.synthetic import generate_inventory
from tasks.discovery.lifecycle import lifecycle_table, parse_lifecycle, resolve, severity, summarise
from tasks.discovery.tech_debt import lifecycle_matches

D = dt.date

# (text as inventories write it, product, release, end of support) - dates from the vendors' pages.
OS_CASES = [
    ("Microsoft Windows Server 2012 R2 (64-bit)", "Windows Server", "2012 R2", D(2023, 10, 10)),
    ("Microsoft Windows Server 2008 R2 (64-bit)", "Windows Server", "2008 R2", D(2020, 1, 14)),
    ("Microsoft Windows Server 2016 Datacenter", "Windows Server", "2016", D(2027, 1, 12)),
    ("Windows Server 2019 Standard 10.0.17763", "Windows Server", "2019", D(2029, 1, 9)),
    ("Microsoft Windows Server 2022 Datacenter Azure Edition", "Windows Server", "2022", D(2031, 10, 14)),
    ("Microsoft Windows Server 10.0.20348", "Windows Server", "2022", D(2031, 10, 14)),
    ("Microsoft Windows Server 6.3.9600", "Windows Server", "2012 R2", D(2023, 10, 10)),
    ("Windows 2003 Standard x64", "Windows Server", "2003", D(2015, 7, 14)),
    ("Win2k8R2", "Windows Server", "2008 R2", D(2020, 1, 14)),
    ("Microsoft Windows 10 (64-bit)", "Windows (client)", "10", D(2025, 10, 14)),
    ("Microsoft Windows 7 (32-bit)", "Windows (client)", "7", D(2020, 1, 14)),
    ("Red Hat Enterprise Linux 7 (64-bit)", "Red Hat Enterprise Linux", "7", D(2024, 6, 30)),
    (
        "Red Hat Enterprise Linux Server release 6.10 (Santiago)",
        "Red Hat Enterprise Linux",
        "6",
        D(2020, 11, 30),
    ),
    ("Red Hat Enterprise Linux 8 (64-bit) 8.8", "Red Hat Enterprise Linux", "8", D(2029, 5, 31)),
    ("RHEL9", "Red Hat Enterprise Linux", "9", D(2032, 5, 31)),
    ("Red Hat Enterprise Linux (Maipo)", "Red Hat Enterprise Linux", "7", D(2024, 6, 30)),
    ("CentOS 7.9", "CentOS", "7", D(2024, 6, 30)),
    ("CentOS Linux release 7.9.2009 (Core)", "CentOS", "7", D(2024, 6, 30)),
    ("CentOS 6 (64-bit)", "CentOS", "6", D(2020, 11, 30)),
    ("CentOS Stream 8", "CentOS Stream", "8", D(2024, 5, 31)),
    ("Ubuntu Linux (64-bit) 20.04", "Ubuntu", "20.04", D(2025, 5, 31)),
    ("Ubuntu 18.04.6 LTS", "Ubuntu", "18.04", D(2023, 5, 31)),
    ("Ubuntu 16.04 xenial", "Ubuntu", "16.04", D(2021, 4, 30)),
    ("Ubuntu Linux focal", "Ubuntu", "20.04", D(2025, 5, 31)),
    ("SUSE Linux Enterprise Server 12 SP5", "SUSE Linux Enterprise Server", "12", D(2024, 10, 31)),
    ("SLES 15 SP4", "SUSE Linux Enterprise Server", "15", D(2031, 7, 31)),
    ("SUSE Linux Enterprise 11 (64-bit)", "SUSE Linux Enterprise Server", "11", D(2019, 3, 31)),
    ("Debian GNU/Linux 10 (64-bit)", "Debian", "10", D(2024, 6, 30)),
    ("Debian GNU/Linux 12 (bookworm)", "Debian", "12", D(2028, 6, 30)),
    ("Oracle Linux 7 (64-bit)", "Oracle Linux", "7", D(2024, 12, 31)),
    ("Oracle Linux Server release 8.6", "Oracle Linux", "8", D(2029, 7, 31)),
    ("Rocky Linux 8.7 (Green Obsidian)", "Rocky Linux", "8", D(2029, 5, 31)),
    ("Amazon Linux 2", "Amazon Linux", "2", D(2026, 6, 30)),
    ("Amazon Linux 2023", "Amazon Linux", "2023", D(2029, 6, 30)),
    ("AIX 7.1 TL5", "AIX", "7.1", D(2023, 4, 30)),
    ("Oracle Solaris 11.4", "Solaris", "11", D(2031, 11, 30)),
    ("SunOS 5.10", "Solaris", "10", D(2018, 1, 31)),
]

DB_CASES = [
    ("Microsoft SQL Server 2008 R2 (SP3) - 10.50.6000.34 (X64)", "SQL Server", "2008 R2", D(2019, 7, 9)),
    ("SQL Server 2012 database for erp-0001", "SQL Server", "2012", D(2022, 7, 12)),
    ("Microsoft SQL Server 15.0.2000.5", "SQL Server", "2019", D(2030, 1, 8)),
    ("SQL Server 2016 Enterprise", "SQL Server", "2016", D(2026, 7, 14)),
    ("Oracle 11g database for ledger-0002", "Oracle Database", "11g R2", D(2020, 12, 31)),
    ("Oracle Database 19c Enterprise Edition Release 19.0.0.0.0", "Oracle Database", "19c", None),
    ("Oracle Database 12c Release 2", "Oracle Database", "12c R2", D(2022, 3, 31)),
    ("Oracle 12.1.0.2", "Oracle Database", "12c R1", D(2022, 7, 31)),
    ("PostgreSQL 9.6.24", "PostgreSQL", "9.6", D(2021, 11, 11)),
    ("postgres 13", "PostgreSQL", "13", D(2025, 11, 13)),
    ("PostgreSQL 16.2 on x86_64-pc-linux-gnu", "PostgreSQL", "16", D(2028, 11, 9)),
    ("MySQL 5.7.33", "MySQL", "5.7", D(2023, 10, 31)),
    ("MySQL Community Server 8.0", "MySQL", "8.0", D(2026, 4, 30)),
    ("MariaDB 10.5.12", "MariaDB", "10.5", D(2025, 6, 24)),
    ("MongoDB 4.4 database for crm-0003", "MongoDB", "4.4", D(2024, 2, 29)),
    ("DB2 10.5 database for mes-0001", "Db2", "10.5", D(2020, 4, 30)),
]


def _one(text: str, kind: str) -> pd.Series:
    found = resolve(pd.Series([text]), kind)
    assert len(found) == 1
    return found.iloc[0]


@pytest.mark.parametrize(("text", "product", "release", "eos"), OS_CASES)
def test_operating_systems_resolve_to_release_and_date(text: str, product: str, release: str, eos: D) -> None:
    row = _one(text, "os")
    assert (row["product"], row["release"], row["end_of_support"]) == (product, release, eos)
    assert row["source"]


@pytest.mark.parametrize(("text", "product", "release", "eos"), DB_CASES)
def test_databases_resolve_to_release_and_date(text: str, product: str, release: str, eos: D) -> None:
    row = _one(text, "database")
    assert (row["product"], row["release"], row["end_of_support"]) == (product, release, eos)


@pytest.mark.parametrize(
    ("text", "kind", "product"),
    [
        ("Ubuntu Linux (64-bit)", "os", "Ubuntu"),  # no version anywhere: product known, release not
        ("Microsoft Windows Server 2016 or later (64-bit)", "os", None),  # vSphere's guest OS: ambiguous
        ("Other 3.x or later Linux (64-bit)", "os", None),
        ("Red Hat Enterprise Linux 64-bit", "os", "Red Hat Enterprise Linux"),  # "64" is no release
        ("Oracle WebLogic 12c application server", "database", None),  # not a database
        ("Oracle Linux 7", "database", None),
        ("Web server for portal-0001", "database", None),
        ("Apache Tomcat 8.5 application server", "database", None),
    ],
)
def test_unknown_or_ambiguous_strings_get_no_date(text: str, kind: str, product: str | None) -> None:
    row = _one(text, kind)
    assert row["product"] == product
    assert row["release"] is None or pd.isna(row["release"])
    assert row["end_of_support"] is None


def test_release_known_without_published_date_stays_undated() -> None:
    row = _one("Ubuntu 22.04.3 LTS", "os")
    assert (row["product"], row["release"], row["end_of_support"]) == ("Ubuntu", "22.04", None)


def test_resolve_works_on_distinct_strings() -> None:
    texts = pd.Series(["CentOS 7.9", "CentOS 7.9", None, "Windows Server 2019"] * 1000)
    found = resolve(texts, "os")
    assert sorted(found["text"]) == ["CentOS 7.9", "Windows Server 2019"]


def test_every_synthetic_os_and_database_string_resolves() -> None:
    """Every OS the generator (and so the shipped sample) writes, and every database it names."""
    assets, _ = generate_inventory(5000, seed=3)
    os_found = resolve(assets["os_name"].astype(str) + " " + assets["os_version"].astype(str), "os")
    assert os_found["release"].notna().all(), os_found[os_found["release"].isna()]
    databases = assets.loc[assets["asset_type"] == "database", "description"].astype(str)
    db_found = resolve(databases, "database")
    assert db_found["release"].notna().all(), db_found[db_found["release"].isna()]
    # Only releases whose date was not confirmed (see os_lifecycle.yaml) may stay undated.
    undated = set(os_found.loc[os_found["end_of_support"].isna(), "release"])
    assert undated <= {"22.04", "7.2"}
    assert set(db_found.loc[db_found["end_of_support"].isna(), "release"]) <= {"19c"}


def test_every_sample_os_resolves() -> None:
    sample = pd.read_csv(PACKAGE_DATA / "samples" / "inventory.csv", dtype=str)
    found = resolve(sample["os_name"] + " " + sample["os_version"], "os")
    assert found["release"].notna().all()


def test_table_is_dated_and_sourced() -> None:
    table = lifecycle_table()
    assert isinstance(table.as_of, dt.date)
    assert table.releases["source"].str.len().gt(0).all()
    assert all(p.get("support_phase") for p in table.products)


def test_table_rejects_a_product_without_source() -> None:
    document = {
        "as_of": D(2026, 1, 1),
        "severity": {"high_within_months": 6, "medium_within_months": 12},
        "products": [{"product": "X", "kind": "os", "match": "x", "versions": ["x(\\d)"], "releases": []}],
    }
    with pytest.raises(ValueError, match="source"):
        parse_lifecycle(document)


@pytest.mark.parametrize(
    ("eos", "expected"),
    [
        (D(2026, 11, 22), "critical"),  # the day before today: past
        (D(2026, 11, 23), "high"),  # today is still the last supported day
        (D(2027, 5, 22), "high"),  # within 6 months
        (D(2027, 5, 23), "medium"),  # exactly 6 months ahead: outside the 6-month window
        (D(2027, 11, 22), "medium"),
        (D(2027, 11, 23), "none"),  # exactly 12 months ahead
        (D(2031, 1, 1), "none"),
        (None, "unknown"),
    ],
)
def test_severity_boundaries(eos: D | None, expected: str) -> None:
    got = severity(
        pd.Series([eos], dtype=object), D(2026, 11, 23), high_within_months=6, medium_within_months=12
    )
    assert got.iloc[0] == expected


def test_matches_carry_severity_of_the_date() -> None:
    texts = pd.DataFrame(
        {
            "kind": ["os", "os", "os", "database"],
            "text": ["CentOS 7.9", "Windows Server 2016", "Ubuntu Linux (64-bit)", "SQL Server 2019"],
        }
    )
    matches = lifecycle_matches(texts, lifecycle_table(), D(2026, 11, 23)).set_index("text")
    assert matches.loc["CentOS 7.9", "severity"] == "critical"
    assert matches.loc["Windows Server 2016", "severity"] == "high"  # 2027-01-12
    assert matches.loc["Ubuntu Linux (64-bit)", "severity"] == "unknown"
    assert matches.loc["SQL Server 2019", "severity"] == "none"


def test_summary_per_application_and_engagement() -> None:
    assets = pd.DataFrame(
        {
            "application_name": ["erp", "erp", "erp", "crm", "crm", None],
            "severity": ["critical", "none", "high", "medium", "unknown", "none"],
            "end_of_support": [
                D(2020, 1, 14),
                D(2031, 10, 14),
                D(2027, 1, 12),
                D(2027, 10, 12),
                None,
                D(2030, 1, 1),
            ],
            "os_product_release": [
                "Windows Server 2008 R2",
                "Windows Server 2022",
                "Windows Server 2016",
                "CentOS 7",
                "Ubuntu",
                "Windows Server 2022",
            ],
            "db_product_release": [None, "SQL Server 2019", None, None, None, None],
        }
    )
    out = summarise(assets)
    engagement = out["engagement"]
    assert engagement["assets_assessed"] == 6
    assert engagement["assets_by_severity"] == {
        "critical": 1,
        "high": 1,
        "medium": 1,
        "none": 2,
        "unknown": 1,
    }
    assert engagement["applications"] == 3
    assert engagement["applications_by_worst_severity"]["critical"] == 1
    assert engagement["applications_by_worst_severity"]["medium"] == 1
    assert engagement["releases"]["Windows Server 2022"] == 2
    apps = out["applications"].set_index("application_name")
    assert list(out["applications"]["application_name"]) == ["erp", "crm", "(no application)"]
    assert apps.loc["erp", "worst_severity"] == "critical"
    assert apps.loc["erp", "earliest_end_of_support"] == D(2020, 1, 14)
    assert (apps.loc["erp", "critical"], apps.loc["erp", "high"], apps.loc["erp", "assets"]) == (1, 1, 3)
    assert apps.loc["crm", "worst_severity"] == "medium"
    assert apps.loc["(no application)", "worst_severity"] == "none"


def test_summary_and_matches_of_a_run_with_nothing_to_assess() -> None:
    empty = pd.DataFrame(
        columns=["application_name", "severity", "end_of_support", "os_product_release", "db_product_release"]
    )
    out = summarise(empty)
    assert out["engagement"]["assets_assessed"] == 0
    assert out["applications"].empty
    none = lifecycle_matches(pd.DataFrame(columns=["kind", "text"]), lifecycle_table(), D(2026, 1, 1))
    assert none.empty and "severity" in none.columns
