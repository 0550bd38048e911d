"""Shared fixtures: backends, workspaces and the DuckDB/Spark parity harness."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from allpayer import Context
from allpayer.intake.validate import IntakeSettings

FIXTURES = Path(__file__).parent / "fixtures"
# Fixed so results never depend on the day the tests run.
SETTINGS = IntakeSettings(max_date=dt.date(2026, 1, 1))
# Test tables have tens of rows: one shuffle partition instead of the default's four cuts Spark's time per
# query by about a third (CLI tests' subprocesses inherit it).
os.environ.setdefault("ALLPAYER_SPARK_CONF", "spark.sql.shuffle.partitions=1")


def synthetic_workspace(root: Path, persons: int, seed: int, years: tuple[int, int] = (2017, 2020)) -> Context:
    """A DuckDB workspace ``root/ws`` holding a generated population loaded through intake (caller closes it)."""
    from allpayer.synth import SynthConfig, generate

    generate(SynthConfig(persons=persons, first_year=years[0], last_year=years[1], seed=seed), root / "in")
    ctx = Context(root / "ws")
    ctx.ingest([root / "in"], settings=SETTINGS)
    return ctx


def spark_available() -> bool:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return shutil.which("java") is not None


BACKENDS = [
    "duckdb",
    pytest.param("pyspark", marks=[pytest.mark.spark, pytest.mark.skipif(
        not spark_available(), reason="needs Java and the spark extra (.ci/run installs both)")]),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def make_context(tmp_path: Path) -> Callable[[str], Context]:
    contexts: list[Context] = []

    def make(backend: str = "duckdb", name: str = "ws") -> Context:
        ctx = Context(tmp_path / f"{name}-{backend}", backend)
        contexts.append(ctx)
        return ctx

    yield make
    for ctx in contexts:
        if ctx.backend == "duckdb":
            ctx.close()


def canonical_rows(table: pa.Table, sort_by: list[str]) -> list[dict]:
    """Rows in a backend-independent order and representation for comparisons. Floats (rates, ratios) are
    rounded to 12 significant digits, since engines may differ in the last bit; decimals and money stay
    exact."""
    rows = table.sort_by([(c, "ascending") for c in sort_by]).to_pylist()
    return [{k: float(f"{v:.12g}") if isinstance(v, float) else v for k, v in row.items()} for row in rows]


@pytest.fixture
def parity(make_context: Callable[[str], Context]) -> Callable:
    """``parity(run, sort_by)``: run ``run(ctx)`` on DuckDB and on Spark and assert equal results.

    ``run`` returns a dict of name -> Ibis table; each is compared row by row after sorting.
    """
    if not spark_available():
        pytest.skip("needs Java and the spark extra (.ci/run installs both)")

    def compare(run: Callable[[Context], dict], sort_by: dict[str, list[str]]) -> dict[str, list[dict]]:
        results = {}
        for backend in ("duckdb", "pyspark"):
            ctx = make_context(backend)
            results[backend] = {name: canonical_rows(expr.to_pyarrow(), sort_by[name])
                                for name, expr in run(ctx).items()}
        for name in sort_by:
            duck, spark = results["duckdb"][name], results["pyspark"][name]
            assert len(duck) == len(spark), f"{name}: {len(duck)} rows on DuckDB, {len(spark)} on Spark"
            for i, (a, b) in enumerate(zip(duck, spark, strict=True)):
                assert a == b, f"{name} row {i} differs:\nDuckDB {a}\nSpark  {b}"
        return results["duckdb"]

    return compare
