"""Which programs each role's scope reaches (Vermont pack)."""

from __future__ import annotations

from allpayer.api.access import may_report, programs_for
from allpayer.api.tokens import PUBLIC, Principal
from allpayer.config import load_pack

PACK = load_pack("vermont")


def test_scopes_resolve_to_programs():
    assert programs_for(Principal("regulator", ("*",)), PACK) is None
    assert programs_for(Principal("aco", ("onecare",)), PACK) == sorted(PACK.programs)
    assert programs_for(Principal("payer", ("bcbsvt",)), PACK) == ["bcbsvt_qhp"]  # payer name
    assert programs_for(Principal("payer", ("medicaid_vmng",)), PACK) == ["medicaid_vmng"]  # program id
    assert programs_for(Principal("employer", ("self_funded_employer",)), PACK) == ["self_funded_employer"]
    assert programs_for(Principal("employer", ("G-unknown",)), PACK) == []
    assert programs_for(PUBLIC, PACK) == []


def test_reports_by_role():
    assert may_report(PUBLIC, "public") and not may_report(PUBLIC, "employer")
    assert may_report(Principal("employer", ("x",)), "employer")
    assert not may_report(Principal("payer", ("x",)), "aco-budget")
