"""Vega-Lite specs (built with Altair) for the series the pages and the review show.

Specs are plain dicts: the page embeds them and the vendored vega-embed renders them, so
no chart needs a server round trip or a CDN.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from ictgov.stats.periods import parse_period

RED = "#a3141b"


def _points(series: list[tuple[str, float]], lang: str) -> list[dict[str, Any]]:
    return [{"period": p, "label": parse_period(p).label(lang), "value": v} for p, v in series]


def series_chart(series: list[tuple[str, float]], unit: str, lang: str = "vi",
                 height: int = 220) -> dict[str, Any]:

    data = alt.Data(values=_points(series, lang))
    order = [parse_period(p).label(lang) for p, _ in series]
    base = alt.Chart(data).encode(
        x=alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title=unit or None),
        tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("value:Q", title=unit or "", format=",.2f")],
    )
    chart = (base.mark_line(color=RED) + base.mark_point(color=RED, filled=True, size=50)).properties(
        width="container", height=height)
    # Specs are built from code, not user input: schema validation would only cost time.
    return chart.to_dict(validate=False)


def sparkline(series: list[tuple[str, float]], lang: str = "vi") -> dict[str, Any]:

    data = alt.Data(values=_points(series, lang))
    order = [parse_period(p).label(lang) for p, _ in series]
    chart = alt.Chart(data).mark_line(color=RED, point=alt.OverlayMarkDef(size=12, color=RED)).encode(
        x=alt.X("label:N", sort=order, axis=None),
        y=alt.Y("value:Q", axis=None, scale=alt.Scale(zero=False)),
        tooltip=[alt.Tooltip("label:N", title=""), alt.Tooltip("value:Q", title="", format=",.2f")],
    ).properties(width=140, height=36).configure_view(stroke=None)
    # Specs are built from code, not user input: schema validation would only cost time.
    return chart.to_dict(validate=False)
