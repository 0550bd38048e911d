"""Vega-Lite charts (built with Altair) rendered to inline SVG on the server: no JavaScript and no network at
view time, and the same picture in HTML, PDF and the dashboard."""

from __future__ import annotations

from functools import lru_cache

import altair as alt
import pandas as pd

WIDTH, HEIGHT = 520, 220


def growth_chart(growth: pd.DataFrame, target: float, cap: float) -> dict:
    """Compound annual growth per series and year against the target and the cap."""
    data = growth.dropna(subset=["cagr"])[["series", "year", "cagr"]]
    line = alt.Chart(data).mark_line(point=True).encode(
        x=alt.X("year:O", title="year"), y=alt.Y("cagr:Q", title="compound growth since baseline",
                                                 axis=alt.Axis(format=".1%")),
        color=alt.Color("series:N", title="series"),
        tooltip=["series", "year", alt.Tooltip("cagr:Q", format=".2%")])
    band = pd.DataFrame({"limit": ["target", "cap"], "value": [target, cap]})
    rules = alt.Chart(band).mark_rule(strokeDash=[4, 3]).encode(
        y="value:Q", color=alt.Color("limit:N", scale=alt.Scale(domain=["target", "cap"],
                                                                range=["#2a9d8f", "#e76f51"]), title="band"))
    return _finish(alt.layer(line, rules).resolve_scale(color="independent"), "Growth against the band")


def bars_against_target(frame: pd.DataFrame, category: str, value: str, target: str | None, title: str,
                        value_format: str = ".0%") -> dict:
    """Bars of ``value`` by ``category`` with a tick at ``target`` (rows without a target have no tick)."""
    columns = [category, value, *([target] if target else [])]  # only what is drawn: charts hold no decimals
    data = frame.dropna(subset=[value])[columns].astype({c: float for c in columns[1:]})
    bars = alt.Chart(data).mark_bar().encode(
        x=alt.X(f"{category}:N", title=category, sort=None),
        y=alt.Y(f"{value}:Q", title=value, axis=alt.Axis(format=value_format)),
        tooltip=[category, alt.Tooltip(f"{value}:Q", format=value_format)])
    if target is None or data[target].isna().all():
        return _finish(bars, title)
    ticks = alt.Chart(data.dropna(subset=[target])).mark_tick(color="#e76f51", thickness=3, size=30).encode(
        x=f"{category}:N", y=f"{target}:Q")
    return _finish(alt.layer(bars, ticks), title)


def waterfall_chart(steps: pd.DataFrame) -> dict:
    """The settlement waterfall: each step's running amount."""
    data = steps[["position", "step", "amount"]].astype({"amount": float})
    bars = alt.Chart(data).mark_bar().encode(
        x=alt.X("step:N", sort=alt.SortField("position"), title=None),
        y=alt.Y("amount:Q", title="running amount ($)", axis=alt.Axis(format="$,.0f")),
        color=alt.condition("datum.amount < 0", alt.value("#e76f51"), alt.value("#264653")),
        tooltip=["step", alt.Tooltip("amount:Q", format="$,.2f")])
    return _finish(bars, "Settlement waterfall")


def _finish(chart: alt.TopLevelMixin, title: str) -> dict:
    return chart.properties(width=WIDTH, height=HEIGHT, title=title).to_dict()


def svg(spec: dict) -> str:
    """The chart as an SVG element (rendered by vl-convert: Vega in a bundled runtime, offline)."""
    import json

    return _svg(json.dumps(spec, sort_keys=True))


@lru_cache(maxsize=128)
def _svg(spec_json: str) -> str:
    import json

    import vl_convert

    text = vl_convert.vegalite_to_svg(json.loads(spec_json))
    return text[text.index("<svg"):]
