"""Tables the command line prints keep every value whole, whatever the console's width."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console
from rich.table import Table

from allpayer import cli_output

VALUES = ["all_payer", "2019", "6,533.93", "5.73%", "corrective_action_trigger"]
HEADERS = ["series", "year", "pbpy", "yoy_growth", "remaining_growth_within_target"]


def _table() -> Table:
    table = Table(title="growth")
    for header in HEADERS:
        table.add_column(header)
    table.add_row(*VALUES)
    return table


def _printed(monkeypatch: pytest.MonkeyPatch, width: int, terminal: bool) -> list[str]:
    out = io.StringIO()
    monkeypatch.setattr(cli_output, "console", Console(file=out, width=width, force_terminal=terminal,
                                                       color_system=None))
    cli_output.print_table(_table())
    return [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in out.getvalue().splitlines()]


@pytest.mark.parametrize(("width", "terminal"), [(200, False), (200, True), (70, True), (40, True), (40, False)])
def test_values_are_never_cut(monkeypatch: pytest.MonkeyPatch, width: int, terminal: bool):
    lines = _printed(monkeypatch, width, terminal)
    text = "\n".join(lines)
    assert "…" not in text
    assert all(value in text for value in VALUES)


def test_a_narrow_terminal_folds_the_headers_within_its_width(monkeypatch: pytest.MonkeyPatch):
    # Whole, the table takes 77 columns; its values 9 + 5 + 8 + 5 + 25 plus 16 of rules and padding: 68 fit in 70.
    lines = _printed(monkeypatch, 70, terminal=True)
    assert max(len(line) for line in lines) <= 70
    assert "remaining_growth_within_target" not in "\n".join(lines)  # folded over several lines


def test_a_pipe_gets_the_natural_width(monkeypatch: pytest.MonkeyPatch):
    lines = _printed(monkeypatch, 40, terminal=False)
    assert any("remaining_growth_within_target" in line for line in lines)
    assert max(len(line) for line in lines) > 40


def test_a_table_without_rows_prints_its_headers(monkeypatch: pytest.MonkeyPatch):
    out = io.StringIO()
    monkeypatch.setattr(cli_output, "console", Console(file=out, width=30, force_terminal=True, color_system=None))
    table = Table(title="none yet")
    for header in HEADERS:
        table.add_column(header)
    cli_output.print_table(table)
    assert "remaining_growth_within_target" in out.getvalue()  # too narrow for folding: printed at its width
