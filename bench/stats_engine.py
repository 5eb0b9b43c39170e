"""Benchmark: the stats engine against hand-written DuckDB SQL on 10 million observations.

Both compute, for every data element: the aggregation of province values to the 6
regions and the nation, the growth against the same period a year before, and each
area's share of its parent — at every level. Both results are materialised in memory and
checked against each other before any time is printed.

    .venv/bin/python bench/stats_engine.py [--rows 10000000] [--repeat 3]

Prints both times and the ratio (SQL time / engine time): 1.0 means as fast as the
hand-written SQL; the target is at least 0.5.
"""

from __future__ import annotations

import argparse
import math
import time

import duckdb
import polars as pl

from ictgov.stats.engine import ElementSpec, Engine, Results

PROVINCES = 63
REGIONS = 6


def hierarchy() -> dict[int, int]:
    """Nation 1; regions 10..15; provinces 100..162 spread over the regions."""
    parents = {10 + r: 1 for r in range(REGIONS)}
    for p in range(PROVINCES):
        parents[100 + p] = 10 + p % REGIONS
    return parents


def generate(rows: int, elements: int, seed: int = 7) -> pl.DataFrame:
    """elements x provinces x months, values pseudo-random (hashed) in [1, 1001)."""
    months = math.ceil(rows / (PROVINCES * elements))
    periods = pl.DataFrame({"m": range(months)}).select(
        (pl.lit(1900) + pl.col("m") // 12).cast(pl.Utf8).alias("y"), (pl.col("m") % 12 + 1).alias("mo")
    ).select(pl.concat_str([pl.col("y"), pl.lit("-"), pl.col("mo").cast(pl.Utf8).str.zfill(2)]).alias("period"))
    el = pl.DataFrame({"element": [f"e{i:03d}" for i in range(elements)]})
    ar = pl.DataFrame({"area_id": range(100, 100 + PROVINCES)}, schema={"area_id": pl.Int64})
    df = el.join(ar, how="cross").join(periods, how="cross").head(rows)
    return df.with_columns(
        (pl.int_range(pl.len()).hash(seed) % 1_000_000 / 1000 + 1).cast(pl.Float64).alias("value")
    )


def run_engine(obs: pl.DataFrame, parents: dict[int, int], codes: list[str]) -> Results:
    engine = Engine(obs, parents, [ElementSpec(c, "sum") for c in codes])
    formulas = {}
    for c in codes:
        formulas[f"g_{c}"] = f"growth({c})"
        formulas[f"s_{c}"] = f"share({c})"
    return engine.compute(formulas)


SQL = """
CREATE OR REPLACE TEMP TABLE vals AS
  SELECT element, area_id, period, value FROM obs
  UNION ALL
  SELECT o.element, a.ancestor_id AS area_id, o.period, sum(o.value) AS value
  FROM obs o JOIN ancestry a ON a.area_id = o.area_id
  GROUP BY o.element, a.ancestor_id, o.period;
CREATE OR REPLACE TEMP TABLE growth AS
  SELECT cur.element, cur.area_id, cur.period, cur.value / prev.value - 1 AS value
  FROM vals cur JOIN vals prev
    ON prev.element = cur.element AND prev.area_id = cur.area_id
   AND prev.period = CAST(CAST(substr(cur.period, 1, 4) AS INTEGER) - 1 AS VARCHAR) || substr(cur.period, 5)
  WHERE prev.value <> 0;
CREATE OR REPLACE TEMP TABLE share AS
  SELECT c.element, c.area_id, c.period, c.value / p.value AS value
  FROM vals c JOIN parents h ON h.area_id = c.area_id
  JOIN vals p ON p.element = c.element AND p.area_id = h.parent_id AND p.period = c.period
  WHERE p.value <> 0;
"""


def run_sql(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--elements", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    parents = hierarchy()
    t = time.perf_counter()
    obs = generate(args.rows, args.elements)
    codes = sorted(obs["element"].unique().to_list())
    print(f"generated {obs.height:,} observations ({len(codes)} elements, {PROVINCES} provinces) "
          f"in {time.perf_counter() - t:.1f} s")

    con = duckdb.connect()
    con.execute(f"PRAGMA threads={pl.thread_pool_size()}")
    con.register("obs_view", obs.to_arrow())
    con.execute("CREATE TABLE obs AS SELECT * FROM obs_view")
    anc = []
    for child in parents:
        node = parents.get(child)
        while node is not None:
            anc.append((child, node))
            node = parents.get(node)
    con.execute("CREATE TABLE ancestry (area_id BIGINT, ancestor_id BIGINT)")
    con.executemany("INSERT INTO ancestry VALUES (?, ?)", [(c, a) for c, a in anc if c >= 100])
    con.execute("CREATE TABLE parents (area_id BIGINT, parent_id BIGINT)")
    con.executemany("INSERT INTO parents VALUES (?, ?)", list(parents.items()))

    engine_times, sql_times = [], []
    results = Results()
    for _ in range(args.repeat):
        t = time.perf_counter()
        results = run_engine(obs, parents, codes)
        engine_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        run_sql(con)
        sql_times.append(time.perf_counter() - t)

    # The two must agree before their times mean anything.
    counts = results.counts()
    n_vals = sum(counts.get(c, 0) for c in codes)
    n_growth = sum(counts.get(f"g_{c}", 0) for c in codes)
    n_share = sum(counts.get(f"s_{c}", 0) for c in codes)
    sql_counts = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("vals", "growth", "share")]
    assert [n_vals, n_growth, n_share] == sql_counts, ([n_vals, n_growth, n_share], sql_counts)
    probe = codes[len(codes) // 2]
    eng_sum = results.frame(f"g_{probe}")["value"].sum()
    sql_sum = con.execute("SELECT sum(value) FROM growth WHERE element = ?", [probe]).fetchone()[0]
    assert math.isclose(eng_sum, sql_sum, rel_tol=1e-9), (eng_sum, sql_sum)

    e, s = min(engine_times), min(sql_times)
    print(f"results: {n_vals:,} values, {n_growth:,} growths, {n_share:,} shares (engine == SQL)")
    print(f"engine (Polars):        {e:7.2f} s  (best of {args.repeat})")
    print(f"hand-written DuckDB:    {s:7.2f} s  (best of {args.repeat})")
    print(f"ratio (SQL / engine):   {s / e:7.2f}  (target >= 0.5)")


if __name__ == "__main__":
    main()
