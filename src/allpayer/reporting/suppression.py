"""Small-cell suppression for public and employer outputs (domain.md §7; the CMS cell-size rule).

A cell built from 1 to ``threshold - 1`` persons is suppressed (primary). So that a suppressed cell cannot be
recovered by subtracting the others from a total, every group of cells that adds up to a shown total must hide
either none or at least two cells: when a group hides exactly one, its smallest shown cell is hidden too
(complementary). Repeated over all groupings until nothing changes, since a complementary cell in one grouping
can leave another grouping with a single hidden cell. Zero counts are shown: they disclose no person.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

THRESHOLD = 11
FLAG = "suppressed"


def suppress(frame: pd.DataFrame, counts: Sequence[str], values: Sequence[str],
             groupings: Sequence[Sequence[str]] = (), threshold: int = THRESHOLD) -> pd.DataFrame:
    """A copy of ``frame`` with ``FLAG`` (bool) and, where it is true, ``counts`` and ``values`` set to null.

    ``counts``: person-count columns (a cell is small when any is in 1..threshold-1; the first ranks candidates
    for complementary suppression). ``groupings``: key columns whose groups sum to a published total (use
    ``[]`` for one group spanning the whole frame)."""
    out = frame.reset_index(drop=True).copy()
    if out.empty:
        return out.assign(**{FLAG: pd.Series(dtype=bool)})
    small = pd.concat([(out[c] > 0) & (out[c] < threshold) for c in counts], axis=1).any(axis=1)
    hidden = small.fillna(False).astype(bool)
    if FLAG in out.columns:  # already suppressed upstream (e.g. quality_measure): stays hidden
        hidden = hidden | out[FLAG].fillna(False).astype(bool)
    changed = True
    while changed:  # at most one pass per row; usually two or three
        before = int(hidden.sum())
        for keys in groupings:
            hidden = hidden | _complement(out, hidden, list(keys), counts[0])
        changed = int(hidden.sum()) != before
    out[FLAG] = hidden
    for column in [*counts, *values]:
        out[column] = out[column].astype(object).where(~hidden, None)
    return out


def _complement(frame: pd.DataFrame, hidden: pd.Series, keys: list[str], count: str) -> pd.Series:
    """Cells to hide so that no group of ``keys`` hides exactly one of several cells."""
    def groups(mask: pd.Series) -> list:
        return [frame.loc[mask, k] for k in keys] if keys else [pd.Series(0, index=frame.index[mask])]

    everything = pd.Series(True, index=frame.index)
    hidden_in_group = hidden.groupby(groups(everything), dropna=False).transform("sum")
    cells_in_group = hidden.groupby(groups(everything), dropna=False).transform("size")
    needs = (hidden_in_group == 1) & (cells_in_group > 1) & ~hidden
    rank = frame.loc[needs, count].astype(float).groupby(groups(needs), dropna=False).rank(method="first")
    chosen = pd.Series(False, index=frame.index)
    chosen[rank.index[rank == 1]] = True
    return chosen
