"""The data-contract document is generated from the code and must not drift."""

from __future__ import annotations

from pathlib import Path

from allpayer.intake.contract import TABLES, render_markdown

DOC = Path(__file__).parents[2] / "docs" / "data-contract.md"


def test_data_contract_doc_matches_code():
    assert DOC.read_text() == render_markdown(), "run `make contract` to regenerate docs/data-contract.md"


def test_every_table_declares_its_key_among_its_columns():
    for table in TABLES.values():
        assert set(table.primary_key) <= set(table.column_names), table.name
        assert all(table.column(k).required for k in table.primary_key), table.name
