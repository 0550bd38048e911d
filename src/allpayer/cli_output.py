"""What the command line prints: one console for standard output, one for errors, and tables printed whole.

Rich fits a table to the console's width and cuts what does not fit to an ellipsis; piped to a file or another
program, the console is taken as 80 columns, so a growth table came out as ``6,18…`` where a PBPY stood. Figures
must never be cut: in a terminal too narrow for a table, its headers fold and its values keep their width; a table
that still does not fit, or is written to a pipe or file, is printed at its natural width.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console
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
    natural = console.measure(table, options=console.options.update_width(_UNBOUNDED)).maximum
    if natural <= console.width:
        console.print(table)
        return
    values = [max([_NARROWEST, *(cell_len(str(cell)) for cell in column.cells)]) for column in table.columns]
    # Each column adds its padding (one space a side) and a rule; the table one rule more.
    if console.is_terminal and sum(values) + 3 * len(values) + 1 <= console.width:
        for column, width in zip(table.columns, values, strict=True):
            column.width, column.overflow = width, "fold"
        console.print(table)
        return
    Console(file=console.file, width=natural, color_system=console.color_system,
            force_terminal=console.is_terminal).print(table)
