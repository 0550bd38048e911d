"""A settlement run gives identical tables on DuckDB and Spark (small synthetic population)."""

from __future__ import annotations

from pathlib import Path

import ibis
import pytest

from allpayer.synth import SynthConfig, generate
from tests.conftest import SETTINGS

KEYS = {
    "settlement": ["program_id", "year"],
    "settlement_waterfall": ["program_id", "year", "step_no"],
    "expected_cost": ["program_id", "year"],
    "value_payment": ["program_id", "year", "quarter"],
    "distribution": ["program_id", "split", "recipient_id"],
    "value_payment_practice_month": ["program_id", "month", "practice_id"],
}


@pytest.mark.slow
def test_run_is_identical(parity, tmp_path: Path):
    generate(SynthConfig(persons=150, first_year=2017, last_year=2019, seed=3), tmp_path / "in")

    def run(ctx):
        ctx.ingest([tmp_path / "in"], settings=SETTINGS)
        ctx.attribute("vermont", years=[2018, 2019])
        result = ctx.run("vermont", 2019)
        return {name: ibis.memtable(result.table(name)) for name in KEYS}

    result = parity(run, KEYS)
    assert len(result["settlement"]) == 4
