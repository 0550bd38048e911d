"""Final-action claims, hand-worked cases (rule in allpayer.compute.final_action and docs/intake.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import ibis
import pyarrow as pa

from allpayer.compute.final_action import final_action

D = dt.date


def _claims(rows: list[tuple]) -> ibis.Table:
    names = ["data_source", "claim_id", "claim_line_number", "claim_status", "original_claim_id", "file_date",
             "paid_date", "paid_amount"]
    columns = list(zip(*rows, strict=True))
    columns[-1] = tuple(Decimal(v) for v in columns[-1])
    types = [pa.string(), pa.string(), pa.int64(), pa.string(), pa.string(), pa.date32(), pa.date32(),
             pa.decimal128(18, 2)]
    return ibis.memtable(pa.table({n: pa.array(c, t) for n, c, t in zip(names, columns, types, strict=True)}))


def _final(rows: list[tuple]) -> list[tuple]:
    result = final_action(_claims(rows)).to_pyarrow().to_pylist()
    return sorted((r["claim_id"], r["claim_line_number"], str(r["paid_amount"]), r["family_id"]) for r in result)


def test_original_alone_is_final():
    rows = [("mc", "A", 1, "original", None, D(2020, 2, 1), D(2020, 2, 3), "100.00"),
            ("mc", "A", 2, "original", None, D(2020, 2, 1), D(2020, 2, 3), "50.00")]
    assert _final(rows) == [("A", 1, "100.00", "A"), ("A", 2, "50.00", "A")]


def test_adjustment_replaces_original_with_its_own_amounts():
    # Original paid 100 + 50; the adjustment re-states the claim as one line of 120. Final total is 120,
    # not 270 (no summing across versions) and not 150.
    rows = [("mc", "A", 1, "original", None, D(2020, 2, 1), None, "100.00"),
            ("mc", "A", 2, "original", None, D(2020, 2, 1), None, "50.00"),
            ("mc", "A-1", 1, "adjustment", "A", D(2020, 4, 1), None, "120.00")]
    assert _final(rows) == [("A-1", 1, "120.00", "A")]


def test_reversal_cancels_the_family():
    rows = [("mc", "B", 1, "original", None, D(2020, 2, 1), None, "80.00"),
            ("mc", "B-R", 1, "reversal", "B", D(2020, 3, 1), None, "-80.00")]
    assert _final(rows) == []


def test_reversal_then_readjudication_keeps_the_latest():
    rows = [("mc", "C", 1, "original", None, D(2020, 2, 1), None, "80.00"),
            ("mc", "C-R", 1, "reversal", "C", D(2020, 3, 1), None, "-80.00"),
            ("mc", "C-2", 1, "adjustment", "C", D(2020, 5, 1), None, "95.00")]
    assert _final(rows) == [("C-2", 1, "95.00", "C")]


def test_denial_drops_out_and_same_day_tie_prefers_the_later_status():
    rows = [("mc", "D", 1, "denial", None, D(2020, 2, 1), None, "0.00"),
            ("mc", "E", 1, "original", None, D(2020, 2, 1), None, "40.00"),
            ("mc", "E-1", 1, "adjustment", "E", D(2020, 2, 1), None, "45.00")]
    assert _final(rows) == [("E-1", 1, "45.00", "E")]


def test_paid_date_dates_a_version_without_file_date_and_sources_stay_apart():
    rows = [("mc", "F", 1, "original", None, None, D(2020, 2, 10), "10.00"),
            ("mc", "F-1", 1, "adjustment", "F", None, D(2020, 1, 5), "12.00"),  # older: loses
            ("rx", "F", 1, "original", None, None, D(2020, 2, 10), "7.00")]
    result = final_action(_claims(rows)).to_pyarrow().to_pylist()
    assert sorted((r["data_source"], r["claim_id"], str(r["paid_amount"])) for r in result) == [
        ("mc", "F", "10.00"), ("rx", "F", "7.00")]
