"""Decree 91/2020/NĐ-CP compliance audit of an advertiser's send log.

    result = audit_send_log("sends.csv", dnc={"0912345678", ...})
    result.violations     # one row per send and rule broken (Polars)
    result.write_csv("violations.csv")

The log (CSV or Parquet) has ``brandname, recipient, time, kind, content``: ``kind`` is
``sms``, ``call`` or ``email``; ``time`` ISO 8601 (Vietnam time when it has no offset) or
epoch seconds; the recipient a phone number (any spelling `normalize_phone` reads) for
SMS and calls, an e-mail address for e-mails. An optional ``agreed`` column (true/false)
marks sends covered by "a different agreement with the user", the decree's exception to
the frequency and hours rules. Every row of the log is an advertisement.

How the rules are read (thresholds under ``advertisers:`` in thresholds.yaml):

- **24 hours is a rolling window**, not a calendar day: a send breaks the frequency rule
  when it is the 4th SMS (4th e-mail, 2nd call) or later from the same brandname to the
  same recipient within the 24 hours ending at it, i.e. among the sends of that kind
  with times in (t - 86,400 s, t], counted in order of time (then of the log's order for
  sends in the same second). A send exactly 24 hours after an earlier one does not
  count with it. Only the excess sends are listed, each once.
- Hours are Vietnam time; an SMS is allowed from 07:00:00 up to, not including, 22:00:00,
  a call from 08:00:00 up to 17:00:00.
- An SMS must begin with ``[QC]`` or ``[AD]`` (upper case, after any leading spaces).
- A recipient on the do-not-call list may receive no ad SMS and no ad call.
- The sender must be a brandname: an empty one, or one that is a phone number, is listed.

Brandnames are compared without case and surrounding spaces.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from ictgov.antispam import records as rec
from ictgov.antispam.rules import Thresholds, load_thresholds
from ictgov.text import normalize_phone

__all__ = ["RULES", "VIOLATION_COLUMNS", "AdAuditResult", "audit_send_log", "read_dnc_file"]

_ART13 = "Decree 91/2020/NĐ-CP, Art. 13"
_D91 = "Decree 91/2020/NĐ-CP"
# rule id -> (citation, what it says). The reference gives the article for the frequency
# limits only (Art. 13); the other rules are cited to the decree as a whole.
RULES: dict[str, tuple[str, str]] = {
    "D91-SMS-24H": (_ART13, "more than {max_sms_24h} ad SMS to one phone number in 24 hours"),
    "D91-EMAIL-24H": (_ART13, "more than {max_email_24h} ad e-mails to one address in 24 hours"),
    "D91-CALL-24H": (_ART13, "more than {max_calls_24h} ad call to one phone number in 24 hours"),
    "D91-SMS-HOURS": (_D91, "ad SMS outside {sms_from}-{sms_to}"),
    "D91-CALL-HOURS": (_D91, "ad call outside {call_from}-{call_to}"),
    "D91-SMS-PREFIX": (_D91, "ad SMS not beginning with {prefixes}"),
    "D91-DNC": (_D91, "ad SMS or call to a number on the do-not-call list"),
    "D91-BRANDNAME": (_D91, "sent without a registered brandname (empty or an ordinary phone number)"),
}
VIOLATION_COLUMNS = ["line", "brandname", "recipient", "time", "kind", "rule", "citation", "detail"]
LOG_COLUMNS = ("brandname", "recipient", "time", "kind", "content")
_DEFAULTS = {"max_sms_24h": 3, "max_email_24h": 3, "max_calls_24h": 1, "sms_hours": (7 * 3600, 22 * 3600),
             "call_hours": (8 * 3600, 17 * 3600), "sms_prefixes": ["[QC]", "[AD]"]}


@dataclass
class AdAuditResult:
    """`violations`: VIOLATION_COLUMNS sorted by line then rule; `sends`: rows audited."""

    violations: pl.DataFrame
    sends: int

    @property
    def counts(self) -> dict[str, int]:
        got = dict(self.violations.group_by("rule").len().iter_rows())
        return {r: int(got.get(r, 0)) for r in RULES}

    def by_brandname(self) -> pl.DataFrame:
        return (self.violations.group_by("brandname", "rule").len().rename({"len": "violations"})
                .sort(["brandname", "rule"]))

    def write_csv(self, path: str | Path) -> None:
        self.violations.select(VIOLATION_COLUMNS).write_csv(path)


def read_dnc_file(path: str | Path) -> set[str]:
    """Numbers of a do-not-call file: one a line, or a CSV whose first column (or column
    ``number``) holds them; a header line and blank lines are skipped. Numbers are
    normalised; a line that is not a phone number raises InputError naming it."""
    import csv

    out: set[str] = set()
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    col = 0
    if rows and "number" in [c.strip().lower() for c in rows[0]]:
        col = [c.strip().lower() for c in rows[0]].index("number")
    for k, row in enumerate(rows, start=1):
        if not row or not row[col].strip():
            continue
        n = normalize_phone(row[col])
        if n is None:
            if k == 1:
                continue  # a header
            raise rec.InputError(str(path), f"not a phone number: {row[col]!r}", line=k)
        out.add(n)
    return out


def _hhmm(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


def _check_log(con, src: rec.Source) -> None:
    t = rec._time_expr(src, "time")
    kind = f"lower(trim(CAST({src.col('kind')} AS VARCHAR)))"
    r = f"trim(CAST({src.col('recipient')} AS VARCHAR))"
    problems = [
        ("recipient", f"{r} IS NULL OR {r} = ''", "empty recipient"),
        ("time", f"{t} IS NULL", "not an ISO 8601 time or epoch seconds"),
        ("kind", f"{kind} IS NULL OR {kind} NOT IN ('sms', 'call', 'email')", "must be sms, call or email"),
        ("recipient", f"{kind} = 'email' AND NOT regexp_full_match({r}, '[^@\\s]+@[^@\\s]+\\.[^@\\s]+')",
         "not an e-mail address"),
    ]

    def first_bad(source):
        for fname, line, row in rec._csv_rows(source):
            rcp = (row.get("recipient") or "").strip()
            if not rcp:
                return fname, line, "recipient", "empty recipient", row.get("recipient")
            if rec._py_time(row.get("time")) is None:
                return fname, line, "time", "not an ISO 8601 time or epoch seconds", row.get("time")
            k = (row.get("kind") or "").strip().lower()
            if k not in ("sms", "call", "email"):
                return fname, line, "kind", "must be sms, call or email", row.get("kind")
            if k == "email" and ("@" not in rcp or " " in rcp):
                return fname, line, "recipient", "not an e-mail address", rcp
        return None

    rec._check(con, src, problems, first_bad)


def audit_send_log(log: str | Path, dnc: Iterable[str] | None = None, *,
                   thresholds: Thresholds | None = None, config: str | Path | None = None,
                   con: duckdb.DuckDBPyConnection | None = None) -> AdAuditResult:
    """Audit a send log against Decree 91 (see the module docstring). `dnc`: the numbers
    on the do-not-call list, in any spelling. Raises records.InputError for a bad file."""
    th = thresholds or load_thresholds(config)
    cfg = {**_DEFAULTS, **th.advertisers}
    own = con is None
    con = con or rec.connect()
    try:
        src = rec.inspect(con, log, LOG_COLUMNS, ("agreed",))
        # The log's order breaks ties between sends in the same second and gives the line
        # of each violation, so it is read in order.
        con.execute("SET preserve_insertion_order = true")
        if src.fmt == "csv":
            src.relation = src.relation[:-1] + ", parallel = false)"
        _check_log(con, src)
        kind = f"lower(trim(CAST({src.col('kind')} AS VARCHAR)))"
        raw_r = f"trim(CAST({src.col('recipient')} AS VARCHAR))"
        # Phone recipients in national form: the usual spellings through the map.
        odd = rec.noncanonical_numbers(con, f"SELECT {raw_r} FROM {src.relation} WHERE {kind} <> 'email'")
        if odd:
            bad = [v for v in odd if normalize_phone(v) is None]
            if bad:
                where = rec._locate(con, src, f"{raw_r} = {rec._quote(bad[0])}", bad[0], "recipient")
                raise rec.InputError(where[0], f"not a phone number: {bad[0]!r}", line=where[1],
                                     column="recipient", unit=where[2])
            rec.map_numbers(con, odd)
            phone = rec.mapped_sql(raw_r)
        else:
            phone = raw_r
        recipient = f"CASE WHEN {kind} = 'email' THEN lower({raw_r}) ELSE {phone} END"
        agreed = (f"coalesce(TRY_CAST({src.col('agreed')} AS BOOLEAN), FALSE)" if src.has("agreed")
                  else "FALSE")
        content = f"CAST({src.col('content')} AS VARCHAR)"
        brand = f"CAST({src.col('brandname')} AS VARCHAR)"
        dnc_set = sorted({n for n in (normalize_phone(x) or x.strip() for x in (dnc or [])) if n})
        con.execute("CREATE OR REPLACE TEMP TABLE _dnc (number VARCHAR)")
        if dnc_set:
            con.executemany("INSERT INTO _dnc VALUES (?)", [(n,) for n in dnc_set])
        line_expr = ("file_row_number + 1" if src.fmt == "parquet" else "row_number() OVER ()")
        if src.fmt == "parquet":
            src.relation = src.relation[:-1] + ", file_row_number = true)"
        con.execute(f"""CREATE OR REPLACE TEMP TABLE sends AS
            SELECT {line_expr} AS seq, upper(trim(coalesce({brand}, ''))) AS brand, {brand} AS brandname,
                   {recipient} AS recipient, {rec._time_expr(src, 'time')} AS t, {kind} AS kind,
                   coalesce({content}, '') AS content, {agreed} AS agreed
            FROM {src.relation}""")
        limits = {"sms": cfg["max_sms_24h"], "email": cfg["max_email_24h"], "call": cfg["max_calls_24h"]}
        sms_from, sms_to = cfg["sms_hours"]
        call_from, call_to = cfg["call_hours"]
        prefixes = list(cfg["sms_prefixes"])
        text = {
            "max_sms_24h": cfg["max_sms_24h"], "max_email_24h": cfg["max_email_24h"],
            "max_calls_24h": cfg["max_calls_24h"], "sms_from": _hhmm(sms_from), "sms_to": _hhmm(sms_to),
            "call_from": _hhmm(call_from), "call_to": _hhmm(call_to), "prefixes": " or ".join(prefixes),
        }
        tod = f"((t + {rec.TZ_OFFSET_S}) % 86400)"
        prefix_ok = " OR ".join(f"starts_with(ltrim(content), {rec._quote(p)})" for p in prefixes) or "TRUE"
        freq = "\n UNION ALL ".join(
            f"""SELECT seq, '{rule}' AS rule,
                       'send no. ' || CAST(n AS VARCHAR) || ' to this recipient within 24 hours' AS detail
                FROM (SELECT seq, agreed,
                             row_number() OVER w - count(*) OVER (PARTITION BY brand, recipient
                                 ORDER BY t RANGE BETWEEN UNBOUNDED PRECEDING AND 86400 PRECEDING) AS n
                      FROM sends WHERE kind = '{k}'
                      WINDOW w AS (PARTITION BY brand, recipient ORDER BY t, seq))
                WHERE n > {limits[k]} AND NOT agreed"""
            for k, rule in (("sms", "D91-SMS-24H"), ("email", "D91-EMAIL-24H"), ("call", "D91-CALL-24H")))
        sql = f"""
            WITH v AS (
                {freq}
                UNION ALL
                SELECT seq, 'D91-SMS-HOURS', 'sent at ' || strftime(make_timestamp((t + {rec.TZ_OFFSET_S}) * 1000000), '%H:%M:%S')
                FROM sends WHERE kind = 'sms' AND NOT agreed AND ({tod} < {sms_from} OR {tod} >= {sms_to})
                UNION ALL
                SELECT seq, 'D91-CALL-HOURS', 'called at ' || strftime(make_timestamp((t + {rec.TZ_OFFSET_S}) * 1000000), '%H:%M:%S')
                FROM sends WHERE kind = 'call' AND NOT agreed AND ({tod} < {call_from} OR {tod} >= {call_to})
                UNION ALL
                SELECT seq, 'D91-SMS-PREFIX', 'begins ' || CAST(to_json(left(ltrim(content), 12)) AS VARCHAR)
                FROM sends WHERE kind = 'sms' AND NOT ({prefix_ok})
                UNION ALL
                SELECT seq, 'D91-DNC', 'recipient is on the do-not-call list'
                FROM sends WHERE kind IN ('sms', 'call') AND recipient IN (SELECT number FROM _dnc)
                UNION ALL
                SELECT seq, 'D91-BRANDNAME', CASE WHEN brand = '' THEN 'no brandname'
                                                  ELSE 'sender is a phone number' END
                FROM sends WHERE brand = '' OR regexp_full_match(regexp_replace(brand, '[\\s.()+\\-]', '', 'g'), '[0-9]{{8,13}}'))
            SELECT s.seq, s.brandname, s.recipient,
                   strftime(make_timestamp((s.t + {rec.TZ_OFFSET_S}) * 1000000), '%Y-%m-%dT%H:%M:%S') || '+07:00' AS time,
                   s.kind, v.rule, v.detail
            FROM v JOIN sends s USING (seq)
            ORDER BY s.seq, v.rule"""
        found = pl.from_arrow(con.sql(sql).to_arrow_table())
        sends = con.execute("SELECT count(*) FROM sends").fetchall()[0][0]
        lines = _line_numbers(src, found["seq"].to_list()) if found.height else []
        citation = {r: c for r, (c, _) in RULES.items()}
        found = found.with_columns(
            pl.Series("line", lines, dtype=pl.Int64),
            pl.col("rule").replace_strict(citation, return_dtype=pl.String).alias("citation"),
            (pl.col("rule").replace_strict({r: t.format(**text) for r, (_, t) in RULES.items()},
                                           return_dtype=pl.String) + ": " + pl.col("detail")).alias("detail"),
        ) if found.height else pl.DataFrame(schema={c: (pl.Int64 if c == "line" else pl.String)
                                                      for c in VIOLATION_COLUMNS})
        return AdAuditResult(found.select(VIOLATION_COLUMNS), sends)
    finally:
        if own:
            con.close()


def _line_numbers(src: rec.Source, seqs: list[int]) -> list[int]:
    """Line (CSV, counting the header as line 1) or row (Parquet) of each send.

    `seq` is the position of the send in DuckDB's reading of the file, which keeps the
    file's order for a single-threaded scan; for CSV the physical line is looked up so
    that quoted fields spanning lines do not shift it."""
    if src.fmt == "parquet":
        return seqs
    lines = {}
    wanted = set(seqs)
    for k, (_, line, _) in enumerate(rec._csv_rows(src), start=1):
        if k in wanted:
            lines[k] = line
    return [lines.get(s, s + 1) for s in seqs]
