"""Vega-Lite specs for the SME programme's uptake page: reach and use by month, use by group.

Plain dicts like ``dx.charts``, embedded in the page and drawn by the vendored vega-embed.
"""

from __future__ import annotations

from typing import Any

from ictgov.dx.charts import RED, SCHEMA

GREY_BLUE = "#44617b"


def by_month(series: list[dict[str, Any]], lang: str = "vi") -> dict[str, Any]:
    """Enterprises reached and using at the end of each month (``smedx_uptake.monthly``)."""
    reached = "Đã tiếp cận" if lang == "vi" else "Reached"
    using = "Đang dùng" if lang == "vi" else "Using"
    values = []
    for p in series:
        values.append({"month": p["period"], "what": reached, "enterprises": p["reached"]})
        values.append({"month": p["period"], "what": using, "enterprises": p["using"]})
    title = "Doanh nghiệp" if lang == "vi" else "Enterprises"
    return {
        "$schema": SCHEMA, "width": "container", "height": 220, "data": {"values": values},
        "mark": {"type": "line", "point": {"filled": True, "size": 40}},
        "encoding": {
            "x": {"field": "month", "type": "ordinal", "title": None, "axis": {"labelAngle": 0}},
            "y": {"field": "enterprises", "type": "quantitative", "title": title},
            "color": {"field": "what", "type": "nominal", "title": None,
                      "scale": {"domain": [reached, using], "range": [GREY_BLUE, RED]}},
            "tooltip": [{"field": "month", "type": "ordinal", "title": ""},
                        {"field": "what", "type": "nominal", "title": ""},
                        {"field": "enterprises", "type": "quantitative", "title": title}],
        },
    }


def by_group(rows: list[dict[str, Any]], lang: str = "vi") -> dict[str, Any]:
    """rows: {"group": label, "platforms", "reached", "using"}; bars of reached and using."""
    reached = "Đã tiếp cận" if lang == "vi" else "Reached"
    using = "Đang dùng" if lang == "vi" else "Using"
    values = [{"group": r["group"], "what": what, "enterprises": r[key]}
              for r in rows for what, key in ((reached, "reached"), (using, "using"))]
    title = "Doanh nghiệp" if lang == "vi" else "Enterprises"
    return {
        "$schema": SCHEMA, "width": "container", "height": {"step": 14}, "data": {"values": values},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": "group", "type": "nominal", "title": None, "sort": [r["group"] for r in rows]},
            "yOffset": {"field": "what", "type": "nominal", "sort": [reached, using]},
            "x": {"field": "enterprises", "type": "quantitative", "title": title},
            "color": {"field": "what", "type": "nominal", "title": None,
                      "scale": {"domain": [reached, using], "range": [GREY_BLUE, RED]}},
            "tooltip": [{"field": "group", "type": "nominal", "title": ""},
                        {"field": "what", "type": "nominal", "title": ""},
                        {"field": "enterprises", "type": "quantitative", "title": title}],
        },
    }
