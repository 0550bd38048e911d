"""``stage(name, expr)``: a function a computation may be given to compute an intermediate result once (e.g.
``Warehouse.materialize``) and return it; :func:`lazy`, the default, keeps one lazy expression. Spark in particular
needs staging: it inlines every repeated sub-plan."""

from __future__ import annotations

from collections.abc import Callable

import ibis.expr.types as ir

Stage = Callable[[str, ir.Table], ir.Table]


def lazy(_name: str, expr: ir.Table) -> ir.Table:
    return expr
