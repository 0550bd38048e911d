"""Invariants of the intake checks and final-action resolution (hypothesis)."""

from __future__ import annotations

import datetime as dt

import ibis
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from allpayer.compute.final_action import final_action
from allpayer.intake import validate
from allpayer.intake.adapters import INPUTS
from allpayer.intake.contract import PHARMACY_CLAIM
from allpayer.intake.rules import RULES

SPEC = INPUTS["pharmacy_claim"]
SETTINGS = validate.IntakeSettings(max_date=dt.date(2026, 1, 1))
CON = ibis.duckdb.connect()

VALUES = {
    "claim_id": st.sampled_from(["A", "B", "C", None]),
    "claim_line_number": st.sampled_from(["1", "2", "x", None]),
    "data_source": st.sampled_from(["rx", None]),
    "person_id": st.sampled_from(["p1", "p2", "ghost", None]),
    "payer": st.sampled_from(["medicaid", None]),
    "dispensing_date": st.sampled_from(["2020-01-05", "2020-13-01", "1850-01-01", None]),
    "paid_date": st.sampled_from(["2020-01-06", "2019-12-31", None]),
    "ndc_code": st.sampled_from(["00002143380", "1234", None]),
    "prescribing_provider_npi": st.sampled_from(["1234567893", "1234567890", None]),
    "paid_amount": st.sampled_from(["10.00", "-1", "abc", "20000000", None]),
    "allowed_amount": st.sampled_from(["12.00", "5.00", None]),
    "days_supply": st.sampled_from(["30", "400", None]),
    "claim_status": st.sampled_from(["original", "reversal", "bogus", None]),
}
ROWS = st.lists(st.fixed_dictionaries(VALUES), min_size=1, max_size=30)


def _raw(rows: list[dict]) -> ibis.Table:
    data = {c.name: pa.array([r.get(c.name) for r in rows], pa.string()) for c in SPEC.columns}
    data["source_file"] = pa.array(["rx.csv"] * len(rows), pa.string())
    data["source_row"] = pa.array(range(1, len(rows) + 1), pa.int64())
    return ibis.memtable(pa.table(data))


ENROLLED = ibis.memtable({"person_id": ["p1", "p2"]})


def _outcome(rows: list[dict]) -> tuple[list, list]:
    raw = _raw(rows)
    checked = validate.resolve(raw, SPEC, SETTINGS, ENROLLED)
    ok = validate.accepted_rows(raw, checked, SPEC)
    accepted = CON.to_pyarrow(validate.accepted(ok, PHARMACY_CLAIM)).to_pylist()
    quarantine, _ = validate.findings(validate.flagged_rows(checked, raw), SPEC, SETTINGS, ENROLLED, "test")
    rejected = CON.to_pyarrow(quarantine).to_pylist()
    return accepted, rejected


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ROWS)
def test_every_row_is_accepted_or_rejected_once(rows):
    accepted, rejected = _outcome(rows)
    assert len(accepted) + len(rejected) == len(rows)
    assert {r["source_row"] for r in accepted}.isdisjoint({r["source_row"] for r in rejected})
    assert {r["rule_code"] for r in rejected} <= set(RULES)
    keys = [(r["claim_id"], r["claim_line_number"], r["data_source"]) for r in accepted]
    assert len(keys) == len(set(keys)), "accepted rows must have unique primary keys"


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ROWS, st.randoms(use_true_random=False))
def test_outcome_does_not_depend_on_row_order(rows, rnd):
    """Rows keep their source_row, so shuffling the table must not change who is accepted."""
    raw = _raw(rows).to_pyarrow()
    order = list(range(raw.num_rows))
    rnd.shuffle(order)
    shuffled = ibis.memtable(raw.take(pa.array(order)))
    first = validate.resolve(ibis.memtable(raw), SPEC, SETTINGS, ENROLLED)
    second = validate.resolve(shuffled, SPEC, SETTINGS, ENROLLED)

    def rows_of(checked):
        out = CON.to_pyarrow(checked.select("source_row", "rule_code")).to_pylist()
        return sorted((r["source_row"], r["rule_code"] or "") for r in out)

    assert rows_of(first) == rows_of(second)


VERSIONS = st.lists(st.tuples(
    st.sampled_from(["A", "B", "C"]),  # family
    st.sampled_from(["original", "adjustment", "reversal", "denial"]),
    st.integers(min_value=1, max_value=6),  # file month
    st.integers(min_value=1, max_value=3),  # lines
), min_size=1, max_size=12)


@settings(max_examples=25, deadline=None)
@given(VERSIONS, st.randoms(use_true_random=False))
def test_final_action_is_order_independent_and_one_version_per_family(versions, rnd):
    rows = []
    for i, (family, status, month, lines) in enumerate(versions):
        claim_id = family if status == "original" and i == 0 else f"{family}-{i}"
        for line in range(1, lines + 1):
            rows.append({"data_source": "mc", "claim_id": claim_id, "claim_line_number": line,
                         "claim_status": status, "original_claim_id": None if claim_id == family else family,
                         "file_date": dt.date(2020, month, 1), "paid_date": None})
    shuffled = rows[:]
    rnd.shuffle(shuffled)

    def final(records):
        out = CON.to_pyarrow(final_action(ibis.memtable(pa.Table.from_pylist(records)))).to_pylist()
        return sorted((r["family_id"], r["claim_id"], r["claim_line_number"]) for r in out)

    result = final(rows)
    assert result == final(shuffled)
    winners = {(family, claim) for family, claim, _ in result}
    assert len(winners) == len({family for family, _ in winners}), "one final version per family"
