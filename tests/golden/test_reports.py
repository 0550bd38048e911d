"""The six reports built from a small hand-built run (tests/report_builders.py): figures worked by hand,
suppression in public and employer outputs, the same numbers in HTML and XLSX, and PDFs that render."""

from __future__ import annotations

import shutil
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pytest

from allpayer.reporting.builders import build
from allpayer.reporting.kinds import KINDS
from allpayer.reporting.model import Report, Section
from allpayer.reporting.render import CHROMIUM, SUPPRESSED, write
from allpayer.runs import Run
from tests.report_builders import write_sample_run

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which("chromium") is None,
                                    reason=f"needs Debian chromium at {CHROMIUM} (.ci/run installs it)")


@pytest.fixture
def run(tmp_path: Path) -> Run:
    return write_sample_run(tmp_path / "ws")


def section(report: Report, title: str) -> Section:
    return next(s for s in report.sections if s.title == title)


def by(rows: list[dict], key: str) -> dict:
    return {row[key]: row for row in rows}


def test_public_cost_hides_a_small_payer_and_its_complement(run: Run):
    rows = by(section(build("public", run), "TCOC by payer type").rows, "payer_type")
    # commercial has 8 persons; self_funded (25) is the next smallest of 2019, hidden so that
    # all-payer minus the shown cells does not give commercial back
    assert rows["commercial"]["suppressed"] and rows["commercial"]["tcoc_pmpm"] is None
    assert rows["self_funded"]["suppressed"] and rows["self_funded"]["persons"] is None
    assert not rows["medicare"]["suppressed"]
    assert rows["medicare"]["tcoc_pmpm"] == pytest.approx(800.0)  # 384,000 / 480 member months


def test_public_scale_by_hsa_hides_windsor_and_barre(run: Run):
    rows = by(section(build("public", run), "Scale by hsa").rows, "value")
    assert rows["Windsor"]["suppressed"] and rows["Windsor"]["pct"] is None
    assert rows["Barre"]["suppressed"]
    assert rows["Burlington"]["numerator"] == 35 and not rows["Burlington"]["suppressed"]


def test_regulator_scale_report_is_not_suppressed(run: Run):
    rows = by(section(build("scale", run), "Scale by hsa").rows, "value")
    assert rows["Windsor"]["numerator"] == 5 and "suppressed" not in rows["Windsor"]


def test_employer_report(run: Run):
    report = build("employer", run)
    assert report.public
    cost = section(report, "Cost per member per month and trend").rows
    # 2018: 115,200 / 288 = 400.00 PMPM; 2019: 135,000 / 300 = 450.00, trend 450 / 400 - 1 = 12.5%
    assert [(r["year"], r["persons"]) for r in cost] == [(2018, 24), (2019, 25)]  # all-payer rows of the group
    assert [r["tcoc_pmpm"] for r in cost] == pytest.approx([400.0, 450.0])
    assert cost[1]["trend"] == pytest.approx(0.125)
    measures = by(section(report, "Quality and utilisation").rows, "measure_id")
    assert set(measures) == {"hypertension_control", "developmental_screening", "ed_visits_per_1000"}
    assert measures["developmental_screening"]["suppressed"]  # 7 persons
    assert measures["hypertension_control"]["rate"] == pytest.approx(0.7)
    ed = measures["ed_visits_per_1000"]
    assert (ed["rate"], ed["per_1000"], ed["target_per_1000"]) == (None, 1500.0, 380.0)
    outcome = section(report, "Share of the outcome").rows[0]
    assert (outcome["gross_savings"], outcome["shared"], outcome["payer_share"]) == (
        Decimal("-5000.00"), Decimal("-2500.00"), Decimal("-2500.00"))
    assert section(report, "Value payments paid").rows[0]["amount"] == Decimal("162.50")  # 2 x 81.25


def test_aco_budget_sheet(run: Run):
    rows = by(section(build("aco-budget", run), "Expected revenue and maximum downside").rows, "program_id")
    # Medicare: 400,000 x 5% cap x 80% = 16,000 (4%); self-funded: 130,000 x (1.5% + 0.75%) = 2,925 (2.25%)
    assert rows["medicare_vmng"]["max_downside"] == Decimal("16000.00")
    assert rows["medicare_vmng"]["downside_share"] == pytest.approx(0.04)
    assert rows["self_funded_employer"]["max_downside"] == Decimal("2925.00")
    lives = by(section(build("aco-budget", run), "Attributed lives by payer").rows, "value")
    assert lives["medicare"]["numerator"] == 30


def test_settlement_statement_keeps_the_waterfall_order(run: Run):
    report = build("settlement", run, ["medicare_vmng"])
    steps = section(report, "Waterfall: medicare_vmng").rows
    assert [s["step"] for s in steps] == ["expected cost", "gross savings", "sharing rate", "sequestration",
                                          "settlement"]
    assert steps[-1]["amount"] == Decimal("15680.00")
    assert [s.title for s in report.sections if s.title.startswith("Waterfall")] == ["Waterfall: medicare_vmng"]


def test_a_table_written_empty_without_columns_is_no_rows(tmp_path: Path):
    # the run pipeline writes a program-year without distribution lines as a table with no columns
    run = write_sample_run(tmp_path / "ws", replace={"distribution": pa.table({})})
    report = build("settlement", run)
    assert section(report, "Distribution: medicare_vmng").text == "no rows"
    assert section(report, "Waterfall: medicare_vmng").rows


def test_a_missing_table_is_named(tmp_path: Path):
    run = write_sample_run(tmp_path / "ws", replace={"growth": None})
    assert section(build("public", run), "Growth against the target band").text == "This run has no `growth` table."


def test_growth_section_reads_the_band_from_the_run(run: Run):
    growth = section(build("tcoc", run), "Growth against the target band")
    assert "target 3.5%, cap 4.3%" in growth.text
    assert growth.chart is not None and growth.chart_id == "growth"


class Tables(HTMLParser):
    """Each <table>'s cells as their data-value."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag == "td" and "data-value" in dict(attrs):
            self.tables[-1][-1].append(dict(attrs)["data-value"])


def same_number(html_value: str, xlsx_value: object) -> bool:
    if html_value == SUPPRESSED or xlsx_value == SUPPRESSED:
        return html_value == xlsx_value
    if xlsx_value is None:
        return html_value == ""
    if isinstance(xlsx_value, str):
        return html_value == xlsx_value
    return float(html_value) == pytest.approx(float(xlsx_value), rel=1e-12, abs=1e-9)


@pytest.mark.parametrize("kind", list(KINDS))
def test_xlsx_has_the_numbers_of_the_html(run: Run, tmp_path: Path, kind: str):
    from openpyxl import load_workbook

    report = build(kind, run)
    parser = Tables()
    parser.feed(write(report, "html", tmp_path).read_text())
    book = load_workbook(write(report, "xlsx", tmp_path))
    sheets = [book[name] for name in book.sheetnames[1:]]
    with_tables = [(s, sheet) for s, sheet in zip(report.sections, sheets, strict=True) if s.columns]
    assert len(with_tables) == len(parser.tables)
    for (sec, sheet), html_rows in zip(with_tables, parser.tables, strict=True):
        values = list(sheet.iter_rows(values_only=True))
        header = values.index(tuple(c.label for c in sec.columns))
        xlsx_rows = values[header + 1:]
        html_rows = [r for r in html_rows if r]
        assert len(xlsx_rows) == len(html_rows) == len(sec.rows), sec.title
        for html_row, xlsx_row in zip(html_rows, xlsx_rows, strict=True):
            assert all(same_number(h, x) for h, x in zip(html_row, xlsx_row, strict=True)), (sec.title, html_row,
                                                                                               xlsx_row)


@needs_chromium
@pytest.mark.slow
def test_pdf_renders_a_page_with_content(run: Run, tmp_path: Path):
    import pypdfium2

    path = write(build("public", run), "pdf", tmp_path)
    document = pypdfium2.PdfDocument(path)
    assert len(document) >= 1
    pixels = document[0].render(scale=1).to_numpy()
    dark = (pixels[..., :3].mean(axis=-1) < 128).mean()
    assert 0.005 < dark < 0.5  # text and a chart, not a blank or black page
