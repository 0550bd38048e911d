"""Golden cases, worked by hand, for follow-up after ED visits (mental illness, AOD) and initiation and
engagement of AOD treatment. Everyone is attributed all of 2019. Runs on DuckDB and PySpark."""

from __future__ import annotations

import pytest

from tests.cost_builders import person, rx
from tests.quality_builders import by_event, by_person, ed, hospice, quality_runner, stay, visit


@pytest.fixture
def run(backend, make_context):
    return quality_runner(backend, make_context)


def test_followup_after_ed_for_mental_illness(run):
    # A: ED 1 Mar, principal F329; psychotherapy with F329 on 31 Mar (day 30) -> followed up.
    # B: ED 1 Apr, principal F419; follow-up on 2 May (day 31) -> not.
    # C: ED with an injury principal and F329 secondary -> not an index visit.
    # D: ED 15 Dec -> after 1 December, out. E: ED 1 Jun, admitted 10 Jun -> excluded.
    # F: age 5 -> out. G: ED 1 Jul, follow-up the same day -> followed up (day 0).
    # H: ED 1 Aug, visit on day 5 without a mental-health diagnosis -> not.
    people = [person(p, "1980-01-01") for p in "ABCDEGH"] + [person("F", "2014-06-01")]
    claims = [ed("a1", "A", "2019-03-01", "F329"), visit("a2", "A", "2019-03-31", hcpcs="90834", dx="F329"),
              ed("b1", "B", "2019-04-01", "F419"), visit("b2", "B", "2019-05-02", dx="F419"),
              ed("c1", "C", "2019-05-01", "S93401A", diagnosis_code_2="F329"),
              ed("d1", "D", "2019-12-15", "F329"),
              ed("e1", "E", "2019-06-01", "F329"), stay("e2", "E", "2019-06-10", "2019-06-12", dx="F329"),
              ed("f1", "F", "2019-03-01", "F329"),
              ed("g1", "G", "2019-07-01", "F329"), visit("g2", "G", "2019-07-01", hcpcs="90791", dx="F329"),
              ed("h1", "H", "2019-08-01", "F329"), visit("h2", "H", "2019-08-06", dx="J069")]
    got = by_event(run(run.units("followup_ed_mental_illness", people, claims)))
    assert got == {("A", "2019-03-01"): (1.0, False), ("B", "2019-04-01"): (0.0, False),
                   ("E", "2019-06-01"): (0.0, True), ("G", "2019-07-01"): (1.0, False),
                   ("H", "2019-08-01"): (0.0, False)}


def test_followup_after_ed_for_aod(run):
    # A: ED principal F1020, counselling H0004 with F1020 on day 10 -> yes. B: ED principal F1120, nothing -> no.
    # C: age 12 -> out. D: nicotine (F17210) is not AOD -> out.
    people = [person(p, "1980-01-01") for p in "ABD"] + [person("C", "2007-01-01")]
    claims = [ed("a1", "A", "2019-03-01", "F1020"), visit("a2", "A", "2019-03-11", hcpcs="H0004", dx="F1020"),
              ed("b1", "B", "2019-03-01", "F1120"), ed("c1", "C", "2019-03-01", "F1020"),
              ed("d1", "D", "2019-03-01", "F17210")]
    got = by_event(run(run.units("followup_ed_aod", people, claims)))
    assert got == {("A", "2019-03-01"): (1.0, False), ("B", "2019-03-01"): (0.0, False)}


AOD_PEOPLE = [person(p, "1985-01-01") for p in "ABCDEFG"]
AOD_CLAIMS = [
    # A: index 1 Mar; therapy on 10 Mar (day 9) initiates; 20 Mar and 1 Apr (days 10 and 22 after) engage.
    visit("a1", "A", "2019-03-01", dx="F1020"), visit("a2", "A", "2019-03-10", hcpcs="90834", dx="F1020"),
    visit("a3", "A", "2019-03-20", hcpcs="90834", dx="F1020"),
    visit("a4", "A", "2019-04-01", hcpcs="90834", dx="F1020"),
    # B: index 1 Mar, nothing after -> neither.
    visit("b1", "B", "2019-03-01", dx="F1020"),
    # C: diagnosis 20 Jan 2019 with an earlier one on 15 Dec 2018 (36 days) -> no negative history, out.
    visit("c0", "C", "2018-12-15", dx="F1020"), visit("c1", "C", "2019-01-20", dx="F1020"),
    # D: index 20 Nov, after the 14 November intake end -> out.
    visit("d1", "D", "2019-11-20", dx="F1020"),
    # E: index 1 May; buprenorphine fill on 16 May is day 15 -> too late, not initiated.
    visit("e1", "E", "2019-05-01", dx="F1120"),
    # F: index 1 Jun; therapy on 15 Jun (day 14) initiates; one more visit only (1 Jul) -> not engaged.
    visit("f1", "F", "2019-06-01", dx="F1020"), visit("f2", "F", "2019-06-15", hcpcs="90834", dx="F1020"),
    visit("f3", "F", "2019-07-01", hcpcs="90834", dx="F1020"),
    # G: index 1 Feb with hospice in the year -> excluded.
    visit("g1", "G", "2019-02-01", dx="F1020"), hospice("g2", "G", "2019-04-01"),
]
AOD_DRUGS = [rx("r1", "E", "2019-05-16", "80.00", ndc_code="12496120803")]


def test_aod_initiation(run):
    got = by_person(run(run.units("aod_initiation", AOD_PEOPLE, AOD_CLAIMS, AOD_DRUGS)))
    assert got == {"A": (1.0, False), "B": (0.0, False), "E": (0.0, False), "F": (1.0, False), "G": (0.0, True)}


def test_aod_engagement(run):
    got = by_person(run(run.units("aod_engagement", AOD_PEOPLE, AOD_CLAIMS, AOD_DRUGS)))
    assert got == {"A": (1.0, False), "B": (0.0, False), "E": (0.0, False), "F": (0.0, False), "G": (0.0, True)}


def test_medication_initiates_aod_treatment(run):
    # A buprenorphine fill 7 days after the index diagnosis initiates treatment.
    claims = [visit("x1", "X", "2019-05-01", dx="F1120")]
    drugs = [rx("r1", "X", "2019-05-08", "80.00", ndc_code="12496120803")]
    got = by_person(run(run.units("aod_initiation", [person("X", "1985-01-01")], claims, drugs)))
    assert got == {"X": (1.0, False)}


def test_reversed_or_unmatched_fill_does_not_initiate(run):
    # X: the buprenorphine fill 7 days after the index is reversed on 20 May -> not initiated. Y: a fill of another
    # drug (the builder's default NDC, in no value set) 7 days after -> not initiated. Z: a fill adjusted to the
    # buprenorphine NDC -> the adjustment counts, initiated. Fills are kept to matched NDCs before final action.
    people = [person(p, "1985-01-01") for p in "XYZ"]
    claims = [visit(f"{p.lower()}1", p, "2019-05-01", dx="F1120") for p in "XYZ"]
    bup = "12496120803"
    drugs = [rx("rx1", "X", "2019-05-08", "80.00", ndc_code=bup),
             rx("rx2", "X", "2019-05-08", "-80.00", ndc_code=bup, claim_status="reversal", original_claim_id="rx1",
                paid_date="2019-05-20"),
             rx("ry1", "Y", "2019-05-08", "80.00"),
             rx("rz1", "Z", "2019-05-08", "80.00"),
             rx("rz2", "Z", "2019-05-08", "80.00", ndc_code=bup, claim_status="adjustment", original_claim_id="rz1",
                paid_date="2019-05-20")]
    got = by_person(run(run.units("aod_initiation", people, claims, drugs)))
    assert got == {"X": (0.0, False), "Y": (0.0, False), "Z": (1.0, False)}
