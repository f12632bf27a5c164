"""Which column of a dependency list is which end, port, protocol, time or count.

Dependency lists come in a few shapes: Azure Migrate's export (server names, an IP column per
side, a Timeslot), CMDB relationships (parent, child, type), flow/firewall logs (src_ip, dst_ip,
dst_port) and netstat output (Local Address, Foreign Address with ``host:port`` in one cell).
Headers decide first (aliases, compared as normalised headers); when they name no ends, the
values do: the first two columns whose values look like hosts, addresses or ``host:port`` are
source and target, and a column of whole numbers in 1..65535 is the port.
"""

from __future__ import annotations

import re

import pandas as pd

from mfactory.canonical import normalise_header
from mfactory.endpoints import parse_port, split_endpoint
from tasks.discovery.mapping.proposal import ColumnMapping

DEPENDENCY_FIELDS: dict[str, tuple[str, ...]] = {
    "source": (
        "source",
        "source_asset_name",
        "source_server_name",
        "source_server",
        "source_name",
        "parent",
        "from",
        "src",
        "source_host",
        "src_host",
        "source_hostname",
        "client",
        "local_address",
        "local",
        "local_host",
        "source_address",
        "src_addr",
        "srcaddr",
        "laddr",
    ),
    "target": (
        "target",
        "target_asset_name",
        "destination_server_name",
        "destination_server",
        "destination_name",
        "child",
        "to",
        "dst",
        "dest",
        "destination",
        "target_host",
        "dst_host",
        "destination_host",
        "destination_hostname",
        "server",
        "foreign_address",
        "remote_address",
        "remote",
        "foreign",
        "peer_address",
        "destination_address",
        "dst_addr",
        "dstaddr",
        "raddr",
    ),
    "source_ip": ("source_ip", "src_ip", "source_ip_address", "client_ip", "local_ip"),
    "target_ip": (
        "target_ip",
        "destination_ip",
        "dst_ip",
        "dest_ip",
        "destination_ip_address",
        "server_ip",
        "remote_ip",
        "foreign_ip",
    ),
    "dependency_type": ("dependency_type", "type", "relationship_type", "relation", "kind"),
    "port": (
        "port",
        "destination_port",
        "target_port",
        "dst_port",
        "dest_port",
        "remote_port",
        "server_port",
        "service_port",
    ),
    "protocol": ("protocol", "transport", "proto", "ip_protocol"),
    "observed_at": (
        "timeslot",
        "time_slot",
        "timestamp",
        "time",
        "observed_at",
        "seen_at",
        "date",
        "last_seen",
        "start_time",
    ),
    "observations": ("count", "observations", "connections", "connection_count", "hits", "sessions", "flows"),
}
FIELDS = tuple(DEPENDENCY_FIELDS)
#: Share of sampled non-empty values that must fit for the values to decide a column.
VALUE_SHARE = 0.8
_HOSTNAME = re.compile(r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9_-]*[a-z0-9])?)*$")
_IPV4 = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,3}){3}$")


def looks_like_endpoint(value: str) -> bool:
    """``10.0.0.5:443``, ``[fe80::1]:22``, ``web01.corp``, ``db-02``: a host (maybe with a port)."""
    text = value.strip().lower()
    if not text or text.isdigit():
        return False
    host, port = split_endpoint(text)
    if host is None:
        return text in ("*:*", "0.0.0.0:*") or port is not None
    return bool(_IPV4.match(host) or host.count(":") >= 2 or _HOSTNAME.match(host))


def _share(values: pd.Series, test: object) -> float:
    filled = values.astype(str).str.strip()
    filled = filled[filled != ""]
    if filled.empty:
        return 0.0
    return float(filled.map(test).mean())  # type: ignore[arg-type]


def map_dependency_columns(headers: list[str], sample: pd.DataFrame | None = None) -> list[ColumnMapping]:
    """Map a dependency list's columns to the fields above; values decide where headers do not."""
    index = {normalise_header(a): f for f, aliases in DEPENDENCY_FIELDS.items() for a in aliases}
    chosen: dict[str, ColumnMapping] = {}
    taken: set[str] = set()
    for header in headers:
        target = index.get(normalise_header(header))
        if target is not None and target not in taken:
            taken.add(target)
            chosen[header] = ColumnMapping(header, target, 0.9, "alias")
    has_ends = {"source", "source_ip"} & taken and {"target", "target_ip"} & taken
    if sample is not None and not has_ends:
        free = [h for h in headers if h not in chosen and h in sample.columns]
        ends = [h for h in free if _share(sample[h], looks_like_endpoint) >= VALUE_SHARE]
        for header, field in zip(ends, ("source", "target"), strict=False):
            if field not in taken:
                taken.add(field)
                chosen[header] = ColumnMapping(
                    header, field, 0.7, "signature", evidence={"values": "hosts, addresses or host:port"}
                )
        if "port" not in taken:
            for header in (h for h in free if h not in chosen):
                if _share(sample[header], lambda v: parse_port(v) is not None) >= VALUE_SHARE:
                    taken.add("port")
                    chosen[header] = ColumnMapping(
                        header, "port", 0.7, "signature", evidence={"values": "ports"}
                    )
                    break
    return [chosen.get(h) or ColumnMapping(h, None, 0.0, "unmapped") for h in headers]
