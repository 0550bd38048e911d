"""What each role may see: its programs, whether it sees suppressed aggregates only, which reports.

| role      | programs                               | person level | suppressed | reports                          |
|-----------|----------------------------------------|--------------|------------|----------------------------------|
| regulator | all                                    | yes          | no         | all                              |
| aco       | programs of its ACO ids (or listed)    | its programs | no         | settlement, aco-budget, public   |
| payer     | listed programs or programs of a payer | its programs | no         | settlement, public               |
| employer  | its group's program                    | no           | yes        | employer, public                 |
| public    | none (statewide only)                  | no           | yes        | public                           |
"""

from __future__ import annotations

from allpayer.api.tokens import Principal
from allpayer.config import Pack

REPORTS = {"regulator": {"tcoc", "scale", "settlement", "employer", "aco-budget", "public"},
           "aco": {"settlement", "aco-budget", "public"}, "payer": {"settlement", "public"},
           "employer": {"employer", "public"}, "public": {"public"}}
PERSON_LEVEL = {"regulator", "aco", "payer"}


def programs_for(principal: Principal, pack: Pack | None) -> list[str] | None:
    """Program ids the principal may see (None: every program)."""
    if principal.role == "regulator":
        return None
    if principal.role == "public" or pack is None:
        return []
    scope = set(principal.scope)

    def owns(program_id: str) -> bool:
        program = pack.programs[program_id]
        if program_id in scope:
            return True
        if principal.role == "aco":
            return program.aco_id in scope
        if principal.role == "payer":
            return bool(scope & set(program.match.payer or []))
        return bool(scope & set(program.match.group_id or []))  # employer: its group ids

    return sorted(p for p in pack.programs if owns(p))


def may_report(principal: Principal, kind: str) -> bool:
    return kind in REPORTS[principal.role]
