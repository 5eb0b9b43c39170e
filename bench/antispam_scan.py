"""Benchmark: the spam-number scan (DuckDB engine) against hand-written DuckDB SQL and
against pandas, on simulated operator records.

    .venv/bin/python bench/antispam_scan.py [--rows 100000000] [--pandas-rows 10000000]
        [--memory-limit 6GB] [--threads 2] [--data DIR] [--settle 10]

1. Simulates `--rows` records (`ictgov.antispam.simulate`, written day by day to Parquet,
   about 7 records per subscriber and day over 10 days) and a `--pandas-rows` sample the
   same way; a `--data` directory keeps them for the next run.
2. Times, each in a fresh process (so that its peak RSS is its own):
   - the engine: `cdr.scan_duckdb` — the whole scan: checks, features per number and day,
     criteria, per-number result in memory;
   - hand-written SQL: one DuckDB statement computing the same per-day features the
     straightforward way (every number-day, shares cut to the judged days at the end);
   - pandas (on the sample only), the same features, numbers factorised to integers first;
   - the engine again on the sample, just before and just after pandas (the mean of the two
     is set against pandas: the machine's speed drifts over pandas' half minute).
   Every time runs from the file: the engine's includes reading and checking it, the SQL's
   reading it, pandas' its `read_parquet` (printed apart as well).
   DuckDB gets `--memory-limit` and spills beyond it.
3. Checks that the engine's per-day features equal the hand-written SQL's (and pandas'
   on the sample), row for row, before printing any ratio.

Targets (issue 4): 100 M rows in at most 60 s on 2 cores; at least 0.7x the speed of the
hand-written SQL; at least 10x pandas.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FEATURE_COLS = ["number", "d", "volume", "calls_out", "sms_out", "recipients", "new_recipients",
                "new_recipient_share", "calls_in", "sms_in", "out_in_ratio", "sms_share", "short_calls",
                "short_call_share", "short_gaps", "short_gap_share", "template_senders", "template_share"]
ROWS_PER_USER_DAY = 7.0
DAYS = 10


# -- data ------------------------------------------------------------------------------------


def make_data(rows: int, out: Path, seed: int) -> dict:
    from ictgov.antispam.simulate import SimSpec, simulate

    manifest = out / "manifest.json"
    if manifest.exists():
        return json.loads(manifest.read_text())
    subscribers = max(1000, int(rows / (DAYS * ROWS_PER_USER_DAY)))
    spec = SimSpec(subscribers=subscribers, days=DAYS, spammers=0.002, heavy=0.005, seed=seed)
    started = time.perf_counter()
    m = simulate(spec, out)
    print(f"  simulated {m['rows']:,} records of {subscribers:,} subscribers in "
          f"{time.perf_counter() - started:.0f} s -> {out}", flush=True)
    return m


# -- the three implementations (each run in its own process) -----------------------------------


def run_engine(data: Path, out: Path, memory_limit: str, threads: int, tmp: str) -> dict:
    from ictgov.antispam import records as rec
    from ictgov.antispam.cdr import day_features_query, scan_duckdb
    from ictgov.antispam.rules import load_thresholds

    th = load_thresholds()
    con = rec.connect(memory_limit, threads, tmp)
    started = time.perf_counter()
    result = scan_duckdb(data / "records.parquet", None, th, con=con)
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the scan's, not the check's
    # Not timed: the per-day features, kept for the comparison (numbers as text again). The
    # scan counts distinct recipients only where it reads them (the days judged, the rows
    # shown: `cdr.recipients_cut`); the other number-days get theirs from the file here.
    features = day_features_query(con, FEATURE_COLS)
    file = data / "records.parquet"
    counted = (f"SELECT a_number AS number, CAST((start_time + 25200) // 86400 AS INTEGER) AS d, "
               f"count(DISTINCT b_number) AS n FROM read_parquet('{file}') GROUP BY ALL")
    con.execute(f"COPY (SELECT f.* REPLACE (coalesce(f.recipients, c.n) AS recipients) "
                f"FROM ({features}) f LEFT JOIN ({counted}) c "
                f"ON c.number = f.number AND c.d = f.d) "
                f"TO '{out}' (FORMAT parquet)")
    return {"seconds": seconds, "rows": result.rows, "numbers": result.numbers.height,
            "flagged": result.flagged.height, "max_rss_mb": rss}


HAND_SQL = """
CREATE TABLE hand AS
WITH r AS (
  SELECT a_number AS a, b_number AS b, start_time AS t, CAST((start_time + 25200) // 86400 AS INTEGER) AS d,
         kind = 'sms' AS sms, duration_s AS dur, content_hash AS h
  FROM read_parquet('{records}')),
first_day AS (SELECT min(d) AS d0 FROM r),
out_day AS (
  SELECT a, d, count(*) FILTER (WHERE NOT sms) AS calls_out, count(*) FILTER (WHERE sms) AS sms_out,
         count(DISTINCT b) AS recipients,
         count(*) FILTER (WHERE NOT sms AND dur < 10) AS short_calls,
         count(h) FILTER (WHERE sms) AS sms_hashed
  FROM r GROUP BY a, d),
in_day AS (
  SELECT b AS a, d, count(*) FILTER (WHERE NOT sms) AS calls_in, count(*) FILTER (WHERE sms) AS sms_in
  FROM r GROUP BY b, d),
gaps AS (
  SELECT a, d, count(*) FILTER (WHERE gap < 15) AS short_gaps
  FROM (SELECT a, d, t - lag(t + dur) OVER (PARTITION BY a, d ORDER BY t, dur, b) AS gap FROM r WHERE NOT sms)
  GROUP BY a, d),
pairs AS (
  SELECT x, y, min(t) AS first_t, min(t) FILTER (WHERE o) AS first_out_t, min(d) AS first_d
  FROM (SELECT a AS x, b AS y, t, d, TRUE AS o FROM r UNION ALL SELECT b, a, t, d, FALSE FROM r)
  GROUP BY x, y),
new_rec AS (SELECT x AS a, first_d AS d, count(*) AS n FROM pairs WHERE first_out_t = first_t GROUP BY x, first_d),
sender_tpl AS (SELECT a, d, h, count(*) AS n FROM r WHERE sms AND h IS NOT NULL GROUP BY a, d, h),
tpl AS (SELECT h, d, count(DISTINCT a) AS senders FROM r WHERE sms AND h IS NOT NULL GROUP BY h, d),
tmpl AS (
  SELECT s.a, s.d, max(senders) AS template_senders,
         sum(CASE WHEN senders >= 5 THEN n ELSE 0 END) AS shared, sum(n) AS hashed
  FROM sender_tpl s JOIN tpl USING (h, d) GROUP BY s.a, s.d)
SELECT o.a AS number, o.d,
  o.calls_out + o.sms_out AS volume, o.calls_out, o.sms_out, o.recipients,
  CASE WHEN o.recipients >= 10 AND o.d >= f.d0 + 2 THEN coalesce(n.n, 0) END AS new_recipients,
  CASE WHEN o.recipients >= 10 AND o.d >= f.d0 + 2 THEN coalesce(n.n, 0)::DOUBLE / o.recipients END
    AS new_recipient_share,
  coalesce(i.calls_in, 0) AS calls_in, coalesce(i.sms_in, 0) AS sms_in,
  (o.calls_out + o.sms_out)::DOUBLE / greatest(coalesce(i.calls_in, 0) + coalesce(i.sms_in, 0), 1) AS out_in_ratio,
  o.sms_out::DOUBLE / (o.calls_out + o.sms_out) AS sms_share,
  CASE WHEN o.calls_out >= 10 THEN o.short_calls END AS short_calls,
  CASE WHEN o.calls_out >= 10 THEN o.short_calls::DOUBLE / o.calls_out END AS short_call_share,
  CASE WHEN o.calls_out >= 10 THEN coalesce(g.short_gaps, 0) END AS short_gaps,
  CASE WHEN o.calls_out >= 10 THEN coalesce(g.short_gaps, 0)::DOUBLE / (o.calls_out - 1) END AS short_gap_share,
  CASE WHEN o.sms_hashed >= 5 THEN tm.template_senders END AS template_senders,
  CASE WHEN o.sms_hashed >= 5 THEN tm.shared::DOUBLE / tm.hashed END AS template_share
FROM out_day o CROSS JOIN first_day f
LEFT JOIN in_day i USING (a, d) LEFT JOIN gaps g USING (a, d) LEFT JOIN new_rec n USING (a, d)
LEFT JOIN tmpl tm USING (a, d)
"""


def run_sql(data: Path, out: Path, memory_limit: str, threads: int, tmp: str) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET threads = {threads}")
    con.execute(f"SET temp_directory = '{tmp}'")
    con.execute("SET preserve_insertion_order = false")
    started = time.perf_counter()
    con.execute(HAND_SQL.format(records=data / "records.parquet"))
    seconds = time.perf_counter() - started
    con.execute(f"COPY hand TO '{out}' (FORMAT parquet)")
    return {"seconds": seconds}


def run_pandas(data: Path, out: Path, memory_limit: str, threads: int, tmp: str) -> dict:
    import numpy as np
    import pandas as pd

    # Timed from the file, as the engine and the SQL are: reading it is part of the job.
    started = time.perf_counter()
    df0 = pd.read_parquet(data / "records.parquet")
    read_s = time.perf_counter() - started
    codes, uniques = pd.factorize(pd.concat([df0["a_number"], df0["b_number"]], ignore_index=True))
    n = len(df0)
    df = pd.DataFrame({"a": codes[:n], "b": codes[n:], "t": df0["start_time"].to_numpy(),
                       "sms": (df0["kind"] == "sms").to_numpy(), "dur": df0["duration_s"].to_numpy(),
                       "h": df0["content_hash"]})
    df["d"] = (df["t"] + 25200) // 86400
    d0 = df["d"].min()
    voice = ~df["sms"]
    df["call"] = voice.astype(np.int64)
    df["sms_i"] = df["sms"].astype(np.int64)
    df["short"] = (voice & (df["dur"] < 10)).astype(np.int64)
    df["hashed"] = (df["sms"] & df["h"].notna()).astype(np.int64)
    out_day = df.groupby(["a", "d"]).agg(calls_out=("call", "sum"), sms_out=("sms_i", "sum"),
                                         recipients=("b", "nunique"), short_calls=("short", "sum"),
                                         sms_hashed=("hashed", "sum")).reset_index()
    in_day = df.groupby(["b", "d"]).agg(calls_in=("call", "sum"), sms_in=("sms_i", "sum")).reset_index() \
        .rename(columns={"b": "a"})
    calls = df.loc[voice, ["a", "d", "t", "dur", "b"]].sort_values(["a", "d", "t", "dur", "b"])
    prev_end = (calls["t"] + calls["dur"]).groupby([calls["a"], calls["d"]]).shift()
    calls["short_gap"] = ((calls["t"] - prev_end) < 15).astype(np.int64)
    gaps = calls.groupby(["a", "d"])["short_gap"].sum().rename("short_gaps").reset_index()
    both = pd.concat([pd.DataFrame({"x": df["a"], "y": df["b"], "t": df["t"], "d": df["d"], "o": True}),
                      pd.DataFrame({"x": df["b"], "y": df["a"], "t": df["t"], "d": df["d"], "o": False})],
                     ignore_index=True)
    both["t_out"] = both["t"].where(both["o"])
    pairs = both.groupby(["x", "y"]).agg(first_t=("t", "min"), first_out_t=("t_out", "min"),
                                        first_d=("d", "min")).reset_index()
    new = pairs[pairs["first_t"] == pairs["first_out_t"]].groupby(["x", "first_d"]).size() \
        .rename("new_n").reset_index().rename(columns={"x": "a", "first_d": "d"})
    sms = df.loc[df["sms"] & df["h"].notna(), ["a", "d", "h"]]
    sender_tpl = sms.groupby(["a", "d", "h"]).size().rename("n").reset_index()
    tpl = sms.groupby(["h", "d"])["a"].nunique().rename("senders").reset_index()
    st = sender_tpl.merge(tpl, on=["h", "d"])
    st["shared"] = np.where(st["senders"] >= 5, st["n"], 0)
    tmpl = st.groupby(["a", "d"]).agg(template_senders=("senders", "max"), shared=("shared", "sum"),
                                     hashed=("n", "sum")).reset_index()
    f = out_day.merge(in_day, on=["a", "d"], how="left").merge(gaps, on=["a", "d"], how="left") \
        .merge(new, on=["a", "d"], how="left").merge(tmpl, on=["a", "d"], how="left")
    for c in ("calls_in", "sms_in", "short_gaps", "new_n"):
        f[c] = f[c].fillna(0).astype(np.int64)
    res = pd.DataFrame({"number": np.asarray(uniques)[f["a"].to_numpy()], "d": f["d"].astype(np.int32)})
    res["volume"] = f["calls_out"] + f["sms_out"]
    res["calls_out"], res["sms_out"], res["recipients"] = f["calls_out"], f["sms_out"], f["recipients"]
    jn = (f["recipients"] >= 10) & (f["d"] >= d0 + 2)
    jc = f["calls_out"] >= 10
    jt = f["sms_hashed"] >= 5
    res["new_recipients"] = f["new_n"].where(jn).astype("Int64")
    res["new_recipient_share"] = (f["new_n"] / f["recipients"]).where(jn)
    res["calls_in"], res["sms_in"] = f["calls_in"], f["sms_in"]
    res["out_in_ratio"] = res["volume"] / np.maximum(f["calls_in"] + f["sms_in"], 1)
    res["sms_share"] = f["sms_out"] / res["volume"]
    res["short_calls"] = f["short_calls"].where(jc).astype("Int64")
    res["short_call_share"] = (f["short_calls"] / f["calls_out"]).where(jc)
    res["short_gaps"] = f["short_gaps"].where(jc).astype("Int64")
    res["short_gap_share"] = (f["short_gaps"] / (f["calls_out"] - 1)).where(jc)
    res["template_senders"] = f["template_senders"].where(jt).astype("Int64")
    res["template_share"] = (f["shared"] / f["hashed"]).where(jt)
    seconds = time.perf_counter() - started
    res.to_parquet(out)
    return {"seconds": seconds, "compute_seconds": seconds - read_s}


STAGES = {"engine": run_engine, "sql": run_sql, "pandas": run_pandas}


def stage_main(args) -> None:
    result = STAGES[args.stage](Path(args.data), Path(args.out), args.memory_limit, args.threads, args.tmp)
    result.setdefault("max_rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(result))


# Seconds of rest before each stage: a stage that ends by freeing gigabytes (pandas' 4 GB)
# leaves the machine slower for a few seconds (the engine just after pandas: 3.28 and
# 3.35 s; 10 s later 3.02 and 3.01 s), so every stage starts on a settled machine.
SETTLE_S = 10


def run_stage(stage: str, data: Path, out: Path, args, tmp: str) -> dict:
    cmd = [sys.executable, __file__, "--stage", stage, "--data", str(data), "--out", str(out),
           "--memory-limit", args.memory_limit, "--threads", str(args.threads), "--tmp", tmp]
    time.sleep(args.settle)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        # A baseline that fails (out of memory, say) is reported, not the end of the run.
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        print(f"  {stage} on {data.name} failed: {last}", flush=True)
        return {"failed": last}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"  {stage} on {data.name}: {result['seconds']:.1f} s, peak RSS {result['max_rss_mb']:,.0f} MB",
          flush=True)
    return result


def differences(a: Path, b: Path) -> int:
    """Rows of one result missing from the other (both ways), over the feature columns."""
    import duckdb

    cols = ", ".join(f"CAST({c} AS {'DOUBLE' if c.endswith(('share', 'ratio')) else 'BIGINT'}) AS {c}"
                     if c != "number" else c for c in FEATURE_COLS)
    q = (f"SELECT (SELECT count(*) FROM (SELECT {cols} FROM '{a}' EXCEPT ALL SELECT {cols} FROM '{b}')) + "
         f"(SELECT count(*) FROM (SELECT {cols} FROM '{b}' EXCEPT ALL SELECT {cols} FROM '{a}'))")
    return duckdb.sql(q).fetchall()[0][0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000_000)
    ap.add_argument("--pandas-rows", type=int, default=10_000_000)
    ap.add_argument("--memory-limit", default="6GB")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", help="directory for the simulated records (kept for the next run)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--settle", type=float, default=SETTLE_S, help="seconds of rest before each stage")
    ap.add_argument("--stage", choices=list(STAGES), help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--tmp", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        stage_main(args)
        return
    try:
        import pandas  # noqa: F401
    except ImportError:
        sys.exit("pandas is needed for the comparison: .venv/bin/pip install -e '.[bench]'")
    base = Path(args.data) if args.data else ROOT / "bench" / "out" / "antispam_scan"
    big = base / f"rows_{args.rows}"
    small = base / f"rows_{args.pandas_rows}"
    print(f"antispam scan benchmark: {os.cpu_count()} cores, DuckDB memory limit {args.memory_limit}")
    mb = make_data(args.rows, big, args.seed)
    ms = make_data(args.pandas_rows, small, args.seed + 1)
    with tempfile.TemporaryDirectory(prefix="antispam-bench-") as tmp:
        t = Path(tmp)
        # The sample first, before the big file's runs churn the memory and the page cache
        # (the SQL spills gigabytes). The engine on the sample just before and just after
        # pandas: the machine's speed drifts over pandas' half minute, and their mean sees
        # what pandas saw.
        eng_s1 = run_stage("engine", small, t / "engine_s.parquet", args, tmp)
        pdr = run_stage("pandas", small, t / "pandas.parquet", args, tmp)
        eng_s2 = run_stage("engine", small, t / "engine_s.parquet", args, tmp)
        eng = run_stage("engine", big, t / "engine.parquet", args, tmp)
        if "failed" in eng:
            sys.exit("the engine failed")
        sql = run_stage("sql", big, t / "sql.parquet", args, tmp)
        diff_sql = None if "failed" in sql else differences(t / "engine.parquet", t / "sql.parquet")
        diff_pd = None if "failed" in pdr else differences(t / "engine_s.parquet", t / "pandas.parquet")
    eng_s = {"seconds": (eng_s1["seconds"] + eng_s2["seconds"]) / 2,
             "max_rss_mb": max(eng_s1["max_rss_mb"], eng_s2["max_rss_mb"])}
    if diff_sql or diff_pd:
        sys.exit(f"results differ: engine vs SQL {diff_sql} rows, engine vs pandas {diff_pd} rows")
    rows, rows_s = mb["rows"], ms["rows"]

    def line(name, r, n):
        if "failed" in r:
            return f"  {name:<22} failed: {r['failed']}"
        return (f"  {name:<22} {r['seconds']:8.1f} s  {n / r['seconds'] / 1e6:7.2f} M rows/s  "
                f"peak RSS {r['max_rss_mb']:,.0f} MB")

    print(f"{rows:,} records ({eng['numbers']:,} callers and senders, {eng['flagged']:,} flagged)"
          + ("; results equal" if diff_sql == 0 else ""))
    print(line("engine (DuckDB)", eng, rows))
    print(line("hand-written SQL", sql, rows))
    print(f"{rows_s:,} records sample" + ("; results equal" if diff_pd == 0 else ""))
    print(line("engine (DuckDB)", eng_s, rows_s) + f"  (mean of {eng_s1['seconds']:.1f} s "
          f"before pandas and {eng_s2['seconds']:.1f} s after)")
    read_s = None if "failed" in pdr else pdr["seconds"] - pdr["compute_seconds"]
    print(line("pandas", pdr, rows_s)
          + ("" if read_s is None else f"  (of which reading the file {read_s:.1f} s)"))
    target_s = 60 * rows / 100_000_000
    print(f"engine time {eng['seconds']:.1f} s for {rows:,} rows (target <= {target_s:.0f} s: "
          f"{'met' if eng['seconds'] <= target_s else 'NOT met'})")
    if "failed" not in sql:
        ratio_sql = sql["seconds"] / eng["seconds"]
        print(f"engine speed / hand-written SQL speed: {ratio_sql:.2f}x (target >= 0.7: "
              f"{'met' if ratio_sql >= 0.7 else 'NOT met'})")
    if "failed" not in pdr:
        ratio_pd = pdr["seconds"] / eng_s["seconds"]
        print(f"engine speed / pandas speed: {ratio_pd:.1f}x (target >= 10: "
              f"{'met' if ratio_pd >= 10 else 'NOT met'})")


if __name__ == "__main__":
    main()
