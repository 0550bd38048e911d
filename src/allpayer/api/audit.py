"""Audit log of person-level access: one JSON line per access in ``WORKSPACE/audit.log``.

It records who (token id and role, never the token), what (action, run, program, year) and how many rows were
returned, never the person looked up: the log itself must hold no identifiers.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from allpayer.api.tokens import Principal

AUDIT_FILE = "audit.log"


def record(workspace: Path, principal: Principal, action: str, rows: int, **details: object) -> None:
    entry = {"time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "token_id": principal.token_id,
             "role": principal.role, "action": action, "rows": rows, **details}
    with open(Path(workspace) / AUDIT_FILE, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry, sort_keys=True, default=str) + "\n")


def entries(workspace: Path) -> list[dict]:
    path = Path(workspace) / AUDIT_FILE
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
