"""How a dependency list names one end of a connection: a host, an FQDN or an IP, maybe with a port.

netstat writes ``10.0.0.5:443`` and ``[fe80::1]:443`` in one cell, flow exports write the host
and the port in two columns, and ``*:*`` or ``0.0.0.0`` mean "any" (a listening socket, not a
peer). The grammar is written once here as regular expressions that mean the same in Python
and in PostgreSQL (no look-around, no lazy quantifiers, no back-references), so the set-based SQL of
``db.repositories.dependencies`` and this pure parser agree, and a test holds them to it.
"""

from __future__ import annotations

import re

#: One endpoint cell: ``[v6 address]`` (group 1) or a host without colons (group 2), then maybe
#: ``:port`` or ``:*`` (group 3). A bare IPv6 address (several colons) does not match: it is a host.
ENDPOINT = r"^(?:\[([^]]*)\]|([^:]*))(?::([0-9]{1,5}|\*))?$"
#: A port cell: ``443``, ``443/tcp``, ``tcp/443``; the number is group 1 or 3.
PORT_CELL = r"^([0-9]{1,5})(/[a-z]+)?$|^[a-z]+/([0-9]{1,5})$"
#: Hosts that name no peer: wildcards, unspecified and loopback addresses.
NO_PEER = ("", "*", "0.0.0.0", "::", "127.0.0.1", "::1", "localhost")
#: Dotted IPv4, or anything with two colons (IPv6): never shortened to a "short name".
IP_LIKE = r"^[0-9]{1,3}(\.[0-9]{1,3}){3}$|:.*:"
#: Ports from here on are ephemeral (Linux starts at 32768, Windows at 49152): a client's side.
EPHEMERAL_PORT = 32768


def split_endpoint(cell: str | None) -> tuple[str | None, int | None]:
    """``' Web01.corp:8080 '`` -> ``('web01.corp', 8080)``; ``'*:*'`` -> ``(None, None)``.

    Hosts are lower-cased and lose a trailing dot (``web01.corp.`` is the same FQDN); a port
    outside 1..65535 or ``*`` is no port.
    """
    text = (cell or "").strip().lower()
    host, port = text, None
    if (found := re.match(ENDPOINT, text)) is not None:
        host, port = found.group(1) or found.group(2) or "", found.group(3)
    host = host.strip().rstrip(".")
    number = int(port) if port and port.isdigit() and 0 < int(port) <= 65535 else None
    return (None if host in NO_PEER else host), number


def short_name(host: str) -> str | None:
    """``web01.corp.example.com`` -> ``web01``; an IP address or a name without a dot -> None."""
    if re.search(IP_LIKE, host) or "." not in host:
        return None
    return host.split(".", 1)[0]


def parse_port(cell: str | None) -> int | None:
    """``'443'``, ``'443/TCP'``, ``'tcp/443'`` -> 443; anything else (or 0, or > 65535) -> None."""
    found = re.match(PORT_CELL, (cell or "").strip().lower())
    if found is None:
        return None
    number = int(found.group(1) or found.group(3))
    return number if 0 < number <= 65535 else None
