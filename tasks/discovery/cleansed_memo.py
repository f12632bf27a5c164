"""The cleansing step's results, kept in memory for the inventory step of the same phase run.

Both steps need every inventory row cleansed: cleansing to report problems and gate the rows,
inventory to build assets from them. The steps of a phase run in one process, one after the
other, so the inventory step takes what the cleansing step computed instead of reading and
cleansing every row a second time (at 100,000 rows: about 4 s of reading and 2 s of rules).

Nothing here is trusted beyond what the key proves: the phase run, the import, the sheet, the
mappings and units the rows were cleansed with and the rules version. Raw rows do not change
after their import (their partition is sealed). A miss (a retried inventory step, another
process, changed mappings) just cleanses again, so the memo can only save work, never change
a result. It holds one phase run at a time and each entry is taken once.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Hashable

import pandas as pd

from tasks.discovery.cleansing.engine import Cleansed

MemoKey = tuple[uuid.UUID, uuid.UUID, str, Hashable]

_lock = threading.Lock()
_entries: dict[MemoKey, tuple[pd.DataFrame, Cleansed]] = {}


def remember(key: MemoKey, raw: pd.DataFrame, result: Cleansed) -> None:
    """Keep ``result`` for ``key``; entries of any other phase run are dropped."""
    with _lock:
        for stale in [k for k in _entries if k[0] != key[0]]:
            del _entries[stale]
        _entries[key] = (raw, result)


def take(key: MemoKey) -> tuple[pd.DataFrame, Cleansed] | None:
    """The entry for ``key``, removed from the memo; ``None`` when there is none."""
    with _lock:
        return _entries.pop(key, None)


def forget(phase_flow_id: uuid.UUID) -> None:
    """Drop what a phase run left (its inventory step did not run, or did not take everything)."""
    with _lock:
        for key in [k for k in _entries if k[0] == phase_flow_id]:
            del _entries[key]
