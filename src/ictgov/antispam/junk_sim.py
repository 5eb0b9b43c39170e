"""Junk-SIM audit of an operator's subscriber file (and its records, for the last rule).

    result = audit_subscribers("subscribers.csv", records="records.parquet")
    result.findings       # one row per number and rule broken (Polars)
    result.write_csv("junk.csv")

Rules (thresholds under ``junk_sim:`` in thresholds.yaml):

- ``JS-ID-LIMIT``: more than ``max_numbers_per_id`` (3) numbers on one identity document
  at one operator: every number on that document is listed;
- ``JS-ID-MALFORMED``: an identity number that is not one. After removing spaces, dots
  and dashes, a well-formed one is 9 digits (the old CMND) or 12 digits (the CCCD) whose
  first three digits, the code of the province of birth registration, lie in 001-096 —
  a range check, not the list of codes in use; and, with ``accept_passports``, a passport
  number of one or two letters and 6 to 8 digits. A number made of one repeated digit
  ("000000000") is a placeholder, not a document; an empty one is missing;
- ``JS-POS-BURST``: a SIM activated on a day when its point of sale activated at least
  ``burst_min`` SIMs and at least ``burst_factor`` times its usual day (the median of its
  days with any activation; taken as 1 for a point of sale with fewer than 3 such days);
- ``JS-SILENT-SPAM``: a SIM with no call or SMS, made or received, for at least
  ``silent_days`` after its activation (counted over the days the records cover), whose
  traffic, once it starts, is flagged by the spam-number scan within
  ``spam_within_days`` days. Needs the records.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from ictgov.antispam import records as rec
from ictgov.antispam.cdr import ScanResult, scan_duckdb
from ictgov.antispam.rules import Thresholds, load_thresholds

__all__ = ["FINDING_COLUMNS", "RULES", "JunkSimResult", "audit_subscribers", "id_document_problem"]

RULES = {
    "JS-ID-LIMIT": "more numbers on one identity document at one operator than the limit",
    "JS-ID-MALFORMED": "identity number missing or not a CMND, CCCD or passport number",
    "JS-POS-BURST": "activated in a burst of activations at one point of sale",
    "JS-SILENT-SPAM": "silent after activation, then flagged for spam as soon as it was used",
}
FINDING_COLUMNS = ["number", "rule", "detail", "operator", "id_document", "point_of_sale",
                   "activation_date"]
_DEFAULTS = {"max_numbers_per_id": 3, "accept_passports": True, "burst_min": 10, "burst_factor": 5,
             "silent_days": 5, "spam_within_days": 2}


@dataclass
class JunkSimResult:
    """`findings`: FINDING_COLUMNS, sorted by rule then number; `counts`: rule -> numbers."""

    findings: pl.DataFrame
    subscribers: int
    scan: ScanResult | None = None

    @property
    def counts(self) -> dict[str, int]:
        got = dict(self.findings.group_by("rule").agg(pl.col("number").n_unique()).iter_rows())
        return {r: int(got.get(r, 0)) for r in RULES}

    def write_csv(self, path: str | Path) -> None:
        self.findings.select(FINDING_COLUMNS).write_csv(path)


def id_document_problem(raw: str | None, accept_passports: bool = True) -> str | None:
    """Why an identity number is not well formed (see the module docstring), or None."""
    import re

    if raw is None or not raw.strip():
        return "missing"
    s = re.sub(r"[\s.\-]", "", raw).upper()
    if s.isdigit():
        if len(set(s)) == 1:
            return "placeholder (one repeated digit)"
        if len(s) == 9:
            return None
        if len(s) == 12:
            return None if 1 <= int(s[:3]) <= 96 else f"province code {s[:3]} outside 001-096"
        return f"{len(s)} digits (a CMND has 9, a CCCD 12)"
    if accept_passports and re.fullmatch(r"[A-Z]{1,2}[0-9]{6,8}", s):
        return None
    return "not a CMND, CCCD" + (" or passport" if accept_passports else "") + " number"


# The same checks in SQL, over the whole file at once.
def _id_problem_sql(col: str, accept_passports: bool) -> str:
    s = f"upper(regexp_replace({col}, '[\\s.\\-]', '', 'g'))"
    passport = (f"WHEN regexp_full_match({s}, '[A-Z]{{1,2}}[0-9]{{6,8}}') THEN NULL "
                if accept_passports else "")
    tail = " or passport" if accept_passports else ""
    return f"""CASE
        WHEN {col} IS NULL OR trim({col}) = '' THEN 'missing'
        WHEN regexp_full_match({s}, '[0-9]+') THEN CASE
            WHEN regexp_full_match({s}, '(0+|1+|2+|3+|4+|5+|6+|7+|8+|9+)') THEN 'placeholder (one repeated digit)'
            WHEN length({s}) = 9 THEN NULL
            WHEN length({s}) = 12 THEN CASE WHEN CAST(substr({s}, 1, 3) AS INTEGER) BETWEEN 1 AND 96 THEN NULL
                 ELSE 'province code ' || substr({s}, 1, 3) || ' outside 001-096' END
            ELSE CAST(length({s}) AS VARCHAR) || ' digits (a CMND has 9, a CCCD 12)' END
        {passport}ELSE 'not a CMND, CCCD{tail} number' END"""


def audit_subscribers(subscribers: str | Path, records: str | Path | None = None, *,
                      scan_result: ScanResult | None = None, thresholds: Thresholds | None = None,
                      config: str | Path | None = None,
                      con: duckdb.DuckDBPyConnection | None = None) -> JunkSimResult:
    """Audit a subscriber file (CSV or Parquet: number, activation_date, operator,
    id_document, point_of_sale). With `records`, the silent-then-spamming rule runs too,
    on `scan_result` if given (a scan of the same records with the same subscriber file),
    else on a DuckDB scan made here. Raises records.InputError for a bad file."""
    th = thresholds or load_thresholds(config)
    cfg = {**_DEFAULTS, **th.junk_sim}
    own = con is None
    con = con or rec.connect()
    try:
        rec.open_subscribers(con, subscribers, "subs", require=("operator", "id_document", "point_of_sale"))
        total = con.execute("SELECT count(*) FROM subs").fetchall()[0][0]
        key = "upper(regexp_replace(id_document, '[\\s.\\-]', '', 'g'))"
        day = "make_date(1970, 1, 1) + activation_day"
        base = f"number, operator, id_document, point_of_sale, {day} AS activation_date"
        parts = [
            f"""SELECT {base}, 'JS-ID-LIMIT' AS rule,
                   'identity document holds ' || CAST(n AS VARCHAR) || ' numbers at ' || coalesce(operator, '?')
                   || ' (limit {cfg['max_numbers_per_id']})' AS detail
                FROM (SELECT *, count(DISTINCT number) OVER (PARTITION BY {key}, operator) AS n
                      FROM subs WHERE id_document IS NOT NULL AND trim(id_document) <> '')
                WHERE n > {cfg['max_numbers_per_id']}""",
            f"""SELECT {base}, 'JS-ID-MALFORMED' AS rule, 'identity number ' || problem AS detail
                FROM (SELECT *, {_id_problem_sql('id_document', bool(cfg['accept_passports']))} AS problem
                      FROM subs)
                WHERE problem IS NOT NULL""",
            f"""SELECT {base}, 'JS-POS-BURST' AS rule,
                   point_of_sale || ' activated ' || CAST(n AS VARCHAR) || ' SIMs on ' || CAST({day} AS VARCHAR)
                   || ' (usual ' || printf('%g', usual) || ' a day)' AS detail
                FROM (SELECT s.*, c.n, c.usual FROM subs s JOIN (
                        SELECT point_of_sale, activation_day, n,
                               CASE WHEN count(*) OVER (PARTITION BY point_of_sale) >= 3
                                    THEN median(n) OVER (PARTITION BY point_of_sale) ELSE 1 END AS usual
                        FROM (SELECT point_of_sale, activation_day, count(*) AS n FROM subs
                              WHERE point_of_sale IS NOT NULL GROUP BY ALL)) c
                      USING (point_of_sale, activation_day))
                WHERE n >= {cfg['burst_min']} AND n >= {float(cfg['burst_factor'])} * usual""",
        ]
        found = pl.from_arrow(con.sql(" UNION ALL ".join(parts)).to_arrow_table())
        scan = scan_result
        if records is not None:
            silent, scan = _silent_then_spam(con, records, subscribers, scan, th, cfg)
            found = pl.concat([found, silent], how="diagonal_relaxed")
        if found.height == 0:
            found = pl.DataFrame(schema={c: pl.String for c in FINDING_COLUMNS})
        found = (found.select([pl.col(c).cast(pl.String) for c in FINDING_COLUMNS])
                 .unique(["number", "rule"], keep="first").sort(["rule", "number"]))
        return JunkSimResult(found, total, scan)
    finally:
        if own:
            con.close()


def _silent_then_spam(con, records, subscribers, scan: ScanResult | None, th: Thresholds,
                      cfg: dict) -> tuple[pl.DataFrame, ScanResult]:
    src = rec.open_records(con, records, "recs")
    rec.remap_records(con, src, "recs")
    if scan is None:
        scan = scan_duckdb(records, subscribers, th)
    flagged = scan.days.select("number", pl.col("day").alias("flag_day"))
    con.register("_flagged_days", flagged.to_arrow())
    first = src.first_day if src.first_day is not None else 0
    out = con.sql(f"""
        WITH active AS (
            SELECT number, min(d) AS first_d FROM (SELECT a AS number, d FROM recs
                                                   UNION ALL SELECT b AS number, d FROM recs)
            GROUP BY number),
        s AS (SELECT sb.*, a.first_d, a.first_d - greatest(sb.activation_day, {first}) AS silent
              FROM subs sb JOIN active a USING (number)
              WHERE a.first_d - greatest(sb.activation_day, {first}) >= {cfg['silent_days']})
        SELECT s.number, s.operator, s.id_document, s.point_of_sale,
               make_date(1970, 1, 1) + s.activation_day AS activation_date, 'JS-SILENT-SPAM' AS rule,
               'silent ' || CAST(s.silent AS VARCHAR) || ' days after activation, flagged on '
               || CAST(f.flag_day AS VARCHAR) AS detail
        FROM s JOIN (SELECT number, min(flag_day) AS flag_day FROM _flagged_days f
                     JOIN s USING (number)
                     WHERE f.flag_day BETWEEN make_date(1970, 1, 1) + s.first_d
                                          AND make_date(1970, 1, 1) + s.first_d + {cfg['spam_within_days']}
                     GROUP BY number) f USING (number)""")
    result = pl.from_arrow(out.to_arrow_table())
    con.unregister("_flagged_days")
    return result, scan
