"""Where the DuckDB warehouse keeps its table data: one Parquet file per stored table, under the workspace.

DuckDB writes Parquet several times faster than it writes text columns into its own database file (member
months at 630k persons: 3.6 s against 8.3 s), reads it back as fast, and pages of a file it reads can be let go
without spilling. So every stored table, scratch or published, is a Parquet file, and the database file holds
views over them:

- ``warehouse_tables/<name>-<token>.parquet``: a published table, read through the view ``<name>`` in
  ``warehouse.duckdb`` (the folder is named after the database file).
  Views name their file relative to the workspace; the warehouse sets DuckDB's ``file_search_path`` to it (open
  the database with the DuckDB CLI from inside the workspace folder, or set the same path).
- ``tmp/scratch-<pid>-<token>/<name>.parquet``: scratch, read through a TEMP view, deleted with the scratch.
- ``tmp/spill-<pid>-<token>/``: DuckDB's temporary files when a query outgrows the memory limit. DuckDB deletes
  them when it closes, but a killed process leaves them behind (15 GB after one killed quality step at 630k).

Scratch and spill folders of processes that are no longer running are deleted when a warehouse opens.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

from allpayer.sql_text import sql_text

PROCESS_FOLDERS = ("scratch-*", "spill-*")  # tmp/<kind>-<pid>-<token>, one of each per open warehouse
_VIEW_FILE = re.compile(r"read_parquet\('((?:[^']|'')+)'[,)]")
FILE_ROW_NUMBER = "file_row_number"  # DuckDB's row position in the file, when the view asks for it


def parquet_view_sql(relative: str, columns: str = "*") -> str:
    """The body of a view over one stored file; ``columns`` is the select list (columns of nulls a file does not
    store are typed nulls in it; a stored input file's row numbers when the list names :data:`FILE_ROW_NUMBER`)."""
    options = f", {FILE_ROW_NUMBER} = true" if FILE_ROW_NUMBER in columns else ""
    return f"SELECT {columns} FROM read_parquet({sql_text(relative)}{options})"


def view_file(view_sql: str) -> str | None:
    """The stored file a view reads, if it is one of ours."""
    found = _VIEW_FILE.search(view_sql or "")
    return found.group(1).replace("''", "'") if found else None


class TableFiles:
    """The file layout of one warehouse: published files, this process's scratch folder, and clean-up."""

    def __init__(self, root: Path, database: str = "warehouse") -> None:
        self.root = root
        self.tables = root / f"{database}_tables"
        self.tables.mkdir(parents=True, exist_ok=True)
        suffix = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.scratch = root / "tmp" / f"scratch-{suffix}"
        self.spill = root / "tmp" / f"spill-{suffix}"
        self.spill.parent.mkdir(exist_ok=True)  # DuckDB creates the spill folder when it first spills, not its parent

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def scratch_file(self, name: str) -> Path:
        self.scratch.mkdir(parents=True, exist_ok=True)
        return self.scratch / f"{name}-{uuid.uuid4().hex[:8]}.parquet"

    def published_file(self, name: str, token: str) -> Path:
        return self.tables / f"{name}-{token}.parquet"

    def drop_scratch(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    def remove_spill(self) -> None:
        shutil.rmtree(self.spill, ignore_errors=True)

    def remove_dead_scratch(self) -> None:
        """Scratch and spill folders of processes that are gone (killed before they cleaned up)."""
        for pattern in PROCESS_FOLDERS:
            for folder in (self.root / "tmp").glob(pattern):
                pid = folder.name.split("-")[1]
                if pid.isdigit() and not _running(int(pid)):
                    shutil.rmtree(folder, ignore_errors=True)

    def remove_unreferenced(self, referenced: set[str]) -> None:
        """Published files no view reads: replaced tables, or files of a publish that never committed."""
        for path in self.tables.glob("*.parquet"):
            if self.relative(path) not in referenced:
                path.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
