"""REST API: the authorisation matrix (every role against every endpoint), what each role's rows contain,
hashed tokens and an audit log without identifiers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from allpayer.api import create_app
from allpayer.api.audit import entries
from allpayer.api.tokens import TOKENS_FILE, create_token
from allpayer.reporting.kinds import KINDS
from tests.report_builders import RUN_ID, write_sample_run

ROLES = ("regulator", "aco", "payer", "employer", "public")
SCOPES = {"regulator": [], "aco": ["onecare"], "payer": ["medicare_vmng"], "employer": ["self_funded_employer"]}
ALL, TOKEN = (200,) * 5, (200, 200, 200, 200, 401)
# expected status per role, in ROLES order
MATRIX: dict[tuple[str, str], tuple[int, ...]] = {
    ("GET", "/api/runs"): ALL,
    ("GET", "/api/runs/{run_id}"): ALL,
    ("GET", "/api/me"): TOKEN,
    ("GET", "/api/runs/{run_id}/metrics"): ALL,
    ("GET", "/api/runs/{run_id}/growth"): ALL,
    ("GET", "/api/runs/{run_id}/scale"): ALL,
    ("GET", "/api/runs/{run_id}/quality"): ALL,
    ("GET", "/api/runs/{run_id}/settlements"): TOKEN,
    ("GET", "/api/runs/{run_id}/reports/tcoc"): (200, 403, 403, 403, 401),
    ("GET", "/api/runs/{run_id}/reports/scale"): (200, 403, 403, 403, 401),
    ("GET", "/api/runs/{run_id}/reports/settlement"): (200, 200, 200, 403, 401),
    ("GET", "/api/runs/{run_id}/reports/employer"): (200, 403, 403, 200, 401),
    ("GET", "/api/runs/{run_id}/reports/aco-budget"): (200, 200, 403, 403, 401),
    ("GET", "/api/runs/{run_id}/reports/public"): ALL,
    ("POST", "/api/runs/{run_id}/attribution"): (200, 200, 200, 403, 401),
    ("GET", "/dashboard"): ALL,
    ("GET", "/dashboard/drill/{by}"): ALL,
    ("GET", "/public"): ALL,
    ("GET", "/public/drill/{by}"): ALL,
}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("api") / "ws"
    write_sample_run(ws)
    return ws


@pytest.fixture(scope="module")
def tokens(workspace: Path) -> dict[str, str | None]:
    return {**{role: create_token(workspace, role, SCOPES[role]) for role in SCOPES}, "public": None}


@pytest.fixture(scope="module")
def client(workspace: Path) -> TestClient:
    return TestClient(create_app(workspace))


def call(client: TestClient, method: str, path: str, token: str | None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = path.replace("{run_id}", RUN_ID[:8]).replace("{by}", "hsa")
    if method == "POST":
        return client.post(url, headers=headers, json={"person_id": "P-0001"}, **kwargs)
    return client.get(url, headers=headers, **kwargs)


def test_matrix_covers_every_endpoint(client: TestClient):
    api = {(method.upper(), path) for path, ops in client.get("/openapi.json").json()["paths"].items()
           for method in ops}
    reports = {("GET", "/api/runs/{run_id}/reports/{kind}")}
    covered = {k for k in MATRIX if "/reports/" not in k[1]} | reports
    assert api <= covered
    assert {k[1].rsplit("/", 1)[1] for k in MATRIX if "/reports/" in k[1]} == set(KINDS)


@pytest.mark.parametrize("endpoint", list(MATRIX), ids=lambda e: f"{e[0]} {e[1]}")
def test_authorisation_matrix(client: TestClient, tokens: dict, endpoint: tuple[str, str]):
    method, path = endpoint
    got = tuple(call(client, method, path, tokens[role]).status_code for role in ROLES)
    assert got == MATRIX[endpoint], dict(zip(ROLES, got, strict=True))


def test_unknown_token_is_refused(client: TestClient):
    assert client.get("/api/runs", headers={"Authorization": "Bearer ap_00000000_nope"}).status_code == 401


def test_tokens_are_stored_hashed(workspace: Path, tokens: dict):
    stored = (workspace / TOKENS_FILE).read_text()
    assert all(token.split("_", 2)[2] not in stored for token in tokens.values() if token)
    assert {entry["role"] for entry in json.loads(stored).values()} == set(SCOPES)


def rows(response) -> dict[str, list[dict]]:
    assert response.status_code == 200, response.text
    return response.json()["tables"]


def test_metrics_by_role(client: TestClient, tokens: dict):
    public = rows(call(client, "GET", "/api/runs/{run_id}/metrics", None))["tcoc"]
    # every aggregate, suppressed: commercial (8 persons) and its complement self_funded (25) in the 2019 totals
    assert {r["dimension"] for r in public} == {"total", "program"}
    totals = {r["payer_type"]: r for r in public if r["dimension"] == "total"}
    assert totals["commercial"]["suppressed"] and totals["commercial"]["tcoc"] is None
    assert totals["self_funded"]["suppressed"] and totals["self_funded"]["persons"] is None
    assert totals["medicare"]["tcoc"] == "384000.00"
    employer = rows(call(client, "GET", "/api/runs/{run_id}/metrics", tokens["employer"]))["tcoc"]
    assert {(r["dimension"], r["group"]) for r in employer} == {("program", "self_funded_employer")}
    regulator = rows(call(client, "GET", "/api/runs/{run_id}/metrics", tokens["regulator"]))["tcoc"]
    assert next(r for r in regulator if r["payer_type"] == "commercial")["tcoc"] == "48000.00"  # exact money


def test_settlements_by_role(client: TestClient, tokens: dict):
    payer = rows(call(client, "GET", "/api/runs/{run_id}/settlements", tokens["payer"]))
    assert {r["program_id"] for r in payer["settlement"]} == {"medicare_vmng"}
    assert {r["program_id"] for r in payer["settlement_waterfall"]} == {"medicare_vmng"}
    employer = rows(call(client, "GET", "/api/runs/{run_id}/settlements", tokens["employer"]))
    assert list(employer) == ["settlement"]
    assert set(employer["settlement"][0]) == {"program_id", "year", "gross_savings", "shared", "payer_share"}
    aco = rows(call(client, "GET", "/api/runs/{run_id}/settlements", tokens["aco"]))
    assert {r["program_id"] for r in aco["settlement"]} == {"medicare_vmng", "self_funded_employer"}


def test_quality_by_role(client: TestClient, tokens: dict):
    public = rows(call(client, "GET", "/api/runs/{run_id}/quality", None))
    assert list(public) == ["quality_score"]
    employer = rows(call(client, "GET", "/api/runs/{run_id}/quality", tokens["employer"]))
    small = next(r for r in employer["quality_measure"] if r["measure_id"] == "developmental_screening")
    assert small["suppressed"] and small["rate"] is None


def test_attribution_lookup_is_scoped_and_audited_without_identifiers(client: TestClient, tokens: dict,
                                                                     workspace: Path):
    before = len(entries(workspace))
    found = rows(call(client, "POST", "/api/runs/{run_id}/attribution", tokens["payer"]))["attribution"]
    assert [(r["program_id"], r["practice_id"]) for r in found] == [("medicare_vmng", "PR1")]
    other = client.post(f"/api/runs/{RUN_ID}/attribution", headers={"Authorization": f"Bearer {tokens['payer']}"},
                        json={"person_id": "P-0002"})
    assert rows(other)["attribution"] == []  # a member of another program
    log = entries(workspace)[before:]
    assert [(e["role"], e["rows"]) for e in log] == [("payer", 1), ("payer", 0)]
    text = (workspace / "audit.log").read_text()
    assert "P-0001" not in text and "P-0002" not in text and tokens["payer"] not in text


def test_reports_are_served_as_html_and_xlsx(client: TestClient, tokens: dict):
    html = call(client, "GET", "/api/runs/{run_id}/reports/public", None)
    assert html.headers["content-type"].startswith("text/html") and "suppressed" in html.text
    xlsx = client.get(f"/api/runs/{RUN_ID}/reports/employer?format=xlsx",
                      headers={"Authorization": f"Bearer {tokens['employer']}"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"  # a zip container


def test_unknown_run_is_404(client: TestClient):
    assert client.get("/api/runs/nope/growth").status_code == 404
    assert client.get("/api/runs/..%2F..%2Fetc/growth").status_code == 404


def test_attribution_lookup_falls_back_to_the_workspace(tmp_path: Path):
    # a run without an attribution table: the lookup reads the workspace's stored attribution
    import ibis

    from allpayer import Context
    from tests.report_builders import attribution

    ws = tmp_path / "ws"
    write_sample_run(ws, replace={"attribution": None})
    with Context(ws) as ctx:
        ctx.warehouse.publish({"attribution": ibis.memtable(attribution())})
    token = create_token(ws, "aco", ["onecare"])
    found = TestClient(create_app(ws)).post(f"/api/runs/{RUN_ID}/attribution", json={"person_id": "P-0002"},
                                            headers={"Authorization": f"Bearer {token}"})
    assert [(r["program_id"], r["npi"]) for r in rows(found)["attribution"]] == [("self_funded_employer",
                                                                                   "1000000002")]
    assert entries(ws)[-1]["rows"] == 1
