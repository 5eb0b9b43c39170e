"""The computation engine: aggregation up the area hierarchy and indicator formulas, on Polars.

Everything is vectorised over (area, period) frames, so one plan serves a dashboard of a
few hundred figures and a benchmark of ten million observations alike:

- a data element's values are its latest observations, plus, at regions and the nation,
  the aggregate of its province values (sum, or mean weighted by another element) where
  no value was observed there — an observed figure always wins over a computed one;
- an indicator's formula is compiled into a lazy Polars plan over the frames of the
  names it uses: ``+ - * /`` join on (area, period), ``prev_year`` shifts periods by a
  year, ``sum_children`` and ``share`` walk one step of the hierarchy;
- each value carries a status rank, the weakest of its inputs (an indicator computed from
  an approximate figure is approximate), so reports can say so.

All indicators are collected together with ``pl.collect_all`` so Polars can share and
parallelise common sub-plans.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import polars as pl

from ictgov.stats import formulas as fx
from ictgov.stats.models import STATUSES

KEY = ["area_id", "period"]
# Order of weakness: combining inputs keeps the weakest one's status.
STATUS_RANK = {s: i for i, s in enumerate(STATUSES)}
STATUS_RANK["aggregated"] = 0
SCHEMA = {"area_id": pl.Int64, "period": pl.Utf8, "value": pl.Float64, "status": pl.UInt8}


class EngineError(ValueError):
    """A definition the engine cannot compute; the message names the indicator."""


@dataclass(frozen=True)
class ElementSpec:
    code: str
    aggregation: str = "sum"  # sum | mean | none
    weight: str | None = None


@dataclass
class Results:
    """Computed frames by code: columns area_id, period, value, status (and origin for elements)."""

    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    _index: dict[str, dict[tuple[int, str], tuple[float, int]]] = field(default_factory=dict)

    def frame(self, code: str) -> pl.DataFrame:
        return self.frames.get(code, pl.DataFrame(schema=SCHEMA))

    def _lookup(self, code: str) -> dict[tuple[int, str], tuple[float, int]]:
        if code not in self._index:
            df = self.frame(code)
            self._index[code] = {
                (a, p): (v, s)
                for a, p, v, s in zip(
                    df["area_id"].to_list(), df["period"].to_list(),
                    df["value"].to_list(), df["status"].to_list(), strict=True,
                )
            }
        return self._index[code]

    def get(self, code: str, area_id: int, period: str) -> float | None:
        hit = self._lookup(code).get((area_id, period))
        return None if hit is None else hit[0]

    def status(self, code: str, area_id: int, period: str) -> str | None:
        hit = self._lookup(code).get((area_id, period))
        return None if hit is None else STATUSES[hit[1]]

    def series(self, code: str, area_id: int) -> list[tuple[str, float]]:
        df = self.frame(code).filter(pl.col("area_id") == area_id).sort("period")
        return list(zip(df["period"].to_list(), df["value"].to_list(), strict=True))

    def across(self, code: str, period: str, area_ids: Iterable[int] | None = None) -> pl.DataFrame:
        df = self.frame(code).filter(pl.col("period") == period)
        if area_ids is not None:
            df = df.filter(pl.col("area_id").is_in(list(area_ids)))
        return df


def shift_years(col: str, years: int) -> pl.Expr:
    """The canonical code of the same period `years` later (2021H1 -> 2022H1); codes start with the year."""
    year = pl.col(col).str.slice(0, 4).cast(pl.Int32) + years
    return pl.concat_str([year.cast(pl.Utf8), pl.col(col).str.slice(4)])


def ancestry(parents: Mapping[int, int]) -> pl.DataFrame:
    """Every (area, ancestor) pair of the hierarchy, so one join aggregates to all levels at once."""
    pairs: list[tuple[int, int]] = []
    for child in parents:
        seen = set()
        node = parents.get(child)
        while node is not None and node not in seen:
            pairs.append((child, node))
            seen.add(node)
            node = parents.get(node)
    return pl.DataFrame(pairs, schema={"area_id": pl.Int64, "ancestor_id": pl.Int64}, orient="row")


class Engine:
    """Computes elements (with aggregates) and indicators from a frame of latest observations.

    `observations` has columns element (str), area_id (int), period (str), value (float) and,
    optionally, status (str or rank). `parents` maps each area to its parent (province ->
    region -> nation). Areas that are leaves of the hierarchy are the ones aggregated from.
    """

    def __init__(
        self,
        observations: pl.DataFrame | pl.LazyFrame,
        parents: Mapping[int, int],
        elements: Iterable[ElementSpec] = (),
    ) -> None:
        lf = observations.lazy()
        names = lf.collect_schema().names()
        if "status" not in names:
            lf = lf.with_columns(pl.lit(0, dtype=pl.UInt8).alias("status"))
        elif lf.collect_schema()["status"] == pl.Utf8:
            lf = lf.with_columns(
                pl.col("status").replace_strict(STATUS_RANK, default=0, return_dtype=pl.UInt8)
            )
        self.observations = lf.select(
            pl.col("element").cast(pl.Utf8),
            pl.col("area_id").cast(pl.Int64),
            pl.col("period").cast(pl.Utf8),
            pl.col("value").cast(pl.Float64),
            pl.col("status").cast(pl.UInt8),
        )
        self.parents = dict(parents)
        self.elements = {e.code: e for e in elements}
        self._parent_df = pl.DataFrame(
            {"area_id": list(self.parents), "parent_id": list(self.parents.values())},
            schema={"area_id": pl.Int64, "parent_id": pl.Int64},
        ).lazy()
        self._ancestry = ancestry(self.parents).lazy()
        internal = set(self.parents.values())
        self._leaves = pl.DataFrame(
            {"area_id": [a for a in self.parents if a not in internal]}, schema={"area_id": pl.Int64}
        ).lazy()
        self._element_frames: dict[str, pl.LazyFrame] | None = None

    # -- elements -------------------------------------------------------------------------

    def _split(self) -> dict[str, pl.LazyFrame]:
        if self._element_frames is None:
            df = self.observations.collect()
            parts = df.partition_by("element", as_dict=True, include_key=False)
            self._element_frames = {key[0]: part.lazy() for key, part in parts.items()}
        return self._element_frames

    def element_codes(self) -> set[str]:
        return set(self._split())

    def raw(self, code: str) -> pl.LazyFrame:
        frames = self._split()
        if code in frames:
            return frames[code]
        return pl.LazyFrame(schema=SCHEMA)

    def element(self, code: str) -> pl.LazyFrame:
        """Observed values plus aggregates at the levels where nothing was observed."""
        spec = self.elements.get(code, ElementSpec(code))
        observed = self.raw(code)
        if spec.aggregation == "none" or not self.parents:
            return observed
        leaves = observed.join(self._leaves, on="area_id", how="semi")
        up = leaves.join(self._ancestry, on="area_id")
        if spec.aggregation == "mean" and spec.weight:
            weights = self.raw(spec.weight).select(
                "area_id", "period", pl.col("value").alias("w")
            )
            up = up.join(weights, on=KEY, how="left")
            agg = up.group_by("ancestor_id", "period").agg(
                ((pl.col("value") * pl.col("w")).sum() / pl.col("w").filter(
                    pl.col("value").is_not_null()).sum()).alias("value"),
                pl.col("w").null_count().alias("_missing_w"),
                pl.col("status").max(),
            )
            # A weighted mean with a missing weight would silently be biased: leave it out.
            agg = agg.filter(pl.col("_missing_w") == 0).drop("_missing_w")
        elif spec.aggregation == "mean":
            agg = up.group_by("ancestor_id", "period").agg(
                pl.col("value").mean(), pl.col("status").max()
            )
        else:
            agg = up.group_by("ancestor_id", "period").agg(
                pl.col("value").sum(), pl.col("status").max()
            )
        agg = agg.rename({"ancestor_id": "area_id"}).select(list(SCHEMA))
        computed = agg.join(observed, on=KEY, how="anti")
        return pl.concat([observed, computed], how="vertical")

    # -- formulas -------------------------------------------------------------------------

    def compile(self, node: fx.Node, resolve) -> pl.LazyFrame | float:
        """A lazy frame (area_id, period, value, status) for a formula node, or a constant."""
        if isinstance(node, fx.Num):
            return float(node.value)
        if isinstance(node, fx.Name):
            return resolve(node.name)
        if isinstance(node, fx.Neg):
            inner = self.compile(node.operand, resolve)
            if isinstance(inner, float):
                return -inner
            return inner.with_columns(-pl.col("value"))
        if isinstance(node, fx.BinOp):
            return _binop(node.op, self.compile(node.left, resolve), self.compile(node.right, resolve))
        if isinstance(node, fx.Call):
            args = [self.compile(a, resolve) for a in node.args]
            return self._call(node.func, args, node)
        raise EngineError(f"cannot compile {node!r}")

    def _call(self, func: str, args: list, node: fx.Node):
        if func in ("prev_year", "growth", "sum_children", "share", "abs") and isinstance(args[0], float):
            raise EngineError(f"{func}() needs a data element or indicator, not a number (position {node.pos})")
        if func == "prev_year":
            return args[0].with_columns(shift_years("period", 1).alias("period"))
        if func == "growth":
            x = args[0]
            prev = x.with_columns(shift_years("period", 1).alias("period"))
            return _binop("-", _binop("/", x, prev), 1.0)
        if func == "sum_children":
            return (
                args[0].join(self._parent_df, on="area_id")
                .group_by("parent_id", "period")
                .agg(pl.col("value").sum(), pl.col("status").max())
                .rename({"parent_id": "area_id"})
                .select(list(SCHEMA))
            )
        if func == "share":
            x = args[0]
            with_parent = x.join(self._parent_df, on="area_id")
            parent_vals = x.select(
                pl.col("area_id").alias("parent_id"), "period",
                pl.col("value").alias("_pv"), pl.col("status").alias("_ps"),
            )
            return (
                with_parent.join(parent_vals, on=["parent_id", "period"])
                .with_columns(
                    pl.when(pl.col("_pv") != 0).then(pl.col("value") / pl.col("_pv")).alias("value"),
                    pl.max_horizontal("status", "_ps").alias("status"),
                )
                .drop_nulls("value")
                .select(list(SCHEMA))
            )
        if func == "abs":
            return args[0].with_columns(pl.col("value").abs())
        if func in ("min", "max"):
            a, b = args
            if isinstance(a, float) and isinstance(b, float):
                return min(a, b) if func == "min" else max(a, b)
            return _combine(a, b, lambda l, r: (
                pl.min_horizontal(l, r) if func == "min" else pl.max_horizontal(l, r)))
        raise EngineError(f"unknown function {func}() at position {node.pos}")

    def compute(
        self,
        indicators: Mapping[str, str] | None = None,
        elements: Iterable[str] | None = None,
    ) -> Results:
        """Compute the given elements (default: all observed) and indicators, in dependency order."""
        indicators = dict(indicators or {})
        element_codes = set(elements) if elements is not None else self.element_codes()
        element_codes |= set(self.elements)
        try:
            order = fx.dependency_order(indicators, element_codes | self.element_codes())
        except fx.FormulaError as exc:
            raise EngineError(str(exc)) from exc
        plans: dict[str, pl.LazyFrame] = {}

        def resolve(name: str) -> pl.LazyFrame:
            if name not in plans:
                plans[name] = self.element(name)
            return plans[name]

        for code in element_codes:
            resolve(code)
        for code in order:
            plan = self.compile(fx.parse(indicators[code]), resolve)
            if isinstance(plan, float):
                raise EngineError(f"{code}: the formula is a constant; it must use a data element")
            plans[code] = plan.filter(pl.col("value").is_finite())
        codes = list(plans)
        collected = pl.collect_all([plans[c] for c in codes])
        return Results(frames=dict(zip(codes, collected, strict=True)))


def _combine(left: pl.LazyFrame, right: pl.LazyFrame, fn) -> pl.LazyFrame:
    joined = left.join(
        right.rename({"value": "_r", "status": "_rs"}), on=KEY, how="inner"
    )
    return joined.with_columns(
        fn(pl.col("value"), pl.col("_r")).alias("value"),
        pl.max_horizontal("status", "_rs").alias("status"),
    ).select(list(SCHEMA))


def _arith(op: str, left: pl.Expr, right: pl.Expr) -> pl.Expr:
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        # A zero denominator gives no value rather than infinity.
        return pl.when(right != 0).then(left / right)
    raise EngineError(f"unknown operator {op!r}")


def _binop(op: str, left, right):
    if isinstance(left, float) and isinstance(right, float):
        if op == "/" and right == 0:
            raise EngineError("division by zero in a constant expression")
        return {"+": left + right, "-": left - right, "*": left * right,
                "/": left / right if right else 0.0}[op]
    if isinstance(right, float):
        return left.with_columns(_arith(op, pl.col("value"), pl.lit(right)).alias("value")).drop_nulls("value")
    if isinstance(left, float):
        return right.with_columns(_arith(op, pl.lit(left), pl.col("value")).alias("value")).drop_nulls("value")
    return _combine(left, right, lambda l, r: _arith(op, l, r)).drop_nulls("value")
