"""Figures as the platform prints them: the engine run over the database, with provenance.

`Figures.load(session)` reads the latest observations and the definitions, runs the engine
once, and answers what the CLI, the pages, the API and the review ask: a value with the
one a year before and the growth, the published growth beside the computed one, a ranking
with shared ranks, a target's progress, and where every number came from.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ictgov.stats import formulas as fx
from ictgov.stats.engine import ElementSpec, Engine, Results
from ictgov.stats.indicators import Catalog
from ictgov.stats.models import Area, AreaSuccession, DataElement, Observation, Target
from ictgov.stats.periods import PeriodError, parse_period
from ictgov.stats.units import is_level_unit

# Published and computed growth are "the same" when they agree to this many percentage points.
GROWTH_TOLERANCE_PP = 0.5
BOUNDARIES = ("published", "current")


class FigureError(ValueError):
    """A question about figures that cannot be answered; the message names the argument."""


# The engine's results for each database and boundaries, with the revision of the data they
# were computed from. Every page of figures needs them and computing them is the costly part
# (the whole store through the engine). Observations are only ever added (a revision is a new
# row); the latest rows' count, highest id and a checksum of their contents (SQLite reuses the
# ids of a rolled-back import), with the definitions and areas, name the revision. The ORM
# objects (catalog, areas) are read by each request in its own session.
_RESULTS: dict[tuple[str, str], tuple[str, Engine, Results]] = {}
_RESULTS_LOCK = threading.Lock()


def _revision(session: Session, catalog: Catalog, areas: dict[int, Area], boundaries: str) -> str:
    h = hashlib.sha256()
    latest = session.execute(
        select(func.count(), func.max(Observation.id), func.sum(Observation.value),
               func.sum(Observation.element_id * 7919 + Observation.area_id),
               func.sum(func.length(Observation.period) + func.length(Observation.status)))
        .where(Observation.is_latest.is_(True))).one()
    h.update(repr((boundaries, *latest)).encode())
    for e in sorted(catalog.elements.values(), key=lambda e: e.id):
        h.update(repr((e.id, e.code, e.aggregation, e.weight_element_id)).encode())
    for i in sorted(catalog.indicators.values(), key=lambda i: i.id):
        h.update(repr((i.id, i.code, i.formula)).encode())
    for a in sorted(areas.values(), key=lambda a: a.id):
        h.update(repr((a.id, a.code, a.level, a.parent_id, a.valid_from, a.valid_to)).encode())
    if boundaries == "current":
        h.update(repr(session.execute(select(func.count(), func.max(AreaSuccession.id))).one()).encode())
    return h.hexdigest()


def clear_cache() -> None:
    """Forget every cached result (the next load recomputes)."""
    with _RESULTS_LOCK:
        _RESULTS.clear()


@dataclass
class Figures:
    catalog: Catalog
    results: Results
    areas: dict[int, Area]
    parents: dict[int, int]
    boundaries: str = "published"
    engine: Engine | None = None
    _by_code: dict[str, list[Area]] = field(default_factory=dict)

    # -- loading ------------------------------------------------------------------------

    @classmethod
    def load(cls, session: Session, boundaries: str = "published") -> Figures:
        if boundaries not in BOUNDARIES:
            raise FigureError(f"boundaries: {boundaries!r} must be one of {', '.join(BOUNDARIES)}")
        catalog = Catalog.load(session)
        areas = {a.id: a for a in session.scalars(select(Area))}
        parents = {a.id: a.parent_id for a in areas.values()
                   if a.parent_id is not None and a.level in ("province", "region")}
        key = (session.get_bind().url.render_as_string(hide_password=False), boundaries)
        revision = _revision(session, catalog, areas, boundaries)
        with _RESULTS_LOCK:
            cached = _RESULTS.get(key)
        if cached is not None and cached[0] == revision:
            engine, results = cached[1], cached[2]
        else:
            engine, results = cls._compute(session, catalog, parents, boundaries)
            with _RESULTS_LOCK:
                _RESULTS[key] = (revision, engine, results)
        fig = cls(catalog, results, areas, parents, boundaries, engine)
        for a in areas.values():
            fig._by_code.setdefault(a.code, []).append(a)
        return fig

    @staticmethod
    def _compute(session: Session, catalog: Catalog, parents: dict[int, int],
                 boundaries: str) -> tuple[Engine, Results]:
        by_id = {e.id: e.code for e in catalog.elements.values()}
        rows = session.execute(
            select(Observation.element_id, Observation.area_id, Observation.period,
                   Observation.value, Observation.status)
            .where(Observation.is_latest.is_(True))
        ).all()
        frame = pl.DataFrame(
            [(by_id[r[0]], r[1], r[2], r[3], r[4]) for r in rows],
            schema={"element": pl.Utf8, "area_id": pl.Int64, "period": pl.Utf8,
                    "value": pl.Float64, "status": pl.Utf8},
            orient="row",
        )
        specs = [
            ElementSpec(e.code, e.aggregation,
                        by_id.get(e.weight_element_id) if e.weight_element_id else None)
            for e in catalog.elements.values()
        ]
        if boundaries == "current":
            from ictgov.stats.areas import successor_map

            frame = remap_to_successors(frame, successor_map(session), {s.code: s for s in specs})
        engine = Engine(frame, parents, specs)
        return engine, engine.compute(catalog.formulas(), elements=set(catalog.elements))

    # -- areas --------------------------------------------------------------------------

    def area(self, code: str, period: str | None = None) -> Area:
        """The area with this code in force at the period's start (codes repeat across boundary versions)."""
        candidates = self._by_code.get(code) or self._by_code.get(code.zfill(2)) or []
        if not candidates:
            raise FigureError(f"area: unknown area code {code!r}")
        on = parse_period(period).start if period else date.today()
        if self.boundaries == "current":
            on = date.today()
        for a in candidates:
            if (a.valid_from is None or a.valid_from <= on) and (a.valid_to is None or on <= a.valid_to):
                return a
        return candidates[-1]

    def area_label(self, area: Area, lang: str = "vi") -> str:
        return (area.name_en or area.name) if lang == "en" else area.name

    # -- values -------------------------------------------------------------------------

    def require(self, code: str) -> None:
        if self.catalog.get(code) is None:
            known = sorted(set(self.catalog.elements) | set(self.catalog.indicators))
            import difflib

            close = difflib.get_close_matches(code, known, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise FigureError(f"indicator: unknown indicator {code!r}{hint}")

    def value(self, code: str, area_id: int, period: str) -> float | None:
        return self.results.get(code, area_id, period)

    def status(self, code: str, area_id: int, period: str) -> str | None:
        return self.results.status(code, area_id, period)

    def published_growth_element(self, code: str) -> DataElement | None:
        el = self.catalog.elements.get(code)
        if el is None:
            return None
        for other in self.catalog.elements.values():
            if other.published_growth_of_id == el.id:
                return other
        return None

    def growth_pct(self, code: str, area_id: int, period: str) -> float | None:
        now = self.value(code, area_id, period)
        before = self.value(code, area_id, _prev_year(period))
        if now is None or before is None or before == 0:
            return None
        return (now / before - 1) * 100

    def show(self, session: Session, code: str, area_code: str, period: str) -> dict[str, Any]:
        """The value, the value a year before, computed and published growth, source, revisions."""
        self.require(code)
        try:
            period = parse_period(period).code
        except PeriodError as exc:
            raise FigureError(str(exc)) from exc
        area = self.area(area_code, period)
        prev = _prev_year(period)
        value = self.value(code, area.id, period)
        pub_el = self.published_growth_element(code)
        published = self.value(pub_el.code, area.id, period) if pub_el else None
        computed = self.growth_pct(code, area.id, period)
        previous_value = self.value(code, area.id, prev)
        out: dict[str, Any] = {
            "indicator": code,
            "name": self.catalog.name(code, "vi"),
            "name_en": self.catalog.name(code, "en"),
            "unit": self.catalog.unit(code),
            "area": area.code,
            "area_name": area.name,
            "period": period,
            "value": value,
            "status": self.status(code, area.id, period),
            "previous_period": prev,
            "previous_value": previous_value,
            "previous_status": self.status(code, area.id, prev),
            # Percentages, indexes and ranks move by points: their growth rate means little.
            "change_kind": "points" if is_level_unit(self.catalog.unit(code)) else "growth",
            "change": _round(value - previous_value) if value is not None and previous_value is not None else None,
            "higher_is_better": self.catalog.get(code).higher_is_better,
            "growth_pct": _round(computed),
            "published_growth_pct": published,
            "growth_differs": (
                published is not None and computed is not None
                and abs(published - computed) > GROWTH_TOLERANCE_PP
            ),
        }
        out["trace"] = self.trace(session, code, area.id, period)
        return out

    # -- provenance ---------------------------------------------------------------------

    def trace(self, session: Session, code: str, area_id: int, period: str, depth: int = 0) -> dict[str, Any]:
        """Where a value comes from: the observation and its revisions, the children it sums, or the formula."""
        value = self.value(code, area_id, period)
        node: dict[str, Any] = {"code": code, "area_id": area_id, "period": period, "value": value}
        if code in self.catalog.indicators:
            formula = self.catalog.indicators[code].formula
            node["formula"] = formula
            if depth < 4:
                node["inputs"] = [
                    self.trace(session, name, area_id, p, depth + 1)
                    for name, p in _inputs(fx.parse(formula), period)
                ]
            return node
        element = self.catalog.elements.get(code)
        if element is None:
            return node
        history = list(session.scalars(
            select(Observation).where(Observation.element_id == element.id,
                                      Observation.area_id == area_id, Observation.period == period)
            .order_by(Observation.revision.desc())
        ))
        if history:
            node["observed"] = True
            node["revisions"] = [
                {"revision": o.revision, "value": o.value, "status": o.status, "source": o.source,
                 "note": o.note, "recorded_at": o.created_at.isoformat(timespec="seconds"),
                 "latest": o.is_latest}
                for o in history
            ]
            node["source"] = history[0].source
        elif value is not None:
            children = [a for a, p in self.parents.items() if p == area_id]
            node["observed"] = False
            node["aggregated_from"] = sum(1 for c in children if self.value(code, c, period) is not None)
            node["aggregation"] = element.aggregation
        return node

    # -- rankings -----------------------------------------------------------------------

    def rank(self, code: str, period: str, level: str = "province") -> list[dict[str, Any]]:
        """Areas of a level ranked by value; ties share a rank and the next rank is skipped (1, 2, 2, 4)."""
        self.require(code)
        try:
            period = parse_period(period).code
        except PeriodError as exc:
            raise FigureError(str(exc)) from exc
        item = self.catalog.get(code)
        ids = [a.id for a in self.areas.values() if a.level == level]
        df = self.results.across(code, period, ids)
        if df.height == 0:
            return []
        higher = item.higher_is_better
        df = df.with_columns(
            pl.col("value").round(10).rank(method="min", descending=higher).cast(pl.Int64).alias("rank")
        ).sort(["rank", "area_id"])
        out = []
        for r in df.iter_rows(named=True):
            a = self.areas[r["area_id"]]
            out.append({"rank": r["rank"], "area": a.code, "name": a.name, "name_en": a.name_en,
                        "value": r["value"]})
        return out

    def rank_changes(self, code: str, period: str, level: str = "province") -> list[dict[str, Any]]:
        """Each area's rank now and a year before, for the review's 'rankings that changed'."""
        now = {r["area"]: r for r in self.rank(code, period, level)}
        before = {r["area"]: r["rank"] for r in self.rank(code, _prev_year(period), level)}
        changes = []
        for area, r in now.items():
            if area in before and before[area] != r["rank"]:
                changes.append({**r, "previous_rank": before[area], "moved": before[area] - r["rank"]})
        changes.sort(key=lambda c: -abs(c["moved"]))
        return changes

    # -- targets ------------------------------------------------------------------------

    def target_progress(self, target: Target, as_of: str) -> dict[str, Any]:
        """How far a target is: the latest value of the same period kind up to `as_of`, and the share of the way."""
        as_of_p = parse_period(as_of)
        deadline = parse_period(target.deadline)
        kind = deadline.kind
        frame = self.results.frame(target.code).filter(pl.col("area_id") == target.area_id)
        latest = None
        for p, v in sorted(zip(frame["period"].to_list(), frame["value"].to_list(), strict=True),
                           key=lambda pv: parse_period(pv[0]).sort_key()):
            pp = parse_period(p)
            if pp.kind == kind and pp.end <= max(as_of_p.end, pp.end) and pp.start <= as_of_p.end:
                latest = (p, v)
        baseline = self.value(target.code, target.area_id, target.baseline_period) if target.baseline_period else None
        out: dict[str, Any] = {
            "code": target.code, "deadline": target.deadline, "target": target.value,
            "comparison": target.comparison, "name": target.name, "name_en": target.name_en,
            "source": target.source, "baseline_period": target.baseline_period, "baseline": baseline,
            "latest_period": latest[0] if latest else None, "latest": latest[1] if latest else None,
            "progress_pct": None, "met": None,
        }
        if latest is None:
            return out
        current = latest[1]
        met = current >= target.value if target.comparison == ">=" else current <= target.value
        out["met"] = met
        if met:
            out["progress_pct"] = 100.0
        elif baseline is not None and target.value != baseline:
            share = (current - baseline) / (target.value - baseline) * 100
            out["progress_pct"] = _round(min(100.0, max(0.0, share)))
        elif target.comparison == ">=" and target.value > 0 and current >= 0:
            out["progress_pct"] = _round(min(100.0, current / target.value * 100))
        # A ceiling ("at most rank 70") without a baseline has no meaningful share of the way.
        return out


def remap_to_successors(frame: pl.DataFrame, successors: dict[int, int], specs: dict[str, ElementSpec]) -> pl.DataFrame:
    """Re-aggregate a series published on old provinces onto today's units (sum; mean for 'mean' elements)."""
    if not successors or frame.height == 0:
        return frame
    mapping = pl.DataFrame({"area_id": list(successors), "new_id": list(successors.values())},
                           schema={"area_id": pl.Int64, "new_id": pl.Int64})
    agg = pl.DataFrame({"element": list(specs), "agg": [s.aggregation for s in specs.values()]},
                       schema={"element": pl.Utf8, "agg": pl.Utf8})
    df = frame.join(mapping, on="area_id", how="left").with_columns(
        pl.coalesce("new_id", "area_id").alias("area_id")
    ).join(agg, on="element", how="left")
    # An element that does not aggregate keeps only values whose area did not merge.
    merged = df.group_by("element", "area_id", "period").agg(
        pl.when(pl.col("agg").first() == "mean").then(pl.col("value").mean())
        .otherwise(pl.col("value").sum()).alias("value"),
        pl.col("status").max(),
        pl.len().alias("n"),
        pl.col("agg").first(),
    )
    merged = merged.filter((pl.col("agg") != "none") | (pl.col("n") == 1))
    return merged.select(frame.columns)


def _prev_year(period: str) -> str:
    return parse_period(period).prev_year().code


def _round(x: float | None, digits: int = 2) -> float | None:
    if x is None or not math.isfinite(x):
        return None
    return round(x, digits)


def _inputs(node: fx.Node, period: str, shift: int = 0) -> list[tuple[str, str]]:
    """(name, period) pairs a formula reads for one period: prev_year and growth look a year back."""
    out: list[tuple[str, str]] = []
    if isinstance(node, fx.Name):
        p = parse_period(period)
        out.append((node.name, p.shift_years(-shift).code if shift else p.code))
    elif isinstance(node, fx.Call):
        if node.func == "prev_year":
            out += _inputs(node.args[0], period, shift + 1)
        elif node.func == "growth":
            out += _inputs(node.args[0], period, shift) + _inputs(node.args[0], period, shift + 1)
        else:
            for a in node.args:
                out += _inputs(a, period, shift)
    elif isinstance(node, fx.Neg):
        out += _inputs(node.operand, period, shift)
    elif isinstance(node, fx.BinOp):
        out += _inputs(node.left, period, shift) + _inputs(node.right, period, shift)
    seen, unique = set(), []
    for pair in out:
        if pair not in seen:
            seen.add(pair)
            unique.append(pair)
    return unique
