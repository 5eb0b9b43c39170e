"""Spam numbers from operators' call and SMS records: the Circular 22 features per number
and day, the criteria of `rules`, and the scan result. DuckDB is the default engine;
`ictgov.antispam.spark` computes the same with Spark.

    result = scan("records.parquet", subscribers="subscribers.csv")
    result.numbers        # one row per number seen as a caller or sender (Polars)
    result.days           # every flagged number-day, with its reasons
    result.write_csv("flags.csv")

Features of a number on a day (Vietnam time), from the records where it is the caller or
sender (a_number) unless said otherwise:

- ``volume`` = ``calls_out`` + ``sms_out``; ``recipients``: distinct b_numbers;
- ``new_recipients`` / ``new_recipient_share``: recipients whose first contact with the
  number in the records, in either direction, was the number's call or SMS that day
  (judged from ``history_days`` after the records' first day, on days with
  ``min_recipients``);
- ``calls_in``, ``sms_in``: received; ``out_in_ratio`` = volume / max(calls_in + sms_in, 1);
- ``sms_share`` = sms_out / volume;
- ``short_calls`` / ``short_call_share``: outgoing calls shorter than ``short_call_s``
  (an unanswered call lasts 0 s), on days with ``min_calls`` outgoing calls;
- ``short_gaps`` / ``short_gap_share``: outgoing calls starting less than ``short_gap_s``
  after the end of the number's previous outgoing call that day (calls in order of start,
  then duration, then b_number), over calls_out - 1, on days with ``min_calls``;
- ``template_senders``: the most numbers that sent, that day, one template (content hash)
  that this number sent that day; ``template_share``: the share of the number's hashed
  SMS that day whose template was sent by at least ``template_min_senders`` numbers; both
  on days with ``min_template_sms`` hashed SMS;
- ``sim_age_days``: day - activation day (subscriber file).

A share or count that is not judged on a day is empty (NULL), and meets no criterion.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from ictgov.antispam import records as rec
from ictgov.antispam.rules import FEATURES, Thresholds, load_thresholds

__all__ = [
    "OUTPUT_COLUMNS",
    "ROWS_PER_PART",
    "ScanResult",
    "by_parts",
    "day_features_query",
    "day_features_sql",
    "parts_for",
    "scan",
    "scan_duckdb",
    "write_scan_csv",
]

# The CSV's columns: number, flagged, score, reasons, then what the row's values come
# from (the worst day and how many days), then the features of that day.
OUTPUT_COLUMNS = ["number", "flagged", "score", "reasons", "day", "days_active", "days_flagged",
                  "operator", *FEATURES]
# Columns of `ScanResult.days`.
DAY_COLUMNS = ["number", "day", "score", "reasons", "operator", *FEATURES]


@dataclass
class ScanResult:
    """What a scan found. `numbers`: one row per caller or sender (OUTPUT_COLUMNS), sorted
    by number; `days`: the flagged number-days (DAY_COLUMNS), sorted by day and number."""

    numbers: pl.DataFrame
    days: pl.DataFrame
    engine: str
    rows: int
    first_day: object = None
    last_day: object = None
    seconds: float = 0.0
    thresholds: Thresholds | None = None
    notes: list[str] = field(default_factory=list)
    # Asked for with `recipients=N` (DuckDB engine): up to N numbers that each flagged
    # number called or texted on its flagged days, first contacted first: whom to survey.
    recipients: dict[str, list[str]] = field(default_factory=dict)

    @property
    def flagged(self) -> pl.DataFrame:
        return self.numbers.filter(pl.col("flagged"))

    def write_csv(self, path: str | Path) -> None:
        write_scan_csv(self.numbers, path)


def write_scan_csv(numbers: pl.DataFrame, path: str | Path) -> None:
    """The scan CSV: header ``number,flagged,score,reasons,...``; flagged is true/false;
    shares and ratios rounded to 4 decimals (in one place, so both engines write the same
    bytes for the same result)."""
    floats = [c for c, k in FEATURES.items() if k in ("share", "ratio")]
    out = numbers.select(OUTPUT_COLUMNS).with_columns(
        pl.when(pl.col("flagged")).then(pl.lit("true")).otherwise(pl.lit("false")).alias("flagged"),
        pl.col("score").round(4),
        *[pl.col(c).round(4) for c in floats],
    )
    out.write_csv(path)


# -- the SQL (DuckDB) --------------------------------------------------------------------------


def day_features_sql(th: Thresholds, first_day: int, src: rec.Source,
                     with_subscribers: bool, parts: int = 1) -> list[str]:
    """Statements that leave the table `day_scored` (per number id and day: features, the
    criteria met, score, flagged; the reasons are written only for the rows shown, by
    PER_NUMBER_SQL and FLAGGED_DAYS_SQL) from the tables of `out_in_sql` and `_recs` (and the
    view `subscribers`)."""
    judged_from = int(first_day) + th.history_days
    sim_age = ("o.d - s.activation_day" if with_subscribers else "CAST(NULL AS INTEGER)")
    sub_join = (f"LEFT JOIN (SELECT {rec.id_sql('number', src)} AS number, "
                "max(activation_day) AS activation_day, min(operator) AS operator "
                "FROM subscribers GROUP BY number) s ON s.number = o.number"
                if with_subscribers else "")
    sub_op = "s.operator" if with_subscribers else "CAST(NULL AS VARCHAR)"
    met = ", ".join(f"{sql} AS {name}" for name, sql in th.met_columns()) or "TRUE AS met_none"
    # With a one-sender threshold every template is shared, those sent once included.
    shared = "o.sms_hashed" if th.template_min_senders <= 1 else "coalesce(tm.shared, 0)"
    return [
        # Number-days where a share is judged; the costly features are computed for these
        # only, so the scan's cost follows the busy numbers, not the whole population.
        f"""CREATE OR REPLACE TEMP TABLE judged AS
            SELECT number, d,
                   calls_out >= {th.min_calls} AS j_calls,
                   recipients >= {th.min_recipients} AND d >= {judged_from} AS j_new,
                   sms_hashed >= {th.min_template_sms} AS j_tpl
            FROM out_day
            WHERE calls_out >= {th.min_calls}
               OR (recipients >= {th.min_recipients} AND d >= {judged_from})
               OR sms_hashed >= {th.min_template_sms}""",
        f"""CREATE OR REPLACE TEMP TABLE gaps AS
            SELECT number, d, count(*) FILTER (WHERE gap < {th.short_gap_s}) AS short_gaps
            FROM (SELECT r.a AS number, r.d,
                         r.t - lag(r.t + r.dur) OVER (PARTITION BY r.a, r.d ORDER BY r.t, r.dur, r.b) AS gap
                  FROM _recs r SEMI JOIN (SELECT number, d FROM judged WHERE j_calls) k
                       ON r.a = k.number AND r.d = k.d
                  WHERE NOT r.sms)
            GROUP BY number, d""",
        """CREATE OR REPLACE TEMP TABLE new_numbers AS
            SELECT DISTINCT number FROM judged WHERE j_new""",
        # For each pair (x, y) with x a judged number: y is a new recipient of x on day d
        # when the first contact between them, in either direction, was x's call or SMS
        # to y on day d (a shop calling back a customer who called first is not new).
        """CREATE OR REPLACE TEMP TABLE new_rec AS
            SELECT x AS number, first_d AS d, count(*) AS new_recipients
            FROM (SELECT x, y, min(t) AS first_t, min(t) FILTER (WHERE o) AS first_out_t,
                         min(d) AS first_d
                  FROM (SELECT a AS x, b AS y, t, d, TRUE AS o FROM _recs
                        WHERE a IN (SELECT number FROM new_numbers)
                        UNION ALL
                        SELECT b AS x, a AS y, t, d, FALSE AS o FROM _recs
                        WHERE b IN (SELECT number FROM new_numbers))
                  GROUP BY x, y)
            WHERE first_out_t = first_t
            GROUP BY x, first_d""",
        # Templates. A template sent once that day has one sender: only templates sent at
        # least twice are counted, found by grouping on the template and day (integers or
        # short keys) rather than on the sender.
        "CREATE OR REPLACE TEMP TABLE tpl_keys AS " + by_parts(
            "SELECT h, d FROM _recs WHERE sms AND h IS NOT NULL AND {part} "
            "GROUP BY h, d HAVING count(*) >= 2", "hash(h)", parts),
        """CREATE OR REPLACE TEMP TABLE sender_tpl AS
            SELECT r.a AS number, r.d, r.h, count(*) AS n
            FROM _recs r SEMI JOIN tpl_keys k ON r.h = k.h AND r.d = k.d
            WHERE r.sms
            GROUP BY r.a, r.d, r.h""",
        f"""CREATE OR REPLACE TEMP TABLE tmpl AS
            SELECT s.number, s.d, max(t.senders) AS template_senders,
                   sum(CASE WHEN t.senders >= {th.template_min_senders} THEN s.n ELSE 0 END) AS shared
            FROM sender_tpl s
            JOIN (SELECT h, d, count(*) AS senders FROM sender_tpl GROUP BY h, d) t ON s.h = t.h AND s.d = t.d
            GROUP BY s.number, s.d""",
        # A view: read once, by day_scored (the bench reads it again to compare).
        f"""CREATE OR REPLACE TEMP VIEW day_features AS
            SELECT o.number, o.d,
              o.calls_out + o.sms_out AS volume,
              o.calls_out, o.sms_out, o.recipients,
              CASE WHEN j.j_new THEN coalesce(n.new_recipients, 0) END AS new_recipients,
              CASE WHEN j.j_new THEN CAST(coalesce(n.new_recipients, 0) AS DOUBLE)
                                     / CAST(o.recipients AS DOUBLE) END AS new_recipient_share,
              coalesce(i.calls_in, 0) AS calls_in,
              coalesce(i.sms_in, 0) AS sms_in,
              CAST(o.calls_out + o.sms_out AS DOUBLE)
                / CAST(greatest(coalesce(i.calls_in, 0) + coalesce(i.sms_in, 0), 1) AS DOUBLE) AS out_in_ratio,
              CAST(o.sms_out AS DOUBLE) / CAST(o.calls_out + o.sms_out AS DOUBLE) AS sms_share,
              CASE WHEN j.j_calls THEN o.short_calls END AS short_calls,
              CASE WHEN j.j_calls THEN CAST(o.short_calls AS DOUBLE) / CAST(o.calls_out AS DOUBLE) END
                AS short_call_share,
              CASE WHEN j.j_calls THEN coalesce(g.short_gaps, 0) END AS short_gaps,
              CASE WHEN j.j_calls THEN CAST(coalesce(g.short_gaps, 0) AS DOUBLE)
                                       / CAST(o.calls_out - 1 AS DOUBLE) END AS short_gap_share,
              CASE WHEN j.j_tpl THEN coalesce(tm.template_senders, 1) END AS template_senders,
              CASE WHEN j.j_tpl THEN CAST({shared} AS DOUBLE) / CAST(o.sms_hashed AS DOUBLE) END
                AS template_share,
              {sim_age} AS sim_age_days,
              coalesce({sub_op}, {rec.operator_sql("o.op", src)}) AS operator
            FROM out_day o
            LEFT JOIN in_day i ON i.number = o.number AND i.d = o.d
            LEFT JOIN judged j ON j.number = o.number AND j.d = o.d
            LEFT JOIN gaps g ON g.number = o.number AND g.d = o.d
            LEFT JOIN new_rec n ON n.number = o.number AND n.d = o.d
            LEFT JOIN tmpl tm ON tm.number = o.number AND tm.d = o.d
            {sub_join}""",
        f"""CREATE OR REPLACE TEMP TABLE day_scored AS
            SELECT *, {th.flagged_sql("score")} AS flagged
            FROM (SELECT *, {th.score_sql()} AS score
                  FROM (SELECT *, {met} FROM day_features))""",
    ]


# Rows of records per part of a grouping with many groups (see `parts_for`).
ROWS_PER_PART = 4_000_000
MAX_PARTS = 8


def parts_for(rows: int) -> int:
    """In how many parts to split the groupings with many groups (a power of two).

    One grouping of 20 M records into 12 M (caller, callee, day) groups took half again as
    long as the same grouping done in four parts by the caller's id, one after the other (the
    parts' tables are smaller; each part reads the records again, which costs little): the
    groupings by number are split so that a part has about ROWS_PER_PART records, in at most
    MAX_PARTS parts (every part reads all the records again)."""
    parts = 1
    while parts * ROWS_PER_PART < rows and parts < MAX_PARTS:
        parts *= 2
    return parts


def by_parts(sql: str, key: str, parts: int) -> str:
    """`sql`, a grouping whose groups each have one value of the integer `key`, once per
    part of the key's values (`{part}` in `sql` is where that condition goes), as one
    UNION ALL: the same rows as the grouping done at once."""
    if parts <= 1:
        return sql.format(part="TRUE")
    return "\n UNION ALL ".join(f"({sql.format(part=f'({key} & {parts - 1}) = {k}')})"
                               for k in range(parts))


# The counts of a triple, packed into one HUGEINT so that one sum does the work of four
# counts: records (bits 0-31), SMS (32-63), short calls (64-95), hashed SMS (96-127). A field
# holds any count below 2**31, so files of fewer rows than that (`PACKED_ROWS`) use it; larger
# ones count each on its own.
PACKED_ROWS = 2**31 - 1
_FIELD = 2**32


def _packed(th: Thresholds) -> str:
    one, sms, short, hashed = (f"CAST('{v}' AS HUGEINT)" for v in
                               (1, 1 + _FIELD, 1 + _FIELD**2, 1 + _FIELD + _FIELD**3))
    return (f"CASE WHEN sms THEN (CASE WHEN h IS NULL THEN {sms} ELSE {hashed} END) "
            f"WHEN dur < {th.short_call_s} THEN {short} ELSE {one} END")


def _field(p: str, k: int) -> str:
    """The k-th count (0: records, 1: SMS, 2: short calls, 3: hashed SMS) of packed `p`."""
    shifted = f"({p} >> {32 * k})" if k else p
    return f"CAST({shifted} & {_FIELD - 1} AS BIGINT)" if k < 3 else f"CAST({shifted} AS BIGINT)"


def out_in_sql(th: Thresholds, parts: int = 1, rows: int = 0) -> list[str]:
    """The passes over every record that group by many keys: (caller, callee, day) triples
    (for the distinct recipients and the counts received; a triple table is smaller than
    the records: people call the same people), carrying the counts
    that the caller's day needs, which are then summed from the triples rather than
    grouped again from the records; each in `parts` parts by number (`parts_for`). The
    counts travel packed in one column (`_packed`) when `rows` allows."""
    if rows > PACKED_ROWS:
        counts = (f"count(*) AS n, count(*) FILTER (WHERE sms) AS sms, "
                  f"count(*) FILTER (WHERE NOT sms AND dur < {th.short_call_s}) AS short, "
                  f"count(h) FILTER (WHERE sms) AS hashed")
        n, sms, short, hashed = "n", "sms", "short", "hashed"
        out_sum = in_sum = None
    else:
        counts = f"sum({_packed(th)}) AS p"
        n, sms, short, hashed = (_field("p", k) for k in range(4))
        out_sum = in_sum = "sum(p) AS p"
    tri = by_parts(f"""SELECT a, b, d, {counts}, min(op) AS op
                  FROM _recs WHERE {{part}} GROUP BY a, b, d""", "a", parts)
    if out_sum is None:
        out = by_parts(f"""SELECT a AS number, d,
                             CAST(sum(n - sms) AS BIGINT) AS calls_out,
                             CAST(sum(sms) AS BIGINT) AS sms_out,
                             CAST(sum(short) AS BIGINT) AS short_calls,
                             CAST(sum(hashed) AS BIGINT) AS sms_hashed,
                             min(op) AS op,
                             count(*) AS recipients
                      FROM tri WHERE {{part}} GROUP BY a, d""", "a", parts)
        received = by_parts("SELECT b AS number, d, sum(n - sms) AS calls_in, sum(sms) AS sms_in "
                            "FROM tri WHERE {part} GROUP BY b, d", "b", parts)
    else:
        out = (f"SELECT number, d, {n} - {sms} AS calls_out, {sms} AS sms_out, "
               f"{short} AS short_calls, {hashed} AS sms_hashed, op, recipients FROM ("
               + by_parts(f"SELECT a AS number, d, {out_sum}, min(op) AS op, count(*) AS recipients "
                          "FROM tri WHERE {part} GROUP BY a, d", "a", parts) + ")")
        received = (f"SELECT number, d, {n} - {sms} AS calls_in, {sms} AS sms_in FROM ("
                    + by_parts(f"SELECT b AS number, d, {in_sum} FROM tri WHERE {{part}} GROUP BY b, d",
                               "b", parts) + ")")
    return [
        f"CREATE OR REPLACE TEMP TABLE tri AS {tri}",
        f"CREATE OR REPLACE TEMP TABLE out_day AS {out}",
        f"CREATE OR REPLACE TEMP TABLE in_day AS {received}",
        "DROP TABLE tri",
    ]


PER_NUMBER_SQL = """
    WITH best AS (
        SELECT number, count(*) AS days_active,
               sum(CASE WHEN flagged THEN 1 ELSE 0 END) AS days_flagged,
               -- the worst day: flagged first, then the highest score, then the earliest
               max({{'f': flagged, 's': score, 'd': -d}}) AS k
        FROM day_scored GROUP BY number)
    SELECT {number} AS number, s.flagged, s.score, {reasons} AS reasons,
           make_date(1970, 1, 1) + s.d AS day, b.days_active, b.days_flagged, s.operator, {features}
    FROM day_scored s JOIN best b ON b.number = s.number AND s.d = -b.k.d
    ORDER BY 1"""

# Whom each flagged number called or texted on its flagged days, first contacted first.
RECIPIENTS_SQL = """
    SELECT {number} AS number, list_slice(list(b ORDER BY first_t, b), 1, {limit}) AS recipients
    FROM (SELECT r.a, {b} AS b, min(r.t) AS first_t
          FROM _recs r SEMI JOIN (SELECT number, d FROM day_scored WHERE flagged) f
               ON r.a = f.number AND r.d = f.d
          GROUP BY r.a, r.b)
    GROUP BY a"""

FLAGGED_DAYS_SQL = """
    SELECT {number} AS number, make_date(1970, 1, 1) + d AS day, score, {reasons} AS reasons,
           operator, {features}
    FROM day_scored WHERE flagged ORDER BY d, 1"""


def scan_duckdb(records: str | Path, subscribers: str | Path | None = None,
                thresholds: Thresholds | None = None, *,
                con: duckdb.DuckDBPyConnection | None = None, memory_limit: str | None = None,
                threads: int | None = None, temp_directory: str | None = None,
                recipients: int = 0) -> ScanResult:
    """Scan with DuckDB. Raises records.InputError for a bad file. With `recipients`, the
    result also keeps up to that many recipients of each flagged number (for the survey)."""
    th = thresholds or load_thresholds()
    started = time.perf_counter()
    own = con is None
    con = con or rec.connect(memory_limit, threads, temp_directory)
    try:
        src = rec.load_records(con, records)
        notes = []
        if subscribers is not None:
            rec.open_subscribers(con, subscribers)
        if src.rows == 0:
            return _empty(th, "duckdb", started)
        parts = parts_for(src.rows)
        for stmt in out_in_sql(th, parts, src.rows):
            con.execute(stmt)
        # Numbers are taken as written until they are seen not to be in national form:
        # for an operator's feed (already national) that costs nothing; otherwise the
        # spellings are mapped and the first tables computed again.
        if src.unmapped or src.odd:
            n_odd = rec.id_numbers(con, src)
            if n_odd:
                notes.append(f"{n_odd} number spellings were put in national form")
            for stmt in out_in_sql(th, parts, src.rows):
                con.execute(stmt)
        for stmt in day_features_sql(th, src.first_day, src, subscribers is not None, parts):
            con.execute(stmt)
        feats = ", ".join(FEATURES)
        fmt = {"features": feats, "reasons": th.reasons_sql()}
        numbers = pl.from_arrow(con.sql(PER_NUMBER_SQL.format(
            number=rec.number_sql("s.number", src), **fmt)).to_arrow_table())
        days = pl.from_arrow(con.sql(FLAGGED_DAYS_SQL.format(
            number=rec.number_sql("number", src), **fmt)).to_arrow_table())
        sample = {}
        if recipients > 0:
            sample = dict(con.sql(RECIPIENTS_SQL.format(
                limit=int(recipients), number=rec.number_sql("a", src),
                b=rec.number_sql("r.b", src))).fetchall())
        return ScanResult(_typed(numbers), _typed(days), "duckdb", src.rows,
                          rec.day_to_date(src.first_day), rec.day_to_date(src.last_day),
                          time.perf_counter() - started, th, notes, sample)
    finally:
        if own:
            con.close()


def day_features_query(con: duckdb.DuckDBPyConnection, columns: list[str]) -> str:
    """SELECT of `columns` of the table `day_features` left by a scan on `con`, the number
    as text (for comparisons: the scan itself keeps number ids)."""
    names = con.execute("SELECT count(*) FROM duckdb_tables() "
                        "WHERE table_name = '_number_names'").fetchall()
    src = rec.Source("", "", "", named=bool(names[0][0]))
    number = rec.number_sql("number", src)
    cols = ", ".join(f"{number} AS number" if c == "number" else c for c in columns)
    return f"SELECT {cols} FROM day_features"


# One schema for both engines, so that results compare and write alike.
SCHEMA: dict[str, pl.DataType] = {
    "number": pl.String, "flagged": pl.Boolean, "score": pl.Float64, "reasons": pl.String,
    "day": pl.Date, "days_active": pl.Int64, "days_flagged": pl.Int64, "operator": pl.String,
    **{f: (pl.Float64 if k in ("share", "ratio") else pl.Int64) for f, k in FEATURES.items()},
}


def _typed(df: pl.DataFrame) -> pl.DataFrame:
    return df.select([pl.col(c).cast(SCHEMA[c]) for c in df.columns if c in SCHEMA])


def _empty(th: Thresholds, engine: str, started: float) -> ScanResult:
    numbers = pl.DataFrame(schema={c: SCHEMA[c] for c in OUTPUT_COLUMNS})
    days = pl.DataFrame(schema={c: SCHEMA[c] for c in DAY_COLUMNS})
    return ScanResult(numbers, days, engine, 0, seconds=time.perf_counter() - started, thresholds=th)


def scan(records: str | Path, subscribers: str | Path | None = None, *, engine: str = "duckdb",
         thresholds: Thresholds | None = None, config: str | Path | None = None,
         **engine_options) -> ScanResult:
    """Scan a records file (CSV or Parquet) with the chosen engine ("duckdb" or "spark").

    `thresholds` (a loaded Thresholds) or `config` (a YAML file laid over the bundled
    thresholds). Raises records.InputError for a bad input file and rules.ConfigError for a
    bad thresholds file. `engine_options` go to the engine (DuckDB: memory_limit, threads,
    temp_directory; Spark: spark=an existing SparkSession).
    """
    th = thresholds or load_thresholds(config)
    if engine == "duckdb":
        return scan_duckdb(records, subscribers, th, **engine_options)
    if engine == "spark":
        from ictgov.antispam.spark import scan_spark

        return scan_spark(records, subscribers, th, **engine_options)
    raise ValueError(f"engine must be duckdb or spark, not {engine!r}")
