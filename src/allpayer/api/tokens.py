"""Bearer tokens with a role and a scope, stored hashed in ``WORKSPACE/tokens.json``.

A token is ``ap_<id>_<secret>``; only its SHA-256 is stored, so the file does not let anyone act as a user. The
id (never the secret) names the token in the audit log. Scopes: aco ids or program ids for ``aco``; program ids
or payer names for ``payer``; program ids for ``employer``; ``*`` for ``regulator``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ROLES = ("regulator", "aco", "payer", "employer", "public")
TOKENS_FILE = "tokens.json"
COOKIE = "allpayer_token"  # the dashboard keeps a signed-in token here (HTTP only, same site)


@dataclass(frozen=True)
class Principal:
    role: str
    scope: tuple[str, ...] = ()
    token_id: str = "-"

    @property
    def suppressed(self) -> bool:
        """Whether this principal sees only suppressed aggregates."""
        return self.role in ("public", "employer")


PUBLIC = Principal("public")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _read(workspace: Path) -> dict[str, dict]:
    path = Path(workspace) / TOKENS_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def create_token(workspace: Path | str, role: str, scope: list[str]) -> str:
    """Store a new token's hash and return the token (shown once, never stored)."""
    if role not in ROLES or role == "public":
        raise ValueError(f"role must be one of {', '.join(r for r in ROLES if r != 'public')}")
    if role != "regulator" and not scope:
        raise ValueError(f"a {role} token needs a scope (--scope)")
    workspace = Path(workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    token_id = secrets.token_hex(4)
    token = f"ap_{token_id}_{secrets.token_urlsafe(32)}"
    tokens = _read(workspace)
    tokens[token_id] = {"sha256": _digest(token), "role": role,
                        "scope": sorted(scope) if role != "regulator" else ["*"],
                        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    tmp = workspace / f".{TOKENS_FILE}.tmp"
    tmp.write_text(json.dumps(tokens, indent=2, sort_keys=True))
    tmp.chmod(0o600)
    os.replace(tmp, workspace / TOKENS_FILE)
    return token


def authenticate(workspace: Path | str, token: str | None) -> Principal | None:
    """The principal of ``token``; ``PUBLIC`` without a token; None for an unknown token."""
    if not token:
        return PUBLIC
    token_id = token.split("_")[1] if token.count("_") >= 2 else ""
    entry = _read(Path(workspace)).get(token_id)
    if entry is None or not hmac.compare_digest(entry["sha256"], _digest(token)):
        return None
    return Principal(entry["role"], tuple(entry["scope"]), token_id)
