"""CSV cells that a spreadsheet would run as a formula are written inert (a leading apostrophe).

Inventory values come from client exports; an asset named ``=HYPERLINK(...)`` must not become a
live formula in the errors file or in the Jira import someone opens in Excel.
"""

from __future__ import annotations

from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def inert(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value
