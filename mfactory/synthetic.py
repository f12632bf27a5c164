"""Seeded synthetic inventories: realistic assets and dependencies for demos, tests and benchmarks.

Real customer inventories cannot be shipped, committed or used in CI, yet every phase of the factory
(mapping, validation, dependency analysis, 6R, wave planning) needs data that looks like a CMDB or
RVTools export: mixed operating systems, end-of-life versions, databases with engines, applications
that group assets, and a dependency graph that is mostly local to an application but not entirely.

Two properties drive the implementation:

* **Determinism.** Everything is drawn from one ``numpy.random.Generator`` in a fixed order, so the same
  seed yields byte-identical CSV files. The shipped sample (``mfactory/data/samples``) is checked against
  the generator by the tests, which keeps the two from drifting apart.
* **Speed.** Benchmarks should measure the pipeline, not the generator, so every column is built with
  vectorised numpy operations (string columns included, via ``numpy.strings``); there are no per-row
  Python loops. 100,000 assets and 300,000 dependencies take about a second on two cores.

The sample was produced with ``write_inventory(Path("mfactory/data/samples"), 60, seed=7)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "ASSET_COLUMNS",
    "DEPENDENCY_COLUMNS",
    "SAMPLE_N_ASSETS",
    "SAMPLE_SEED",
    "generate_inventory",
    "write_inventory",
]

BytesArray = npt.NDArray[np.bytes_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Canonical asset field names (ARCHITECTURE.md, "Contracts"), in the order written to ``inventory.csv``.
ASSET_COLUMNS: Final[tuple[str, ...]] = (
    "asset_name",
    "asset_type",
    "hostname",
    "fqdn",
    "ip_address",
    "mac_address",
    "external_id",
    "vm_uuid",
    "serial_number",
    "os_family",
    "os_name",
    "os_version",
    "cpu_cores",
    "cpu_sockets",
    "memory_gb",
    "storage_gb",
    "storage_used_gb",
    "disk_count",
    "nic_count",
    "power_state",
    "environment",
    "datacenter",
    "cluster",
    "hypervisor_host",
    "virtualization_platform",
    "application_name",
    "business_unit",
    "owner",
    "business_criticality",
    "description",
    "cpu_utilization_avg",
    "cpu_utilization_peak",
    "memory_utilization_avg",
    "memory_utilization_peak",
    "iops_avg",
    "network_throughput_mbps",
    "created_date",
)

#: Columns of ``dependencies.csv``; names are the canonical asset names of both ends.
DEPENDENCY_COLUMNS: Final[tuple[str, ...]] = (
    "source_asset_name",
    "target_asset_name",
    "dependency_type",
    "port",
    "protocol",
)

#: Parameters of the sample shipped in ``mfactory/data/samples`` (the tests regenerate and compare it).
SAMPLE_N_ASSETS: Final[int] = 60
SAMPLE_SEED: Final[int] = 7

DOMAIN: Final[str] = "corp.example.com"
ASSETS_PER_APPLICATION: Final[int] = 8
#: Share of candidate dependencies drawn inside the source's own application (the rest target any asset).
#: Drawn above the ~80% wanted in the output because the duplicates that de-duplication removes are
#: mostly intra-application (applications are small, so their pairs repeat).
INTRA_APPLICATION_SHARE: Final[float] = 0.84
#: Last octet 1..254 over 10.0.0.0/8: the number of distinct addresses, hence the largest inventory.
MAX_ASSETS: Final[int] = 254 * 65536
_MAX_DEPENDENCY_ROUNDS: Final[int] = 64

# --- catalogues (weights are relative; they need not sum to 1) ------------------------------------------

_ASSET_TYPES: Final[tuple[str, ...]] = ("server", "virtual_machine", "database", "application")
_ASSET_TYPE_WEIGHTS: Final[tuple[float, ...]] = (0.25, 0.50, 0.15, 0.10)
_HOST_PREFIX: Final[tuple[str, ...]] = ("srv", "vm", "db", "app")
#: Databases and application tiers run on VMs this often; the rest are bare metal.
_VIRTUAL_SHARE_DB_APP: Final[float] = 0.7

_ENVIRONMENTS: Final[tuple[str, ...]] = ("production", "staging", "test", "development", "dr")
_ENVIRONMENT_WEIGHTS: Final[tuple[float, ...]] = (0.45, 0.10, 0.15, 0.20, 0.10)
_ENVIRONMENT_SUFFIX: Final[tuple[str, ...]] = ("prod", "stg", "test", "dev", "dr")

_CRITICALITIES: Final[tuple[str, ...]] = ("low", "medium", "high", "critical")
_CRITICALITY_WEIGHTS: Final[tuple[float, ...]] = (0.20, 0.40, 0.28, 0.12)

_POWER_STATES: Final[tuple[str, ...]] = ("on", "off", "suspended")
_POWER_WEIGHTS: Final[tuple[float, ...]] = (0.90, 0.07, 0.03)

#: (os_family, os_name, os_version, weight on VMs, weight on bare metal). Unix only runs on bare metal.
_OPERATING_SYSTEMS: Final[tuple[tuple[str, str, str, float, float], ...]] = (
    ("windows", "Windows Server 2008 R2", "2008 R2", 4, 3),
    ("windows", "Windows Server 2012 R2", "2012 R2", 10, 6),
    ("windows", "Windows Server 2016", "2016", 12, 6),
    ("windows", "Windows Server 2019", "2019", 12, 5),
    ("windows", "Windows Server 2022", "2022", 6, 2),
    ("linux", "Red Hat Enterprise Linux 6", "6.10", 3, 3),
    ("linux", "Red Hat Enterprise Linux 7", "7.9", 10, 8),
    ("linux", "Red Hat Enterprise Linux 8", "8.8", 8, 4),
    ("linux", "Ubuntu 18.04", "18.04", 4, 1),
    ("linux", "Ubuntu 20.04", "20.04", 6, 2),
    ("linux", "Ubuntu 22.04", "22.04", 4, 1),
    ("linux", "CentOS 6", "6.10", 3, 2),
    ("linux", "CentOS 7", "7.9", 6, 3),
    ("linux", "SUSE Linux Enterprise 12", "12 SP5", 3, 3),
    ("linux", "SUSE Linux Enterprise 15", "15 SP4", 2, 2),
    ("unix", "AIX 7.1", "7.1", 0, 5),
    ("unix", "AIX 7.2", "7.2", 0, 4),
    ("unix", "Solaris 10", "10", 0, 3),
    ("unix", "Solaris 11", "11.4", 0, 2),
)
_OS_FAMILIES: Final[tuple[str, ...]] = ("windows", "linux", "unix")

#: (os_family, database engine, listener port, weight): engines only appear on an OS that runs them.
_DB_ENGINES: Final[tuple[tuple[str, str, int, float], ...]] = (
    ("windows", "SQL Server 2008", 1433, 3),
    ("windows", "SQL Server 2012", 1433, 4),
    ("windows", "SQL Server 2016", 1433, 5),
    ("windows", "SQL Server 2019", 1433, 4),
    ("linux", "Oracle 11g", 1521, 4),
    ("linux", "Oracle 12c", 1521, 4),
    ("linux", "Oracle 19c", 1521, 3),
    ("linux", "PostgreSQL 11", 5432, 2),
    ("linux", "PostgreSQL 13", 5432, 3),
    ("linux", "MySQL 5.7", 3306, 3),
    ("linux", "MySQL 8.0", 3306, 2),
    ("linux", "MongoDB 4.4", 27017, 1),
    ("unix", "Oracle 11g", 1521, 4),
    ("unix", "Oracle 12c", 1521, 3),
    ("unix", "DB2 10.5", 50000, 2),
)

#: (os_family, middleware of an application tier, listener port, weight).
_MIDDLEWARE: Final[tuple[tuple[str, str, int, float], ...]] = (
    ("windows", "IIS 8.5", 443, 3),
    ("windows", "IIS 10", 443, 4),
    ("linux", "Apache Tomcat 8.5", 8080, 4),
    ("linux", "Apache Tomcat 9", 8080, 3),
    ("linux", "JBoss EAP 7", 8443, 2),
    ("linux", "WebSphere 8.5", 9443, 2),
    ("linux", "nginx 1.18", 443, 2),
    ("unix", "WebSphere 8.5", 9443, 3),
    ("unix", "WebLogic 12c", 7001, 2),
)

_SERVER_ROLES: Final[tuple[str, ...]] = (
    "Web server",
    "Batch server",
    "File server",
    "Integration server",
    "Reporting server",
    "Jump host",
    "Message broker",
    "Cache server",
)

#: (application name prefix, owning business unit): the unit follows from what the application does.
_APPLICATION_KINDS: Final[tuple[tuple[str, str], ...]] = (
    ("erp", "Finance"),
    ("ledger", "Finance"),
    ("billing", "Finance"),
    ("payroll", "Human Resources"),
    ("hr", "Human Resources"),
    ("crm", "Sales"),
    ("portal", "Sales"),
    ("pricing", "Sales"),
    ("campaign", "Marketing"),
    ("web", "Marketing"),
    ("inventory", "Supply Chain"),
    ("logistics", "Supply Chain"),
    ("mes", "Operations"),
    ("scada", "Operations"),
    ("analytics", "IT Shared Services"),
    ("mail", "IT Shared Services"),
    ("auth", "IT Shared Services"),
    ("claims", "Customer Service"),
    ("ticketing", "Customer Service"),
    ("contracts", "Legal"),
    ("lims", "Research & Development"),
)

_FIRST_NAMES: Final[tuple[str, ...]] = (
    "alice", "bruno", "chen", "dana", "emeka", "fatima", "gustav", "hana", "ivan", "julia",
    "kofi", "lena", "marco", "nadia", "omar", "priya", "quentin", "rosa", "sven", "tariq",
)  # fmt: skip
_LAST_NAMES: Final[tuple[str, ...]] = (
    "adams", "berg", "costa", "dubois", "eriksen", "fischer", "garcia", "haddad", "ito", "jansen",
    "kowalski", "lopez", "meyer", "nakamura", "okafor", "patel", "rossi", "schmidt", "tanaka", "weber",
)  # fmt: skip

#: (datacenter, weight) for non-DR assets; DR assets always live in the DR site.
_PRIMARY_DATACENTERS: Final[tuple[str, ...]] = ("dc-east-01", "dc-west-01")
_PRIMARY_DATACENTER_WEIGHTS: Final[tuple[float, ...]] = (0.55, 0.45)
_DR_DATACENTER: Final[str] = "dc-dr-01"
#: Platform of cluster cl01..cl04 in every datacenter, and the prefix of its hypervisor hosts.
_CLUSTER_PLATFORMS: Final[tuple[str, ...]] = (
    "VMware vSphere 7.0",
    "VMware vSphere 7.0",
    "VMware vSphere 6.7",
    "Microsoft Hyper-V 2019",
)
_CLUSTER_HOST_PREFIX: Final[tuple[str, ...]] = ("esx", "esx", "esx", "hv")
_HOSTS_PER_CLUSTER: Final[int] = 12

_VIRTUAL_CORES: Final[tuple[int, ...]] = (1, 2, 4, 8, 16, 32)
_VIRTUAL_CORE_WEIGHTS: Final[tuple[float, ...]] = (0.08, 0.30, 0.32, 0.20, 0.08, 0.02)
_PHYSICAL_CORE_WEIGHTS: Final[tuple[float, ...]] = (0.0, 0.02, 0.10, 0.28, 0.35, 0.25)

#: (port, protocol, weight) of plain network dependencies (monitoring, file shares, DNS, ...).
_NETWORK_PORTS: Final[tuple[tuple[int, str, float], ...]] = (
    (443, "tcp", 6),
    (80, "tcp", 3),
    (22, "tcp", 3),
    (445, "tcp", 2),
    (3389, "tcp", 1),
    (2049, "tcp", 1),
    (53, "udp", 2),
    (123, "udp", 1),
    (161, "udp", 1),
    (514, "udp", 1),
)
_DEPENDENCY_TYPES: Final[tuple[str, ...]] = ("database", "application", "network")
#: Ports of application-to-application calls when the target has no listener of its own.
_APPLICATION_PORTS: Final[tuple[int, ...]] = (443, 8080, 8443, 9092, 5672)

_FIRST_CREATED: Final[np.datetime64] = np.datetime64("2010-01-01", "D")
_LAST_CREATED: Final[np.datetime64] = np.datetime64("2024-12-31", "D")

_HEX_DIGITS: Final[npt.NDArray[np.uint8]] = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_SERIAL_ALPHABET: Final[npt.NDArray[np.uint8]] = np.frombuffer(
    b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", dtype=np.uint8
)
#: Vendor OUIs for bare-metal NICs (HPE, Dell, Lenovo); VMs get VMware's 00:50:56.
_PHYSICAL_OUIS: Final[tuple[str, ...]] = ("3c:a8:2a", "f4:02:70", "08:94:ef")
_VIRTUAL_OUI: Final[str] = "00:50:56"
_SERIAL_PREFIXES: Final[tuple[str, ...]] = ("CZJ", "SGH", "J30")


# --- vectorised helpers -----------------------------------------------------------------------------------
# Strings are built as fixed-width byte strings (numpy ``S``): concatenation, padding and fancy indexing then
# run in C on a quarter of the memory of ``U`` arrays, and Arrow takes them almost without copying.


def _weighted(rng: np.random.Generator, weights: Sequence[float], size: int) -> IntArray:
    """Indices drawn with the given relative weights (normalised here so catalogues stay readable)."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=size, p=p / p.sum()).astype(np.int64)


def _strs(values: Sequence[str]) -> BytesArray:
    """A catalogue as a byte-string array, so that fancy indexing maps codes to labels in C."""
    return np.asarray([value.encode() for value in values], dtype=np.bytes_)


def _cat(*parts: BytesArray | str) -> BytesArray:
    """Element-wise concatenation of byte-string arrays and ``str`` constants (a numpy ufunc, no loop)."""
    encoded = [part.encode() if isinstance(part, str) else part for part in parts]
    out: BytesArray = np.asarray(encoded[0], dtype=np.bytes_)
    for part in encoded[1:]:
        out = np.strings.add(out, part)
    return out


def _digits(values: IntArray, width: int) -> BytesArray:
    """Zero-padded decimal strings, e.g. ``7 -> b"0007"`` for ``width=4``."""
    return np.strings.zfill(values.astype(np.bytes_), width)


def _hex(raw: npt.NDArray[np.uint8]) -> BytesArray:
    """Lower-case hex of each row of bytes, built byte-wise and viewed as fixed-width strings."""
    n, k = raw.shape
    chars = np.empty((n, 2 * k), dtype=np.uint8)
    chars[:, 0::2] = _HEX_DIGITS[raw >> 4]
    chars[:, 1::2] = _HEX_DIGITS[raw & 0x0F]
    return chars.view(f"S{2 * k}").ravel()


def _octets(values: IntArray) -> npt.NDArray[np.uint8]:
    """The three low bytes of each value as an ``(n, 3)`` array, most significant first."""
    return np.stack([(values >> 16) & 0xFF, (values >> 8) & 0xFF, values & 0xFF], axis=1).astype(np.uint8)


def _pick_by_family(
    rng: np.random.Generator,
    family: IntArray,
    catalogue: Sequence[tuple[str, str, int, float]],
) -> tuple[BytesArray, IntArray]:
    """Per asset, a (label, port) from the catalogue entries of the asset's OS family.

    Loops over the three families only; within a family the draw is vectorised.
    """
    chosen = np.zeros(len(family), dtype=np.int64)
    for code, name in enumerate(_OS_FAMILIES):
        entries = np.asarray([i for i, entry in enumerate(catalogue) if entry[0] == name], dtype=np.int64)
        mask = family == code
        weights = [catalogue[i][3] for i in entries]
        chosen[mask] = entries[_weighted(rng, weights, int(mask.sum()))]
    labels = _strs([entry[1] for entry in catalogue])[chosen]
    ports = np.asarray([entry[2] for entry in catalogue], dtype=np.int64)[chosen]
    return labels, ports


@cache
def _text_dtype() -> pd.api.extensions.ExtensionDtype | None:
    """pandas' default string dtype when it is Arrow-backed (pandas 3 with pyarrow), else ``None``."""
    dtype = pd.Series(["x"]).dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        return dtype
    return None


def _text(values: BytesArray, present: BoolArray | None = None) -> pd.api.extensions.ExtensionArray:
    """A string column in pandas' default string dtype; missing (blank in the CSV) where not ``present``.

    Going through Arrow skips pandas' element-wise conversion of numpy strings, the slowest step of the
    whole generator otherwise; without pyarrow the generic (slower) conversion gives the same values.
    """
    dtype = _text_dtype()
    if dtype is not None:
        import pyarrow as pa

        arrow = pa.array(values, mask=None if present is None else ~present).cast(pa.string())
        return pd.array(arrow, dtype=dtype)
    decoded = np.strings.decode(values, "utf-8").astype(object)
    if present is not None:
        decoded[~present] = None
    return pd.Series(decoded).array


# --- generators ------------------------------------------------------------------------------------------


def _applications(rng: np.random.Generator, n_assets: int) -> tuple[IntArray, int]:
    """Application index of each asset: ~n/8 applications, every one non-empty, sizes uneven.

    Sizes follow a Dirichlet draw so that some applications are a single box and others dozens, as in
    real estates; the first ``n_apps`` assets seed one per application so none is empty.
    """
    n_apps = max(1, round(n_assets / ASSETS_PER_APPLICATION))
    shares = rng.dirichlet(np.full(n_apps, 2.0))
    rest = rng.choice(n_apps, size=n_assets - n_apps, p=shares)
    app_of = rng.permutation(np.concatenate([np.arange(n_apps), rest])).astype(np.int64)
    return app_of, n_apps


def _assets(
    rng: np.random.Generator, n: int
) -> tuple[pd.DataFrame, BytesArray, IntArray, IntArray, IntArray]:
    """The assets frame plus, per asset, its name, application, type code and listener port.

    The extra arrays feed the dependency generator, which then needs no lookups in the frame.
    """
    app_of, n_apps = _applications(rng, n)

    # Applications: name, business unit, owner and criticality are properties of the application.
    kind = rng.integers(0, len(_APPLICATION_KINDS), n_apps)
    app_names = _cat(
        _strs([k[0] for k in _APPLICATION_KINDS])[kind],
        "-",
        _digits(np.arange(1, n_apps + 1), 4),
    )
    app_units = _strs([k[1] for k in _APPLICATION_KINDS])[kind]
    app_owners = _cat(
        _strs(_FIRST_NAMES)[rng.integers(0, len(_FIRST_NAMES), n_apps)],
        ".",
        _strs(_LAST_NAMES)[rng.integers(0, len(_LAST_NAMES), n_apps)],
        "@example.com",
    )
    app_criticality = _weighted(rng, _CRITICALITY_WEIGHTS, n_apps)

    # Type, environment, physical/virtual.
    type_code = _weighted(rng, _ASSET_TYPE_WEIGHTS, n)
    env_code = _weighted(rng, _ENVIRONMENT_WEIGHTS, n)
    is_virtual = (type_code == 1) | ((type_code >= 2) & (rng.random(n) < _VIRTUAL_SHARE_DB_APP))

    # Names: the running number makes them unique, the prefix and suffix make them readable.
    width = max(4, len(str(n)))
    hostname = _cat(
        _strs(_HOST_PREFIX)[type_code],
        _digits(np.arange(1, n + 1), width),
        "-",
        _strs(_ENVIRONMENT_SUFFIX)[env_code],
    )
    fqdn = _cat(hostname, "." + DOMAIN)

    # Unique addresses in 10.0.0.0/8, last octet 1..254 (no network or broadcast addresses).
    ip_slot = rng.choice(MAX_ASSETS, size=n, replace=False).astype(np.int64)
    ip_address = _cat(
        "10.",
        ((ip_slot // 254) >> 8).astype(np.bytes_),
        ".",
        ((ip_slot // 254) & 0xFF).astype(np.bytes_),
        ".",
        (ip_slot % 254 + 1).astype(np.bytes_),
    )
    nic_bytes = _hex(_octets(rng.choice(1 << 24, size=n, replace=False).astype(np.int64)))
    oui = np.where(
        is_virtual,
        _VIRTUAL_OUI.encode(),
        _strs(_PHYSICAL_OUIS)[rng.integers(0, len(_PHYSICAL_OUIS), n)],
    )
    mac_address = _cat(
        oui,
        ":",
        np.strings.slice(nic_bytes, 0, 2),
        ":",
        np.strings.slice(nic_bytes, 2, 4),
        ":",
        np.strings.slice(nic_bytes, 4, 6),
    )

    # CMDB ids increase with the running number but skip values, as ids of deleted CIs do.
    ci_number = 1_000_000 + np.arange(n, dtype=np.int64) * 7 + rng.integers(0, 7, n)
    external_id = _cat("CI", ci_number.astype(np.bytes_))
    raw_uuid = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw_uuid[:, 6] = (raw_uuid[:, 6] & 0x0F) | 0x40  # version 4
    raw_uuid[:, 8] = (raw_uuid[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    vm_uuid = _cat(
        _hex(raw_uuid[:, 0:4]),
        "-",
        _hex(raw_uuid[:, 4:6]),
        "-",
        _hex(raw_uuid[:, 6:8]),
        "-",
        _hex(raw_uuid[:, 8:10]),
        "-",
        _hex(raw_uuid[:, 10:16]),
    )
    serial_chars = _SERIAL_ALPHABET[rng.integers(0, len(_SERIAL_ALPHABET), size=(n, 7))]
    serial_number = _cat(
        _strs(_SERIAL_PREFIXES)[rng.integers(0, len(_SERIAL_PREFIXES), n)],
        np.ascontiguousarray(serial_chars).view("S7").ravel(),
    )

    # Operating system: unix only on bare metal, so VMs and physical boxes draw from different weights.
    os_on_vm = _weighted(rng, [entry[3] for entry in _OPERATING_SYSTEMS], n)
    os_on_metal = _weighted(rng, [entry[4] for entry in _OPERATING_SYSTEMS], n)
    os_code = np.where(is_virtual, os_on_vm, os_on_metal)
    os_family_code = np.asarray([_OS_FAMILIES.index(entry[0]) for entry in _OPERATING_SYSTEMS])[os_code]
    os_name = _strs([entry[1] for entry in _OPERATING_SYSTEMS])[os_code]
    os_version = _strs([entry[2] for entry in _OPERATING_SYSTEMS])[os_code]

    # Sizing: cores first, memory in proportion (databases get more per core), disks from capacity.
    cores_values = np.asarray(_VIRTUAL_CORES, dtype=np.int64)
    cpu_cores = np.where(
        is_virtual,
        cores_values[_weighted(rng, _VIRTUAL_CORE_WEIGHTS, n)],
        cores_values[_weighted(rng, _PHYSICAL_CORE_WEIGHTS, n)],
    )
    cpu_sockets = np.where(
        is_virtual,
        np.where(rng.random(n) < 0.5, cpu_cores, 1),
        np.where(cpu_cores >= 8, 2, 1),
    ).astype(np.int64)
    is_database = type_code == 2
    gb_per_core = np.where(
        is_database,
        np.asarray([4, 8, 16])[_weighted(rng, (0.3, 0.5, 0.2), n)],
        np.asarray([2, 4, 8])[_weighted(rng, (0.25, 0.5, 0.25), n)],
    )
    memory_gb = (cpu_cores * gb_per_core).astype(np.int64)
    storage_median = np.where(is_database, 500.0, np.where(is_virtual, 100.0, 300.0))
    storage_gb = np.maximum(
        20, np.round(storage_median * rng.lognormal(0.0, 0.8, n) / 10.0).astype(np.int64) * 10
    )
    storage_used_gb = np.round(storage_gb * rng.uniform(0.15, 0.95, n), 1)
    disk_count = (1 + np.minimum(storage_gb // 250, 9) + rng.integers(0, 2, n)).astype(np.int64)
    nic_count = np.asarray([1, 2, 4], dtype=np.int64)[_weighted(rng, (0.7, 0.25, 0.05), n)]
    nic_count = np.where(is_virtual, nic_count, np.maximum(nic_count, 2))

    # Power: bare metal cannot be suspended, so a draw of "suspended" becomes "off" there.
    power_code = _weighted(rng, _POWER_WEIGHTS, n)
    power_code = np.where(~is_virtual & (power_code == 2), 1, power_code)
    is_on = power_code == 0

    # Placement: DR assets in the DR site, the others in one of the primary datacenters.
    dc_names = _strs([*_PRIMARY_DATACENTERS, _DR_DATACENTER])
    dc_code = np.where(
        env_code == _ENVIRONMENTS.index("dr"),
        len(_PRIMARY_DATACENTERS),
        _weighted(rng, _PRIMARY_DATACENTER_WEIGHTS, n),
    )
    datacenter = dc_names[dc_code]
    cluster_code = rng.integers(0, len(_CLUSTER_PLATFORMS), n)
    cluster_number = _digits(cluster_code + 1, 2)
    cluster = _cat(datacenter, "-cl", cluster_number)
    hypervisor_host = _cat(
        _strs(_CLUSTER_HOST_PREFIX)[cluster_code],
        "-",
        datacenter,
        "-c",
        cluster_number,
        "-",
        _digits(rng.integers(1, _HOSTS_PER_CLUSTER + 1, n), 2),
        "." + DOMAIN,
    )
    platform = _strs(_CLUSTER_PLATFORMS)[cluster_code]

    # Ownership and criticality come from the application; non-production is one level less critical.
    criticality = app_criticality[app_of]
    non_production = np.isin(env_code, [1, 2, 3])
    criticality = np.where(non_production, np.maximum(criticality - 1, 0), criticality)

    # Description: the engine for databases, the middleware for application tiers, a role otherwise.
    engine, db_port = _pick_by_family(rng, os_family_code, _DB_ENGINES)
    middleware, app_port = _pick_by_family(rng, os_family_code, _MIDDLEWARE)
    role = _strs(_SERVER_ROLES)[rng.integers(0, len(_SERVER_ROLES), n)]
    app_name = app_names[app_of]
    description = np.where(
        is_database,
        _cat(engine, " database for ", app_name),
        np.where(
            type_code == 3,
            _cat(middleware, " application server for ", app_name),
            _cat(role, " for ", app_name),
        ),
    )
    service_port = np.where(is_database, db_port, np.where(type_code == 3, app_port, 0)).astype(np.int64)

    # Utilisation in percent; peak = avg + a share of the headroom, so peak >= avg by construction
    # (rounding to one decimal is monotone and keeps the order). Anything not powered on is idle.
    cpu_avg = rng.beta(2.0, 5.0, n) * 100.0
    cpu_peak = cpu_avg + (100.0 - cpu_avg) * rng.beta(2.0, 2.5, n)
    mem_avg = rng.beta(4.0, 3.0, n) * 100.0
    mem_peak = mem_avg + (100.0 - mem_avg) * rng.beta(2.0, 4.0, n)
    iops = rng.lognormal(np.log(150.0), 1.0, n) * np.where(is_database, 5.0, 1.0)
    throughput = rng.lognormal(np.log(20.0), 1.2, n)

    def utilisation(values: FloatArray, decimals: int = 1) -> FloatArray:
        """Rounded, clipped to 0..100 and zero when not powered on."""
        return np.where(is_on, np.clip(np.round(values, decimals), 0.0, 100.0), 0.0)

    days = rng.integers(0, int((_LAST_CREATED - _FIRST_CREATED).astype(np.int64)) + 1, n)
    created = _FIRST_CREATED + days.astype("timedelta64[D]")
    created_date = np.datetime_as_string(created, unit="D").astype("S10")

    columns: dict[str, object] = {
        "asset_name": _text(hostname),
        "asset_type": _text(_strs(_ASSET_TYPES)[type_code]),
        "hostname": _text(hostname),
        "fqdn": _text(fqdn),
        "ip_address": _text(ip_address),
        "mac_address": _text(mac_address),
        "external_id": _text(external_id),
        "vm_uuid": _text(vm_uuid, is_virtual),
        "serial_number": _text(serial_number, ~is_virtual),
        "os_family": _text(_strs(_OS_FAMILIES)[os_family_code]),
        "os_name": _text(os_name),
        "os_version": _text(os_version),
        "cpu_cores": cpu_cores,
        "cpu_sockets": cpu_sockets,
        "memory_gb": memory_gb,
        "storage_gb": storage_gb,
        "storage_used_gb": storage_used_gb,
        "disk_count": disk_count,
        "nic_count": nic_count,
        "power_state": _text(_strs(_POWER_STATES)[power_code]),
        "environment": _text(_strs(_ENVIRONMENTS)[env_code]),
        "datacenter": _text(datacenter),
        "cluster": _text(cluster, is_virtual),
        "hypervisor_host": _text(hypervisor_host, is_virtual),
        "virtualization_platform": _text(platform, is_virtual),
        "application_name": _text(app_name),
        "business_unit": _text(app_units[app_of]),
        "owner": _text(app_owners[app_of]),
        "business_criticality": _text(_strs(_CRITICALITIES)[criticality]),
        "description": _text(description),
        "cpu_utilization_avg": utilisation(cpu_avg),
        "cpu_utilization_peak": utilisation(cpu_peak),
        "memory_utilization_avg": utilisation(mem_avg),
        "memory_utilization_peak": utilisation(mem_peak),
        "iops_avg": np.where(is_on, np.round(iops, 1), 0.0),
        "network_throughput_mbps": np.where(is_on, np.round(throughput, 2), 0.0),
        "created_date": _text(created_date),
    }
    assets = pd.DataFrame({name: columns[name] for name in ASSET_COLUMNS})
    return assets, hostname, app_of, type_code, service_port


def _dependency_pairs(
    rng: np.random.Generator, app_of: IntArray, n_apps: int, target: int
) -> tuple[IntArray, IntArray]:
    """``target`` distinct (source, target) index pairs without self-loops, ~80% inside an application.

    Candidates are drawn in batches, self-loops dropped and duplicates removed keeping the first
    occurrence (so the result depends only on the seed); batches repeat until enough pairs exist.
    Random direction on a dense intra-application graph produces cycles, as real estates have.
    """
    n = len(app_of)
    target = min(target, n * (n - 1))
    if target <= 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty
    members = np.argsort(app_of, kind="stable")
    sizes = np.bincount(app_of, minlength=n_apps)
    starts = np.cumsum(sizes) - sizes
    chosen = np.empty(0, dtype=np.int64)
    for _ in range(_MAX_DEPENDENCY_ROUNDS):
        missing = target - len(chosen)
        if missing <= 0:
            break
        batch = int(missing * 1.3) + 32
        source = rng.integers(0, n, batch)
        app = app_of[source]
        same_app = members[starts[app] + (rng.random(batch) * sizes[app]).astype(np.int64)]
        anywhere = rng.integers(0, n, batch)
        dest = np.where(rng.random(batch) < INTRA_APPLICATION_SHARE, same_app, anywhere)
        codes = np.concatenate([chosen, (source * n + dest)[source != dest]])
        _, first = np.unique(codes, return_index=True)
        chosen = codes[np.sort(first)]
    chosen = np.sort(chosen[:target])
    return chosen // n, chosen % n


def _dependencies(
    rng: np.random.Generator,
    names: BytesArray,
    app_of: IntArray,
    type_code: IntArray,
    service_port: IntArray,
    target: int,
) -> pd.DataFrame:
    """Dependencies typed by what the target is: a database, another application, or plain network."""
    n_apps = int(app_of.max()) + 1
    source, dest = _dependency_pairs(rng, app_of, n_apps, target)
    m = len(source)
    to_database = type_code[dest] == 2
    to_application = ~to_database & ((type_code[dest] == 3) | (app_of[source] != app_of[dest]))
    network_choice = _weighted(rng, [entry[2] for entry in _NETWORK_PORTS], m)
    network_port = np.asarray([entry[0] for entry in _NETWORK_PORTS], dtype=np.int64)[network_choice]
    network_protocol = _strs([entry[1] for entry in _NETWORK_PORTS])[network_choice]
    fallback_app_port = np.asarray(_APPLICATION_PORTS, dtype=np.int64)[
        rng.integers(0, len(_APPLICATION_PORTS), m)
    ]
    kind = np.where(to_database, 0, np.where(to_application, 1, 2))
    listener = service_port[dest]
    port = np.where(
        to_database,
        listener,
        np.where(to_application, np.where(listener > 0, listener, fallback_app_port), network_port),
    )
    return pd.DataFrame(
        {
            "source_asset_name": _text(names[source]),
            "target_asset_name": _text(names[dest]),
            "dependency_type": _text(_strs(_DEPENDENCY_TYPES)[kind]),
            "port": port.astype(np.int64),
            "protocol": _text(np.where(to_database | to_application, b"tcp", network_protocol)),
        },
        columns=list(DEPENDENCY_COLUMNS),
    )


def generate_inventory(
    n_assets: int, *, seed: int = 42, dependencies_per_asset: float = 3.0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A realistic synthetic inventory: ``(assets, dependencies)``, identical for identical arguments.

    ``assets`` has exactly :data:`ASSET_COLUMNS`; ``dependencies`` has :data:`DEPENDENCY_COLUMNS` with
    ``round(n_assets * dependencies_per_asset)`` distinct, self-loop-free edges between existing asset
    names (fewer only when the graph cannot hold that many: ``n * (n - 1)`` pairs at most).
    """
    if not 1 <= n_assets <= MAX_ASSETS:
        raise ValueError(f"n_assets must be between 1 and {MAX_ASSETS}, got {n_assets}")
    if not (math.isfinite(dependencies_per_asset) and dependencies_per_asset >= 0):
        raise ValueError(f"dependencies_per_asset must be a finite number >= 0, got {dependencies_per_asset}")
    rng = np.random.default_rng(seed)
    assets, names, app_of, type_code, service_port = _assets(rng, n_assets)
    dependencies = _dependencies(
        rng, names, app_of, type_code, service_port, round(n_assets * dependencies_per_asset)
    )
    return assets, dependencies


def write_inventory(
    directory: Path, n_assets: int, *, seed: int = 42, dependencies_per_asset: float = 3.0
) -> tuple[Path, Path]:
    """Write ``inventory.csv`` and ``dependencies.csv`` (UTF-8, header row) and return their paths.

    Line endings are fixed to ``\\n`` so that the files are byte-identical on every platform, which is
    what lets the tests compare the shipped sample with a fresh generation.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    assets, dependencies = generate_inventory(
        n_assets, seed=seed, dependencies_per_asset=dependencies_per_asset
    )
    inventory_path = directory / "inventory.csv"
    dependencies_path = directory / "dependencies.csv"
    assets.to_csv(inventory_path, index=False, encoding="utf-8", lineterminator="\n")
    dependencies.to_csv(dependencies_path, index=False, encoding="utf-8", lineterminator="\n")
    return inventory_path, dependencies_path
