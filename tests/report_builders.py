"""A small hand-built run for report, API and dashboard tests, written with ``allpayer.runs.write_run`` in the
layout the run pipeline produces (one Parquet per table + manifest.json).

Numbers are chosen to be checked by hand; see the comments. Programs are the Vermont pack's, so the ACO budget
sheet can read each program's corridors and caps.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from allpayer.runs import Run, write_run

RUN_ID = "20200701T000000Z-vermont-2019"
D = Decimal
MONEY = pa.decimal128(18, 2)


def _money(values: list[str | None]) -> pa.Array:
    return pa.array([None if v is None else D(v) for v in values], MONEY)


def growth() -> pa.Table:
    # all-payer PBPY 6000 -> 6300 -> 6489: yoy 5% then 3%; CAGR 2019 = sqrt(6489/6000) - 1 = 3.9949%
    return pa.table({
        "series": ["all_payer"] * 3 + ["medicare"] * 3, "year": [2017, 2018, 2019] * 2,
        "pbpy": [6000.0, 6300.0, 6489.0, 9000.0, 9270.0, 9548.1],
        "yoy_growth": [None, 0.05, 0.03, None, 0.03, 0.03], "cagr": [None, 0.05, 0.039949, None, 0.03, 0.03],
        "status": ["baseline", "corrective_action_trigger", "watch", "baseline", "on_target", "on_target"],
        "target": [0.035] * 6, "cap": [0.043] * 6})


def tcoc() -> pa.Table:
    # 2019 by payer type: commercial has 8 persons (suppressed in public); complementary: the next smallest cell
    # of 2019 (self_funded, 25 persons) is suppressed too. all_payer = the sum of the four.
    rows = [  # year, payer_type, dimension, group, persons, member_months, tcoc, paid, paid_completed
        (2019, "medicare", "total", "all", 40, 480.0, "384000.00", "360000.00", "384000.00"),
        (2019, "medicaid", "total", "all", 30, 360.0, "108000.00", "100000.00", "108000.00"),
        (2019, "commercial", "total", "all", 8, 96.0, "48000.00", "45000.00", "48000.00"),
        (2019, "self_funded", "total", "all", 25, 300.0, "135000.00", "126000.00", "135000.00"),
        (2019, "all_payer", "total", "all", 103, 1236.0, "675000.00", "631000.00", "675000.00"),
        (2018, "all_payer", "program", "self_funded_employer", 24, 288.0, "115200.00", "115200.00", "115200.00"),
        (2019, "all_payer", "program", "self_funded_employer", 25, 300.0, "135000.00", "126000.00", "135000.00"),
        # members whose primary payer is another: not shown to the employer (only the group's all-payer row)
        (2019, "medicare", "program", "self_funded_employer", 3, 36.0, "9000.00", "9000.00", "9000.00"),
    ]
    cols = list(zip(*rows, strict=True))
    mm = pa.array(cols[5], pa.float64())
    amount = [float(v) for v in cols[6]]
    return pa.table({
        "year": pa.array(cols[0], pa.int64()), "payer_type": cols[1], "dimension": cols[2], "group": cols[3],
        "persons": pa.array(cols[4], pa.int64()), "member_months": mm, "tcoc": _money(cols[6]),
        "paid": _money(cols[7]), "paid_completed": _money(cols[8]),
        # PMPM = tcoc / member months, e.g. medicare 384000 / 480 = 800.00; PBPY = 12 x PMPM = 9600
        "tcoc_pmpm": [a / m for a, m in zip(amount, cols[5], strict=True)],
        "tcoc_pbpy": [12 * a / m for a, m in zip(amount, cols[5], strict=True)]})


def scale_target() -> pa.Table:
    return pa.table({"year": [2019, 2019], "scope": ["all_payer", "medicare"], "numerator": [60, 30],
                     "denominator": [103, 40], "pct": [60 / 103, 0.75], "target": [0.50, 0.75],
                     "status": ["met", "met"]})


def scale_breakdown() -> pa.Table:
    # HSA cells of 2019 all-payer: Windsor 5 of 9 eligible is suppressed; Barre (smallest remaining, 20
    # attributed) is suppressed with it so Windsor cannot be recovered from the statewide 60 / 103.
    rows = [("payer_type", "medicare", 30, 40), ("payer_type", "medicaid", 18, 30), ("payer_type", "commercial", 4, 8),
            ("payer_type", "self_funded", 8, 25), ("program", "medicare_vmng", 30, 40),
            ("program", "medicaid_vmng", 18, 30), ("program", "self_funded_employer", 8, 25),
            ("hsa", "Barre", 20, 34), ("hsa", "Burlington", 35, 60), ("hsa", "Windsor", 5, 9)]
    dims, values, num, den = (list(c) for c in zip(*rows, strict=True))
    return pa.table({"year": [2019] * len(rows), "scope": ["all_payer"] * len(rows), "dimension": dims,
                     "value": values, "numerator": num, "denominator": den,
                     "pct": [n / d for n, d in zip(num, den, strict=True)]})


def settlement() -> pa.Table:
    # medicare_vmng: expected 400000, actual 380000: gross savings 20000, 80% shared = 16000, less 2%
    # sequestration = 15680; payer keeps 4320. self_funded_employer: expected 130000, actual 135000: loss -5000.
    return pa.table({
        "program_id": ["medicare_vmng", "self_funded_employer"], "year": [2019, 2019],
        "persons": [40, 25], "member_months": [480.0, 300.0],
        "expected_cost": _money(["400000.00", "130000.00"]), "actual_cost": _money(["380000.00", "135000.00"]),
        "ffs_paid": _money(["380000.00", "135000.00"]), "fixed_payments": _money(["0.00", "0.00"]),
        "gross_savings": _money(["20000.00", "-5000.00"]), "shared": _money(["15680.00", "-2500.00"]),
        "payer_share": _money(["4320.00", "-2500.00"]), "settlement": _money(["15680.00", "-2500.00"])})


def settlement_waterfall() -> pa.Table:
    steps = [("medicare_vmng", 1, "expected cost", "400000.00", "400000.00"),
             ("medicare_vmng", 2, "gross savings", "-380000.00", "20000.00"),
             ("medicare_vmng", 3, "sharing rate", "-4000.00", "16000.00"),
             ("medicare_vmng", 4, "sequestration", "-320.00", "15680.00"),
             ("medicare_vmng", 5, "settlement", "0.00", "15680.00"),
             ("self_funded_employer", 1, "expected cost", "130000.00", "130000.00"),
             ("self_funded_employer", 2, "gross savings", "-135000.00", "-5000.00"),
             ("self_funded_employer", 3, "sharing rate", "2500.00", "-2500.00"),
             ("self_funded_employer", 4, "settlement", "0.00", "-2500.00")]
    program, step_no, step, change, amount = (list(c) for c in zip(*steps, strict=True))
    return pa.table({"program_id": program, "year": [2019] * len(steps), "step_no": step_no, "step": step,
                     "change": _money(change), "amount": _money(amount), "note": [""] * len(steps)})


def quality_score() -> pa.Table:
    return pa.table({"program_id": ["medicare_vmng", "self_funded_employer"], "year": [2019, 2019],
                     "points_earned": pa.array([D("17.0000"), D("18.0000")], pa.decimal128(9, 4)),
                     "points_possible": pa.array([D("20.0000"), D("20.0000")], pa.decimal128(9, 4)),
                     "score": pa.array([D("0.8500"), D("0.9000")], pa.decimal128(9, 4)),
                     "gate": pa.array([D("0.3500"), D("0.3500")], pa.decimal128(9, 4)), "gate_met": [True, True]})


def quality_measure() -> pa.Table:
    # program level (practice_id null); self_funded_employer: the 7-person denominator is suppressed in the
    # employer report, and the practice row is never shown to an employer. ED visits: 30 in 240 member months
    # = 30 / 20 member-years x 1,000 = 1,500 per 1,000 (a rate, not a share)
    measures = ["diabetes_hba1c_poor_control", "hypertension_control", "developmental_screening",
                "hypertension_control", "ed_visits_per_1000"]
    return pa.table({"measure_id": measures, "measure_name": [m.replace("_", " ") for m in measures],
                     "program_id": ["medicare_vmng"] + ["self_funded_employer"] * 4, "year": [2019] * 5,
                     "level": ["program", "program", "program", "practice", "program"],
                     "practice_id": pa.array([None, None, None, "PR2", None], pa.string()),
                     "unit": ["share"] * 4 + ["per_1000"],
                     "denominator": [30.0, 20.0, 7.0, 20.0, 20.0], "numerator": [6.0, 14.0, 5.0, 14.0, 30.0],
                     "rate": [0.2, 0.7, 5 / 7, 0.7, 1500.0], "target": [0.25, 0.65, 0.6, 0.65, 380.0]})


def distribution() -> pa.Table:
    return pa.table({"program_id": ["medicare_vmng"] * 2, "year": [2019] * 2, "split": ["primary_care", "network"],
                     "recipient_id": ["P001", "P002"], "basis": [300.0, 120000.0],
                     "amount": _money(["10976.00", "4704.00"])})


def value_payment_practice_month() -> pa.Table:
    # 25 lives x $3.25 = 81.25 a month; January + February = 162.50 paid for the year so far
    return pa.table({"program_id": ["self_funded_employer"] * 2, "year": [2019] * 2, "quarter": [1, 1],
                     "month": [1, 2], "practice_id": ["PR2", "PR2"], "attributed_lives": [25, 25],
                     "value_payment_pmpm": _money(["3.25", "3.25"]), "amount": _money(["81.25", "81.25"])})


def attribution() -> pa.Table:
    return pa.table({"program_id": ["medicare_vmng", "self_funded_employer"], "year": [2019, 2019],
                     "period": [2019, 2019], "person_id": ["P-0001", "P-0002"], "attributed": [True, True],
                     "step": ["primary_care", "primary_care"], "aco_id": ["onecare", "onecare"],
                     "npi": ["1000000001", "1000000002"], "tin": ["T1", "T2"], "practice_id": ["PR1", "PR2"]})


TABLES = {"growth": growth, "tcoc": tcoc, "scale_target": scale_target, "scale_breakdown": scale_breakdown,
          "settlement": settlement, "settlement_waterfall": settlement_waterfall, "quality_score": quality_score,
          "quality_measure": quality_measure, "distribution": distribution,
          "value_payment_practice_month": value_payment_practice_month,
          "attribution": attribution}


def write_sample_run(workspace: Path, run_id: str = RUN_ID, replace: dict[str, pa.Table | None] | None = None
                     ) -> Run:
    """The sample run; ``replace`` swaps tables for edge cases (None leaves a table out)."""
    manifest = {"pack": {"name": "vermont"}, "year": 2019, "as_of": "2020-06-30", "status": "provisional",
                "created_at": "2020-07-01T00:00:00Z"}
    tables = {name: make() for name, make in TABLES.items()} | (replace or {})
    return write_run(workspace, run_id, {k: v for k, v in tables.items() if v is not None}, manifest)
