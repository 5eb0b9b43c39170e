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

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
# The scan hands its rows to Polars through Arrow: imported with the module rather than
# by DuckDB's first `to_arrow_table()` inside a scan (0.15 s, one thread, in every
# process's first scan).
import pyarrow  # noqa: F401

from ictgov.antispam import records as rec
from ictgov.antispam.rules import FEATURES, Thresholds, load_thresholds

__all__ = [
    "OUTPUT_COLUMNS",
    "ROWS_PER_PART",
    "ScanResult",
    "by_parts",
    "day_features_query",
    "day_features_sql",
    "day_parts",
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


def _judged_sql(th: Thresholds, first_day: int, o: str = "") -> dict[str, str]:
    """Where each share is judged, from a row of `out_day` (`o` its alias and a dot)."""
    return {"j_calls": f"{o}calls_out >= {th.min_calls}",
            "j_new": f"({o}recipients >= {th.min_recipients} AND {o}d >= {int(first_day) + th.history_days})",
            "j_tpl": f"{o}sms_hashed >= {th.min_template_sms}"}


def features_sql(th: Thresholds, first_day: int, src: rec.Source, with_subscribers: bool,
                 parts: Parts = None, keys: str | None = None) -> str:
    """SELECT of the features of every number-day (table `out_day` and the tables made by
    `day_features_sql`), done in the `parts` of `day_parts`; or, with `keys` (a table of
    number, d), of those number-days only (the rows shown)."""
    j = _judged_sql(th, first_day, "o.")
    sim_age = ("o.d - s.activation_day" if with_subscribers else "CAST(NULL AS INTEGER)")
    sub_join = "LEFT JOIN subs s ON s.number = o.number" if with_subscribers else ""
    sub_op = "s.operator" if with_subscribers else "CAST(NULL AS VARCHAR)"
    # With a one-sender threshold every template is shared, those sent once included.
    shared = "o.sms_hashed" if th.template_min_senders <= 1 else "coalesce(tm.shared, 0)"

    def day_of(table: str) -> str:
        # A table's rows of the part's days: each day's join then meets only that day's rows.
        return table if keys else f"(SELECT * FROM {table} WHERE {{part:d}})"

    out_day = (f"(SELECT x.* FROM out_day x SEMI JOIN {keys} k ON k.number = x.number AND k.d = x.d)"
               if keys else day_of("out_day"))
    # The rows shown have every recipient counted (`SHOWN_RECIPIENTS_SQL`); elsewhere they
    # are counted where they are judged (`recipients_cut`).
    recipients = "coalesce(o.recipients, sr.recipients)" if keys else "o.recipients"
    rcp_join = ("\n            LEFT JOIN _shown_rcp sr ON sr.number = o.number AND sr.d = o.d"
                if keys else "")
    features = f"""SELECT o.number, o.d,
              o.calls_out + o.sms_out AS volume,
              o.calls_out, o.sms_out, {recipients} AS recipients,
              CASE WHEN {j["j_new"]} THEN coalesce(n.new_recipients, 0) END AS new_recipients,
              CASE WHEN {j["j_new"]} THEN CAST(coalesce(n.new_recipients, 0) AS DOUBLE)
                                     / CAST(o.recipients AS DOUBLE) END AS new_recipient_share,
              o.calls_in, o.sms_in,
              CAST(o.calls_out + o.sms_out AS DOUBLE)
                / CAST(greatest(o.calls_in + o.sms_in, 1) AS DOUBLE) AS out_in_ratio,
              CAST(o.sms_out AS DOUBLE) / CAST(o.calls_out + o.sms_out AS DOUBLE) AS sms_share,
              CASE WHEN {j["j_calls"]} THEN o.short_calls END AS short_calls,
              CASE WHEN {j["j_calls"]} THEN CAST(o.short_calls AS DOUBLE) / CAST(o.calls_out AS DOUBLE) END
                AS short_call_share,
              CASE WHEN {j["j_calls"]} THEN coalesce(g.short_gaps, 0) END AS short_gaps,
              CASE WHEN {j["j_calls"]} THEN CAST(coalesce(g.short_gaps, 0) AS DOUBLE)
                                       / CAST(o.calls_out - 1 AS DOUBLE) END AS short_gap_share,
              CASE WHEN {j["j_tpl"]} THEN coalesce(tm.template_senders, 1) END AS template_senders,
              CASE WHEN {j["j_tpl"]} THEN CAST({shared} AS DOUBLE) / CAST(o.sms_hashed AS DOUBLE) END
                AS template_share,
              {sim_age} AS sim_age_days,
              coalesce({sub_op}, {rec.operator_sql("o.op", src)}) AS operator
            FROM {out_day} o
            LEFT JOIN {day_of("gaps")} g ON g.number = o.number AND g.d = o.d
            LEFT JOIN {day_of("new_rec")} n ON n.number = o.number AND n.d = o.d
            LEFT JOIN {day_of("tmpl")} tm ON tm.number = o.number AND tm.d = o.d
            {sub_join}{rcp_join}"""
    return features if keys else by_parts(features, parts)


def day_features_sql(th: Thresholds, first_day: int, src: rec.Source,
                     with_subscribers: bool, parts: Parts = None,
                     join_parts: Parts = None) -> list[str]:
    """Statements that leave the table `day_scored` (per number id and day: score and
    flagged; the features, the criteria met and the reasons are computed again for the
    rows shown only, by `features_sql` with keys, in SHOWN_ROWS_SQL)
    from the tables of `out_in_sql` and `_recs` (and the view `subscribers`), and the view
    `day_features` (every number-day's features). The work of each day is done in the
    `parts` of `day_parts` (the gaps' windows too: in a part of one day, partitioned by
    number alone), the joins of the day features in the coarser `join_parts` (see
    JOIN_PART_FACTOR). The records (`_recs`) are kept for SHOWN_RECIPIENTS_SQL and
    RECIPIENTS_SQL, then dropped by the scan."""
    j = _judged_sql(th, first_day)
    met = ", ".join(f"{sql} AS {name}" for name, sql in th.met_columns()) or "TRUE AS met_none"
    subs = ([f"""CREATE OR REPLACE TEMP TABLE subs AS
                SELECT {rec.id_sql('number', src)} AS number, max(activation_day) AS activation_day,
                       min(operator) AS operator
                FROM subscribers GROUP BY number"""] if with_subscribers else [])
    return subs + [
        # Number-days where a share is judged; the costly features are computed for these
        # only, so the scan's cost follows the busy numbers, not the whole population.
        f"""CREATE OR REPLACE TEMP TABLE judged AS
            SELECT number, d, {j["j_calls"]} AS j_calls, {j["j_new"]} AS j_new, {j["j_tpl"]} AS j_tpl
            FROM out_day
            WHERE {j["j_calls"]} OR {j["j_new"]} OR {j["j_tpl"]}""",
        "CREATE OR REPLACE TEMP TABLE gaps AS " + by_parts(
            f"""SELECT number, {{day:d}} AS d,
                   count(*) FILTER (WHERE gap < {th.short_gap_s}) AS short_gaps
            FROM (SELECT r.a AS number{{multi:, r.d}},
                         r.t - lag(r.t + r.dur) OVER (PARTITION BY r.a{{multi:, r.d}}
                                                      ORDER BY r.t, r.dur, r.b) AS gap
                  FROM _recs r
                  SEMI JOIN (SELECT number{{multi:, d}} FROM judged WHERE j_calls AND {{part:d}}) k
                       ON r.a = k.number{{multi: AND r.d = k.d}}
                  WHERE NOT r.sms AND {{part:r.d}})
            GROUP BY number{{multi:, d}}""", parts),
        """CREATE OR REPLACE TEMP TABLE new_numbers AS
            SELECT DISTINCT number FROM judged WHERE j_new""",
        # For each pair (x, y) with x a judged number: y is a new recipient of x on day d
        # when the first contact between them, in either direction, was x's call or SMS
        # to y on day d (a shop calling back a customer who called first is not new). Over
        # all days: the records of the few numbers judged so.
        # The first contact of a pair is found by one min() of 2 t + (0 if x called or
        # texted, 1 if y did): even when x made a contact at the earliest time; its day is
        # the day of that time.
        f"""CREATE OR REPLACE TEMP TABLE new_rec AS
            SELECT x AS number,
                   CAST((first_k // 2 + {int(src.t_base) + rec.TZ_OFFSET_S}) // 86400 AS INTEGER) AS d,
                   count(*) AS new_recipients
            FROM (SELECT x, y, min(k) AS first_k
                  FROM (SELECT a AS x, b AS y, 2 * CAST(t AS BIGINT) AS k FROM _recs
                        WHERE a IN (SELECT number FROM new_numbers)
                        UNION ALL
                        SELECT b AS x, a AS y, 2 * CAST(t AS BIGINT) + 1 AS k FROM _recs
                        WHERE b IN (SELECT number FROM new_numbers))
                  GROUP BY x, y)
            WHERE first_k % 2 = 0
            GROUP BY ALL""",
        # Templates. A template sent once that day has one sender: only templates sent at
        # least twice are counted, found by grouping on the template and day (integers or
        # short keys) rather than on the sender.
        "CREATE OR REPLACE TEMP TABLE tpl_keys AS " + by_parts(
            "SELECT h, {day:d} AS d FROM _recs WHERE sms AND h IS NOT NULL AND {part:d} "
            "GROUP BY h{multi:, d} HAVING count(*) >= 2", parts),
        "CREATE OR REPLACE TEMP TABLE sender_tpl AS " + by_parts(
            """SELECT r.a AS number, {day:r.d} AS d, r.h, count(*) AS n
            FROM _recs r SEMI JOIN (SELECT h{multi:, d} FROM tpl_keys WHERE {part:d}) k
                 ON r.h = k.h{multi: AND r.d = k.d}
            WHERE r.sms AND {part:r.d}
            GROUP BY r.a, r.h{multi:, r.d}""", parts),
        f"""CREATE OR REPLACE TEMP TABLE tmpl AS
            SELECT s.number, s.d, max(t.senders) AS template_senders,
                   sum(CASE WHEN t.senders >= {th.template_min_senders} THEN s.n ELSE 0 END) AS shared
            FROM sender_tpl s
            JOIN (SELECT h, d, count(*) AS senders FROM sender_tpl GROUP BY h, d) t ON s.h = t.h AND s.d = t.d
            GROUP BY s.number, s.d""",
        # A view: read once, by day_scored (the bench reads it again to compare).
        "CREATE OR REPLACE TEMP VIEW day_features AS "
        + features_sql(th, first_day, src, with_subscribers, join_parts),
        # Only the scores are kept: the features, the criteria met and the reasons are
        # computed again for the rows shown (`SHOWN_ROWS_SQL`).
        f"""CREATE OR REPLACE TEMP TABLE day_scored AS
            SELECT number, d, score, {th.flagged_sql("score")} AS flagged,
                   recipients IS NOT NULL AS counted
            FROM (SELECT *, {th.score_sql()} AS score
                  FROM (SELECT *, {met} FROM day_features))""",
    ]


# Records per part of the work done day by day (see `day_parts`). At 1 M, days of a 10 M
# sample over 10 days are each a part of their own, whose groupings leave the day out
# (`render_part`): 5 % less time than parts of 2 M (two days each, some of them).
ROWS_PER_PART = 1_000_000
# The joins of the day features are done in parts of this many times ROWS_PER_PART
# records: their tables are a few per number and day, not per record, and a part more is
# five joins more to plan and run (at 10 M records, 3 parts instead of 10).
JOIN_PART_FACTOR = 4

# Parts of the records: (first day, last day) of each, or None for all records at once.
Parts = list[tuple[int, int]] | None


def day_parts(day_counts: list[tuple[int, int]], rows: int, factor: int = 1) -> Parts:
    """The records' days (`day_counts`: (day, records) in order of day) in parts of whole
    days, consecutive, of at most `factor` times ROWS_PER_PART records each where days allow
    (a day of more records is a part of its own); None when all the records fit in one part.

    Every feature but the new recipients is a number's on one day, so the groupings with
    many groups (the triples, the counts per number and day, the templates), and in coarser
    parts (`factor`) the joins of the day features, are done part by part: the tables of one
    part are smaller (their hash tables fit the processor's caches better; the triples of one
    part are dropped before the next part's are made, so that they never all take memory at
    once), and a part reads only its days' records when the file is in time order, as
    operators' records are (DuckDB skips the row groups of other days)."""
    limit = ROWS_PER_PART * factor
    if rows <= limit:
        return None
    parts: list[tuple[int, int]] = []
    lo = hi = None
    n = 0
    for d, c in day_counts:
        if lo is not None and n + c > limit:
            parts.append((lo, hi))
            lo, n = None, 0
        if lo is None:
            lo = d
        hi, n = d, n + c
    if lo is not None:
        parts.append((lo, hi))
    return parts if len(parts) > 1 else None


def render_part(sql: str, part: tuple[int, int] | None) -> str:
    """`sql` for one part (None: every day at once): `{part:COL}` becomes the condition that
    the day column COL is in the part's days; in a part of one day, whose day is then a
    constant, `{day:COL}` becomes that day and `{multi:TEXT}` nothing (TEXT otherwise, and
    COL): a grouping or join by the day is left out there, a key less to hash and compare
    (a fifth to a quarter of those groupings' time)."""
    one_day = part is not None and part[0] == part[1]

    def cond(m):
        if part is None:
            return "TRUE"
        col = m.group(1)
        return f"{col} = {part[0]}" if one_day else f"{col} BETWEEN {part[0]} AND {part[1]}"

    sql = re.sub(r"\{part:([^}]+)\}", cond, sql)
    day = f"CAST({part[0]} AS INTEGER)" if one_day else None
    sql = re.sub(r"\{day:([^}]+)\}", lambda m: day or m.group(1), sql)
    return re.sub(r"\{multi:([^}]*)\}", lambda m: "" if one_day else m.group(1), sql)


def by_parts(sql: str, parts: Parts) -> str:
    """`sql` once per part (`render_part`), as one UNION ALL. `sql` must give each day's rows
    from that day's records alone, so that the union equals `sql` done on all the days."""
    if not parts:
        return render_part(sql, None)
    return "\n UNION ALL ".join(f"({render_part(sql, p)})" for p in parts)


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


# With at most this many records on any one day, a triple's counts (each at most the
# records of its day) fit 21 bits: records (bits 0-20), SMS (21-41) and short calls (42-62)
# in one BIGINT, whose sum costs less than a HUGEINT's (about a tenth of the triples'
# grouping). The hashed SMS then need no field of their own when the file's SMS all carry
# a template key or none does (`records.Source.hashed_sms`): they are the SMS, or none.
PACKED64_DAY_ROWS = 2**21 - 1
_FIELD64 = 2**21


def _packed64(th: Thresholds) -> str:
    return (f"CASE WHEN sms THEN {1 + _FIELD64} "
            f"WHEN dur < {th.short_call_s} THEN {1 + _FIELD64**2} ELSE 1 END")


def _field64(p: str, k: int) -> str:
    """The k-th count (0: records, 1: SMS, 2: short calls) of `_packed64` sums `p`."""
    shifted = f"({p} >> {21 * k})" if k else p
    return f"CAST({shifted} & {_FIELD64 - 1} AS INTEGER)"


def counts64(src: rec.Source) -> str | None:
    """Whether the triples' counts fit `_packed64` for this file: the hashed SMS' count then
    ("sms" or "zero"), else None."""
    busiest = max((c for _, c in src.day_counts), default=0)
    if busiest > PACKED64_DAY_ROWS:
        return None
    return {"all": "sms", "none": "zero"}.get(src.hashed_sms)


def _field(p: str, k: int) -> str:
    """The k-th count (0: records, 1: SMS, 2: short calls, 3: hashed SMS) of packed `p`, as a
    4-byte integer (each is below 2**31): the tables of counts per number and day take
    less memory, which at 100 M records is what keeps the scan from spilling."""
    shifted = f"({p} >> {32 * k})" if k else p
    return f"CAST({shifted} & {_FIELD - 1} AS INTEGER)" if k < 3 else f"CAST({shifted} AS INTEGER)"


def recipients_cut(th: Thresholds) -> int:
    """The least volume of a number-day whose distinct recipients `out_in_sql` counts: the
    new-recipient share is judged only from `min_recipients` recipients (so from that
    volume), and the rows shown get theirs counted apart (`SHOWN_RECIPIENTS_SQL`); every
    number-day when a criterion reads `recipients` itself."""
    reads = any(c.feature == "recipients" for crit in th.criteria for c in (crit.main, *crit.also))
    return 1 if reads else th.min_recipients


def _grouped(parts: Parts, join_parts: Parts) -> list[list[tuple[int, int] | None]]:
    """The day parts in groups, one per join part (a day part goes with the join part of
    its first day); one group of them all without join parts."""
    if not parts or not join_parts:
        return [parts or [None]]
    groups = [[p for p in parts if lo <= p[0] <= hi] for lo, hi in join_parts]
    return [g for g in groups if g]


def out_in_sql(th: Thresholds, parts: Parts = None, rows: int = 0,
               hashed64: str | None = None, join_parts: Parts = None) -> list[str]:
    """The passes over every record, part by part (`day_parts`), that make `out_day`: per
    number and day, the counts made (grouped by caller), received (grouped by callee) and
    the distinct recipients. Those are counted only on the number-days of `recipients_cut`
    calls and SMS or more (a third of the number-days and two fifths of the records of
    ordinary traffic, where the triples (caller, callee, day) of every record cost as much
    as both other groupings together); elsewhere `recipients` is NULL.

    The counts travel packed in one column (`_packed`) when `rows` allows, in a BIGINT
    (`_packed64`) when `hashed64` says what the hashed SMS are (`counts64`). The operator
    of a number-day is the least `op` of its records (`records.NO_OPERATOR`, past the
    list's end, where none is named)."""
    if rows > PACKED_ROWS:
        made = (f"count(*) AS n, count(*) FILTER (WHERE sms) AS sms, "
                f"count(*) FILTER (WHERE NOT sms AND dur < {th.short_call_s}) AS short, "
                f"count(h) FILTER (WHERE sms) AS hashed")
        n, sms, short, hashed = "n", "sms", "short", "hashed"
        got = "count(*) AS n, count(*) FILTER (WHERE sms) AS sms"
        n_in, sms_in = "i.n", "i.sms"
    elif hashed64:
        made = f"CAST(sum({_packed64(th)}) AS BIGINT) AS p"
        n, sms, short = (_field64("p", k) for k in range(3))
        hashed = sms if hashed64 == "sms" else "0"
        got = f"CAST(sum(CASE WHEN sms THEN {1 + _FIELD64} ELSE 1 END) AS BIGINT) AS p"
        n_in, sms_in = _field64("i.p", 0), _field64("i.p", 1)
    else:
        made = f"sum({_packed(th)}) AS p"
        n, sms, short, hashed = (_field("p", k) for k in range(4))
        # Two 32-bit fields: counts below 2**31 (PACKED_ROWS) keep the BIGINT positive.
        got = f"CAST(sum(CASE WHEN sms THEN {1 + _FIELD} ELSE 1 END) AS BIGINT) AS p"
        n_in, sms_in = f"CAST(i.p & {_FIELD - 1} AS INTEGER)", "CAST(i.p >> 32 AS INTEGER)"
    cut = recipients_cut(th)
    join = f"""SELECT o.*, r.recipients, coalesce({n_in} - {sms_in}, 0) AS calls_in,
                      coalesce({sms_in}, 0) AS sms_in
               FROM _out o LEFT JOIN _in i ON i.number = o.number AND i.d = o.d
               LEFT JOIN _rcp r ON r.number = o.number AND r.d = o.d"""
    stmts = []
    # The three tables of the day parts are joined once per join part: a join per part of
    # 1 M records ran on one thread for the most part, one join of every part would hold
    # all three tables at once (half a gigabyte more at 100 M records).
    for g, group in enumerate(_grouped(parts, join_parts)):
        for k, part in enumerate(group):
            into = ("CREATE OR REPLACE TEMP TABLE {} AS" if k == 0 else "INSERT INTO {}").format
            stmts += [render_part(stmt, part) for stmt in (
                f"""{into('_out')}
                    SELECT number, d, {n} - {sms} AS calls_out, {sms} AS sms_out,
                           {short} AS short_calls, {hashed} AS sms_hashed, op
                    FROM (SELECT a AS number, {{day:d}} AS d, {made}, min(op) AS op FROM _recs
                          WHERE {{part:d}} GROUP BY a{{multi:, d}})""",
                f"{into('_in')} SELECT b AS number, {{day:d}} AS d, {got} FROM _recs "
                f"WHERE {{part:d}} GROUP BY b{{multi:, d}}",
                f"""{into('_rcp')}
                    SELECT a AS number, {{day:d}} AS d, CAST(count(*) AS INTEGER) AS recipients
                    FROM (SELECT DISTINCT r.a, r.b{{multi:, r.d}} FROM _recs r
                          SEMI JOIN (SELECT number{{multi:, d}} FROM _out
                                     WHERE calls_out + sms_out >= {cut} AND {{part:d}}) k
                               ON r.a = k.number{{multi: AND r.d = k.d}}
                          WHERE {{part:r.d}})
                    GROUP BY a{{multi:, d}}""")]
        target = "CREATE OR REPLACE TEMP TABLE out_day AS" if g == 0 else "INSERT INTO out_day"
        stmts.append(f"{target} {join}")
    return stmts + ["DROP TABLE _out", "DROP TABLE _in", "DROP TABLE _rcp"]


def out_in(con: duckdb.DuckDBPyConnection, th: Thresholds, parts: Parts, join_parts: Parts,
           src: rec.Source) -> None:
    """Make `out_day` from the table of `load_records` (`out_in_sql`)."""
    for stmt in out_in_sql(th, parts, src.rows, counts64(src), join_parts):
        con.execute(stmt)


# Each number's worst day: flagged first, then the highest score, then the earliest. The
# order is packed in one BIGINT, so that one max() finds the day (a max() of a STRUCT
# costs more): flagged in bit 62, the rank of the score among the scan's distinct scores
# (a few: sums of the criteria's weights) in bits 31-61, the day counted back in 1-30, and
# in bit 0 whether its recipients were counted (`recipients_cut`; it orders nothing: one
# day per number has a given day bit).
SHOWN_SQL = """
    CREATE OR REPLACE TEMP TABLE _shown AS
    WITH ranks AS (SELECT score, row_number() OVER (ORDER BY score) AS r
                   FROM (SELECT DISTINCT score FROM day_scored))
    SELECT number, {last} - CAST((k >> 1) & 1073741823 AS INTEGER) AS d, days_active, days_flagged,
           k & 1 = 1 AS counted
    FROM (SELECT s.number, count(*) AS days_active,
                 sum(CASE WHEN s.flagged THEN 1 ELSE 0 END) AS days_flagged,
                 max((CASE WHEN s.flagged THEN 4611686018427387904 ELSE 0 END)
                     + (r.r << 31) + (({last} - s.d) << 1)
                     + (CASE WHEN s.counted THEN 1 ELSE 0 END)) AS k
          FROM day_scored s JOIN ranks r ON r.score = s.score
          GROUP BY s.number)"""

# The distinct recipients of the rows shown that `out_in_sql` left uncounted
# (`recipients_cut`; the rows of SHOWN_KEYS not `counted`, SHOWN_TODO_SQL): counted from the
# records before they are dropped, part by part (`by_parts`: in a part of one day, by
# number alone).
SHOWN_RECIPIENTS_SQL = """
    SELECT a AS number, {day:d} AS d, CAST(count(*) AS INTEGER) AS recipients
    FROM (SELECT DISTINCT r.a, r.b{multi:, r.d}
          FROM _recs r SEMI JOIN (SELECT number{multi:, d} FROM _shown_todo WHERE {part:d}) k
               ON r.a = k.number{multi: AND r.d = k.d}
          WHERE {part:r.d})
    GROUP BY a{multi:, d}"""

# The rows shown: each number's worst day (`_shown`) and every flagged number-day, their
# features computed again (`features_sql` with SHOWN_KEYS) in one query, which the scan
# parts in Polars (`worst`: the number's row of the CSV; `flagged`: a row of the days).
SHOWN_KEYS = ("(SELECT number, d, counted FROM _shown "
              "UNION SELECT number, d, counted FROM day_scored WHERE flagged)")
SHOWN_TODO_SQL = f"""
    CREATE OR REPLACE TEMP TABLE _shown_todo AS
    SELECT number, d FROM {SHOWN_KEYS} WHERE NOT counted"""
SHOWN_ROWS_SQL = """
    SELECT {number} AS number, {flagged} AS flagged, score, {reasons} AS reasons,
           make_date(1970, 1, 1) + d AS day, days_active, days_flagged, operator, {features},
           days_active IS NOT NULL AS worst
    FROM (SELECT *, {score} AS score
          FROM (SELECT f.*, s.days_active, s.days_flagged, {met}
                FROM ({shown}) f LEFT JOIN _shown s ON s.number = f.number AND s.d = f.d))"""

# Whom each flagged number called or texted on its flagged days, first contacted first.
RECIPIENTS_SQL = """
    SELECT {number} AS number, list_slice(list(b ORDER BY first_t, b), 1, {limit}) AS recipients
    FROM (SELECT r.a, {b} AS b, min(r.t) AS first_t
          FROM _recs r SEMI JOIN (SELECT number, d FROM day_scored WHERE flagged) f
               ON r.a = f.number AND r.d = f.d
          GROUP BY r.a, r.b)
    GROUP BY a"""

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
        parts = day_parts(src.day_counts, src.rows)
        join_parts = day_parts(src.day_counts, src.rows, JOIN_PART_FACTOR)
        out_in(con, th, parts, join_parts, src)
        # Numbers are taken as written until they are seen not to be in national form:
        # for an operator's feed (already national) that costs nothing; otherwise the
        # spellings are mapped and the first tables computed again.
        if src.unmapped or src.odd:
            n_odd = rec.id_numbers(con, src)
            if n_odd:
                notes.append(f"{n_odd} number spellings were put in national form")
            out_in(con, th, parts, join_parts, src)
        for stmt in day_features_sql(th, src.first_day, src, subscribers is not None, parts,
                                     join_parts):
            con.execute(stmt)
        feats = ", ".join(FEATURES)
        fmt = {"features": feats, "reasons": th.reasons_sql(), "score": th.score_sql(),
               "met": ", ".join(f"{sql} AS {name}" for name, sql in th.met_columns()) or "TRUE AS met_none"}
        with_subs = subscribers is not None
        con.execute(SHOWN_SQL.format(last=int(src.last_day)))
        con.execute(SHOWN_TODO_SQL)
        con.execute("CREATE OR REPLACE TEMP TABLE _shown_rcp AS "
                    + by_parts(SHOWN_RECIPIENTS_SQL, parts))
        sample = {}
        if recipients > 0:
            sample = dict(con.sql(RECIPIENTS_SQL.format(
                limit=int(recipients), number=rec.number_sql("a", src),
                b=rec.number_sql("r.b", src))).fetchall())
        con.execute("DROP TABLE _recs")
        rows = pl.from_arrow(con.sql(SHOWN_ROWS_SQL.format(
            number=rec.number_sql("number", src), flagged=th.flagged_sql("score"),
            shown=features_sql(th, src.first_day, src, with_subs, keys=SHOWN_KEYS),
            **fmt)).to_arrow_table())
        # Sorted in Polars, in byte order as DuckDB's ORDER BY (whose sort of a query's
        # result runs on one thread): the numbers by number, the days by day and number.
        numbers = rows.filter(pl.col("worst")).select(OUTPUT_COLUMNS).sort("number")
        days = rows.filter(pl.col("flagged")).select(DAY_COLUMNS).sort(["day", "number"])
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
