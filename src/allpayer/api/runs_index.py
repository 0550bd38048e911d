"""Finding a run by id for the API: only ids listed in the workspace are ever opened (no path from a URL)."""

from __future__ import annotations

from pathlib import Path

from allpayer.runs import Run, list_runs, open_run

LATEST = "latest"


def find_run(workspace: Path, run_id: str) -> Run | None:
    """The run ``run_id`` (exact id, a unique prefix, or ``latest``), or None."""
    ids = [info.run_id for info in list_runs(workspace)]
    if run_id == LATEST and ids:
        return open_run(workspace, ids[-1])
    matches = [i for i in ids if i == run_id] or [i for i in ids if run_id and i.startswith(run_id)]
    return open_run(workspace, matches[0]) if len(matches) == 1 else None
