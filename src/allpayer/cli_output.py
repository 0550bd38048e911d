"""What the command line prints: one console for standard output, one for errors, and tables printed whole.

Rich fits a table to the console's width and cuts what does not fit to an ellipsis; piped to a file or another
program, the console is taken as 80 columns, so a growth table came out as ``6,18…`` where a PBPY stood. Figures
must never be cut: in a terminal too narrow for a table, its headers fold and its values keep their width; a table
that still does not fit, or is written to a pipe or file, is printed at its natural width.
"""

from __future__ import annotations

from copy import copy
from dataclasses import replace

from rich.console import Console, RenderableType
from rich.table import Table

console = Console()
err = Console(stderr=True)

# Wider than any table the commands print: the width at which a table is measured unconstrained.
_UNBOUNDED = 100_000
# The narrowest a column is made in a narrow terminal, so that its folded header stays legible.
_NARROWEST = 5


def print_table(table: Table) -> None:
    """Print ``table`` with every cell whole (see the module's docstring). In a terminal too narrow for it, each
    column takes the width of its widest value and the headers fold; if even that does not fit, or the output is
    not a terminal, the table is printed at its natural width."""
    natural = _width(table)
    if natural <= console.width:
        console.print(table)
        return
    if console.is_terminal:
        folded = copy(table)
        folded.columns = [replace(column, width=max([_NARROWEST, *(_width(cell) for cell in column.cells)]),
                                  overflow="fold") for column in table.columns]
        if _width(folded) <= console.width:
            console.print(folded)
            return
    Console(file=console.file, width=natural, color_system=console.color_system,
            force_terminal=console.is_terminal).print(table)


def _width(renderable: RenderableType) -> int:
    """The widest ``renderable`` is drawn when nothing constrains it (a table's padding and rules included; a
    cell's markup left out)."""
    return console.measure(renderable, options=console.options.update_width(_UNBOUNDED)).maximum
