"""`allpayer attribute`, `scale` and `explain attribution` on a workspace loaded from hand-made Tuva CSVs.

Four Vermont Medicare beneficiaries (2018-2019) and one New Hampshire resident; clinician N1 (family practice,
TIN T1) is in the ACO `onecare`, N3 (internal medicine, TIN T2) is not. The Vermont pack's Medicare program
is prospective with a 24-month look-back ending 6 months before the year: for PY2019, Jul 2016..Jun 2018.
- P1: N1 $100 + $80 against N3 $120 -> onecare ($180); attributed.
- P2: N3 $150 only -> T2; not attributed.
- P3: no primary care -> not attributed.
- P4: N1 $90 but lives in New Hampshire: attributed, yet outside the scale numerator and denominator.
Medicare scale 2019 = 1 attributed resident (P1) / 3 Vermont Medicare residents (P1, P2, P3) = 33.3%.
"""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from allpayer.cli import app
from tests.attribution_builders import npi

N1, N3 = npi(1), npi(3)
runner = CliRunner()


def write(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def eligibility(pid: str, state: str = "VT") -> dict:
    return {"person_id": pid, "member_id": pid, "gender": "female", "birth_date": "1948-02-03", "payer": "medicare",
            "payer_type": "medicare", "plan": "medicare_ffs", "enrollment_start_date": "2016-01-01",
            "enrollment_end_date": "2019-12-31", "data_source": "medicare", "state": state, "zip_code": "05401"}


def claim(n: int, pid: str, date: str, clinician: str, tin: str, allowed: str) -> dict:
    return {"claim_id": f"C{n}", "claim_line_number": "1", "claim_type": "professional", "person_id": pid,
            "member_id": pid, "payer": "medicare", "plan": "medicare_ffs", "claim_start_date": date,
            "claim_end_date": date, "place_of_service_code": "11", "hcpcs_code": "99214", "rendering_npi": clinician,
            "billing_tin": tin, "paid_amount": allowed, "allowed_amount": allowed, "data_source": "medicare",
            "file_date": "2019-01-01"}


def provider(clinician: str, tin: str, specialty: str, aco: str) -> dict:
    return {"npi": clinician, "tin": tin, "provider_name": f"Dr {clinician}", "entity_type": "individual",
            "taxonomy_code": "207Q00000X", "specialty_code": specialty, "practice_id": f"PR-{tin}",
            "practice_name": f"Practice {tin}", "hsa": "Burlington", "aco_id": aco,
            "aco_start_date": "2015-01-01" if aco else "", "aco_end_date": ""}


def build(folder: Path) -> Path:
    src = folder / "input"
    src.mkdir()
    write(src / "eligibility.csv", [eligibility("P1"), eligibility("P2"), eligibility("P3"),
                                    eligibility("P4", state="NH")])
    write(src / "medical_claim.csv", [
        claim(1, "P1", "2017-09-01", N1, "T1", "100.00"), claim(2, "P1", "2018-02-01", N1, "T1", "80.00"),
        claim(3, "P1", "2018-03-01", N3, "T2", "120.00"), claim(4, "P2", "2018-01-15", N3, "T2", "150.00"),
        claim(5, "P4", "2018-04-01", N1, "T1", "90.00")])
    write(src / "provider.csv", [provider(N1, "T1", "08", "onecare"), provider(N3, "T2", "11", "")])
    return src


def test_attribute_scale_and_explain(tmp_path: Path, monkeypatch) -> None:
    from allpayer import cli

    monkeypatch.setattr(cli.console, "width", 250)  # tables wide enough to read whole values
    ws = tmp_path / "ws"
    result = runner.invoke(app, ["ingest", str(build(tmp_path)), "--workspace", str(ws)])
    assert result.exit_code == 0, result.output

    result = runner.invoke(app, ["attribute", "--workspace", str(ws), "--year", "2019",
                                 "--program", "medicare_vmng"])
    assert result.exit_code == 0, result.output
    assert "Attribution by program and year" in result.output and "medicare_vmng" in result.output

    from allpayer import Context

    with Context(ws) as ctx:
        rows = {r["person_id"]: r for r in ctx.table("attribution").to_pyarrow().to_pylist()}
        assert {p: r["attributed"] for p, r in rows.items()} == {"P1": True, "P2": False, "P3": False, "P4": True}
        assert (rows["P1"]["npi"], rows["P1"]["practice_id"], str(rows["P1"]["allowed"])) == (N1, "PR-T1", "180.00")
        assert ctx.table("attribution_month").count().execute() == 24  # P1 and P4, Jan..Dec 2019

    result = runner.invoke(app, ["scale", "--workspace", str(ws), "--year", "2019"])
    assert result.exit_code == 0, result.output
    with Context(ws) as ctx:
        target = {r["scope"]: r for r in ctx.table("scale_target").to_pyarrow().to_pylist()}
        assert (target["medicare"]["numerator"], target["medicare"]["denominator"]) == (1, 3)
        assert target["medicare"]["target"] == 0.75 and target["medicare"]["status"] == "missed"
        network = ctx.table("provider_participation").to_pyarrow().to_pylist()
        assert network == [{"year": 2019, "aco_id": "onecare", "clinicians": 1, "practices": 1, "tins": 1}]
    assert "Scale targets" in result.output and "33.3%" in result.output

    result = runner.invoke(app, ["explain", "attribution", "P1", "--program", "medicare_vmng", "--year", "2019",
                                 "--workspace", str(ws)])
    assert result.exit_code == 0, result.output
    assert "attributed" in result.output and N1 in result.output and "TIN:T2" in result.output
    assert "180.00" in result.output and "120.00" in result.output


def test_clear_errors(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    runner.invoke(app, ["ingest", str(build(tmp_path)), "--workspace", str(ws)])
    result = runner.invoke(app, ["scale", "--workspace", str(ws)])
    assert result.exit_code == 2 and "run `allpayer attribute`" in result.output
    result = runner.invoke(app, ["attribute", "--workspace", str(ws), "--program", "nope"])
    assert result.exit_code == 2 and "no program 'nope'" in result.output
    result = runner.invoke(app, ["attribute", "--workspace", str(ws), "--pack", "missing"])
    assert result.exit_code == 2 and "no model pack" in result.output
