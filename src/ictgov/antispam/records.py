"""Operators' call and SMS records and subscriber files: read, checked, normalised.

A records file is CSV (with a header) or Parquet (one file, a directory of files or a
glob) with the columns

    a_number, b_number, start_time, kind, duration_s [, operator] [, content | content_hash]

- numbers in any spelling that `ictgov.text.normalize_phone` reads ("+84 91 234 5678" ->
  "0912345678"); a value it does not read (a foreign number, an alphanumeric sender) is
  kept as written, without surrounding spaces; an empty number is an error;
- ``start_time``: ISO 8601 ("2026-01-05T08:30:00", "2026-01-05 08:30:00+07:00", a date
  alone is its midnight), epoch seconds (a number), or a Parquet timestamp. Times without
  an offset are Vietnam time (UTC+7); days and hours are always counted in Vietnam time;
- ``kind``: ``voice`` or ``sms`` (case and surrounding spaces do not matter);
- ``duration_s``: whole seconds, 0 for an SMS and for an unanswered call;
- ``content_hash`` (any type: text or integer) groups messages of one template; without
  it, ``content`` is hashed after folding case and accents and replacing runs of digits,
  so "Vay 5tr" and "VAY 10TR" are one template.

A subscriber file has ``number, activation_date`` and, for the junk-SIM audit,
``operator, id_document, point_of_sale``.

Everything is read through DuckDB without loading the file into memory. Checks come
first, in one pass: a file with a bad row is refused whole, with an `InputError` naming
the file, the line (CSV) or row (Parquet), and the column.

The canonical relation that the scan engines read has the columns

    a VARCHAR, b VARCHAR, t BIGINT (epoch seconds), d INTEGER (Vietnam-time day number,
    days since 1970-01-01), sms BOOLEAN, dur INTEGER, h (template key or NULL), op VARCHAR
"""

from __future__ import annotations

import csv
import glob
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb

from ictgov.text import normalize_phone, phone_kind

__all__ = [
    "RECORD_COLUMNS",
    "SUBSCRIBER_COLUMNS",
    "TZ_OFFSET_S",
    "InputError",
    "Source",
    "connect",
    "day_to_date",
    "id_numbers",
    "id_sql",
    "load_records",
    "number_sql",
    "operator_sql",
    "inspect",
    "map_numbers",
    "mapped_sql",
    "noncanonical_numbers",
    "open_records",
    "open_subscribers",
    "records_view_sql",
    "write_canonical",
]

TZ_OFFSET_S = 7 * 3600  # Vietnam has kept UTC+7 without summer time since 1975
RECORD_COLUMNS = ("a_number", "b_number", "start_time", "kind", "duration_s")
RECORD_OPTIONAL = ("operator", "content", "content_hash")
SUBSCRIBER_COLUMNS = ("number", "activation_date")
SUBSCRIBER_OPTIONAL = ("operator", "id_document", "point_of_sale")
# Epoch seconds outside this range are refused: a value in milliseconds would otherwise
# land in the year 50,000 and silently make every call its own day.
_MIN_T = 946684800    # 2000-01-01
_MAX_T = 4102444800   # 2100-01-01
# Already in national form: the common case, kept without calling normalize_phone.
CANONICAL_RE = "0(?:[35789][0-9]{8}|2[0-9]{8,9})"
_CANONICAL = re.compile(CANONICAL_RE)


class InputError(ValueError):
    """A file that cannot be used, with where the problem is."""

    def __init__(self, path: str, message: str, *, line: int | None = None,
                 column: str | None = None, unit: str = "line"):
        self.path, self.line, self.column, self.message = str(path), line, column, message
        where = [self.path]
        if line is not None:
            where.append(f"{unit} {line}")
        if column is not None:
            where.append(f"column {column}")
        super().__init__(", ".join(where) + ": " + message)


@dataclass
class Source:
    """A records or subscriber file as found: its format and the columns it has."""

    path: str
    fmt: str                       # "csv" or "parquet"
    relation: str                  # SQL that reads it
    columns: dict[str, tuple[str, str]] = field(default_factory=dict)  # wanted -> (actual, type)
    rows: int = 0
    first_day: int | None = None
    last_day: int | None = None
    kind_exact: bool = True        # kind is exactly 'voice'/'sms' (no lower/trim needed)
    mapped: bool = False           # a number table maps spellings to national form
    unmapped: bool = False         # (load_records) some number is not written 0 + digits
    odd: bool = False              # (load_records) some id's "0" + digits is not in national form
    day_counts: list[tuple[int, int]] = field(default_factory=list)  # (load_records) (day, records)
    named: bool = False            # (id_numbers) some number has no national form: negative ids
    operators: list[str] | None = None  # (load_records) op is a position in this sorted list
    t_base: int = 0                # (load_records) the table's t is epoch seconds minus this
    hashed_sms: str = "some"       # (load_records) "all" SMS carry a template key, "none", "some"

    def col(self, name: str) -> str:
        return _ident(self.columns[name][0])

    def type(self, name: str) -> str:
        return self.columns[name][1].upper()

    def has(self, name: str) -> bool:
        return name in self.columns


def connect(memory_limit: str | None = None, threads: int | None = None,
            temp_directory: str | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with Vietnam time for text times and bounded memory if asked."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Ho_Chi_Minh'")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if temp_directory:
        con.execute(f"SET temp_directory = {_quote(str(temp_directory))}")
    # Order of rows within the engines' results is set by ORDER BY where it matters.
    con.execute("SET preserve_insertion_order = false")
    return con


def day_to_date(d: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(d))


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


# -- finding the file and its columns --------------------------------------------------------


def _files(path: str | Path) -> tuple[str, str]:
    """The format and a DuckDB path expression (a glob for a directory)."""
    p = Path(path)
    text = str(path)
    if p.is_dir():
        parquet = sorted(p.glob("*.parquet"))
        csvs = sorted(p.glob("*.csv"))
        if parquet:
            return "parquet", str(p / "*.parquet")
        if csvs:
            return "csv", str(p / "*.csv")
        raise InputError(text, "the directory holds no .parquet or .csv file")
    if any(c in text for c in "*?["):
        if not glob.glob(text):
            raise InputError(text, "no file matches")
    elif not p.exists():
        raise InputError(text, "no such file")
    suffix = text.lower()
    if suffix.endswith((".parquet", ".pq", "*.parquet")):
        return "parquet", text
    if suffix.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
        return "csv", text
    # Unknown extension: Parquet files start with the magic bytes PAR1.
    try:
        with open(text, "rb") as fh:
            return ("parquet" if fh.read(4) == b"PAR1" else "csv"), text
    except OSError as exc:
        raise InputError(text, f"cannot read ({exc.strerror})") from None


def inspect(con: duckdb.DuckDBPyConnection, path: str | Path, required: tuple[str, ...],
            optional: tuple[str, ...]) -> Source:
    """The file's format and columns; an InputError naming any required column missing."""
    fmt, expr = _files(path)
    if fmt == "parquet":
        relation = f"read_parquet({_quote(expr)})"
    else:
        relation = f"read_csv({_quote(expr)}, header = true, all_varchar = true)"
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    except duckdb.Error as exc:
        raise InputError(str(path), f"cannot read as {fmt.upper()}: {_first_line(exc)}") from None
    found = {}
    for name, typ, *_ in described:
        key = name.strip().lower()
        if key not in found:
            found[key] = (name, typ)
    missing = [c for c in required if c not in found]
    if missing:
        cols = ", ".join(n for n, *_ in described) or "none"
        raise InputError(str(path), f"missing column{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)} (columns found: {cols})")
    columns = {c: found[c] for c in (*required, *optional) if c in found}
    return Source(str(path), fmt, relation, columns)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


# -- expressions over the raw columns ----------------------------------------------------------


_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                  "UINTEGER", "UBIGINT")
# An integer in this range stands for "0" + its digits (see `_number_expr`).
_LOST_ZERO = "BETWEEN 100000000 AND 9999999999"


def _number_expr(src: Source, col: str) -> str:
    c, typ = src.col(col), src.type(col)
    if typ in ("VARCHAR", "STRING", "TEXT"):
        return c
    if typ in _INTEGER_TYPES:
        # A number stored as an integer lost its leading 0.
        return (f"CASE WHEN {c} {_LOST_ZERO} THEN '0' || CAST({c} AS VARCHAR) "
                f"ELSE CAST({c} AS VARCHAR) END")
    return f"CAST({c} AS VARCHAR)"


def _time_expr(src: Source, col: str, *, date_only: bool = False) -> str:
    """Epoch seconds (BIGINT) of a time column, NULL when unreadable."""
    c, typ = src.col(col), src.type(col)
    if typ in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UINTEGER", "UBIGINT", "HUGEINT"):
        return f"CAST({c} AS BIGINT)"
    if typ in ("DOUBLE", "FLOAT", "REAL") or typ.startswith("DECIMAL"):
        return f"CAST(floor({c}) AS BIGINT)"
    if typ == "DATE":
        return f"CAST(epoch(CAST({c} AS TIMESTAMP)) AS BIGINT) - {TZ_OFFSET_S}"
    if typ.startswith("TIMESTAMP WITH TIME ZONE") or typ == "TIMESTAMPTZ":
        return f"CAST(floor(epoch({c})) AS BIGINT)"
    if typ.startswith("TIMESTAMP"):
        # A timestamp without a zone is Vietnam wall-clock time, like ISO text without one.
        return f"CAST(floor(epoch(CAST({c} AS TIMESTAMP))) AS BIGINT) - {TZ_OFFSET_S}"
    # Text: epoch seconds, or ISO 8601 read in the connection's zone (Vietnam) when it
    # carries no offset.
    return (f"CASE WHEN regexp_full_match(trim({c}), '[0-9]{{1,15}}(\\.[0-9]*)?') "
            f"THEN CAST(floor(CAST(trim({c}) AS DOUBLE)) AS BIGINT) "
            f"ELSE CAST(floor(epoch(TRY_CAST(trim({c}) AS TIMESTAMPTZ))) AS BIGINT) END")


def _kind_expr(src: Source) -> str:
    c = src.col("kind")
    return c if src.kind_exact else f"lower(trim({c}))"


def _duration_expr(src: Source) -> str:
    c, typ = src.col("duration_s"), src.type("duration_s")
    if typ in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER",
               "UBIGINT"):
        return f"CAST({c} AS INTEGER)"
    if typ in ("DOUBLE", "FLOAT", "REAL") or typ.startswith("DECIMAL"):
        return f"CASE WHEN {c} = floor({c}) THEN CAST({c} AS INTEGER) END"
    # DuckDB would round "3.5" to 4: only digits are seconds.
    return f"CASE WHEN regexp_full_match(trim({c}), '[0-9]{{1,9}}') THEN CAST(trim({c}) AS INTEGER) END"


def _hash_expr(src: Source) -> str:
    if src.has("content_hash"):
        c = src.col("content_hash")
        if src.type("content_hash") in ("VARCHAR",):
            return f"NULLIF(trim({c}), '')"
        return c
    if src.has("content"):
        c = src.col("content")
        # The template key: case and accents folded, digits and spaces collapsed, so the
        # same text with another amount or phone number is the same template.
        key = (f"trim(regexp_replace(regexp_replace(lower(strip_accents({c})), '[0-9]+', '#', 'g'),"
               f" '\\s+', ' ', 'g'))")
        return f"CASE WHEN trim({c}) <> '' THEN substr(md5({key}), 1, 16) END"
    return "CAST(NULL AS VARCHAR)"


def records_view_sql(src: Source) -> str:
    """SELECT of the canonical columns (see the module docstring) over a checked Source."""
    a, b = _number_expr(src, "a_number"), _number_expr(src, "b_number")
    if src.mapped:
        a, b = mapped_sql(a), mapped_sql(b)
    t = _time_expr(src, "start_time")
    op = f"CAST({src.col('operator')} AS VARCHAR)" if src.has("operator") else "CAST(NULL AS VARCHAR)"
    return (f"SELECT {a} AS a, {b} AS b, {t} AS t, CAST(({t} + {TZ_OFFSET_S}) // 86400 AS INTEGER) AS d, "
            f"{_kind_expr(src)} = 'sms' AS sms, {_duration_expr(src)} AS dur, "
            f"{_hash_expr(src)} AS h, {op} AS op FROM {src.relation}")


# -- checks ------------------------------------------------------------------------------------


def _record_problems(src: Source) -> list[tuple[str, str, str]]:
    """(column, SQL condition true on a bad row, message) in the order they are reported."""
    a, b = src.col("a_number"), src.col("b_number")
    t = _time_expr(src, "start_time")
    kind = _kind_expr(src)
    dur = _duration_expr(src)
    out = []
    for name, c in (("a_number", a), ("b_number", b)):
        # length() rather than trim() on every row: a number of spaces only is refused
        # when spellings are mapped (`map_numbers`).
        empty = f"{c} IS NULL" + (f" OR length({c}) = 0" if src.type(name) == "VARCHAR" else "")
        out.append((name, empty, "empty number"))
    out += [
        ("start_time", f"{t} IS NULL",
         "not an ISO 8601 time or epoch seconds"),
        ("start_time", f"{t} NOT BETWEEN {_MIN_T} AND {_MAX_T}",
         "outside 2000-2099 (epoch seconds expected, not milliseconds)"),
        ("kind", f"{kind} IS NULL OR {kind} NOT IN ('voice', 'sms')", "must be voice or sms"),
        ("duration_s", f"{dur} IS NULL OR {dur} < 0", "must be a whole number of seconds, 0 or more"),
        ("duration_s", f"{kind} = 'sms' AND {dur} <> 0", "must be 0 for an SMS"),
    ]
    return out


def _check(con: duckdb.DuckDBPyConnection, src: Source, problems: list[tuple[str, str, str]],
           row_checker, extra: list[str] = ()) -> list:
    """Count the rows with each problem in one scan (with the `extra` aggregates, whose
    values are returned); raise InputError for the first bad row found."""
    counts = ", ".join([f"count(*) FILTER (WHERE {cond})" for _, cond, _ in problems] + list(extra))
    try:
        got = con.execute(f"SELECT count(*), {counts} FROM {src.relation}").fetchall()[0]
    except duckdb.Error as exc:
        raise InputError(src.path, _first_line(exc)) from None
    src.rows = got[0]
    bad = got[:1 + len(problems)]
    rest = list(got[1 + len(problems):])
    if not any(bad[1:]):
        return rest
    total = sum(1 for n in bad[1:] if n)
    which = next(k for k, n in enumerate(bad[1:]) if n)
    column, cond, message = problems[which]
    n_bad = bad[1 + which]
    if src.fmt == "parquet":
        rel = src.relation[:-1] + ", file_row_number = true, filename = true)"
        row = con.execute(f"SELECT file_row_number + 1, filename, {src.col(column)} FROM {rel} "
                          f"WHERE {cond} ORDER BY filename, file_row_number LIMIT 1").fetchall()[0]
        line, fname, value = row
        more = f" ({n_bad} such rows)" if n_bad > 1 else ""
        raise InputError(fname, f"{message}: {value!r}{more}", line=line, column=column, unit="row")
    # CSV: DuckDB reads in parallel and keeps no line numbers; find the first bad line
    # with Python's reader (only on this error path, so its speed does not matter).
    found = row_checker(src)
    more = f" ({n_bad} such rows" + (", and other problems)" if total > 1 else ")") if n_bad > 1 or total > 1 else ""
    if found:
        fname, line, col, msg, value = found
        raise InputError(fname, f"{msg}: {value!r}{more}", line=line, column=col)
    raise InputError(src.path, f"{message}{more}", column=column)


def _csv_rows(src: Source):
    """(file, first line of the record, row as a dict keyed by lower-case column)."""
    _, expr = _files(src.path)
    for fname in sorted(glob.glob(expr)) or [expr]:
        with open(fname, newline="", encoding="utf-8", errors="replace") as fh:
            sample = fh.read(65536)
            fh.seek(0)
            try:
                dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
            except csv.Error:
                dialect = csv.excel
            reader = csv.reader(fh, dialect)
            header = [h.strip().lower() for h in next(reader, [])]
            start = reader.line_num + 1
            for row in reader:
                yield fname, start, dict(zip(header, row, strict=False))
                start = reader.line_num + 1


def _py_time(text: str | None) -> int | None:
    if text is None:
        return None
    s = text.strip()
    if not s:
        return None
    if re.fullmatch(r"[0-9]{1,15}(\.[0-9]*)?", s):
        return math.floor(float(s))
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone(timedelta(seconds=TZ_OFFSET_S)))
    return math.floor(dt.timestamp())


def _py_int(text: str | None) -> int | None:
    s = (text or "").strip()
    return int(s) if re.fullmatch(r"[0-9]{1,9}", s) else None


def _first_bad_record(src: Source):
    for fname, line, row in _csv_rows(src):
        for col in ("a_number", "b_number"):
            if not (row.get(col) or "").strip():
                return fname, line, col, "empty number", row.get(col)
        t = _py_time(row.get("start_time"))
        if t is None:
            return fname, line, "start_time", "not an ISO 8601 time or epoch seconds", row.get("start_time")
        if not _MIN_T <= t <= _MAX_T:
            return (fname, line, "start_time",
                    "outside 2000-2099 (epoch seconds expected, not milliseconds)", row.get("start_time"))
        kind = (row.get("kind") or "").strip().lower()
        if kind not in ("voice", "sms"):
            return fname, line, "kind", "must be voice or sms", row.get("kind")
        dur = _py_int(row.get("duration_s"))
        if dur is None or dur < 0:
            return (fname, line, "duration_s", "must be a whole number of seconds, 0 or more",
                    row.get("duration_s"))
        if kind == "sms" and dur != 0:
            return fname, line, "duration_s", "must be 0 for an SMS", row.get("duration_s")
    return None


def _check_records(con: duckdb.DuckDBPyConnection, src: Source) -> list:
    """The checks of every row (InputError on the first bad one); returns min and max time."""
    t = _time_expr(src, "start_time")
    extra = [f"min({t})", f"max({t})"]
    try:
        return _check(con, src, _record_problems(src), _first_bad_record, extra)
    except InputError as exc:
        if not (src.kind_exact and exc.column == "kind"):
            raise
        # 'SMS', ' voice ': read again with case and spaces folded, which costs a little
        # on every row, so only files that need it pay for it.
        src.kind_exact = False
        return _check(con, src, _record_problems(src), _first_bad_record, extra)


def open_records(con: duckdb.DuckDBPyConnection, path: str | Path, name: str = "records") -> Source:
    """Check a records file and create the view `name` of its canonical columns.

    Raises InputError (file, line or row, column) on the first bad row, or when a column
    is missing. Numbers are taken as they are until `map_numbers` is called: the scan
    engines call it when they meet numbers not in national form (see `noncanonical_numbers`).
    """
    src = inspect(con, path, RECORD_COLUMNS, RECORD_OPTIONAL)
    src.kind_exact = src.type("kind") == "VARCHAR"
    found = _check_records(con, src)
    _create(con, src, name)
    if src.rows:
        src.first_day, src.last_day = ((x + TZ_OFFSET_S) // 86400 for x in found[:2])
    return src


# -- numbers as integers (the DuckDB scan) ------------------------------------------------------
#
# Grouping and joining on 8-byte integers costs less than on text, so the scan reads each
# number once into an integer id: a number written 0 + digits (the national form, and any
# other such spelling: "0" || id gives it back exactly) is the integer of its digits;
# every other spelling is looked up in `_number_ids`, which `id_numbers` fills with its
# national form's id, or a negative id when it has none (a foreign number, a brandname;
# `_number_names` gives those back).


def national_id_sql(x: str) -> str:
    """Whether the id `x` (an integer, 0 or more) is a number in national form: the
    ranges of the integers whose "0" + digits match CANONICAL_RE (0 + 3, 5, 7, 8, 9 and 8
    digits; 0 + 2 and 8 or 9 digits), tested without making the text."""
    return (f"({x} BETWEEN 200000000 AND 399999999 OR {x} BETWEEN 500000000 AND 599999999 "
            f"OR {x} BETWEEN 700000000 AND 999999999 OR {x} BETWEEN 2000000000 AND 2999999999)")


def fast_id_sql(raw: str, value: str, narrow: bool = False) -> str:
    """The id of a number written `raw`, given `value` = TRY_CAST(raw AS BIGINT): NULL
    unless "0" || value gives `raw` back exactly.

    Most numbers are mobiles, "0" and 9 digits, told without making the text of `value`:
    10 bytes, "0" then a digit (a string comparison), and a value of 9 digits, which the
    cast of any other 10-byte text starting so gives only in exponent form ("01234567e2",
    "00000001e8": a value that ends in 00; other characters, "_", ".", spaces, leave fewer
    digits than bytes; "0x..." does not start with "0" and a digit). Values ending in 00
    and every other length are checked by the round trip (tested against it,
    `test_fast_ids_equal_the_round_trip`).

    `narrow`: the id as a 4-byte UINTEGER (see `_typed_sql`), NULL when it does not fit."""
    fast, other = ((f"CAST({value} AS UINTEGER)", f"TRY_CAST({value} AS UINTEGER)") if narrow
                   else (value, value))
    return (f"CASE WHEN strlen({raw}) = 10 AND {raw} >= '00' AND {raw} < '0:' "
            f"AND {value} BETWEEN 100000000 AND 999999999 AND {value} % 100 <> 0 THEN {fast} "
            f"WHEN '0' || CAST({value} AS VARCHAR) = {raw} THEN {other} END")


def number_sql(expr: str, src: Source) -> str:
    """The number (text, national form where it has one) of the id `expr`."""
    if not src.named:
        return f"('0' || CAST({expr} AS VARCHAR))"
    return (f"(CASE WHEN {expr} >= 0 THEN '0' || CAST({expr} AS VARCHAR) "
            f"ELSE (SELECT n._name FROM _number_names n WHERE n._id = {expr}) END)")


def id_sql(expr: str, src: Source) -> str:
    """The id of the number `expr` (text in national form, as a subscriber file has it)."""
    value = f"TRY_CAST({expr} AS BIGINT)"
    fast = fast_id_sql(expr, value)
    if not src.named:
        return f"({fast})"
    return f"coalesce({fast}, (SELECT n._id FROM _number_names n WHERE n._name = {expr}))"


def operator_sql(expr: str, src: Source) -> str:
    """The operator (text) of `expr`, the `op` of the table of `load_records` (NULL for
    NO_OPERATOR, a position past the list's end)."""
    if src.operators is None:
        return expr
    return f"list_extract([{', '.join(map(_quote, src.operators))}]::VARCHAR[], {expr})"


# The `op` of a record without an operator when `op` is a position (`_operators`): greater
# than every position, so that the least `op` of a number's records is its least operator
# name, as the least text would be (`cdr.out_in_sql`); `operator_sql` reads it as NULL.
NO_OPERATOR = 255


def _operators(con: duckdb.DuckDBPyConnection, src: Source) -> list[str] | None:
    """A Parquet file's few operator names, sorted (so that the least position is the least
    name): the table then keeps a position (a 4-byte integer) instead of the text on every
    row (and NO_OPERATOR where there is none)."""
    if src.fmt != "parquet" or not src.has("operator"):
        return None
    names = con.execute(f"SELECT DISTINCT CAST({src.col('operator')} AS VARCHAR) AS o "
                        f"FROM {src.relation} WHERE o IS NOT NULL LIMIT {NO_OPERATOR}").fetchall()
    return sorted(r[0] for r in names) if len(names) < NO_OPERATOR else None


def _typed_sql(src: Source) -> str:
    """SELECT of the typed table of `load_records`. Its columns are 4 bytes wide where they
    can be (DuckDB appends and scans them for less: a 1-byte column costs about as much to
    append as a 4-byte one costs twice, 0.08 s against 0.03 s per 10 M values, and a
    4-byte id half an 8-byte one): the ids as UINTEGER until spellings are mapped (national
    forms are below 3 000 000 000; an id that does not fit is NULL, as an unmapped
    spelling, and `id_numbers` then makes the table again with BIGINT ids, negative ones
    included), `op` as INTEGER."""
    a, b = _number_expr(src, "a_number"), _number_expr(src, "b_number")
    t = _time_expr(src, "start_time")
    kind = _kind_expr(src)
    narrow = not src.mapped
    op = f"CAST({src.col('operator')} AS VARCHAR)" if src.has("operator") else "CAST(NULL AS VARCHAR)"
    if src.operators is not None:
        op = (f"CAST(coalesce(list_position([{', '.join(map(_quote, src.operators))}]::VARCHAR[], "
              f"{op}), {NO_OPERATOR}) AS INTEGER)")
    ids, values = [], []
    for x, col, text in (("a", "a_number", a), ("b", "b_number", b)):
        if src.type(col) in _INTEGER_TYPES:
            # An integer column is its own id where "0" + its digits is how `_number_expr`
            # writes it (no text made and read back); other integers are written as their
            # digits, which "0" + any id does not give back: NULL, as through the text.
            c = src.col(col)
            values.append(f"CASE WHEN {c} {_LOST_ZERO} THEN "
                          f"{'TRY_CAST' if narrow else 'CAST'}({c} AS {'UINTEGER' if narrow else 'BIGINT'}) END")
            fast = f"_v{x}"
        else:
            values.append(f"TRY_CAST({text} AS BIGINT)")
            fast = fast_id_sql(f"_r{x}", f"_v{x}", narrow)
        ids.append(f"coalesce((SELECT m._id FROM _number_ids m WHERE m._raw = _r{x}), {fast})"
                   if src.mapped else fast)
    # t: 4 bytes from the first day's midnight when the file's times allow (`_time_base`).
    t_out = f"CAST(t - {src.t_base} AS INTEGER)" if src.t_base else "t"
    return (f"SELECT {ids[0]} AS a, {ids[1]} AS b, {t_out} AS t, "
            f"CAST((t + {TZ_OFFSET_S}) // 86400 AS INTEGER) AS d, sms, dur, h, op FROM ("
            f"SELECT {a} AS _ra, {values[0]} AS _va, "
            f"{b} AS _rb, {values[1]} AS _vb, {t} AS t, "
            f"CASE {kind} WHEN 'sms' THEN TRUE WHEN 'voice' THEN FALSE END AS sms, "
            f"{_duration_expr(src)} AS dur, {_hash_expr(src)} AS h, {op} AS op "
            f"FROM {src.relation})")


# A table's t as a 4-byte offset (`_time_base`) must leave room for t + dur in a 4-byte integer.
_NARROW_T_SPAN = 2**30


def _time_base(con: duckdb.DuckDBPyConnection, src: Source) -> int:
    """The epoch second of the Vietnam midnight starting the records' first day, when the
    times are an integer column whose least and greatest values (a Parquet file's
    statistics give them without reading the rows) are in range and less than 34 years
    apart: the table then keeps t as 4-byte seconds from it. 0 otherwise (t as epoch seconds)."""
    if src.type("start_time") not in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UINTEGER", "UBIGINT"):
        return 0
    c = src.col("start_time")
    lo, hi = con.execute(f"SELECT min({c}), max({c}) FROM {src.relation}").fetchall()[0]
    if lo is None or not (_MIN_T <= lo <= hi <= _MAX_T):
        return 0
    base = (lo + TZ_OFFSET_S) // 86400 * 86400 - TZ_OFFSET_S
    return base if hi - base < _NARROW_T_SPAN else 0


def load_records(con: duckdb.DuckDBPyConnection, path: str | Path, name: str = "_recs") -> Source:
    """Read a records file once into the table `name` (a, b: number ids; t, d, sms, dur, h,
    op as in the canonical relation, but t counted from `Source.t_base`), checking every
    row as `open_records` does.

    The checks run on the typed table; only when one fails is the file read again by the
    checks of `open_records`, for the error's line, row and value. `Source.unmapped` tells
    whether some number was spelt otherwise than 0 + digits (then `id_numbers` is due).
    """
    src = inspect(con, path, RECORD_COLUMNS, RECORD_OPTIONAL)
    src.kind_exact = src.type("kind") == "VARCHAR"
    try:
        src.operators = _operators(con, src)
        src.t_base = _time_base(con, src)
    except duckdb.Error as exc:
        raise InputError(src.path, _first_line(exc)) from None
    _create_checked(con, src, name)
    return _load_checked(con, src, name)


def _create_checked(con: duckdb.DuckDBPyConnection, src: Source, name: str) -> None:
    """Create the typed table `name`. When that fails, the rows are checked as
    `open_records` checks them, which raises the InputError that names the line or row
    of a bad one; if every row is good, the times were not bounded by the file's
    statistics (t is then kept as epoch seconds), or the error is DuckDB's own."""
    try:
        _create_typed(con, src, name)
    except duckdb.Error as exc:
        _check_records(con, src)  # names the line or row when it can
        if not src.t_base:
            raise InputError(src.path, _first_line(exc)) from None
        src.t_base = 0
        _create_checked(con, src, name)


def _load_checked(con: duckdb.DuckDBPyConnection, src: Source, name: str) -> Source:
    """The rest of `load_records`: the checks of the typed table `name`."""
    base = src.t_base
    # One pass, per day (a few groups: the records per day come with the checks).
    got = con.execute(
        f"SELECT d, count(*), count(*) FILTER (WHERE a IS NULL OR b IS NULL), "
        f"count(*) FILTER (WHERE t IS NULL OR t NOT BETWEEN {_MIN_T - base} AND {_MAX_T - base} "
        f"OR sms IS NULL OR dur IS NULL OR dur < 0 OR (sms AND dur <> 0)), min(t), max(t), "
        f"count(*) FILTER (WHERE NOT {national_id_sql('a')} OR NOT {national_id_sql('b')}), "
        f"bool_or(sms AND h IS NULL), bool_or(sms AND h IS NOT NULL) "
        f"FROM {name} GROUP BY d").fetchall()
    src.rows, unmapped, bad, odd = (sum(r[k] for r in got) for k in (1, 2, 3, 6))
    plain, hashed = (any(r[k] for r in got) for k in (7, 8))
    src.hashed_sms = "all" if not plain else "none" if not hashed else "some"
    t0 = min((r[4] + base for r in got if r[4] is not None), default=None)
    t1 = max((r[5] + base for r in got if r[5] is not None), default=None)
    src.day_counts = sorted((r[0], r[1]) for r in got if r[0] is not None)
    # Ids whose text is 0 + digits but not the national form ("084912345678"): those go
    # through `normalize_phone` too (`id_numbers`).
    src.odd = bool(odd)
    if bad or unmapped:
        # The exact error (file, line or row, column, value); or, when every row is good,
        # numbers in other spellings (and, it may be, 'SMS' for sms: read again folded).
        exact = src.kind_exact
        _check_records(con, src)
        if exact != src.kind_exact:
            _create_typed(con, src, name)
            src.hashed_sms = "some"  # counted before the kinds were folded
    src.unmapped = bool(unmapped)
    if src.rows:
        src.first_day, src.last_day = ((x + TZ_OFFSET_S) // 86400 for x in (t0, t1))
    return src


def _create_typed(con: duckdb.DuckDBPyConnection, src: Source, name: str) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {_typed_sql(src)}")


def id_numbers(con: duckdb.DuckDBPyConnection, src: Source, name: str = "_recs") -> int:
    """Give every number not written in national form its national form's id (the
    spelling `normalize_phone` reads, else the number as written, trimmed) and fill the
    table `name` again; returns how many spellings were not in national form."""
    raw = f"SELECT {_number_expr(src, 'a_number')} FROM {src.relation} UNION ALL " \
          f"SELECT {_number_expr(src, 'b_number')} FROM {src.relation}"
    values = noncanonical_numbers(con, raw)
    if not values:
        return 0
    if any(not v.strip() for v in values):
        raise InputError(src.path, "empty number (spaces only)", column="a_number or b_number")
    map_numbers(con, values)
    # National forms keep their integer id; other forms get negative ids, in their order.
    norm_fast = fast_id_sql("_norm", "TRY_CAST(_norm AS BIGINT)")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _number_names AS
        SELECT -row_number() OVER (ORDER BY _norm) AS _id, _norm AS _name
        FROM (SELECT DISTINCT _norm FROM _number_map WHERE ({norm_fast}) IS NULL)""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _number_ids AS
        SELECT m._raw, coalesce({norm_fast}, n._id) AS _id
        FROM _number_map m LEFT JOIN _number_names n ON n._name = m._norm""")
    src.mapped = True
    src.named = con.execute("SELECT count(*) FROM _number_names").fetchall()[0][0] > 0
    _create_typed(con, src, name)
    return len(values)


def noncanonical_numbers(con: duckdb.DuckDBPyConnection, sql: str) -> list[str]:
    """The values of the one-column query `sql` not already in national form."""
    rows = con.execute(f"SELECT DISTINCT x FROM ({sql}) q(x) WHERE x IS NOT NULL AND "
                       f"NOT regexp_full_match(x, '{CANONICAL_RE}')").fetchall()
    return [r[0] for r in rows]


def map_numbers(con: duckdb.DuckDBPyConnection, raw: list[str]) -> int:
    """Add spellings -> national form to the table _number_map; returns how many differ."""
    # Column names that no input column has, so the lookup binds to the outer row.
    con.execute("CREATE TEMP TABLE IF NOT EXISTS _number_map (_raw VARCHAR PRIMARY KEY, _norm VARCHAR)")
    have = {r[0] for r in con.execute("SELECT _raw FROM _number_map").fetchall()}
    pairs = []
    for x in raw:
        if x in have:
            continue
        norm = normalize_phone(x)
        pairs.append((x, norm if norm is not None else x.strip()))
    if pairs:
        con.executemany("INSERT INTO _number_map VALUES (?, ?)", pairs)
    return sum(1 for x, n in pairs if x != n)


def mapped_sql(expr: str) -> str:
    """`expr` (a number as written) in national form, through the table of `map_numbers`."""
    return f"coalesce((SELECT m._norm FROM _number_map m WHERE m._raw = {expr}), {expr})"


def remap_records(con: duckdb.DuckDBPyConnection, src: Source, name: str = "records") -> bool:
    """Normalise every number of the view `name`; returns whether any needed it."""
    raw = f"SELECT {_number_expr(src, 'a_number')} FROM {src.relation} UNION ALL " \
          f"SELECT {_number_expr(src, 'b_number')} FROM {src.relation}"
    values = noncanonical_numbers(con, raw)
    if not values:
        return False
    if any(not v.strip() for v in values):
        raise InputError(src.path, "empty number (spaces only)",
                         column="a_number or b_number")
    map_numbers(con, values)
    src.mapped = True
    _create(con, src, name)
    return True


def _create(con: duckdb.DuckDBPyConnection, src: Source, name: str) -> None:
    # Parquet is re-read by each step of a scan at little cost; CSV text (times above all)
    # costs more to parse than to keep, so its canonical rows are kept in a table (DuckDB
    # spills it to disk beyond its memory limit).
    found = con.execute("SELECT table_type FROM information_schema.tables WHERE table_name = ?",
                        [name]).fetchall()
    if found:
        con.execute(f"DROP {'VIEW' if found[0][0] == 'VIEW' else 'TABLE'} {name}")
    kind = "TABLE" if src.fmt == "csv" else "VIEW"
    con.execute(f"CREATE TEMP {kind} {name} AS {records_view_sql(src)}")


# -- subscribers -------------------------------------------------------------------------------


def _subscriber_problems(src: Source) -> list[tuple[str, str, str]]:
    n = src.col("number")
    t = _time_expr(src, "activation_date")
    return [
        ("number", f"{n} IS NULL OR trim(CAST({n} AS VARCHAR)) = ''", "empty number"),
        ("activation_date", f"{t} IS NULL", "not an ISO 8601 date or time"),
        ("activation_date", f"{t} NOT BETWEEN 0 AND {_MAX_T}", "outside 1970-2099"),
    ]


def _first_bad_subscriber(src: Source):
    for fname, line, row in _csv_rows(src):
        if not (row.get("number") or "").strip():
            return fname, line, "number", "empty number", row.get("number")
        t = _py_time(row.get("activation_date"))
        if t is None:
            return fname, line, "activation_date", "not an ISO 8601 date or time", row.get("activation_date")
        if not 0 <= t <= _MAX_T:
            return fname, line, "activation_date", "outside 1970-2099", row.get("activation_date")
    return None


def open_subscribers(con: duckdb.DuckDBPyConnection, path: str | Path, name: str = "subscribers",
                     require: tuple[str, ...] = ()) -> Source:
    """Check a subscriber file and create the view `name`:
    number, activation_day (day number), operator, id_document, point_of_sale, line.

    `require` names optional columns this use needs (the junk-SIM audit needs all three).
    A number that is not a Vietnamese subscriber number is refused (line and value).
    Several rows for one number keep the latest activation.
    """
    src = inspect(con, path, SUBSCRIBER_COLUMNS + tuple(require), SUBSCRIBER_OPTIONAL)
    _check(con, src, _subscriber_problems(src), _first_bad_subscriber)
    num = _number_expr(src, "number")
    values = noncanonical_numbers(con, f"SELECT trim({num}) FROM {src.relation}")
    if values:
        bad = [v for v in values if phone_kind(normalize_phone(v) or "") not in ("mobile", "landline")]
        if bad:
            row = _locate(con, src, f"trim({num}) = {_quote(bad[0])}", bad[0])
            raise InputError(row[0], f"not a Vietnamese subscriber number: {bad[0]!r}"
                             + (f" ({len(bad)} such numbers)" if len(bad) > 1 else ""),
                             line=row[1], column="number", unit=row[2])
        map_numbers(con, values)
        num = mapped_sql(f"trim({num})")
    else:
        num = f"trim({num})"
    t = _time_expr(src, "activation_date")
    opt = []
    for c in SUBSCRIBER_OPTIONAL:
        opt.append(f"NULLIF(trim(CAST({src.col(c)} AS VARCHAR)), '') AS {c}" if src.has(c)
                   else f"CAST(NULL AS VARCHAR) AS {c}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {num} AS number, "
                f"CAST(({t} + {TZ_OFFSET_S}) // 86400 AS INTEGER) AS activation_day, "
                f"{', '.join(opt)} FROM {src.relation}")
    return src


def _locate(con, src: Source, cond: str, value: str, column: str = "number") -> tuple[str, int | None, str]:
    """File, line or row, and unit of the first row meeting `cond`, whose `column` is
    `value` (for error messages)."""
    if src.fmt == "parquet":
        rel = src.relation[:-1] + ", file_row_number = true, filename = true)"
        rows = con.execute(f"SELECT filename, file_row_number + 1 FROM {rel} WHERE {cond} "
                           f"ORDER BY filename, file_row_number LIMIT 1").fetchall()
        return (rows[0][0], rows[0][1], "row") if rows else (src.path, None, "row")
    for fname, line, row in _csv_rows(src):
        if (row.get(column) or "").strip() == value:
            return fname, line, "line"
    return src.path, None, "line"


# -- canonical copy for other engines -----------------------------------------------------------


def write_canonical(path: str | Path, out: str | Path, *, subscribers: str | Path | None = None,
                    con: duckdb.DuckDBPyConnection | None = None) -> Source:
    """Check `path` and write its canonical relation (numbers normalised) to Parquet `out`
    (and the subscribers' canonical view to `out` + ".subscribers.parquet" when given).

    The Spark engine reads this: checking and normalising a file is a per-row job that one
    machine does at disk speed, and it keeps both engines reading exactly the same rows.
    """
    own = con is None
    con = con or connect()
    try:
        src = open_records(con, path)
        remap_records(con, src)
        con.execute(f"COPY (SELECT * FROM records) TO {_quote(str(out))} (FORMAT parquet)")
        if subscribers is not None:
            open_subscribers(con, subscribers)
            con.execute(f"COPY (SELECT * FROM subscribers) TO "
                        f"{_quote(str(out) + '.subscribers.parquet')} (FORMAT parquet)")
        return src
    finally:
        if own:
            con.close()
