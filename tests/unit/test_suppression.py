"""Small-cell suppression: primary (1-10 persons) and complementary suppression, worked by hand, plus the
property that no published total lets a hidden cell be recovered."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from allpayer.reporting.suppression import FLAG, suppress


def hidden(frame: pd.DataFrame, key: str) -> set:
    return set(frame.loc[frame[FLAG], key])


def test_one_small_cell_hides_the_next_smallest_of_its_group():
    # a = 5 persons is primary; b = 20 is the smallest shown cell of the group, so it is hidden too
    cells = pd.DataFrame({"cell": ["a", "b", "c", "d"], "persons": [5, 20, 30, 40], "pmpm": [1.0, 2.0, 3.0, 4.0]})
    out = suppress(cells, ["persons"], ["pmpm"], [[]])
    assert hidden(out, "cell") == {"a", "b"}
    assert out.loc[out["cell"] == "a", "pmpm"].item() is None
    assert out.loc[out["cell"] == "c", "pmpm"].item() == 3.0


def test_two_small_cells_need_no_complement_and_zero_is_shown():
    cells = pd.DataFrame({"cell": ["a", "b", "c", "z"], "persons": [3, 4, 50, 0]})
    assert hidden(suppress(cells, ["persons"], [], [[]]), "cell") == {"a", "b"}


def test_without_groupings_only_primary_cells_are_hidden():
    cells = pd.DataFrame({"cell": ["a", "b", "c"], "persons": [10, 11, 12]})
    assert hidden(suppress(cells, ["persons"], []), "cell") == {"a"}


def test_complements_propagate_across_rows_and_columns():
    # 2018-A (5) is primary. Year 2018 then hides its smallest other cell, B (30). Payer A hides 2019-A (25) and
    # payer B hides 2019-B (35); every year and every payer now hides 0 or 2 cells.
    cells = pd.DataFrame({"year": [2018, 2018, 2018, 2019, 2019, 2019], "payer": list("ABCABC"),
                          "persons": [5, 30, 40, 25, 35, 45]})
    out = suppress(cells, ["persons"], [], [["year"], ["payer"]])
    assert set(zip(out.loc[out[FLAG], "year"], out.loc[out[FLAG], "payer"], strict=True)) == {
        (2018, "A"), (2018, "B"), (2019, "A"), (2019, "B")}


def test_any_small_count_column_hides_the_cell():
    # 27 of 29 attributed: the 2 not attributed would identify persons
    cells = pd.DataFrame({"hsa": ["x", "y", "z"], "numerator": [27, 40, 50], "denominator": [29, 80, 90]})
    cells["not_attributed"] = cells["denominator"] - cells["numerator"]
    out = suppress(cells, ["numerator", "denominator", "not_attributed"], [], [[]])
    assert hidden(out, "hsa") == {"x", "y"}


def test_upstream_flag_is_kept():
    cells = pd.DataFrame({"cell": ["a", "b", "c"], "persons": [None, 40, 50], FLAG: [True, False, False]})
    assert hidden(suppress(cells, ["persons"], [], [[]]), "cell") == {"a", "b"}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 40)), min_size=1, max_size=30))
def test_no_group_hides_exactly_one_of_several_cells(cells):
    frame = pd.DataFrame(cells, columns=["group", "persons"])
    out = suppress(frame, ["persons"], [], [["group"]])
    small = (frame["persons"] > 0) & (frame["persons"] < 11)
    assert out.loc[small.to_numpy(), FLAG].all()
    per_group = out.groupby("group")[FLAG].agg(["sum", "size"])
    assert not ((per_group["sum"] == 1) & (per_group["size"] > 1)).any()
    assert out.loc[out[FLAG], "persons"].isna().all()
