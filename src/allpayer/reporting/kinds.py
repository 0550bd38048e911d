"""The report kinds and formats (light: no rendering libraries imported, so the CLI can list them)."""

from __future__ import annotations

FORMATS = ("html", "pdf", "xlsx")
DESCRIPTIONS = {
    "tcoc": "quarterly total cost of care: all-payer and Medicare per beneficiary, growth against the band, completion",
    "scale": "annual scale targets and alignment: share attributed against targets, by payer, program and HSA",
    "settlement": "settlement statement per program: summary, waterfall, quality, distribution",
    "employer": "employer report for a self-funded group: cost PMPM and trend, quality, value payments, shares "
                "(aggregates, suppressed)",
    "aco-budget": "ACO budget review: attributed lives by payer, expected revenue, maximum downside, fixed vs FFS",
    "public": "public quarterly report: growth, cost by payer, scale, quality (suppressed)"}
KINDS = tuple(DESCRIPTIONS)
