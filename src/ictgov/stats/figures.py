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
import time
from dataclasses import dataclass, field
from datetime import date
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

import polars as pl
from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from ictgov.stats import formulas as fx
from ictgov.stats.engine import ElementSpec, Engine, Results
from ictgov.stats.indicators import Catalog
from ictgov.stats.models import Area, AreaSuccession, DataElement, Observation, Target, ValidationRule
from ictgov.stats.periods import PeriodError, parse_period
from ictgov.stats.units import is_level_unit
from ictgov.writes import TableWrites

# Published and computed growth are "the same" when they agree to this many percentage points.
GROWTH_TOLERANCE_PP = 0.5
T = TypeVar("T")
BOUNDARIES = ("published", "current")


class FigureError(ValueError):
    """A question about figures that cannot be answered; the message names the argument."""


# The engine's results for each database and boundaries, with the revision of the data they
# were computed from. Every page of figures needs them and computing them is the costly part
# (the whole store through the engine). Observations are only ever added (a revision is a new
# row); the latest rows' count, highest id and a checksum of their contents (SQLite reuses the
# ids of a rolled-back import), with the definitions, areas, targets and validation rules, name
# the revision. The ORM objects (catalog, areas) are read by each request in its own session.
#
# Beside the results each revision keeps a memo of what pages derive from them (a page's
# cards, charts and review), so a page costs its derivation once per revision, not once per
# request; it is bounded because its keys come from request parameters.
MEMO_LIMIT = 2048
# how long other pages keep using the figures while one of them rechecks the database
RECHECK_GRACE_S = 2.0


@dataclass
class _Cached:
    revision: str
    engine: Engine
    results: Results
    memo: OrderedDict[Any, Any] = field(default_factory=OrderedDict)
    # for `Figures.for_page`: when the revision was last confirmed, at which count of this
    # process's writes (None: computed inside a transaction that wrote, never trusted), and
    # the definitions and areas as copies that belong to no session
    checked_at: float = 0.0
    checked_writes: int | None = None
    catalog: Catalog | None = None
    areas: dict[int, Area] | None = None
    parents: dict[int, int] | None = None
    by_code: dict[str, list[Area]] | None = None
    recheck_started: float = 0.0


_RESULTS: dict[tuple[str, str], _Cached] = {}
_RESULTS_LOCK = threading.Lock()
_MEMO_LOCK = threading.Lock()

# This process's writes to what figures depend on: while there are none, a page may trust its
# cached figures without asking the database (see `Figures.for_page`); a write by another
# process is seen when the recheck interval has passed.
_WRITES = TableWrites("figures", ("observations", "data_elements", "indicators", "areas", "area_successions",
                                  "targets", "validation_rules"))


def _wrote_in_transaction(session: Session) -> bool:
    return _WRITES.wrote_in(session.connection())


def _copy_row(obj: Any) -> Any:
    """A copy of an ORM row with its columns only, attached to no session (read by any thread)."""
    return type(obj)(**{a.key: getattr(obj, a.key) for a in sa_inspect(type(obj)).column_attrs})


def _revision(session: Session, catalog: Catalog, areas: dict[int, Area], boundaries: str) -> str:
    h = hashlib.sha256()
    latest = session.execute(
        select(func.count(), func.max(Observation.id), func.sum(Observation.value),
               func.sum(Observation.element_id * 7919 + Observation.area_id),
               func.sum(func.length(Observation.period) + func.length(Observation.status)))
        .where(Observation.is_latest.is_(True))).one()
    h.update(repr((boundaries, *latest)).encode())
    for e in sorted(catalog.elements.values(), key=lambda e: e.id):
        h.update(repr((e.id, e.code, e.aggregation, e.weight_element_id, e.name, e.name_en, e.unit,
                       e.higher_is_better, e.published_growth_of_id)).encode())
    for i in sorted(catalog.indicators.values(), key=lambda i: i.id):
        h.update(repr((i.id, i.code, i.formula, i.name, i.name_en, i.unit, i.decimals,
                       i.higher_is_better)).encode())
    for a in sorted(areas.values(), key=lambda a: a.id):
        h.update(repr((a.id, a.code, a.name, a.name_en, a.level, a.parent_id, a.valid_from,
                       a.valid_to)).encode())
    # targets and rules are few: their rows, whole
    for t in session.execute(select(Target.id, Target.code, Target.area_id, Target.deadline, Target.value,
                                    Target.comparison, Target.baseline_period, Target.name,
                                    Target.name_en, Target.source).order_by(Target.id)):
        h.update(repr(tuple(t)).encode())
    for r in session.execute(select(ValidationRule).order_by(ValidationRule.id)).scalars():
        h.update(repr(sorted((k, v) for k, v in vars(r).items() if not k.startswith("_"))).encode())
    if boundaries == "current":
        h.update(repr(session.execute(select(func.count(), func.max(AreaSuccession.id))).one()).encode())
    return h.hexdigest()


def _key(session: Session, boundaries: str) -> tuple[str, str]:
    return figures_key(session.get_bind(), boundaries)


def figures_key(bind: Any, boundaries: str = "published") -> tuple[str, str]:
    """What the cached figures of a database (an SQLAlchemy engine) are kept under."""
    return bind.url.render_as_string(hide_password=False), boundaries


def _parents(areas: dict[int, Area]) -> dict[int, int]:
    return {a.id: a.parent_id for a in areas.values()
            if a.parent_id is not None and a.level in ("province", "region")}


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
    _memo: OrderedDict[Any, Any] = field(default_factory=OrderedDict)

    def memo(self, key: Any, build: Callable[[], T]) -> T:
        """`build()` once per revision of the data: what a page derives from the figures.

        What `build` returns is shared by requests in other sessions, so it must be plain data
        (no ORM objects) and must not depend on who asks. The least recently used entries go
        first when there are more than MEMO_LIMIT.
        """
        memo = self._memo
        with _MEMO_LOCK:
            if key in memo:
                memo.move_to_end(key)
                return memo[key]
        value = build()
        with _MEMO_LOCK:
            memo[key] = value
            while len(memo) > MEMO_LIMIT:
                memo.popitem(last=False)
        return value

    # -- loading ------------------------------------------------------------------------

    @classmethod
    def load(cls, session: Session, boundaries: str = "published") -> Figures:
        """The figures of the data as `session` sees it (its own uncommitted writes included)."""
        if boundaries not in BOUNDARIES:
            raise FigureError(f"boundaries: {boundaries!r} must be one of {', '.join(BOUNDARIES)}")
        writes = _WRITES.count
        catalog = Catalog.load(session)
        areas = {a.id: a for a in session.scalars(select(Area))}
        parents = _parents(areas)
        key = _key(session, boundaries)
        revision = _revision(session, catalog, areas, boundaries)
        with _RESULTS_LOCK:
            cached = _RESULTS.get(key)
        if cached is None or cached.revision != revision:
            engine, results = cls._compute(session, catalog, parents, boundaries)
            cached = _Cached(revision, engine, results)
            with _RESULTS_LOCK:
                _RESULTS[key] = cached
        cached.checked_writes = None if _wrote_in_transaction(session) else writes
        cached.checked_at = time.monotonic()
        cached.recheck_started = 0.0
        return cls._make(catalog, areas, parents, boundaries, cached)

    @classmethod
    def for_page(cls, session: Session, boundaries: str = "published",
                 recheck_s: float | None = None) -> Figures:
        """The figures for a page that only reads them: the cached ones, without asking the
        database, while this process has written nothing they depend on and the last check is
        less than `recheck_s` (settings: figures_recheck_s) old; otherwise `load`."""
        trusted = cls.trusted(_key(session, boundaries), recheck_s)
        if trusted is not None:
            return trusted
        fig = cls.load(session, boundaries)
        with _RESULTS_LOCK:
            cached = _RESULTS.get(_key(session, boundaries))
        if cached is not None and cached.results is fig.results and cached.catalog is None \
                and cached.checked_writes is not None:
            cached.areas = {i: _copy_row(a) for i, a in fig.areas.items()}
            cached.parents = dict(fig.parents)
            cached.by_code = {}
            for a in cached.areas.values():
                cached.by_code.setdefault(a.code, []).append(a)
            cached.catalog = Catalog({c: _copy_row(e) for c, e in fig.catalog.elements.items()},
                                     {c: _copy_row(i) for c, i in fig.catalog.indicators.items()})
        return fig

    @classmethod
    def trusted(cls, key: tuple[str, str], recheck_s: float | None = None) -> Figures | None:
        """The cached figures of `key` (database URL, boundaries) when they may be used without
        asking the database (see `for_page`), else None. Asks nothing of the database."""
        if recheck_s is None:
            from ictgov.config import get_settings

            recheck_s = get_settings().figures_recheck_s
        with _RESULTS_LOCK:
            cached = _RESULTS.get(key)
        if cached is None or cached.catalog is None or cached.checked_writes != _WRITES.count:
            return None
        now = time.monotonic()
        if now - cached.checked_at >= recheck_s:
            # Due for a recheck: one caller asks the database, the others keep these figures
            # meanwhile (a busy page would otherwise send every request to ask at once).
            with _RESULTS_LOCK:
                if now - cached.recheck_started > RECHECK_GRACE_S:
                    cached.recheck_started = now
                    return None
        return cls._make(cached.catalog, cached.areas, cached.parents, key[1], cached, cached.by_code)

    def kept(self, key: Any) -> Any | None:
        """What `memo` keeps under `key` for this revision, or None (builds nothing)."""
        with _MEMO_LOCK:
            return self._memo.get(key)

    @classmethod
    def _make(cls, catalog: Catalog, areas: dict[int, Area], parents: dict[int, int], boundaries: str,
              cached: _Cached, by_code: dict[str, list[Area]] | None = None) -> Figures:
        fig = cls(catalog, cached.results, areas, parents, boundaries, cached.engine, _memo=cached.memo)
        if by_code is not None:
            fig._by_code = by_code
        else:
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
