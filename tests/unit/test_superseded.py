"""Intake stores the claim lines final action drops; final-action claims read from that list equal the rule
worked out in full, a list of the versions it drops (as older workspaces stored), and an independent pandas reading
of the rule (docs/intake.md, "Final-action claims")."""

from __future__ import annotations

import pandas as pd
import pytest

from allpayer.compute.final_action import LINE_KEY, final_action, superseded_versions
from allpayer.intake.superseded import final_claims, superseded_name
from tests.conftest import synthetic_workspace

STATUS_RANK = {"original": 0, "adjustment": 1, "denial": 2, "reversal": 3}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory):
    ctx = synthetic_workspace(tmp_path_factory.mktemp("superseded"), persons=150, seed=23, years=(2018, 2019))
    yield ctx
    ctx.close()


def _keys(table) -> list[tuple]:
    df = table.select("data_source", "claim_id", "claim_line_number", "family_id").to_pandas()
    return sorted(df.itertuples(index=False, name=None))


def _rule_in_pandas(claims: pd.DataFrame) -> list[tuple]:
    """The documented rule, family by family."""
    c = claims.assign(family_id=claims.original_claim_id.fillna(claims.claim_id),
                      version_date=claims.file_date.fillna(claims.paid_date),
                      status=claims.claim_status.fillna("original"))
    versions = c.groupby(["data_source", "family_id", "claim_id"], as_index=False).agg(
        version_date=("version_date", "max"), status=("status", "max"))
    versions["rank"] = versions.status.map(STATUS_RANK).fillna(0)
    versions = versions.sort_values(["version_date", "rank", "claim_id"], ascending=False)
    winners = versions.groupby(["data_source", "family_id"]).head(1)
    winners = winners[~winners.status.isin(["reversal", "denial"])]
    kept = c.merge(winners[["data_source", "family_id", "claim_id"]], on=["data_source", "family_id", "claim_id"])
    return sorted(kept[["data_source", "claim_id", "claim_line_number", "family_id"]]
                  .itertuples(index=False, name=None))


@pytest.mark.parametrize("claim_table", ["medical_claim", "pharmacy_claim"])
def test_stored_list_gives_the_rules_final_claims(workspace, claim_table):
    warehouse = workspace.warehouse
    raw = warehouse.table(claim_table)
    stored = warehouse.table(superseded_name(claim_table))
    from_list = _keys(final_claims(warehouse, claim_table))
    assert stored.count().execute() > 0  # the synthetic claims carry adjustments, reversals and denials
    assert tuple(stored.columns) == LINE_KEY
    # Each listed line is one line of the table: its lineage is unique.
    assert raw.semi_join(stored, list(LINE_KEY)).count().execute() == stored.count().execute()
    assert len(from_list) < raw.count().execute()
    assert from_list == _keys(final_action(raw))
    assert from_list == _keys(final_action(raw, superseded_versions(raw)))
    columns = ["data_source", "claim_id", "claim_line_number", "claim_status", "original_claim_id", "file_date",
               "paid_date"]
    assert from_list == _rule_in_pandas(raw.select(*columns).to_pandas())
