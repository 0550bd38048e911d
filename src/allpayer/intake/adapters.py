"""Source formats -> canonical inputs.

An adapter says, for each kind of input file it understands, which canonical input it feeds, how its
columns are named, and which columns a file must have. Parsing and checks are shared by all adapters.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from allpayer.intake.contract import (
    ENROLLMENT,
    MEDICAL_CLAIM,
    PERSON,
    PHARMACY_CLAIM,
    PROVIDER,
    DateOrder,
    Kind,
)
from allpayer.intake.validate import InputSpec

# Tuva's eligibility rows carry both the coverage span and the person's demographics.
ELIGIBILITY = InputSpec.of(ENROLLMENT, PERSON, name="eligibility",
                           date_orders=(DateOrder("birth_date", "death_date"),))
INPUTS: dict[str, InputSpec] = {
    "provider": InputSpec.of(PROVIDER),
    "person": InputSpec.of(PERSON),
    "enrollment": InputSpec.of(ENROLLMENT),
    "eligibility": ELIGIBILITY,
    "medical_claim": InputSpec.of(MEDICAL_CLAIM, needs_enrollment=True),
    "pharmacy_claim": InputSpec.of(PHARMACY_CLAIM, needs_enrollment=True),
}
# Inputs are checked in this order: claims are checked against enrollment accepted before them.
INPUT_ORDER = ("provider", "person", "enrollment", "eligibility", "medical_claim", "pharmacy_claim")


@dataclass(frozen=True)
class FileKind:
    """One kind of source file: its base name, the canonical input it feeds, and its column names."""

    stem: str
    input: str
    renames: dict[str, str]  # source column -> canonical column, where they differ

    def mapping(self) -> dict[str, str]:
        inverse = {v: k for k, v in self.renames.items()}
        return {inverse.get(c.name, c.name): c.name for c in INPUTS[self.input].columns}

    def kinds(self) -> dict[str, Kind]:
        """Contract kind of each canonical column."""
        return {c.name: c.kind for c in INPUTS[self.input].columns}

    def required_source_columns(self) -> set[str]:
        inverse = {v: k for k, v in self.renames.items()}
        spec = INPUTS[self.input]
        return {inverse.get(c.name, c.name) for c in spec.columns if c.required and c.default is None}


@dataclass(frozen=True)
class Adapter:
    name: str
    description: str
    kinds: tuple[FileKind, ...]
    ignored: tuple[str, ...] = ()  # recognised tables this adapter does not load (yet)

    def discover(self, paths: list[Path]) -> list[tuple[FileKind, Path]]:
        """Match files (or files inside folders) to kinds by base name, e.g. ``medical_claim.csv``."""
        found = []
        for path in paths:
            candidates = sorted(path.iterdir()) if path.is_dir() else [path]
            for candidate in candidates:
                kind = self._kind_of(candidate)
                if kind is not None:
                    found.append((kind, candidate))
                elif not path.is_dir():
                    raise ValueError(f"{candidate}: not a {self.name} file (expected one of "
                                     f"{', '.join(k.stem for k in self.kinds)})")
        return found

    def _kind_of(self, path: Path) -> FileKind | None:
        stem = path.name.split(".")[0].lower()
        if any(stem == i or stem.startswith(i + "_") for i in self.ignored):
            return None
        for kind in self.kinds:
            if stem == kind.stem or stem.startswith(kind.stem + "_") or stem.startswith(kind.stem + "-"):
                return kind
        return None


TUVA = Adapter(
    name="tuva",
    description="Tuva input layer: eligibility, medical_claim, pharmacy_claim (exact Tuva column names), "
    "plus a provider roster",
    kinds=(
        FileKind("eligibility", "eligibility", {"gender": "sex"}),
        FileKind("medical_claim", "medical_claim", {}),
        FileKind("pharmacy_claim", "pharmacy_claim", {}),
        FileKind("provider", "provider", {}),
    ),
    ignored=("provider_attribution",),
)

CANONICAL = Adapter(
    name="canonical",
    description="allpayer canonical tables (as written by `allpayer export`)",
    kinds=tuple(FileKind(name, name, {}) for name in
                ("provider", "person", "enrollment", "medical_claim", "pharmacy_claim")),
)

ADAPTERS: dict[str, Adapter] = {a.name: a for a in (TUVA, CANONICAL)}
