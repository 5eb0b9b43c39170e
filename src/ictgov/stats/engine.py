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

KEY3 = ["code", "area_id", "period"]
LONG = ["code", "area_id", "period", "value", "status"]
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
    """Computed values: long frames (code, area_id, period, value, status), one per pass.

    Periods stay integers inside; `frame(code)` cuts one code out and gives its periods
    back as canonical codes, on first use — a dashboard reads a few dozen codes, a
    benchmark none, and neither pays for splitting millions of rows it does not read.
    """

    chunks: list[pl.DataFrame] = field(default_factory=list)
    _frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    _where: dict[str, int] | None = None
    _index: dict[str, dict[tuple[int, str], tuple[float, int]]] = field(default_factory=dict)

    def _locate(self) -> dict[str, int]:
        if self._where is None:
            # Built whole, then published: results are shared between request threads (see
            # figures.Figures.load), and a half-built map would read as "no such figure".
            where: dict[str, int] = {}
            for i, chunk in enumerate(self.chunks):
                for code in chunk["code"].unique().to_list():
                    where[code] = i
            self._where = where
        return self._where

    def codes(self) -> set[str]:
        return set(self._locate())

    def counts(self) -> dict[str, int]:
        """Number of values of every code, without splitting the frames."""
        out: dict[str, int] = {}
        for chunk in self.chunks:
            for code, n in chunk.group_by("code").len().iter_rows():
                out[code] = out.get(code, 0) + n
        return out

    def frame(self, code: str) -> pl.DataFrame:
        if code not in self._frames:
            where = self._locate().get(code)
            if where is None:
                return pl.DataFrame(schema=SCHEMA)
            df = self.chunks[where].filter(pl.col("code") == code).drop("code")
            keys = df["period"].unique().to_list()
            df = df.with_columns(pl.col("period").replace_strict(
                {k: decode_period(k) for k in keys}, return_dtype=pl.Utf8))
            self._frames[code] = df.select(list(SCHEMA))
        return self._frames[code]

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


# Inside the engine a period is an integer, year * 1000 + position within the year
# (year 0, halves 101-102, quarters 201-204, months 301-312, days 400 + 31 * (month - 1) +
# day, so 432-772): joining on integers and moving a year back by subtracting 1000 is several
# times faster than on text. A day is placed by month and day, not by its day of the year,
# so that the same day of the year before is 1000 less in leap years too.
_KIND_BASE = {"H": 100, "Q": 200, "-": 300}
_DAY_BASE = 400


def encode_periods(col: str = "period") -> pl.Expr:
    rest = pl.col(col).str.slice(4)
    first = rest.str.slice(0, 1)
    day = (_DAY_BASE + (rest.str.slice(1, 2).cast(pl.Int32, strict=False) - 1) * 31
           + rest.str.slice(4, 2).cast(pl.Int32, strict=False))
    offset = (
        pl.when(rest == "").then(0)
        .when(rest.str.len_chars() == 6).then(day)
        .otherwise(first.replace_strict(_KIND_BASE, default=None, return_dtype=pl.Int32)
                   + rest.str.slice(1).cast(pl.Int32, strict=False))
    )
    return (pl.col(col).str.slice(0, 4).cast(pl.Int32) * 1000 + offset).cast(pl.Int32)


def decode_period(key: int) -> str:
    year, pos = divmod(int(key), 1000)
    if pos == 0:
        return str(year)
    if pos > _DAY_BASE:
        month, day = divmod(pos - _DAY_BASE - 1, 31)
        return f"{year}-{month + 1:02d}-{day + 1:02d}"
    base, index = divmod(pos, 100)
    if base == 3:
        return f"{year}-{index:02d}"
    return f"{year}{'H' if base == 1 else 'Q'}{index}"


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

    Indicators are computed by shape, not one by one: formulas that differ only in the
    names they use (``growth(a)``, ``growth(b)``, ...) form one template, compiled once into
    a plan over a long frame keyed by indicator code. Two hundred growth rates cost one
    join, not two hundred — which is what keeps the engine close to hand-written SQL.
    """

    def __init__(
        self,
        observations: pl.DataFrame | pl.LazyFrame,
        parents: Mapping[int, int],
        elements: Iterable[ElementSpec] = (),
    ) -> None:
        lf = observations.lazy()
        schema = lf.collect_schema()
        if "status" not in schema.names():
            lf = lf.with_columns(pl.lit(0, dtype=pl.UInt8).alias("status"))
        elif schema["status"] == pl.Utf8:
            lf = lf.with_columns(
                pl.col("status").replace_strict(STATUS_RANK, default=0, return_dtype=pl.UInt8)
            )
        self.observations = lf.select(
            pl.col("element").cast(pl.Utf8).cast(pl.Categorical).alias("code"),
            pl.col("area_id").cast(pl.Int64),
            encode_periods("period").alias("period"),
            pl.col("value").cast(pl.Float64),
            pl.col("status").cast(pl.UInt8),
        ).collect()
        bad = self.observations.filter(pl.col("period").is_null())
        if bad.height:
            raise EngineError(f"period: not a canonical period code in the observations ({bad.height} rows)")
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
        self._values: pl.DataFrame | None = None

    def element_codes(self) -> set[str]:
        return set(self.observations["code"].unique().to_list())

    # -- elements -------------------------------------------------------------------------

    def values(self) -> pl.DataFrame:
        """Every element's observed values plus aggregates where nothing was observed."""
        if self._values is None:
            self._values = self._aggregate()
        return self._values

    def _aggregate(self) -> pl.DataFrame:
        obs = self.observations.lazy()
        if not self.parents:
            return self.observations
        codes = self.element_codes() | set(self.elements)
        specs = pl.DataFrame(
            {
                "code": pl.Series(sorted(codes), dtype=pl.Utf8).cast(pl.Categorical),
                "agg": [self.elements.get(c, ElementSpec(c)).aggregation for c in sorted(codes)],
                "weight": [self.elements.get(c, ElementSpec(c)).weight for c in sorted(codes)],
            },
            schema={"code": pl.Categorical, "agg": pl.Utf8, "weight": pl.Categorical},
        ).lazy()
        leaves = obs.join(self._leaves, on="area_id", how="semi").join(specs, on="code")
        up = leaves.join(self._ancestry, on="area_id")
        group = ["code", "ancestor_id", "period"]
        summed = up.filter(pl.col("agg") == "sum").group_by(group).agg(
            pl.col("value").sum(), pl.col("status").max())
        plain_mean = up.filter((pl.col("agg") == "mean") & pl.col("weight").is_null()).group_by(group).agg(
            pl.col("value").mean(), pl.col("status").max())
        weights = obs.select(pl.col("code").alias("weight"), "area_id", "period", pl.col("value").alias("w"))
        weighted = (
            up.filter((pl.col("agg") == "mean") & pl.col("weight").is_not_null())
            .join(weights, on=["weight", "area_id", "period"], how="left")
            .group_by(group)
            .agg(
                ((pl.col("value") * pl.col("w")).sum() / pl.col("w").sum()).alias("value"),
                pl.col("status").max(),
                pl.col("w").null_count().alias("_missing_w"),
            )
            # A weighted mean with a missing weight would silently be biased: leave it out.
            .filter(pl.col("_missing_w") == 0)
            .drop("_missing_w")
        )
        computed = (
            pl.concat([summed, plain_mean, weighted], how="vertical")
            .rename({"ancestor_id": "area_id"})
            .select(LONG)
            .join(obs, on=KEY3, how="anti")
        )
        return pl.concat([obs, computed], how="vertical").collect()

    # -- formulas -------------------------------------------------------------------------

    def compute(
        self,
        indicators: Mapping[str, str] | None = None,
        elements: Iterable[str] | None = None,
    ) -> Results:
        """Compute every element and the given indicators, generation by generation."""
        indicators = dict(indicators or {})
        known = self.element_codes() | set(self.elements) | set(elements or ())
        try:
            fx.dependency_order(indicators, known)
        except fx.FormulaError as exc:
            raise EngineError(str(exc)) from exc
        store = self.values()
        chunks = [store]
        generations = _generations(indicators)
        for n, generation in enumerate(generations):
            templates: dict[str, tuple[fx.Node, list[tuple[str, list[str]]]]] = {}
            for code in generation:
                template, bound = _template(fx.parse(indicators[code]))
                if not bound:
                    raise EngineError(f"{code}: the formula is a constant; it must use a data element")
                key = fx.to_source(template)
                templates.setdefault(key, (template, []))[1].append((code, bound))
            plans = [self._plan(template, members, store.lazy()) for template, members in templates.values()]
            new = pl.collect_all(plans)
            chunks.extend(new)
            if n < len(generations) - 1:
                store = pl.concat([store, *new], how="vertical")
        return Results(chunks=chunks)

    def _plan(self, template: fx.Node, members: list[tuple[str, list[str]]], store: pl.LazyFrame) -> pl.LazyFrame:
        """One plan for all indicators sharing a template; `members` binds each one's names."""
        width = len(members[0][1])
        mapping = pl.DataFrame(
            {"ind": [m[0] for m in members], **{f"n{k}": [m[1][k] for m in members] for k in range(width)}},
            schema={"ind": pl.Categorical, **{f"n{k}": pl.Categorical for k in range(width)}},
        ).lazy()
        refs = {
            f"${k}": store.join(mapping.select("ind", pl.col(f"n{k}").alias("code")), on="code")
            .select(pl.col("ind").alias("code"), "area_id", "period", "value", "status")
            for k in range(width)
        }
        plan = self._compile(template, refs)
        if isinstance(plan, float):
            raise EngineError(f"{members[0][0]}: the formula is a constant")
        return plan.filter(pl.col("value").is_finite()).select(LONG)

    def _compile(self, node: fx.Node, refs: dict[str, pl.LazyFrame]) -> pl.LazyFrame | float:
        if isinstance(node, fx.Num):
            return float(node.value)
        if isinstance(node, fx.Name):
            return refs[node.name]
        if isinstance(node, fx.Neg):
            inner = self._compile(node.operand, refs)
            return -inner if isinstance(inner, float) else inner.with_columns(-pl.col("value"))
        if isinstance(node, fx.BinOp):
            return _binop(node.op, self._compile(node.left, refs), self._compile(node.right, refs))
        if isinstance(node, fx.Call):
            return self._call(node.func, [self._compile(a, refs) for a in node.args], node)
        raise EngineError(f"cannot compile {node!r}")

    def _call(self, func: str, args: list, node: fx.Node):
        if func in ("prev_year", "growth", "sum_children", "share", "abs") and isinstance(args[0], float):
            raise EngineError(f"{func}() needs a data element or indicator, not a number (position {node.pos})")
        if func == "prev_year":
            return args[0].with_columns(pl.col("period") + 1000)
        if func == "growth":
            x = args[0]
            prev = x.with_columns(pl.col("period") + 1000)
            return _binop("-", _binop("/", x, prev), 1.0)
        if func == "sum_children":
            return (
                args[0].join(self._parent_df, on="area_id")
                .group_by("code", "parent_id", "period")
                .agg(pl.col("value").sum(), pl.col("status").max())
                .rename({"parent_id": "area_id"})
                .select(LONG)
            )
        if func == "share":
            x = args[0]
            parent_vals = x.select(
                "code", pl.col("area_id").alias("parent_id"), "period",
                pl.col("value").alias("_pv"), pl.col("status").alias("_ps"),
            )
            return (
                x.join(self._parent_df, on="area_id")
                .join(parent_vals, on=["code", "parent_id", "period"])
                # Not a filter on _pv: Polars would push it below the self-join and lose
                # the shared sub-plan (ten times slower on the benchmark).
                .with_columns(
                    pl.when(pl.col("_pv") != 0).then(pl.col("value") / pl.col("_pv")).alias("value"),
                    pl.max_horizontal("status", "_ps").alias("status"),
                )
                .select(LONG)
            )
        if func == "abs":
            return args[0].with_columns(pl.col("value").abs())
        if func in ("min", "max"):
            a, b = args
            if isinstance(a, float) and isinstance(b, float):
                return min(a, b) if func == "min" else max(a, b)
            pick = pl.min_horizontal if func == "min" else pl.max_horizontal
            if isinstance(a, float) or isinstance(b, float):
                frame, const = (b, a) if isinstance(a, float) else (a, b)
                return frame.with_columns(pick(pl.col("value"), pl.lit(const)).alias("value"))
            return _combine(a, b, lambda l, r: pick(l, r))
        raise EngineError(f"unknown function {func}() at position {node.pos}")


def _template(node: fx.Node) -> tuple[fx.Node, list[str]]:
    """The formula with its names replaced by placeholders $0, $1 ... in order of first use."""
    bound: list[str] = []

    def walk(n: fx.Node) -> fx.Node:
        if isinstance(n, fx.Name):
            if n.name not in bound:
                bound.append(n.name)
            return fx.Name(f"${bound.index(n.name)}")
        if isinstance(n, fx.Neg):
            return fx.Neg(walk(n.operand))
        if isinstance(n, fx.BinOp):
            return fx.BinOp(n.op, walk(n.left), walk(n.right))
        if isinstance(n, fx.Call):
            return fx.Call(n.func, tuple(walk(a) for a in n.args))
        return n

    return walk(node), bound


def _generations(formulas: Mapping[str, str]) -> list[list[str]]:
    """Indicators grouped so that each group only uses elements and earlier groups."""
    import graphlib

    graph = {code: fx.names(fx.parse(text)) & set(formulas) for code, text in formulas.items()}
    sorter = graphlib.TopologicalSorter(graph)
    sorter.prepare()
    out = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        out.append(ready)
        sorter.done(*ready)
    return out


def _combine(left: pl.LazyFrame, right: pl.LazyFrame, fn) -> pl.LazyFrame:
    joined = left.join(right.rename({"value": "_r", "status": "_rs"}), on=KEY3, how="inner")
    return joined.with_columns(
        fn(pl.col("value"), pl.col("_r")).alias("value"),
        pl.max_horizontal("status", "_rs").alias("status"),
    ).select(LONG)


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
