"""The spam-number scan on Apache Spark (PySpark): the same features, criteria and result
as the DuckDB engine in `ictgov.antispam.cdr`, for records too large for one machine.

    result = scan_spark("records.parquet", subscribers="subscribers.csv")

The input is first checked and normalised by `records.write_canonical` (numbers in
national form, times as epoch seconds and Vietnam-time day numbers, template keys): a
per-row job done at disk speed, which makes both engines read exactly the same rows.
`features_frame` takes that canonical frame from anywhere (a cluster's own copy), so on a
cluster only the per-number-day work below runs in Spark.

`scan_spark` brings the result back to this process (the CLI's CSV, the tests).
`scan_spark_to` leaves it where the executors are: it reads canonical records from shared
storage (HDFS, S3, NFS), writes the per-number result and the flagged number-days there as
part files, and brings back only counts — for results too large for the driver.

Each step follows the SQL of `cdr.day_features_sql`, written again with the DataFrame
API (so the test that compares the engines compares two implementations), while the
criteria, score and reasons are the very SQL expressions of `rules` (`F.expr`).

Spark is an optional dependency (``pip install 'ictgov[spark]'``) and needs Java 17+.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from ictgov.antispam import records as rec
from ictgov.antispam.cdr import SCHEMA, ScanResult, _empty, _typed
from ictgov.antispam.rules import FEATURES, Thresholds, load_thresholds

__all__ = ["features_frame", "get_session", "scan_spark", "scan_spark_to"]

_SESSION = None


def get_session(master: str | None = None, shuffle_partitions: int = 4, driver_memory: str = "2g",
                short_jobs: bool = False):
    """A SparkSession for this process (created once): `master`, else the environment's
    ICTGOV_SPARK_MASTER, else local mode on 2 cores; the web UI off, few shuffle
    partitions (the default 200 makes small jobs slow).

    `short_jobs` runs the driver's JVM with the quick (C1) compiler only: it halves the
    time of start-up and of small scans (tests, a laptop), and slows long jobs."""
    global _SESSION
    from pyspark.sql import SparkSession

    if _SESSION is not None and _SESSION._jsc is not None and not _SESSION._jsc.sc().isStopped():
        return _SESSION
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    master = master or os.environ.get("ICTGOV_SPARK_MASTER") or "local[2]"
    builder = (SparkSession.builder.master(master).appName("ictgov-antispam")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
               .config("spark.driver.memory", driver_memory)
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
    if short_jobs:
        builder = builder.config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
    _SESSION = builder.getOrCreate()
    _SESSION.sparkContext.setLogLevel("ERROR")
    return _SESSION


def features_frame(records, subscribers, th: Thresholds, first_day: int):
    """Per number and day: the features, score, reasons and flagged, from a canonical
    records DataFrame (a, b, t, d, sms, dur, h, op) and an optional subscribers DataFrame
    (number, activation_day, operator)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    r = records
    one, zero = F.lit(1), F.lit(0)
    voice = ~F.col("sms")
    out_day = r.groupBy(F.col("a").alias("number"), "d").agg(
        F.sum(F.when(voice, one).otherwise(zero)).alias("calls_out"),
        F.sum(F.when(F.col("sms"), one).otherwise(zero)).alias("sms_out"),
        F.countDistinct("b").alias("recipients"),
        F.sum(F.when(voice & (F.col("dur") < th.short_call_s), one).otherwise(zero)).alias("short_calls"),
        F.sum(F.when(F.col("sms") & F.col("h").isNotNull(), one).otherwise(zero)).alias("sms_hashed"),
        F.min("op").alias("op"),
    )
    in_day = r.groupBy(F.col("b").alias("number"), "d").agg(
        F.sum(F.when(voice, one).otherwise(zero)).alias("calls_in"),
        F.sum(F.when(F.col("sms"), one).otherwise(zero)).alias("sms_in"),
    )
    judged_from = int(first_day) + th.history_days
    j_calls = F.col("calls_out") >= th.min_calls
    j_new = (F.col("recipients") >= th.min_recipients) & (F.col("d") >= judged_from)
    j_tpl = F.col("sms_hashed") >= th.min_template_sms
    judged = (out_day.where(j_calls | j_new | j_tpl)
              .select("number", "d", j_calls.alias("j_calls"), j_new.alias("j_new"), j_tpl.alias("j_tpl"))
              .cache())

    # Short gaps: the same order as the SQL (start, duration, b_number).
    calls_keys = judged.where("j_calls").select(F.col("number").alias("a"), "d")
    w = Window.partitionBy("a", "d").orderBy("t", "dur", "b")
    gaps = (r.where(voice).join(calls_keys, ["a", "d"], "left_semi")
            .select(F.col("a").alias("number"), "d",
                    (F.col("t") - F.lag(F.col("t") + F.col("dur")).over(w)).alias("gap"))
            .groupBy("number", "d")
            .agg(F.sum(F.when(F.col("gap") < th.short_gap_s, one).otherwise(zero)).alias("short_gaps")))

    # New recipients: first contact in either direction was this number's, on that day.
    new_numbers = judged.where("j_new").select("number").distinct()
    outgoing = (r.join(new_numbers.withColumnRenamed("number", "a"), "a", "left_semi")
                .select(F.col("a").alias("x"), F.col("b").alias("y"), "t", "d", F.lit(True).alias("o")))
    incoming = (r.join(new_numbers.withColumnRenamed("number", "b"), "b", "left_semi")
                .select(F.col("b").alias("x"), F.col("a").alias("y"), "t", "d", F.lit(False).alias("o")))
    new_rec = (outgoing.unionByName(incoming).groupBy("x", "y")
               .agg(F.min("t").alias("first_t"), F.min(F.when(F.col("o"), F.col("t"))).alias("first_out_t"),
                    F.min("d").alias("first_d"))
               .where(F.col("first_out_t") == F.col("first_t"))
               .groupBy(F.col("x").alias("number"), F.col("first_d").alias("d"))
               .agg(F.count(F.lit(1)).alias("new_recipients")))

    # Shared templates.
    tpl_keys = judged.where("j_tpl").select(F.col("number").alias("a"), "d")
    sender_tpl = (r.where(F.col("sms") & F.col("h").isNotNull()).join(tpl_keys, ["a", "d"], "left_semi")
                  .groupBy(F.col("a").alias("number"), "d", "h").agg(F.count(F.lit(1)).alias("n"))
                  .cache())
    tpl = (r.where(F.col("sms")).join(sender_tpl.select("h", "d").distinct(), ["h", "d"], "left_semi")
           .groupBy("h", "d").agg(F.countDistinct("a").alias("senders")))
    tmpl = (sender_tpl.join(tpl, ["h", "d"])
            .groupBy("number", "d")
            .agg(F.max("senders").alias("template_senders"),
                 F.sum(F.when(F.col("senders") >= th.template_min_senders, F.col("n")).otherwise(zero))
                 .alias("shared"),
                 F.sum("n").alias("hashed")))

    o = out_day.alias("o")
    df = (o.join(in_day, ["number", "d"], "left").join(judged, ["number", "d"], "left")
          .join(gaps, ["number", "d"], "left").join(new_rec, ["number", "d"], "left")
          .join(tmpl, ["number", "d"], "left"))
    if subscribers is not None:
        subs = subscribers.groupBy("number").agg(F.max("activation_day").alias("activation_day"),
                                                 F.min("operator").alias("sub_operator"))
        df = df.join(subs, "number", "left")
        sim_age = F.col("d") - F.col("activation_day")
        operator = F.coalesce(F.col("sub_operator"), F.col("op"))
    else:
        sim_age = F.lit(None).cast("int")
        operator = F.col("op")

    def dbl(c):
        return c.cast("double")

    calls_in = F.coalesce(F.col("calls_in"), zero)
    sms_in = F.coalesce(F.col("sms_in"), zero)
    volume = F.col("calls_out") + F.col("sms_out")
    new = F.coalesce(F.col("new_recipients"), zero)
    short_gaps = F.coalesce(F.col("short_gaps"), zero)
    jn, jc, jt = (F.coalesce(F.col(c), F.lit(False)) for c in ("j_new", "j_calls", "j_tpl"))
    feats = df.select(
        "number", "d",
        volume.alias("volume"), "calls_out", "sms_out", "recipients",
        F.when(jn, new).alias("new_recipients"),
        F.when(jn, dbl(new) / dbl(F.col("recipients"))).alias("new_recipient_share"),
        calls_in.alias("calls_in"), sms_in.alias("sms_in"),
        (dbl(volume) / dbl(F.greatest(calls_in + sms_in, one))).alias("out_in_ratio"),
        (dbl(F.col("sms_out")) / dbl(volume)).alias("sms_share"),
        F.when(jc, F.col("short_calls")).alias("short_calls"),
        F.when(jc, dbl(F.col("short_calls")) / dbl(F.col("calls_out"))).alias("short_call_share"),
        F.when(jc, short_gaps).alias("short_gaps"),
        F.when(jc, dbl(short_gaps) / dbl(F.col("calls_out") - 1)).alias("short_gap_share"),
        F.when(jt, F.col("template_senders")).alias("template_senders"),
        F.when(jt, dbl(F.col("shared")) / dbl(F.col("hashed"))).alias("template_share"),
        sim_age.alias("sim_age_days"),
        operator.alias("operator"),
    )
    met = feats.select("*", *[F.expr(sql).alias(name) for name, sql in th.met_columns()])
    scored = met.select("*", F.expr(th.score_sql()).alias("score"), F.expr(th.reasons_sql()).alias("reasons"))
    return scored.select("*", F.expr(th.flagged_sql("score")).alias("flagged"))


def _per_number(day_scored):
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    w = Window.partitionBy("number").orderBy(F.col("flagged").desc(), F.col("score").desc(), F.col("d"))
    whole = Window.partitionBy("number")
    day = F.date_add(F.lit("1970-01-01").cast("date"), F.col("d"))
    return (day_scored
            .withColumn("rn", F.row_number().over(w))
            .withColumn("days_active", F.count(F.lit(1)).over(whole))
            .withColumn("days_flagged", F.sum(F.when(F.col("flagged"), 1).otherwise(0)).over(whole))
            .where("rn = 1")
            .select("number", "flagged", "score", "reasons", day.alias("day"), "days_active",
                    "days_flagged", "operator", *FEATURES))


def _to_polars(df) -> pl.DataFrame:
    if hasattr(df, "toArrow"):
        return pl.from_arrow(df.toArrow())
    return pl.from_pandas(df.toPandas())


def scan_spark(records: str | Path, subscribers: str | Path | None = None,
               thresholds: Thresholds | None = None, *, spark=None,
               work_dir: str | Path | None = None) -> ScanResult:
    """Scan with Spark (a SparkSession of this process unless `spark` is given)."""
    from pyspark.sql import functions as F

    th = thresholds or load_thresholds()
    started = time.perf_counter()
    spark = spark or get_session()
    with tempfile.TemporaryDirectory(dir=work_dir, prefix="ictgov-spark-") as tmp:
        canon = Path(tmp) / "records.parquet"
        src = rec.write_canonical(records, canon, subscribers=subscribers)
        if src.rows == 0:
            return _empty(th, "spark", started)
        r = spark.read.parquet(str(canon))
        subs = spark.read.parquet(str(canon) + ".subscribers.parquet") if subscribers is not None else None
        day_scored = features_frame(r, subs, th, src.first_day).cache()
        numbers = _to_polars(_per_number(day_scored).orderBy("number"))
        day = F.date_add(F.lit("1970-01-01").cast("date"), F.col("d")).alias("day")
        days = _to_polars(day_scored.where("flagged").orderBy("d", "number")
                          .select("number", day, "score", "reasons", "operator", *FEATURES))
        day_scored.unpersist()
    numbers = _typed(numbers).sort("number")
    days = _typed(days)
    return ScanResult(numbers.select([c for c in SCHEMA if c in numbers.columns]), days, "spark",
                      src.rows, rec.day_to_date(src.first_day), rec.day_to_date(src.last_day),
                      time.perf_counter() - started, th)


def _csv_columns(df, columns: list[str]):
    """The columns of the scan CSV (`cdr.write_scan_csv`): flagged as true/false, shares,
    ratios and the score rounded to 4 decimals, a day as an ISO date."""
    from pyspark.sql import functions as F

    from ictgov.antispam.rules import FEATURES as KINDS

    out = []
    for c in columns:
        if c == "flagged":
            out.append(F.when(F.col(c), F.lit("true")).otherwise(F.lit("false")).alias(c))
        elif c == "score" or KINDS.get(c) in ("share", "ratio"):
            out.append(F.bround(F.col(c).cast("double"), 4).alias(c))  # half to even, as Polars
        elif c == "day":
            out.append(F.date_format(F.col(c), "yyyy-MM-dd").alias(c))
        else:
            out.append(F.col(c))
    return df.select(*out)


def scan_spark_to(canonical: str, out: str, subscribers: str | None = None,
                  thresholds: Thresholds | None = None, *, spark=None) -> dict:
    """Scan canonical records (Parquet written by `records.write_canonical`, anywhere Spark
    reads: a path, hdfs://, s3a://) and let the executors write the result under `out`:
    `out/numbers` (the scan CSV's columns, CSV part files with a header) and
    `out/flagged_days`. Only counts come back to the driver. `subscribers` is the canonical
    subscribers Parquet written beside the records, if any."""
    from pyspark.sql import functions as F

    from ictgov.antispam.cdr import DAY_COLUMNS, OUTPUT_COLUMNS

    th = thresholds or load_thresholds()
    started = time.perf_counter()
    spark = spark or get_session()
    r = spark.read.parquet(str(canonical))
    bounds = r.agg(F.count(F.lit(1)).alias("rows"), F.min("d").alias("first"), F.max("d").alias("last")).first()
    if not bounds["rows"]:
        raise ValueError(f"records: {canonical} holds no record")
    subs = spark.read.parquet(str(subscribers)) if subscribers is not None else None
    day_scored = features_frame(r, subs, th, int(bounds["first"])).cache()
    try:
        numbers = _per_number(day_scored)
        _csv_columns(numbers, OUTPUT_COLUMNS).write.mode("overwrite").option("header", True) \
            .csv(f"{out}/numbers")
        day = F.date_add(F.lit("1970-01-01").cast("date"), F.col("d")).alias("day")
        flagged_days = day_scored.where("flagged").select("number", day, "score", "reasons", "operator",
                                                         *FEATURES)
        _csv_columns(flagged_days, DAY_COLUMNS).write.mode("overwrite").option("header", True) \
            .csv(f"{out}/flagged_days")
        counts = day_scored.agg(F.countDistinct("number").alias("numbers"),
                                F.countDistinct(F.when(F.col("flagged"), F.col("number"))).alias("flagged"),
                                F.sum(F.when(F.col("flagged"), 1).otherwise(0)).alias("flagged_days")).first()
    finally:
        day_scored.unpersist()
    return {"records": int(bounds["rows"]), "numbers": int(counts["numbers"]), "flagged": int(counts["flagged"]),
            "flagged_days": int(counts["flagged_days"] or 0),
            "first_day": str(rec.day_to_date(int(bounds["first"]))),
            "last_day": str(rec.day_to_date(int(bounds["last"]))), "engine": "spark",
            "seconds": round(time.perf_counter() - started, 2), "out": str(out)}
