"""One canonical field per column and one column per field, chosen for the whole sheet at once.

Why jointly: a sheet often has two candidates for one field (``Provisioned MiB`` and
``Total disk capacity MiB``; the OS by config file and by VMware Tools). Picking each
column's best field on its own gives the field twice; an optimal assignment (Hungarian, on
the scores against "unmapped") gives it to the column with the strongest evidence and lets
the other fall to "unmapped" or to its next best field.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

Array = npt.NDArray[np.float64]
_UNUSABLE = 1e9


def assign(scores: Array, *, forced: dict[int, int | None] | None = None) -> list[int | None]:
    """Field index per column (``None`` = unmapped), maximising the summed scores.

    ``scores[i, j]`` is column ``i``'s log-odds of field ``j`` against "unmapped": only
    positive scores are worth taking. ``forced`` pins columns to a field (or to unmapped)
    first: what a user confirmed or a known format documents is not re-decided.
    """
    n, m = scores.shape
    forced = forced or {}
    result: list[int | None] = [forced.get(i) for i in range(n)]
    taken = sorted({f for f in forced.values() if f is not None})
    free = [i for i in range(n) if i not in forced]
    if not free or m == 0:
        return result
    gain = scores[free].astype(float)
    gain -= np.arange(len(free))[:, None] * 1e-6  # on a tie the earlier column wins
    gain[:, taken] = -np.inf
    usable = gain > 0
    cost = np.hstack([np.where(usable, -gain, _UNUSABLE), np.zeros((len(free), len(free)))])
    rows, cols = linear_sum_assignment(cost)
    for r, c in zip(rows, cols, strict=True):
        if c < m and usable[r, c]:
            result[free[r]] = int(c)
    return result
