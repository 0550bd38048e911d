"""Financial terms in packs: presets, per-year overrides, errors that name file, key and expectation; quality
input and quarter status."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal as D
from pathlib import Path

import pyarrow as pa
import pytest

from allpayer.compute.program_results import program_years, quality_results, quarter_status
from allpayer.compute.settlement import QualityResult
from allpayer.config import PackError, load_pack
from allpayer.config.loader import pack_path
from allpayer.config.terms import FinancialTerms


def test_shipped_terms():
    vermont = load_pack("vermont")
    medicare = vermont.program("medicare_vmng").financial
    assert medicare.preset == "onecare/medicare"
    t = medicare.for_year(2019)
    assert (t.sharing_rate, t.savings_cap, t.cap_before_rate, t.sequestration) == (D("0.8"), D("0.05"), True,
                                                                                   D("0.02"))
    assert t.advances_pmpm == D("14.00") and medicare.for_year(2018).advances_pmpm == 0
    medicaid = vermont.program("medicaid_vmng").financial
    assert [medicaid.for_year(y).quality.withhold.rate for y in (2018, 2019, 2020)] == [D("0.03"), D("0.04"),
                                                                                         D("0.05")]
    assert len(medicaid.for_year(2020).quality.withhold.measures) == 6   # nested override kept the measures
    assert vermont.program("self_funded_employer").financial.for_year(2019).report_employer_share
    assert vermont.program("bcbsvt_qhp").financial.for_year(2019).upside_only
    assert not vermont.program("bcbsvt_qhp").financial.for_year(2020).upside_only
    mssp = load_pack("mssp")
    assert mssp.program("mssp_prospective").financial.for_year(2021).loss_cap == D("0.15")


def test_year_override_errors_name_the_key():
    with pytest.raises(ValueError, match=r"years\.2019\.sharing_rate"):
        FinancialTerms(defaults={"sharing_rate": 0.5}, years={2019: {"sharing_rate": 2}})
    with pytest.raises(ValueError, match="contiguous"):
        FinancialTerms(defaults={"savings_bands": [{"lower": 0, "upper": 0.03, "aco_share": 1},
                                                   {"lower": 0.04, "upper": None, "aco_share": 0}]})
    with pytest.raises(ValueError, match="exactly one of fixed or table"):
        FinancialTerms(defaults={"minimum_savings_rate": {}})


@pytest.fixture
def pack_copy(tmp_path: Path) -> Path:
    target = tmp_path / "vermont"
    shutil.copytree(pack_path("vermont"), target)
    return target


@pytest.mark.parametrize(("program", "old", "new", "message"), [
    ("medicare_vmng", "advances_pmpm: 14.00", "advances_pmpn: 14.00", r"medicare_vmng\.yaml.*advances_pmpn"),
    ("bcbsvt_qhp", "onecare/commercial", "onecare/comercial",
     r"bcbsvt_qhp\.yaml: financial\.preset.*'comercial'.*commercial"),
    ("medicaid_vmng", "aco_share: 0}", "aco_share: 2}", r"medicaid_vmng\.yaml.*aco_share"),
])
def test_pack_errors_name_file_and_key(pack_copy: Path, program: str, old: str, new: str, message: str):
    # A typo in a program file, an unknown preset, a bad value in a preset: each names the program file and key.
    terms = pack_copy / "terms" / "onecare.yaml"
    path = terms if old.startswith("aco_share") else pack_copy / "programs" / f"{program}.yaml"
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(PackError, match=message):
        load_pack(pack_copy)


def test_quality_measured_or_program_default():
    runs = program_years(load_pack("vermont"), 2019)
    table = pa.table({"program_id": ["medicare_vmng"], "year": [2019], "score": [0.85], "gate_met": [False]})
    got = quality_results(table, runs)
    assert (got["medicare_vmng"].score, got["medicare_vmng"].gate_met, got["medicare_vmng"].measured) == (
        D("0.85"), False, True)
    assert got["medicaid_vmng"].measured is False and got["medicaid_vmng"].gate_met is True
    reporting = pa.table({"program_id": ["medicare_vmng"], "year": [2019], "score": [0.1], "gate_met": [False],
                          "reporting_only": [True]})
    assert quality_results(reporting, runs)["medicare_vmng"] == QualityResult(D(1), True, True)


def test_quarter_status_needs_full_runout():
    # Q4 2019 ends in December 2019; with 24 months of run-out it is final from December 2021.
    assert quarter_status(2019, dt.date(2021, 12, 1), 24)[4] == "final"
    assert quarter_status(2019, dt.date(2021, 11, 30), 24)[4] == "provisional"
    assert quarter_status(2019, dt.date(2021, 11, 30), 24)[1] == "final"   # March 2019 + 24 = March 2021
