"""A :class:`Report` as HTML (Jinja2 template shipped in the package, charts as inline SVG), XLSX (openpyxl,
one sheet per section, raw numbers with number formats) or PDF (the HTML printed by headless Chromium)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from allpayer.reporting import charts
from allpayer.reporting.kinds import FORMATS
from allpayer.reporting.model import Column, Report, Section
from allpayer.reporting.suppression import FLAG

SUPPRESSED = "suppressed"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
XLSX_FORMATS = {"int": "#,##0", "money": "#,##0.00", "rate": "0.00%", "number": "#,##0.00"}


def is_hidden(row: dict, column: Column, section: Section) -> bool:
    """Whether the cell is empty because its row is suppressed (not because it has no value)."""
    if not row.get(FLAG) or row.get(column.name) is not None:
        return False
    return column.kind != "text" if section.suppressible is None else column.name in section.suppressible


def display(value: Any, kind: str) -> str:
    """A cell as text for people."""
    if value is None:
        return ""
    if kind == "int":
        return f"{int(value):,}"
    if kind == "money":
        return f"{Decimal(str(value)):,.2f}"
    if kind == "rate":
        return f"{float(value):.2%}"
    if kind == "number":
        return f"{float(value):,.2f}"
    return str(value)


def raw(value: Any) -> str:
    """A cell's exact value, kept in ``data-value`` so the HTML can be checked against the XLSX."""
    return "" if value is None else str(value)


def environment() -> Environment:
    env = Environment(loader=PackageLoader("allpayer.reporting", "templates"), autoescape=select_autoescape())
    env.globals.update(display=display, raw=raw, is_hidden=is_hidden, svg=charts.svg, SUPPRESSED=SUPPRESSED)
    return env


def html(report: Report) -> str:
    return environment().get_template("report.html").render(report=report)


def xlsx(report: Report, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    summary.append([report.title])
    summary["A1"].font = Font(bold=True, size=14)
    for label, value in report.facts:
        summary.append([label, value])
    for note in report.notes:
        summary.append([note])
    for index, section in enumerate(report.sections, start=1):
        sheet = book.create_sheet(sheet_title(index, section.title))
        sheet.append([section.title])
        sheet["A1"].font = Font(bold=True)
        if section.text:
            sheet.append([section.text])
        sheet.append([c.label for c in section.columns])
        for row in section.rows:
            sheet.append([SUPPRESSED if is_hidden(row, c, section) else cell_value(row.get(c.name), c.kind)
                          for c in section.columns])
            for cell, column in zip(sheet[sheet.max_row], section.columns, strict=False):
                cell.number_format = XLSX_FORMATS.get(column.kind, "General")
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def cell_value(value: Any, kind: str) -> Any:
    if value is None or kind == "text":
        return None if value is None else str(value)
    if kind == "money":
        return Decimal(str(value))
    return int(value) if kind == "int" else float(value)


def sheet_title(index: int, title: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\ ."""
    clean = re.sub(r"[\[\]:*?/\\]", " ", title)
    return f"{index} {clean}"[:31]


def pdf(report: Report, path: Path) -> Path:
    return pdf_from_html(html(report), path)


def pdf_from_html(page_html: str, path: Path) -> Path:
    """Print HTML to PDF with the system Chromium (no browser download; the page loads nothing remote)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"PDF needs Chromium at {CHROMIUM} (Debian package `chromium`)")
    path.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_content(page_html, wait_until="load")
            page.pdf(path=str(path), format="A4", print_background=True,
                     margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})
        finally:
            browser.close()
    return path


def write(report: Report, file_format: str, out: Path) -> Path:
    """Write ``report`` into folder ``out`` as ``<kind>-<run>.<format>``; returns the file."""
    if file_format not in FORMATS:
        raise ValueError(f"unknown format {file_format!r}; choose one of {', '.join(FORMATS)}")
    path = Path(out) / f"{report.kind}-{report.run_id}.{file_format}"
    if file_format == "html":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html(report), encoding="utf-8")
        return path
    return xlsx(report, path) if file_format == "xlsx" else pdf(report, path)
