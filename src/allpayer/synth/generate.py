"""Orchestration: roster, population, eligibility, then claims and fills chunk by chunk and year by year,
streamed to Tuva-layout files; dirty rows and ``synth_manifest.json`` last."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from allpayer.synth import claims as med
from allpayer.synth import codes, dirty, geography, pharmacy, population, providers, versions, writer
from allpayer.synth.config import PAYER_TYPES, SynthConfig, SynthSummary
from allpayer.synth.population import Population
from allpayer.synth.util import NULL, day, rank_within, rng

Progress = Callable[[str], None]
DIAGNOSIS_SLOTS = 8


def member_numbers(person: np.ndarray) -> np.ndarray:
    return (person.astype(np.int64) * 7_919 + 13) % 1_000_000_000


class _Decoder:
    """Arrow vocabularies for decoding integer-coded columns."""

    def __init__(self, pop: Population, prov: providers.Providers) -> None:
        prods = pop.products
        self.person_id = pa.array(pop.person_id.tolist(), pa.string())
        self.payer = pa.array([p.payer or None for p in prods], pa.string())
        self.plan = pa.array([p.plan or None for p in prods], pa.string())
        self.payer_type = pa.array([p.payer_type or None for p in prods], pa.string())
        self.source = pa.array([p.data_source or None for p in prods], pa.string())
        self.prefix = pa.array([p.member_prefix or None for p in prods], pa.string())
        self.group_id = pa.array([p.group_id or None for p in prods], pa.string())
        self.group_name = pa.array([p.group_name or None for p in prods], pa.string())
        self.npi = pa.array(prov.npi.tolist(), pa.string())
        self.tin = pa.array(prov.tin.tolist(), pa.string())
        self.type_index = np.array([PAYER_TYPES.index(p.payer_type) if p.payer_type else NULL for p in prods])

    def member_id(self, person: np.ndarray, product: np.ndarray) -> pa.Array:
        return writer.ids(writer.codes(self.prefix, product), member_numbers(person), 9)


def _member_months(ch: med.Chunk, dec: _Decoder) -> dict[str, int]:
    gm = ch.m0 + np.arange(12)
    pop, p = ch.pop, ch.persons[:, None]
    out: dict[str, int] = {}
    for layer, divisor in ((pop.medicare, 16), (pop.medicaid, 4), (pop.employer, 1)):
        product = layer[p, gm[None, :]].astype(np.int64) // divisor
        types = dec.type_index[product[product > 0]]
        for t, count in zip(*np.unique(types, return_counts=True), strict=True):
            out[PAYER_TYPES[t]] = out.get(PAYER_TYPES[t], 0) + int(count)
    return out


def _medical_table(ch: med.Chunk, dec: _Decoder, first_id: int) -> tuple[pa.Table, int, np.ndarray]:
    """Priced, versioned medical lines as a Tuva table; returns (table, claims used, sample row indices)."""
    cfg, r = ch.cfg, ch.r
    claims, lines = med.generate(ch)
    allowed = med.price(ch, claims, lines)
    ptype = dec.type_index[claims["product"][lines["claim"]]]
    allowed = versions.calibrate(cfg, ch.year, allowed, ptype, _member_months(ch, dec), cfg.pmpm_medical)
    inst = claims["ctype"][lines["claim"]] == med.INST
    lines["allowed"], lines["paid"], lines["charge"] = versions.amounts(r, allowed, ptype, inst)
    slow = np.isin(claims["bill"], codes.BILL_TYPES.ix("111", "211"))
    claims["paid_date"] = versions.paid_dates(r, cfg, claims["start"], claims["end"], slow)
    claims, lines = versions.versions(r, cfg, claims, lines)
    order = np.argsort(lines["claim"], kind="stable")
    lines = {k: v[order] for k, v in lines.items()}
    c = lines["claim"]
    n = len(c)
    g = {k: v[c] for k, v in claims.items()}  # claim attributes per line
    prof = g["ctype"] == med.PROF
    has_rendering = g["rendering"] != NULL
    rendering = np.maximum(g["rendering"], 0)
    billing = np.maximum(g["billing"], 0)
    cost_share = lines["allowed"] - lines["paid"]
    arrays = {
        "claim_id": writer.ids("M", first_id + c, 11),
        "claim_line_number": writer.ints(rank_within(c) + 1),
        "claim_type": pa.array(np.where(prof, "professional", "institutional")),
        "person_id": dec.person_id.take(pa.array(ch.persons[g["person"]])),
        "member_id": dec.member_id(ch.persons[g["person"]], g["product"]),
        "payer": writer.codes(dec.payer, g["product"]),
        "plan": writer.codes(dec.plan, g["product"]),
        "claim_start_date": writer.dates(g["start"]),
        "claim_end_date": writer.dates(g["end"]),
        "claim_line_start_date": writer.dates(np.where(lines["line_start"] == NULL, g["start"], lines["line_start"])),
        "claim_line_end_date": writer.dates(np.where(lines["line_end"] == NULL, g["end"], lines["line_end"])),
        "admission_date": writer.dates(g["admission"]),
        "discharge_date": writer.dates(g["discharge"]),
        "admit_type_code": writer.codes(codes.ADMIT_TYPES.codes, g["admit_type"]),
        "discharge_disposition_code": writer.codes(codes.DISCHARGE.codes, g["disch"]),
        "place_of_service_code": writer.codes(codes.POS.codes, np.where(prof, g["pos"], NULL)),
        "bill_type_code": writer.codes(codes.BILL_TYPES.codes, g["bill"]),
        "drg_code_type": writer.codes(("ms-drg",), np.where(g["drg"] != NULL, 0, NULL)),
        "drg_code": writer.codes(codes.DRG.codes, g["drg"]),
        "revenue_center_code": writer.codes(codes.REVENUE.codes, lines["revenue"]),
        "service_unit_quantity": writer.ints(np.maximum(lines["units"], 1).astype(np.int64)),
        "hcpcs_code": writer.codes(codes.HCPCS.codes, lines["hcpcs"]),
        "hcpcs_modifier_1": writer.codes(codes.MODIFIERS.codes, lines["mod1"]),
        "rendering_npi": dec.npi.take(pa.array(rendering, mask=~has_rendering)),
        "rendering_tin": dec.tin.take(pa.array(rendering, mask=~has_rendering)),
        "billing_npi": dec.npi.take(pa.array(billing)),
        "billing_tin": dec.tin.take(pa.array(billing)),
        "facility_npi": dec.npi.take(pa.array(np.maximum(g["facility"], 0), mask=g["facility"] == NULL)),
        "paid_date": writer.dates(g["paid_date"]),
        "paid_amount": writer.money(lines["paid"]),
        "allowed_amount": writer.money(lines["allowed"]),
        "charge_amount": writer.money(lines["charge"]),
        "coinsurance_amount": writer.money(cost_share),
        "total_cost_amount": writer.money(lines["allowed"]),
        "diagnosis_code_type": pa.array(np.full(n, "icd-10-cm")),
        **{f"diagnosis_code_{i}": writer.codes(codes.ICD10CM.codes, g[f"dx{i}"])
           for i in range(1, DIAGNOSIS_SLOTS + 1)},
        "procedure_code_type": writer.codes(("icd-10-pcs",), np.where(g["pcs"] != NULL, 0, NULL)),
        "procedure_code_1": writer.codes(codes.PCS.codes, g["pcs"]),
        "procedure_date_1": writer.dates(np.where(g["pcs"] != NULL, g["start"], NULL)),
        "in_network_flag": pa.array(ch.r.random(n) < 0.96),
        "data_source": writer.codes(dec.source, g["product"]),
        "file_date": writer.dates(g["file_date"]),
        "claim_status": writer.codes(versions.STATUS_NAMES, g["status"]),
        "original_claim_id": writer.ids("M", first_id + np.maximum(g["original"], 0), 11, mask=g["original"] == NULL),
    }
    tbl = writer.table(writer.MEDICAL_COLUMNS, arrays, n)
    ok = (g["status"] == versions.ORIGINAL) & prof & has_rendering & (g["dx1"] != NULL) & (lines["hcpcs"] != NULL) \
        & (lines["paid"] > 0)
    return tbl, len(claims["start"]), np.flatnonzero(ok)


def _pharmacy_table(ch: med.Chunk, dec: _Decoder, first_id: int) -> tuple[pa.Table, int, np.ndarray]:
    cfg, r = ch.cfg, ch.r
    fills = pharmacy.generate(ch)
    if not fills:
        return writer.table(writer.PHARMACY_COLUMNS, {}, 0), 0, np.zeros(0, dtype=np.int64)
    m = len(fills["person"])
    ptype = dec.type_index[fills["product"]]
    allowed = versions.calibrate(cfg, ch.year, fills["price"], ptype, _member_months(ch, dec), cfg.pmpm_pharmacy)
    allowed_c = versions.cents(allowed)
    copay = np.select([ptype == 2, np.isin(ptype, (0, 1))], [100, 500], np.where(allowed_c > 10_000, 3500, 1000))
    paid_c = np.maximum(allowed_c - copay, 0)
    claims = {"start": fills["day"], "end": fills["day"], "paid_date": fills["day"] + r.integers(0, 4, m),
              **{k: v for k, v in fills.items() if k != "price"}}
    lines = {"claim": np.arange(m), "allowed": allowed_c, "paid": paid_c,
             "charge": np.ceil(allowed_c * r.uniform(1.05, 1.6, m)).astype(np.int64)}
    claims, lines = versions.versions(r, cfg, claims, lines)
    c = lines["claim"]
    n = len(c)
    g = {k: v[c] for k, v in claims.items()}
    arrays = {
        "claim_id": writer.ids("R", first_id + c, 11),
        "claim_line_number": writer.ints(np.ones(n, dtype=np.int64)),
        "person_id": dec.person_id.take(pa.array(ch.persons[g["person"]])),
        "member_id": dec.member_id(ch.persons[g["person"]], g["product"]),
        "payer": writer.codes(dec.payer, g["product"]),
        "plan": writer.codes(dec.plan, g["product"]),
        "prescribing_provider_npi": dec.npi.take(pa.array(g["prescriber"])),
        "dispensing_provider_npi": dec.npi.take(pa.array(g["pharmacy"])),
        "dispensing_date": writer.dates(g["day"]),
        "ndc_code": writer.codes(pharmacy.NDC, g["ndc"]),
        "quantity": writer.ints(g["quantity"]),
        "days_supply": writer.ints(g["days_supply"]),
        "refills": writer.ints(g["refills"]),
        "paid_date": writer.dates(g["paid_date"]),
        "paid_amount": writer.money(lines["paid"]),
        "allowed_amount": writer.money(lines["allowed"]),
        "charge_amount": writer.money(lines["charge"]),
        "copayment_amount": writer.money(lines["allowed"] - lines["paid"]),
        "in_network_flag": pa.array(np.ones(n, dtype=bool)),
        "data_source": writer.codes(dec.source, g["product"]),
        "file_date": writer.dates(g["file_date"]),
        "claim_status": writer.codes(versions.STATUS_NAMES, g["status"]),
        "original_claim_id": writer.ids("R", first_id + np.maximum(g["original"], 0), 11, mask=g["original"] == NULL),
    }
    tbl = writer.table(writer.PHARMACY_COLUMNS, arrays, n)
    ok = (g["status"] == versions.ORIGINAL) & (lines["paid"] > 0)
    return tbl, len(claims["start"]), np.flatnonzero(ok)


def _eligibility_table(pop: Population, dec: _Decoder, cfg: SynthConfig) -> tuple[pa.Table, dict[str, int]]:
    sp = population.spans(pop)
    p, prod = sp["person"], sp["product"]
    n = len(p)
    medicare_row = sp["status"] != NULL
    status = np.maximum(sp["status"], 0)
    death = pop.death[p]
    arrays = {
        "person_id": dec.person_id.take(pa.array(p)),
        "member_id": dec.member_id(p, prod),
        "subscriber_id": dec.member_id(p, prod),
        "gender": pa.array(np.where(pop.sex[p] == 0, "female", "male")),
        "race": writer.codes(population.RACES, pop.race[p]),
        "birth_date": writer.dates(pop.birth[p]),
        "death_date": writer.dates(death),
        "death_flag": pa.array(death != NULL),
        "enrollment_start_date": writer.dates(sp["start"]),
        "enrollment_end_date": writer.dates(sp["end"]),
        "payer": writer.codes(dec.payer, prod),
        "payer_type": writer.codes(dec.payer_type, prod),
        "plan": writer.codes(dec.plan, prod),
        "original_reason_entitlement_code": writer.codes(
            tuple(s[1] for s in population.MEDICARE_STATUS), np.where(medicare_row, status, NULL)),
        "medicare_status_code": writer.codes(tuple(s[0] for s in population.MEDICARE_STATUS),
                                             np.where(medicare_row, status, NULL)),
        "dual_status_code": writer.codes(population.DUAL_CODES, np.where(sp["dual"] > 0, sp["dual"], NULL)),
        "group_id": writer.codes(dec.group_id, prod),
        "group_name": writer.codes(dec.group_name, prod),
        "subscriber_relation": pa.array(np.where(pop.birth[p] > day(cfg.first_year) - 18 * 365, "child", "self")),
        "state": pa.array(pop.state[p].tolist(), pa.string()),
        "zip_code": pa.array(pop.zip_code[p].tolist(), pa.string()),
        "data_source": writer.codes(dec.source, prod),
        "file_date": writer.dates(np.full(n, day(cfg.last_year, 12, 31))),
    }
    persons_by_type = {}
    ptype = dec.type_index[prod]
    for t, name in enumerate(PAYER_TYPES):
        persons_by_type[name] = len(np.unique(p[ptype == t]))
    return writer.table(writer.ELIGIBILITY_COLUMNS, arrays, n), persons_by_type


def _all_member_months(pop: Population, dec: _Decoder) -> dict[str, int]:
    out = dict.fromkeys(PAYER_TYPES, 0)
    for layer, divisor in ((pop.medicare, 16), (pop.medicaid, 4), (pop.employer, 1)):
        for start in range(0, pop.n, 200_000):
            product = layer[start:start + 200_000].astype(np.int64) // divisor
            types = dec.type_index[product[product > 0]]
            for t, count in zip(*np.unique(types, return_counts=True), strict=True):
                out[PAYER_TYPES[t]] += int(count)
    return out


def generate(cfg: SynthConfig, out_dir: Path | str, progress: Progress | None = None) -> SynthSummary:
    """Write a synthetic Vermont all-payer data set (Tuva input layer + provider roster) to ``out_dir``."""
    started = time.perf_counter()
    say = progress or (lambda _msg: None)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    fmt = cfg.file_format
    summary = SynthSummary(persons=cfg.persons)

    say("building providers and population")
    geo = geography.load()
    prov = providers.build(cfg, geo)
    pop = population.build(cfg, geo, prov)
    dec = _Decoder(pop, prov)

    roster = prov.to_arrow()
    path = out / writer.file_name("provider", fmt)
    w = writer.TableWriter(path, roster.schema, fmt)
    w.write(roster)
    w.close()
    summary.files.append(path)
    summary.providers = roster.num_rows

    say("writing eligibility")
    elig, summary.persons_by_payer_type = _eligibility_table(pop, dec, cfg)
    path = out / writer.file_name("eligibility", fmt)
    w = writer.TableWriter(path, elig.schema, fmt)
    w.write(elig)
    w.close()
    summary.files.append(path)
    summary.eligibility_rows = elig.num_rows
    summary.member_months_by_payer_type = _all_member_months(pop, dec)
    del elig

    med_path = out / writer.file_name("medical_claim", fmt)
    rx_path = out / writer.file_name("pharmacy_claim", fmt)
    med_w = writer.TableWriter(med_path, writer.schema(writer.MEDICAL_COLUMNS), fmt)
    rx_w = writer.TableWriter(rx_path, writer.schema(writer.PHARMACY_COLUMNS), fmt)
    med_next, rx_next = 1, 1
    med_sample = rx_sample = None
    max_day = 0
    need = cfg.dirty_rows_per_rule * len(dirty.MEDICAL_RULES)
    try:
        for year in cfg.years:
            for chunk, start in enumerate(range(0, cfg.persons, cfg.chunk_persons)):
                persons = np.arange(start, min(start + cfg.chunk_persons, cfg.persons))
                say(f"claims {year}: persons {start + 1:,}-{persons[-1] + 1:,}")
                ch = med.Chunk(cfg, pop, prov, year, persons, rng(cfg.seed, 10, year, chunk))
                tbl, used, ok = _medical_table(ch, dec, med_next)
                med_next += used
                med_w.write(tbl)
                if med_sample is None and len(ok) >= need:
                    pick = np.sort(rng(cfg.seed, 20).choice(ok, size=need, replace=False))
                    med_sample = tbl.take(pa.array(pick))
                max_day = max(max_day, _max_day(tbl, "paid_date"))
                del tbl
                ch.r = rng(cfg.seed, 11, year, chunk)
                tbl, used, ok = _pharmacy_table(ch, dec, rx_next)
                rx_next += used
                rx_w.write(tbl)
                if rx_sample is None and len(ok) >= cfg.dirty_rows_per_rule:
                    pick = np.sort(rng(cfg.seed, 21).choice(ok, size=cfg.dirty_rows_per_rule, replace=False))
                    rx_sample = tbl.take(pa.array(pick))
                max_day = max(max_day, _max_day(tbl, "paid_date"))
                del tbl
    finally:
        med_w.close()
        rx_w.close()
    summary.files += [med_path, rx_path]
    summary.claim_lines, summary.pharmacy_lines = med_w.rows, rx_w.rows

    if cfg.dirty and cfg.dirty_rows_per_rule > 0:
        say("writing dirty rows")
        for stem, sample, rules in (("medical_claim_dirty", med_sample, dirty.MEDICAL_RULES),
                                    ("pharmacy_claim_dirty", rx_sample, dirty.PHARMACY_RULES)):
            if sample is None:
                raise ValueError("too few clean rows to derive dirty rows from; raise persons")
            bad, counts = dirty.rows(sample, rules, cfg.dirty_rows_per_rule)
            path = out / writer.file_name(stem, fmt)
            w = writer.TableWriter(path, bad.schema, fmt)
            w.write(bad)
            w.close()
            summary.files.append(path)
            summary.dirty_rows_by_rule.update(counts)
    summary.max_date = str(np.datetime64(max_day, "D"))
    summary.seconds = round(time.perf_counter() - started, 2)
    manifest = {"config": cfg.to_dict(), "summary": summary.to_dict(),
                "expected_dirty": dict(summary.dirty_rows_by_rule),
                "note": "dirty rows are in *_dirty files; each violates exactly one intake rule. "
                        "Use IntakeSettings(max_date=summary.max_date or later) when loading."}
    (out / "synth_manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
    say(f"done in {summary.seconds:.1f} s")
    return summary


def _max_day(tbl: pa.Table, column: str) -> int:
    if not tbl.num_rows:
        return 0
    value = pc.max(tbl.column(column)).cast(pa.int32()).as_py()
    return int(value or 0)
