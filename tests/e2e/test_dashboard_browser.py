"""The dashboard in headless Chromium (Debian ``chromium`` through Playwright, no browser download): sign in,
read the growth chart, follow a drill-down, see a suppressed cell in the public view; and a PDF from the API."""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from allpayer.api import create_app
from allpayer.api.tokens import create_token
from allpayer.reporting.render import CHROMIUM, CHROMIUM_ARGS
from tests.report_builders import RUN_ID, write_sample_run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                       reason=f"needs Debian chromium at {CHROMIUM} (.ci/run installs it)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base url, regulator token) of a live server over the hand-built run."""
    import uvicorn

    ws = tmp_path_factory.mktemp("browser") / "ws"
    write_sample_run(ws)
    token = create_token(ws, "regulator", [])
    port = free_port()
    instance = uvicorn.Server(uvicorn.Config(create_app(ws), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    for _ in range(400):  # wait until the server listens (at most 20 s)
        if instance.started:
            break
        time.sleep(0.05)
    assert instance.started, "the test server did not start"
    yield f"http://127.0.0.1:{port}", token
    instance.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(server: tuple[str, str]):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser.new_page()
        browser.close()


def test_dashboard_growth_drill_down_and_public_view(server: tuple[str, str], page):
    base, token = server
    page.goto(f"{base}/login")
    page.fill("input[name=token]", token)
    page.click("button[type=submit]")
    assert page.locator("#role").inner_text() == "regulator"
    assert page.locator("#run-id").inner_text() == RUN_ID

    # the growth chart: one point per series and year after the baseline, labelled with its growth
    labels = page.locator("#chart-growth [aria-roledescription=point]").evaluate_all(
        "marks => marks.map(m => m.getAttribute('aria-label'))")
    points = {(re.search(r"series: (\w+)", s)[1], re.search(r"year: (\d+)", s)[1]): re.search(r"cagr: ([\d.]+)%", s)[1]
              for s in labels}
    # all-payer 2019: sqrt(6489 / 6000) - 1 = 3.99%; the band is drawn at 3.5% and 4.3%
    assert points == {("all_payer", "2018"): "5.00", ("all_payer", "2019"): "3.99", ("medicare", "2018"): "3.00",
                      ("medicare", "2019"): "3.00"}
    bands = page.locator("#chart-growth [aria-label*='band:']").evaluate_all(
        "marks => marks.map(m => m.getAttribute('aria-label'))")
    assert sorted(bands) == ["value: 0.035; band: target", "value: 0.043; band: cap"]

    # drill down by service area: the regulator sees Windsor's 5 attributed persons
    page.click("a[data-drill=hsa]")
    assert page.locator("h1").inner_text() == "Drill-down by hsa"
    windsor = page.locator("tr", has=page.locator("td", has_text="Windsor"))
    assert windsor.locator("td[data-value='5']").count() == 1

    # the public view hides Windsor (5 of 9) and, as its complement, Barre
    page.click("text=public view")
    assert page.locator("#role").inner_text() == "public"
    hidden = page.locator("tr", has=page.locator("td", has_text="Windsor")).locator("td.suppressed")
    assert hidden.count() >= 1 and hidden.first.inner_text() == "suppressed"
    assert page.locator("td.suppressed").count() >= 2


def test_pdf_report_from_the_api(server: tuple[str, str]):
    import httpx
    import pypdfium2

    base, token = server
    response = httpx.get(f"{base}/api/runs/{RUN_ID}/reports/scale?format=pdf",
                         headers={"Authorization": f"Bearer {token}"}, timeout=120)
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    document = pypdfium2.PdfDocument(response.content)
    pixels = document[0].render(scale=1).to_numpy()
    assert (pixels[..., :3].mean(axis=-1) < 128).mean() > 0.005  # not blank
