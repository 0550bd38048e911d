"""``allpayer runs diff A B``: what changed between two runs, and why each settlement line moved.

For each program-year: the settlement in A and B, the inputs that moved (expected cost, actual cost and its parts,
population, quality) and the waterfall steps whose effect changed; for the runs as a whole, the manifest entries
that differ (as-of date, pack version or content, code version, input tables)."""

from __future__ import annotations

from decimal import Decimal

from allpayer.runs import Run

DRIVERS = ("persons", "member_months", "expected_cost", "ffs_paid", "fixed_payments", "actual_cost",
           "gross_savings", "quality_score", "quality_gate_met", "quality_measured", "status")


def manifest_changes(a: Run, b: Run) -> list[dict]:
    ma, mb = a.manifest, b.manifest
    pairs = {"as_of": (ma.get("as_of"), mb.get("as_of")), "status": (ma.get("status"), mb.get("status")),
             "pack version": (ma["pack"]["version"], mb["pack"]["version"]),
             "pack content": (ma["pack"]["sha256"][:12], mb["pack"]["sha256"][:12]),
             "code": (ma["code"], mb["code"]), "backend": (ma.get("backend"), mb.get("backend"))}
    inputs_a, inputs_b = ma.get("inputs", {}), mb.get("inputs", {})
    for name in sorted(set(inputs_a) | set(inputs_b)):
        pairs[f"input {name}"] = (inputs_a.get(name), inputs_b.get(name))
    return [{"item": k, "a": str(va), "b": str(vb)} for k, (va, vb) in pairs.items() if va != vb]


def _by_key(run: Run, table: str) -> dict:
    if table not in run.tables():
        return {}
    return {(r["program_id"], r["year"]): r for r in run.table(table).to_pylist()}


def _steps(run: Run) -> dict:
    out: dict = {}
    if "settlement_waterfall" in run.tables():
        for r in run.table("settlement_waterfall").to_pylist():
            out.setdefault((r["program_id"], r["year"]), {})[r["step"]] = r["change"]
    return out


def settlement_changes(a: Run, b: Run) -> list[dict]:
    """One entry per program-year in either run: settlements, delta, moved drivers and steps, and a sentence."""
    sa, sb = _by_key(a, "settlement"), _by_key(b, "settlement")
    wa, wb = _steps(a), _steps(b)
    lines = []
    for key in sorted(set(sa) | set(sb)):
        ra, rb = sa.get(key, {}), sb.get(key, {})
        drivers = [{"field": f, "a": ra.get(f), "b": rb.get(f)} for f in DRIVERS if ra.get(f) != rb.get(f)]
        steps_a, steps_b = wa.get(key, {}), wb.get(key, {})
        zero = Decimal(0)
        steps = [{"step": s, "a": steps_a.get(s), "b": steps_b.get(s),
                  "delta": (steps_b.get(s) or zero) - (steps_a.get(s) or zero)}
                 for s in dict.fromkeys([*steps_a, *steps_b]) if steps_a.get(s) != steps_b.get(s)]
        settle_a, settle_b = ra.get("settlement"), rb.get("settlement")
        delta = (settle_b or zero) - (settle_a or zero)
        lines.append({"program_id": key[0], "year": key[1], "settlement_a": settle_a, "settlement_b": settle_b,
                      "delta": delta, "drivers": drivers, "steps": steps,
                      "explanation": _explain(ra, rb, delta, drivers, steps)})
    return lines


def _explain(ra: dict, rb: dict, delta: Decimal, drivers: list[dict], steps: list[dict]) -> str:
    if not ra or not rb:
        return "only in run B" if rb else "only in run A"
    if not drivers and not steps:
        return "unchanged"
    moved = ", ".join(f"{d['field']} {d['a']} → {d['b']}" for d in drivers)
    biggest = sorted(steps, key=lambda s: -abs(s["delta"]))[:3]
    via = "; ".join(f"{s['step']} {s['delta']:+,}" for s in biggest)
    return f"settlement {delta:+,}: {moved or 'same inputs'}" + (f"; through {via}" if via else "")
