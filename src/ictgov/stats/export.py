"""Open data: the figures as CSV, JSON and SDMX-CSV 2.0.

SDMX-CSV 2.0 (aligned with SDMX 3.0): the first three columns are `STRUCTURE` (here
`dataflow`), `STRUCTURE_ID` as `AGENCY:ID(VERSION)` and `ACTION` (`I`, information), then
one column per dimension, the measure and the attributes. Time periods use SDMX's
reporting-period notation: 2021, 2021-S1 (a half), 2021-Q3, 2021-07.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

import polars as pl

from ictgov.stats.figures import Figures
from ictgov.stats.models import STATUSES
from ictgov.stats.periods import parse_period

FORMATS = ("csv", "json", "sdmx-csv")
SDMX_STRUCTURE_ID = "ICTGOV:DF_ICT_SECTOR(1.0)"
SDMX_MEDIA_TYPE = "application/vnd.sdmx.data+csv; version=2.0.0"
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json",
               "sdmx-csv": SDMX_MEDIA_TYPE}
# SDMX CL_OBS_STATUS: A normal, P provisional, E estimated. A lower bound has no code of
# its own: it is published as normal with a comment, as the ministry wrote "over 64,000".
OBS_STATUS = {"final": "A", "provisional": "P", "estimate": "E", "approximate": "E", "lower_bound": "A"}
COLUMNS = ["indicator", "area", "area_name", "period", "value", "unit", "status", "computed"]


def sdmx_period(code: str) -> str:
    p = parse_period(code)
    if p.kind == "half":
        return f"{p.year}-S{p.index}"
    if p.kind == "quarter":
        return f"{p.year}-Q{p.index}"
    return p.code


def rows(
    figures: Figures,
    codes: Iterable[str] | None = None,
    periods: Iterable[str] | None = None,
    area_codes: Iterable[str] | None = None,
    levels: Iterable[str] = ("nation", "region", "province", "operator", "ministry"),
) -> list[dict[str, Any]]:
    """One row per (indicator, area, period) with a value, sorted for stable files."""
    catalog = figures.catalog
    wanted = list(codes) if codes else sorted(set(catalog.elements) | set(catalog.indicators))
    for code in wanted:
        figures.require(code)
    period_set = {parse_period(p).code for p in periods} if periods else None
    area_set = set(area_codes) if area_codes else None
    level_set = set(levels)
    out: list[dict[str, Any]] = []
    for code in wanted:
        df = figures.results.frame(code)
        if period_set is not None:
            df = df.filter(pl.col("period").is_in(list(period_set)))
        unit = catalog.unit(code)
        computed = code in catalog.indicators
        for area_id, period, value, status in df.select("area_id", "period", "value", "status").iter_rows():
            area = figures.areas.get(area_id)
            if area is None or area.level not in level_set:
                continue
            if area_set is not None and area.code not in area_set:
                continue
            out.append({"indicator": code, "area": area.code, "area_name": area.name,
                        "period": period, "value": value, "unit": unit,
                        "status": STATUSES[status], "computed": computed,
                        "_sort": (code, area.sort_order, area.code, parse_period(period).sort_key())})
    out.sort(key=lambda r: r["_sort"])
    for r in out:
        del r["_sort"]
    return out


def to_csv(data: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in data:
        writer.writerow({**r, "value": _num(r["value"]), "computed": str(r["computed"]).lower()})
    return buf.getvalue()


def to_json(data: list[dict[str, Any]]) -> str:
    return json.dumps({"observations": data, "count": len(data)}, ensure_ascii=False, indent=1)


def to_sdmx_csv(data: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["STRUCTURE", "STRUCTURE_ID", "ACTION", "INDICATOR", "REF_AREA", "TIME_PERIOD",
                     "OBS_VALUE", "UNIT_MEASURE", "OBS_STATUS", "COMMENT_OBS"])
    for r in data:
        comment = "lower bound" if r["status"] == "lower_bound" else ""
        if r["computed"]:
            comment = (comment + "; " if comment else "") + "computed by ictgov"
        writer.writerow(["dataflow", SDMX_STRUCTURE_ID, "I", r["indicator"], r["area"],
                         sdmx_period(r["period"]), _num(r["value"]), r["unit"],
                         OBS_STATUS.get(r["status"], "A"), comment])
    return buf.getvalue()


def render(data: list[dict[str, Any]], fmt: str) -> str:
    if fmt == "csv":
        return to_csv(data)
    if fmt == "json":
        return to_json(data)
    if fmt == "sdmx-csv":
        return to_sdmx_csv(data)
    raise ValueError(f"format: {fmt!r} must be one of {', '.join(FORMATS)}")


def _num(value: float) -> str:
    return repr(round(value, 10)) if value != int(value) or abs(value) >= 1e16 else str(int(value))
