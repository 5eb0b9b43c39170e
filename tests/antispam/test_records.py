"""Records and subscriber files: checks with file, line and column; normalisation."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ictgov.antispam import records as rec
from ictgov.antispam.cdr import scan

HEADER = "a_number,b_number,start_time,kind,duration_s\n"


def _csv(tmp_path: Path, body: str, header: str = HEADER, name: str = "records.csv") -> Path:
    p = tmp_path / name
    p.write_text(header + body, encoding="utf-8")
    return p


def _open(path):
    con = rec.connect()
    try:
        src = rec.open_records(con, path)
        rec.remap_records(con, src)
        rows = con.execute("SELECT a, b, t, d, sms, dur, h FROM records ORDER BY t, a").fetchall()
        return src, rows
    finally:
        con.close()


def test_missing_column_is_named(tmp_path):
    p = _csv(tmp_path, "0912345678,0987654321,2026-01-05T08:00:00,voice,30\n",
             header="a_number,b_number,start_time,duration_s,extra\n")
    with pytest.raises(rec.InputError) as e:
        _open(p)
    assert "missing column kind" in str(e.value)
    assert str(p) in str(e.value)


@pytest.mark.parametrize(("row", "column", "words"), [
    ("0912345678,0987654321,yesterday,voice,30", "start_time", "ISO 8601"),
    ("0912345678,0987654321,1767571200000,voice,30", "start_time", "milliseconds"),
    ("0912345678,0987654321,2026-01-05T08:00:00,fax,30", "kind", "voice or sms"),
    ("0912345678,0987654321,2026-01-05T08:00:00,voice,-3", "duration_s", "0 or more"),
    ("0912345678,0987654321,2026-01-05T08:00:00,voice,3.5", "duration_s", "whole number"),
    ("0912345678,0987654321,2026-01-05T08:00:00,sms,12", "duration_s", "0 for an SMS"),
    (",0987654321,2026-01-05T08:00:00,voice,3", "a_number", "empty number"),
])
def test_bad_row_names_file_line_and_column(tmp_path, row, column, words):
    good = "0912345678,0987654321,2026-01-05T08:00:00,voice,30\n"
    p = _csv(tmp_path, good * 3 + row + "\n" + good)
    with pytest.raises(rec.InputError) as e:
        _open(p)
    err = e.value
    assert err.line == 5 and err.column == column
    assert f"{p}, line 5, column {column}:" in str(err)
    assert words in str(err)


def test_line_counts_quoted_fields_spanning_lines(tmp_path):
    body = ('0912345678,0987654321,2026-01-05T08:00:00,sms,0,"two\nlines"\n'
            '0912345678,0987654321,2026-01-05T08:00:00,vocie,0,x\n')
    p = _csv(tmp_path, body, header=HEADER.strip() + ",content\n")
    with pytest.raises(rec.InputError) as e:
        _open(p)
    assert e.value.line == 4 and e.value.column == "kind"


def test_parquet_bad_row_is_named_by_row(tmp_path):
    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({
        "a_number": ["0912345678"] * 4, "b_number": ["0987654321"] * 4,
        "start_time": pa.array([1767571200, 1767571260, None, 1767571400], pa.int64()),
        "kind": ["voice"] * 4, "duration_s": pa.array([1, 2, 3, 4], pa.int32()),
    }), p)
    with pytest.raises(rec.InputError) as e:
        _open(p)
    assert e.value.line == 3 and e.value.column == "start_time"
    assert "row 3" in str(e.value)


def test_unreadable_file_and_missing_file(tmp_path):
    with pytest.raises(rec.InputError, match="no such file"):
        _open(tmp_path / "nope.csv")
    p = tmp_path / "x.parquet"
    p.write_bytes(b"not parquet")
    with pytest.raises(rec.InputError, match="cannot read as PARQUET"):
        _open(p)


def test_numbers_times_and_kinds_are_normalised(tmp_path):
    # The same instant written four ways; the same number in three spellings.
    body = ("+84 912 345 678,0987654321,2026-01-05T08:00:00,voice,30\n"
            "84.912.345.678,0987654321,2026-01-05T01:00:00Z,Voice ,30\n"
            "0912345678,0987654321,1767574800,SMS,0\n"
            "01689123456,0987654321,2026-01-05 08:00:00+07:00,sms,0\n")
    src, rows = _open(_csv(tmp_path, body))
    assert src.rows == 4
    assert {r[0] for r in rows} == {"0912345678", "0389123456"}
    assert {r[2] for r in rows} == {1767574800}
    # 08:00 Vietnam time is day 2026-01-05, whichever way it was written.
    assert {rec.day_to_date(r[3]).isoformat() for r in rows} == {"2026-01-05"}
    assert [r[4] for r in rows].count(True) == 2


def test_day_boundary_is_vietnam_midnight(tmp_path):
    body = ("0912345678,0987654321,2026-01-05T16:59:59Z,voice,1\n"
            "0912345678,0987654321,2026-01-05T17:00:00Z,voice,1\n")
    _, rows = _open(_csv(tmp_path, body))
    assert [rec.day_to_date(r[3]).isoformat() for r in rows] == ["2026-01-05", "2026-01-06"]


def test_foreign_and_alphanumeric_senders_are_kept_as_written(tmp_path):
    body = ("+1 415 555 0100,0987654321,2026-01-05T08:00:00,voice,30\n"
            " VIETTEL ,0987654321,2026-01-05T08:00:00,sms,0\n")
    _, rows = _open(_csv(tmp_path, body))
    assert {r[0] for r in rows} == {"+1 415 555 0100", "VIETTEL"}


def test_content_is_hashed_as_a_template(tmp_path):
    header = HEADER.strip() + ",content\n"
    body = ("0912345678,0987654321,2026-01-05T08:00:00,sms,0,Vay 5tr lãi 0% gọi 0909123456\n"
            "0912345679,0987654321,2026-01-05T08:00:01,sms,0,VAY 10TR LAI 0%  goi 0909999999\n"
            "0912345670,0987654321,2026-01-05T08:00:02,sms,0,Chúc mừng năm mới\n"
            "0912345670,0987654321,2026-01-05T08:00:03,voice,3,\n")
    _, rows = _open(_csv(tmp_path, body, header=header))
    hashes = [r[6] for r in rows]
    assert hashes[0] == hashes[1] and hashes[2] != hashes[0] and hashes[3] is None


def test_parquet_typed_columns(tmp_path):
    p = tmp_path / "r.parquet"
    pq.write_table(pa.table({
        "A_Number": pa.array([912345678, 84987654321], pa.int64()),
        "b_number": ["0987654321", "0912345678"],
        "start_time": pa.array([1767574800_000_000, 1767574800_000_000], pa.timestamp("us", tz="UTC")),
        "kind": ["voice", "sms"], "duration_s": pa.array([5, 0], pa.int16()),
        "content_hash": pa.array([None, 42], pa.int64()),
    }), p)
    _, rows = _open(p)
    assert {r[0] for r in rows} == {"0912345678", "0987654321"}
    assert {r[2] for r in rows} == {1767574800}
    assert sorted(r[6] for r in rows if r[6] is not None) == [42]


def test_subscriber_file_checks(tmp_path):
    p = tmp_path / "subs.csv"
    p.write_text("number,activation_date\n0912345678,2025-12-01\n12345,2025-12-02\n", encoding="utf-8")
    con = rec.connect()
    with pytest.raises(rec.InputError) as e:
        rec.open_subscribers(con, p)
    assert e.value.line == 3 and e.value.column == "number" and "not a Vietnamese subscriber number" in str(e.value)
    p.write_text("number,activation_date\n0912345678,2025-13-01\n", encoding="utf-8")
    with pytest.raises(rec.InputError) as e:
        rec.open_subscribers(con, p)
    assert e.value.line == 2 and e.value.column == "activation_date"
    p.write_text("number,activation_date\n+84912345678,2025-12-01\n", encoding="utf-8")
    with pytest.raises(rec.InputError, match="missing column id_document"):
        rec.open_subscribers(con, p, require=("id_document",))
    rec.open_subscribers(con, p)
    assert con.execute("SELECT number, activation_day FROM subscribers").fetchall() == \
        [("0912345678", (rec.date(2025, 12, 1) - rec.date(1970, 1, 1)).days)]


def test_scan_of_empty_file_is_empty(tmp_path):
    result = scan(_csv(tmp_path, ""))
    assert result.rows == 0 and result.numbers.height == 0
    out = tmp_path / "out.csv"
    result.write_csv(out)
    assert out.read_text().startswith("number,flagged,score,reasons,")


def test_spellings_of_one_number_meet_in_the_scan(tmp_path):
    body = "".join(f"{a},0987654321,2026-01-05T08:0{k}:00,sms,0\n"
                   for k, a in enumerate(["+84912345678", "0912 345 678", "0912345678"]))
    result = scan(_csv(tmp_path, body))
    assert result.numbers.select("number", "sms_out").rows() == [("0912345678", 3)]
    assert result.notes and "national form" in result.notes[0]
    assert isinstance(result.numbers, pl.DataFrame)


def test_number_ids_give_every_spelling_back(tmp_path):
    # The scan groups on integer ids: "0" + digits is its own id; an old 11-digit mobile
    # number (digits too, but not the national form) still meets its new spelling; numbers
    # without a national form (a short code, a brandname, a foreign number) come back as
    # written, callers and callees alike.
    body = "".join(f"{a},{b},2026-01-05T08:0{k}:00,sms,0\n" for k, (a, b) in enumerate([
        ("01689123456", "0987654321"), ("0389123456", "+1 415 555 0100"),
        ("0123", "0987654321"), ("VIETTEL", "0123"), ("0212345678", "0987654321")]))
    result = scan(_csv(tmp_path, body), recipients=5)
    assert result.numbers.select("number", "sms_out", "recipients").rows() == [
        ("0123", 1, 1), ("0212345678", 1, 1), ("0389123456", 2, 2), ("VIETTEL", 1, 1)]
    assert result.numbers.filter(pl.col("number") == "0123")["sms_in"].to_list() == [1]
    assert result.notes and "national form" in result.notes[0]


def test_integer_numbers_scan_as_their_text(tmp_path):
    # An integer column's numbers are read as ids without going through text: the scan
    # must equal that of the same numbers written as `_number_expr` writes them ("0" +
    # digits for 9 and 10 digits, else the digits): old 11-digit mobiles, "84..." numbers
    # without a national form included.
    ints = [912345678, 84987654321, 1689123456, 123, 389123456, 912345678]
    texts = ["0912345678", "84987654321", "01689123456", "123", "0389123456", "0912345678"]
    t0 = 1767574800
    common = {"start_time": pa.array([t0 + 60 * k for k in range(6)], pa.int64()),
              "kind": ["voice", "sms", "sms", "voice", "sms", "voice"],
              "duration_s": pa.array([5, 0, 0, 3, 0, 0], pa.int32())}
    as_int, as_text = tmp_path / "int.parquet", tmp_path / "text.parquet"
    pq.write_table(pa.table({"a_number": pa.array(ints, pa.int64()),
                             "b_number": pa.array(ints[::-1], pa.int64()), **common}), as_int)
    pq.write_table(pa.table({"a_number": texts, "b_number": texts[::-1], **common}), as_text)
    got, want = scan(as_int), scan(as_text)
    assert got.numbers.equals(want.numbers) and got.notes == want.notes
    assert set(got.numbers["number"]) == {"0912345678", "0987654321", "0389123456", "123"}


def test_ids_beyond_four_bytes_scan_as_written(tmp_path):
    # The typed table keeps ids in 4 bytes until spellings are mapped; "0" + digits whose
    # value does not fit ("05123456789", "04987654321": no national form) is then mapped
    # like any other spelling and scans as written, from text or from an integer column.
    t0 = 1767574800
    texts = ["05123456789", "0912345678", "05123456789", "0987654321", "04987654321"]
    ints = [5123456789, 912345678, 5123456789, 987654321, 4987654321]
    common = {"start_time": pa.array([t0 + 60 * k for k in range(5)], pa.int64()),
              "kind": ["voice", "voice", "voice", "sms", "voice"],
              "duration_s": pa.array([5, 3, 0, 0, 9], pa.int32())}
    as_text, as_int = tmp_path / "text.parquet", tmp_path / "int.parquet"
    pq.write_table(pa.table({"a_number": texts, "b_number": texts[1:] + texts[:1], **common}), as_text)
    pq.write_table(pa.table({"a_number": pa.array(ints, pa.int64()),
                             "b_number": pa.array(ints[1:] + ints[:1], pa.int64()), **common}), as_int)
    got = scan(as_text)
    assert got.numbers.select("number", "calls_out", "recipients", "calls_in").rows() == [
        ("04987654321", 1, 1, 0), ("05123456789", 2, 2, 2), ("0912345678", 1, 1, 1),
        ("0987654321", 0, 1, 1)]
    assert scan(as_int).numbers.equals(got.numbers)


def test_national_ids_by_range_equal_the_national_form_pattern():
    # The scan tells ids in national form by their integer ranges (no text made); that
    # must agree with CANONICAL_RE on "0" + digits at every edge of those ranges.
    import duckdb

    edges = [0, 1, 9, 10, 99999999, 100000000, 199999999]
    for lo, hi in ((200000000, 399999999), (500000000, 599999999), (700000000, 999999999),
                   (2000000000, 2999999999)):
        edges += [lo - 1, lo, lo + 1, hi - 1, hi, hi + 1]
    edges += [400000000, 699999999, 1000000000, 1999999999, 3000000000, 9999999999, 84912345678]
    rows = duckdb.sql(
        f"SELECT x, {rec.national_id_sql('x')}, regexp_full_match('0' || CAST(x AS VARCHAR), "
        f"'{rec.CANONICAL_RE}') FROM unnest({sorted(set(edges))}::BIGINT[]) u(x)").fetchall()
    assert [r for r in rows if r[1] != r[2]] == []
    assert sum(r[1] for r in rows) > 10


def test_times_from_the_first_day_or_epoch_scan_alike(tmp_path):
    # Epoch-second times of a Parquet file, bounded by its statistics, are kept as 4-byte
    # seconds from the first day's midnight; a file whose times span more than 34 years
    # keeps epoch seconds. Both scan as the same times written as text (CSV).
    t0 = 1767546000 - 3600  # 23:00 Vietnam time: the records fall on two days
    rows = [("0912345678", f"09{k:08d}", t0 + 140 * k, "voice" if k % 3 else "sms", 0 if k % 3 == 0 else 4)
            for k in range(40)]
    cols = {"a_number": [r[0] for r in rows], "b_number": [r[1] for r in rows],
            "kind": [r[3] for r in rows], "duration_s": pa.array([r[4] for r in rows], pa.int32())}
    narrow, wide = tmp_path / "narrow.parquet", tmp_path / "wide.parquet"
    pq.write_table(pa.table({**cols, "start_time": pa.array([r[2] for r in rows], pa.int64())}), narrow)
    far = [r[2] for r in rows[:-1]] + [4000000000]  # 2096: 30 years after the others
    pq.write_table(pa.table({**cols, "start_time": pa.array(far, pa.int64())}), wide)
    text = _csv(tmp_path, "".join(f"{a},{b},{t},{k},{d}\n" for a, b, t, k, d in rows))
    con = rec.connect()
    try:
        assert rec.load_records(con, narrow).t_base == 1767546000 - 86400
        assert con.execute("SELECT typeof(t), min(t) FROM _recs GROUP BY 1").fetchall() == [("INTEGER", 82800)]
        assert rec.load_records(con, wide).t_base == 0
        assert rec.load_records(con, text).t_base == 0
    finally:
        con.close()
    got, want = scan(narrow), scan(text)
    assert got.numbers.equals(want.numbers) and got.days.equals(want.days)
    assert got.first_day == want.first_day and got.last_day == want.last_day
    assert scan(wide).numbers.filter(pl.col("number") == "0912345678")["days_active"].to_list() == [3]


def test_a_value_the_typed_table_cannot_hold_is_refused(tmp_path):
    # A Parquet duration beyond 4-byte seconds fails the typed table's cast: the scan
    # refuses the file with an InputError naming it and the column (not a DuckDB error).
    p = tmp_path / "big.parquet"
    pq.write_table(pa.table({
        "a_number": ["0912345678"] * 3, "b_number": ["0987654321"] * 3,
        "start_time": pa.array([1767546000, 1767546060, 1767546120], pa.int64()),
        "kind": ["voice"] * 3, "duration_s": pa.array([3, 2**40, 5], pa.int64())}), p)
    con = rec.connect()
    try:
        with pytest.raises(rec.InputError) as e:
            rec.load_records(con, p)
    finally:
        con.close()
    assert e.value.path == str(p) and "duration_s" in str(e.value)


def test_fast_ids_equal_the_round_trip():
    # `fast_id_sql` tells most mobiles without the round trip through text; on every text
    # that DuckDB's cast reads as an integer (exponents, hex, binary, "_", ".", signs,
    # spaces, at every place), the id must be the round trip's.
    import itertools
    import random

    import duckdb

    odd = ["x", "X", "e", "E", ".", "_", "+", "-", " ", "b", "B", "o", "O", "\t", "é", ","]
    texts = {"0x12345678", "0X1234567a", "01234567e2", "01234567E2", "00000001e8", "0000001e+8",
             "0123456.e2", "0.12345e9", "0b11111111", "0912345678", "0912345600", "0912345600 ",
             "912345678", "00912345678", "0912_345678", "09123456.7", "0912345678.", "+912345678",
             "0001234e05", "01234567e+2", "01.234567e8", "0123456789", "0212345678"}
    rng = random.Random(4)
    for n in (9, 10, 11, 12):
        for _ in range(1000):  # digits only: "0" + a number, leading zeros, ends in 00
            digits = "".join(rng.choice("0123456789") for _ in range(n - 1))
            texts.update({"0" + digits, "0" + digits[:-2] + "00", "00" + digits[1:]})
        for _ in range(3000):
            chars = ["0"] + [rng.choice("0123456789") for _ in range(n - 1)]
            for k in rng.sample(range(1, n), rng.choice((1, 1, 2, 3))):
                chars[k] = rng.choice(odd)
            texts.add("".join(chars))
        for k, c in itertools.product(range(1, n), odd):
            base = "0" + "".join(rng.choice("123456789") for _ in range(n - 1))
            texts.add(base[:k] + c + base[k + 1:])
            texts.add(base[:k] + "e" + str(rng.randint(0, 9)) + base[k + 2:])
    con = duckdb.connect()
    con.execute("CREATE TABLE t (x VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [(t,) for t in sorted(texts)])
    value = "TRY_CAST(x AS BIGINT)"
    rows = con.execute(f"SELECT x, {rec.fast_id_sql('x', value)}, "
                       f"CASE WHEN '0' || CAST({value} AS VARCHAR) = x THEN {value} END, {value} "
                       f"FROM t").fetchall()
    assert [r for r in rows if r[1] != r[2]] == []
    # The texts include many that the cast reads but that are not "0" + the digits.
    assert sum(1 for r in rows if r[3] is not None and r[2] is None) > 500
    assert sum(1 for r in rows if r[2] is not None) > 2000
