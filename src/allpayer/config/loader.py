"""Load a model pack: ``packs/<name>/pack.yaml`` + ``programs/<program_id>.yaml`` + optional section files.

A pack folder holds:

- ``pack.yaml``: name, version, description, performance years (scale targets and denominators), member-month
  convention, payer hierarchy, residency;
- ``programs/<program_id>.yaml``: one payer program each (the file stem is the program id);
- ``<section>.yaml`` (optional): any other top-level section of :class:`~allpayer.config.models.Pack`, e.g.
  ``cost.yaml`` once a ``cost`` field exists. A section file the model does not know is an error.

Every error names the file, the key and what was expected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from allpayer.config.models import Pack, Program
from allpayer.config.terms import resolve_preset

PACKS = Path(__file__).resolve().parent.parent / "packs"
DEFAULT_PACK = "vermont"


class PackError(ValueError):
    """A model pack that cannot be read; the message names file, key and expectation."""


def pack_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if path.is_dir():
        return path
    builtin = PACKS / str(name_or_path)
    if builtin.is_dir():
        return builtin
    known = sorted(p.name for p in PACKS.iterdir() if (p / "pack.yaml").exists())
    raise PackError(f"no model pack {str(name_or_path)!r}: not a folder, and the built-in packs are {known}")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PackError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PackError(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    return data


def _explain(path: Path, exc: ValidationError, prefix: tuple = ()) -> PackError:
    lines = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in (*prefix, *e["loc"])) or "(top level)"
        got = "" if e["type"] == "missing" else f" (got {e.get('input')!r})"
        lines.append(f"{path}: {loc}: {e['msg']}{got}")
    return PackError("\n".join(lines))


def _validate(model: type[BaseModel], path: Path, data: dict) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _explain(path, exc) from None


def load_programs(folder: Path) -> dict[str, Program]:
    programs: dict[str, Program] = {}
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        data = _read_yaml(path)
        data.setdefault("program_id", path.stem)
        try:
            data = resolve_preset(data, folder.parent)
        except ValueError as exc:
            raise PackError(f"{path}: {exc}") from None
        programs[path.stem] = _validate(Program, path, data)  # type: ignore[assignment]
    return programs


def load_pack(name_or_path: str | Path = DEFAULT_PACK) -> Pack:
    """Read and validate a pack by built-in name (``vermont``, ``mssp``) or folder path."""
    root = pack_path(name_or_path)
    main = root / "pack.yaml"
    if not main.exists():
        raise PackError(f"{root}: no pack.yaml")
    data = _read_yaml(main)
    if "programs" in data:
        raise PackError(f"{main}: programs: put each program in programs/<program_id>.yaml, not in pack.yaml")
    sections = {p.stem: p for p in sorted(root.glob("*.yaml")) if p.name != "pack.yaml"}
    for stem, path in sections.items():
        if stem not in Pack.model_fields or stem == "programs":
            raise PackError(f"{path}: unknown pack section {stem!r}; known sections: "
                            f"{sorted(k for k in Pack.model_fields if k != 'programs')}")
        if stem in data:
            raise PackError(f"{path}: section {stem!r} is also set in {main}; keep it in one place")
        data[stem] = _read_yaml(path)
    programs = load_programs(root / "programs")
    try:
        return Pack.model_validate({**data, "programs": programs})
    except ValidationError as exc:
        first = exc.errors()[0]["loc"][:1]
        where = sections.get(str(first[0]), main) if first else main
        raise _explain(where, exc) from None
