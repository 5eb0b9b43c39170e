"""Vega-Lite specs for the dx pages: the pillar radar, progress over time, the DTI ranking.

Plain dicts, embedded in the page and rendered by the vendored vega-embed (as the stats
pages do). Vega-Lite has no radar mark, so the radar is drawn in Cartesian coordinates
computed here: rings at the level bounds (20 %, 40 % ... 100 % of each pillar's maximum),
one spoke per pillar, and the enterprise's shares as a closed polygon.
"""

from __future__ import annotations

import math
from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
RED = "#a3141b"
GREY = "#c9ced6"


def _xy(share: float, i: int, n: int) -> tuple[float, float]:
    angle = 2 * math.pi * i / n  # clockwise from the top
    return round(share * math.sin(angle), 6), round(share * math.cos(angle), 6)


def radar(pillars: list[dict[str, Any]], lang: str = "vi", size: int = 360) -> dict[str, Any]:
    """pillars: a score's ``as_dict()["pillars"]`` (code, name, score, max, share, level)."""
    n = len(pillars)
    rings, spokes, shape, labels = [], [], [], []
    for r in (0.2, 0.4, 0.6, 0.8, 1.0):
        for i in range(n + 1):
            x, y = _xy(r, i % n, n)
            rings.append({"ring": r, "order": i, "x": x, "y": y})
    for i, p in enumerate(pillars):
        name = p["name"]["en" if lang == "en" else "vi"]
        x, y = _xy(1.0, i, n)
        spokes.append({"x": 0, "y": 0, "x2": x, "y2": y})
        lx, ly = _xy(1.18, i, n)
        labels.append({"x": lx, "y": ly, "label": name})
    for i in range(n + 1):
        p = pillars[i % n]
        x, y = _xy(float(p["share"]), i % n, n)
        shape.append({"order": i, "x": x, "y": y, "pillar": p["name"]["en" if lang == "en" else "vi"],
                      "score": p["score"], "max": p["max"], "share": round(100 * float(p["share"]), 1),
                      "level": p["level"]})
    scale = {"domain": [-1.45, 1.45], "nice": False}
    x = {"field": "x", "type": "quantitative", "scale": scale, "axis": None}
    y = {"field": "y", "type": "quantitative", "scale": scale, "axis": None}
    share_title = "% of maximum" if lang == "en" else "% tối đa"
    return {
        "$schema": SCHEMA, "width": size, "height": size, "view": {"stroke": None},
        "layer": [
            {"data": {"values": rings}, "mark": {"type": "line", "color": GREY, "strokeWidth": 1},
             "encoding": {"x": x, "y": y, "detail": {"field": "ring", "type": "nominal"},
                          "order": {"field": "order", "type": "quantitative"}}},
            {"data": {"values": spokes}, "mark": {"type": "rule", "color": GREY},
             "encoding": {"x": x, "y": y, "x2": {"field": "x2"}, "y2": {"field": "y2"}}},
            {"data": {"values": shape},
             "mark": {"type": "line", "color": RED, "strokeWidth": 2, "fill": RED, "fillOpacity": 0.15},
             "encoding": {"x": x, "y": y, "order": {"field": "order", "type": "quantitative"}}},
            {"data": {"values": shape[:-1]}, "mark": {"type": "point", "filled": True, "color": RED, "size": 60},
             "encoding": {"x": x, "y": y, "tooltip": [
                 {"field": "pillar", "type": "nominal", "title": ""},
                 {"field": "score", "type": "quantitative", "title": "điểm" if lang == "vi" else "points"},
                 {"field": "max", "type": "quantitative", "title": "tối đa" if lang == "vi" else "maximum"},
                 {"field": "share", "type": "quantitative", "title": share_title},
                 {"field": "level", "type": "quantitative", "title": "mức" if lang == "vi" else "level"}]}},
            {"data": {"values": labels}, "mark": {"type": "text", "fontSize": 11, "limit": 130},
             "encoding": {"x": x, "y": y, "text": {"field": "label"}}},
        ],
    }


def progress(points: list[dict[str, Any]], lang: str = "vi") -> dict[str, Any]:
    """Total score of each submitted assessment, in order."""
    values = [{"n": i + 1, "date": p["submitted_at"].strftime("%d/%m/%Y" if lang == "vi" else "%Y-%m-%d"),
               "total": p["total"], "level": p["level"]} for i, p in enumerate(points)]
    order = [v["date"] for v in values]
    title = "Tổng điểm" if lang == "vi" else "Total score"
    return {
        "$schema": SCHEMA, "width": "container", "height": 200, "data": {"values": values},
        "mark": {"type": "line", "color": RED, "point": {"filled": True, "color": RED, "size": 50}},
        "encoding": {
            "x": {"field": "date", "type": "ordinal", "sort": order, "title": None, "axis": {"labelAngle": 0}},
            "y": {"field": "total", "type": "quantitative", "title": title, "scale": {"domain": [0, 320]}},
            "tooltip": [{"field": "date", "type": "ordinal", "title": ""},
                        {"field": "total", "type": "quantitative", "title": title},
                        {"field": "level", "type": "quantitative", "title": "mức" if lang == "vi" else "level"}],
        },
    }


def press_ranking_bars(rows: list[dict[str, Any]], lang: str = "vi") -> dict[str, Any]:
    """Total of each certified press agency as a horizontal bar, in rank order, coloured by
    level; rows: ``press.ranking()``."""
    key = "en" if lang == "en" else "vi"
    values = [{"agency": r["agency"], "total": r["total"], "rank": r["rank"], "level": r["level_name"][key],
               "order": i} for i, r in enumerate(rows)]
    title = "Tổng điểm" if lang == "vi" else "Total"
    return {
        "$schema": SCHEMA, "width": "container", "height": {"step": 18}, "data": {"values": values},
        "mark": {"type": "bar"},
        "encoding": {
            "y": {"field": "agency", "type": "nominal", "sort": {"field": "order"}, "title": None},
            "x": {"field": "total", "type": "quantitative", "title": title, "scale": {"domain": [0, 100]}},
            "color": {"field": "level", "type": "nominal", "title": "Mức" if lang == "vi" else "Level",
                      "scale": {"scheme": "reds"}},
            "tooltip": [{"field": "agency", "type": "nominal", "title": ""},
                        {"field": "total", "type": "quantitative", "title": title},
                        {"field": "rank", "type": "quantitative", "title": "hạng" if lang == "vi" else "rank"},
                        {"field": "level", "type": "nominal", "title": "mức" if lang == "vi" else "level"}],
        },
    }


def level_distribution(dist: list[dict[str, Any]], lang: str = "vi") -> dict[str, Any]:
    """How many agencies are at each level, top level first; dist: ``press.distribution()``."""
    key = "en" if lang == "en" else "vi"
    values = [{"level": d["name"][key], "count": d["count"], "share": d["share"]} for d in dist]
    title = "Số cơ quan" if lang == "vi" else "Agencies"
    return {
        "$schema": SCHEMA, "width": "container", "height": 160, "data": {"values": values},
        "mark": {"type": "bar", "color": RED},
        "encoding": {
            "y": {"field": "level", "type": "nominal", "sort": [v["level"] for v in values], "title": None},
            "x": {"field": "count", "type": "quantitative", "title": title, "axis": {"tickMinStep": 1}},
            "tooltip": [{"field": "level", "type": "nominal", "title": ""},
                        {"field": "count", "type": "quantitative", "title": title},
                        {"field": "share", "type": "quantitative", "title": "%"}],
        },
    }


def ranking_bars(rows: list[dict[str, Any]], lang: str = "vi") -> dict[str, Any]:
    """Index of each area as a horizontal bar, in rank order; rows: rankings.public_row()."""
    values = [{"area": r["area_name"], "index": r["index"], "rank": r["rank"],
               "interval": (f"{r['rank_interval'][0]}–{r['rank_interval'][1]}" if r["rank_interval"] else "")}
              for r in rows]
    title = "Chỉ số DTI" if lang == "vi" else "DTI index"
    return {
        "$schema": SCHEMA, "width": "container", "height": {"step": 16}, "data": {"values": values},
        "mark": {"type": "bar", "color": RED},
        "encoding": {
            "y": {"field": "area", "type": "nominal", "sort": [v["area"] for v in values], "title": None},
            "x": {"field": "index", "type": "quantitative", "title": title, "scale": {"domain": [0, 1]}},
            "tooltip": [{"field": "area", "type": "nominal", "title": ""},
                        {"field": "index", "type": "quantitative", "title": title, "format": ".4f"},
                        {"field": "rank", "type": "quantitative", "title": "hạng" if lang == "vi" else "rank"},
                        {"field": "interval", "type": "nominal",
                         "title": "khoảng hạng" if lang == "vi" else "rank interval"}],
        },
    }
