"""schemathesis against the published OpenAPI spec: generated requests for every operation, as the public and
as a regulator, and no server error. Chromium is replaced by a one-line PDF writer here (PDF rendering is
tested in tests/golden/test_reports.py and tests/e2e/test_dashboard_browser.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from allpayer.api import app as api_app
from allpayer.api import create_app
from allpayer.api.tokens import create_token
from tests.report_builders import write_sample_run


def fake_pdf(html: str, path: Path) -> Path:
    path.write_bytes(b"%PDF-1.4\n%%EOF\n")
    return path


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    ws = tmp_path_factory.mktemp("schema") / "ws"
    write_sample_run(ws)
    patch = pytest.MonkeyPatch()
    patch.setattr(api_app, "pdf_from_html", fake_pdf)
    application = create_app(ws)
    application.state.regulator_token = create_token(ws, "regulator", [])
    yield application
    patch.undo()


OPERATIONS = 10  # every operation of the published spec (checked below)


@pytest.fixture(scope="module")
def operations(app) -> list:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_is_exercised(operations: list):
    assert len(operations) == OPERATIONS


@pytest.mark.parametrize("index", range(OPERATIONS))
@pytest.mark.parametrize("role", ["public", "regulator"])
def test_no_server_errors(operations: list, app, index: int, role: str):
    # schemathesis's pytest plugin does not support pytest 9 yet: drive its case strategy with hypothesis
    headers = {"Authorization": f"Bearer {app.state.regulator_token}"} if role == "regulator" else {}

    @given(case=operations[index].as_strategy())
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    def check(case) -> None:
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    check()
