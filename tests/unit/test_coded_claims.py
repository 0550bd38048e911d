"""Diagnosis positions that no claim line fills are left out of what risk and quality read (DuckDB knows them
from the view of the stored claims); the diagnoses and tags are the same either way. Tuva seed fixture."""

from __future__ import annotations

from allpayer import Context
from allpayer.compute.quality.frame import claim_facts
from allpayer.compute.risk import claim_diagnoses
from allpayer.refdata.quality import value_sets
from tests.conftest import FIXTURES, SETTINGS


def _rows(table) -> list[tuple]:
    return sorted(tuple(r.values()) for r in table.to_pyarrow().to_pylist())


def test_empty_diagnosis_positions_are_left_out_with_the_same_results(tmp_path):
    with Context(tmp_path) as ctx:
        ctx.ingest([FIXTURES / "tuva_seed"], settings=SETTINGS)
        full = ctx.table("medical_claim")
        coded = ctx._coded("medical_claim", full)
        # The seed fills positions 1-17: the other eight are left out, the filled ones and other columns kept
        assert "diagnosis_code_18" in full.columns and "diagnosis_code_17" in coded.columns
        assert [c for c in full.columns if c not in coded.columns] == [f"diagnosis_code_{i}" for i in range(18, 26)]
        assert _rows(claim_diagnoses(coded)) == _rows(claim_diagnoses(full)) != []
        tags = [_rows(claim_facts(t, None, value_sets()).tags) for t in (full, coded)]
        assert tags[0] == tags[1] != []
