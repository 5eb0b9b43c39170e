"""Decree 91/2020 audit of advertisers' send logs."""

from __future__ import annotations

import csv

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ictgov.antispam import records as rec
from ictgov.antispam.advertisers import RULES, VIOLATION_COLUMNS, audit_send_log, read_dnc_file
from ictgov.cli import app


def _log(tmp_path, rows, extra=()):
    p = tmp_path / "log.csv"
    with open(p, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["brandname", "recipient", "time", "kind", "content", *extra])
        w.writerows(rows)
    return p


def _rules(result) -> list[tuple[int, str]]:
    return result.violations.select("line", "rule").rows()


def test_sms_limit_is_a_rolling_24_hours(tmp_path):
    rows = [("SHOP", "0912345678", t, "sms", "[QC] x") for t in (
        "2026-01-05T09:00:00", "2026-01-05T10:00:00", "2026-01-05T11:00:00",
        "2026-01-06T09:00:00",    # exactly 24 h after the first: the first no longer counts
        "2026-01-06T09:30:00",    # 4th within (09:30 the day before, now]
    )]
    assert _rules(audit_send_log(_log(tmp_path, rows))) == [(6, "D91-SMS-24H")]


def test_calendar_day_is_not_the_reading(tmp_path):
    # 3 SMS late on one day and 1 early the next: two calendar days, one 24-hour window.
    rows = [("SHOP", "0912345678", t, "sms", "[QC] x") for t in (
        "2026-01-05T19:00:00", "2026-01-05T20:00:00", "2026-01-05T21:00:00", "2026-01-06T08:00:00")]
    result = audit_send_log(_log(tmp_path, rows))
    assert _rules(result) == [(5, "D91-SMS-24H")]
    assert result.violations["citation"][0] == "Decree 91/2020/NĐ-CP, Art. 13"
    assert "send no. 4" in result.violations["detail"][0]


def test_limits_are_per_advertiser_recipient_and_kind(tmp_path):
    rows = [("SHOP", "0912345678", f"2026-01-05T09:0{k}:00", "sms", "[QC] x") for k in range(3)]
    rows += [("OTHER", "0912345678", "2026-01-05T09:05:00", "sms", "[QC] x"),
             ("shop ", "0987654321", "2026-01-05T09:05:00", "sms", "[QC] x"),
             ("Shop", "+84 912 345 678", "2026-01-05T09:06:00", "sms", "[QC] y"),  # same advertiser and number
             ("SHOP", "a@b.vn", "2026-01-05T09:00:00", "email", "x"),
             ("SHOP", "A@B.vn", "2026-01-05T09:01:00", "email", "x"),
             ("SHOP", "a@b.vn", "2026-01-05T09:02:00", "email", "x"),
             ("SHOP", "a@b.vn", "2026-01-05T09:03:00", "email", "x")]
    assert _rules(audit_send_log(_log(tmp_path, rows))) == [(7, "D91-SMS-24H"), (11, "D91-EMAIL-24H")]


def test_one_call_a_day_and_call_hours(tmp_path):
    rows = [("SHOP", "0912345678", "2026-01-05T07:59:59", "call", ""),
            ("SHOP", "0912345678", "2026-01-05T16:59:59", "call", ""),
            ("SHOP", "0987654321", "2026-01-05T17:00:00", "call", ""),
            ("SHOP", "0977777777", "2026-01-05T08:00:00", "call", "")]
    assert _rules(audit_send_log(_log(tmp_path, rows))) == [
        (2, "D91-CALL-HOURS"), (3, "D91-CALL-24H"), (4, "D91-CALL-HOURS")]


def test_sms_hours_prefix_and_time_zone(tmp_path):
    rows = [("SHOP", "0912345678", "2026-01-05T06:59:59+07:00", "sms", "[QC] early"),
            ("SHOP", "0912345679", "2026-01-05T00:00:00Z", "sms", "[AD] 07:00 in Hanoi"),
            ("SHOP", "0912345670", "2026-01-05T21:59:59", "sms", "  [QC] late but in time"),
            ("SHOP", "0912345671", "2026-01-05T22:00:00", "sms", "[QC] too late"),
            ("SHOP", "0912345672", "2026-01-05T10:00:00", "sms", "[qc] lower case"),
            ("SHOP", "0912345673", "2026-01-05T10:00:00", "sms", "Khuyến mãi [QC]")]
    result = audit_send_log(_log(tmp_path, rows))
    assert _rules(result) == [(2, "D91-SMS-HOURS"), (5, "D91-SMS-HOURS"), (6, "D91-SMS-PREFIX"),
                              (7, "D91-SMS-PREFIX")]
    assert result.violations.filter(pl.col("line") == 5)["time"][0] == "2026-01-05T22:00:00+07:00"


def test_do_not_call_list_and_brandname(tmp_path):
    rows = [("SHOP", "0912345678", "2026-01-05T10:00:00", "sms", "[QC] x"),
            ("SHOP", "0912 345 679", "2026-01-05T10:00:00", "call", ""),
            ("SHOP", "x@y.vn", "2026-01-05T10:00:00", "email", "x"),
            ("0901234567", "0987654321", "2026-01-05T10:00:00", "sms", "[QC] x"),
            ("", "0987654322", "2026-01-05T10:00:00", "sms", "[QC] x")]
    result = audit_send_log(_log(tmp_path, rows), dnc=["+84912345678", "0912345679"])
    assert _rules(result) == [(2, "D91-DNC"), (3, "D91-DNC"), (5, "D91-BRANDNAME"), (6, "D91-BRANDNAME")]
    assert result.violations.filter(pl.col("line") == 3)["recipient"][0] == "0912345679"
    assert result.counts["D91-DNC"] == 2 and set(result.counts) == set(RULES)


def test_an_agreement_lifts_frequency_and_hours_not_the_prefix(tmp_path):
    rows = [("SHOP", "0912345678", f"2026-01-05T23:0{k}:00", "sms", "[QC] x", "true") for k in range(5)]
    rows.append(("SHOP", "0912345678", "2026-01-05T23:30:00", "sms", "no prefix", "true"))
    assert _rules(audit_send_log(_log(tmp_path, rows, extra=("agreed",)))) == [(7, "D91-SMS-PREFIX")]


def test_same_second_sends_are_counted_in_log_order(tmp_path):
    rows = [("SHOP", "0912345678", "2026-01-05T10:00:00", "call", "")] * 2
    assert _rules(audit_send_log(_log(tmp_path, rows))) == [(3, "D91-CALL-24H")]


@pytest.mark.parametrize(("row", "column", "words"), [
    (("SHOP", "", "2026-01-05T10:00:00", "sms", "x"), "recipient", "empty recipient"),
    (("SHOP", "0912345678", "soon", "sms", "x"), "time", "ISO 8601"),
    (("SHOP", "0912345678", "2026-01-05T10:00:00", "fax", "x"), "kind", "sms, call or email"),
    (("SHOP", "not-an-address", "2026-01-05T10:00:00", "email", "x"), "recipient", "e-mail"),
    (("SHOP", "12", "2026-01-05T10:00:00", "sms", "x"), "recipient", "not a phone number"),
])
def test_bad_log_rows_are_named(tmp_path, row, column, words):
    good = ("SHOP", "0912345678", "2026-01-05T10:00:00", "sms", "[QC] x")
    with pytest.raises(rec.InputError) as e:
        audit_send_log(_log(tmp_path, [good, good, row]))
    assert e.value.line == 4 and e.value.column == column and words in str(e.value)


def test_parquet_log_lines_are_rows(tmp_path):
    p = tmp_path / "log.parquet"
    pq.write_table(pa.table({"brandname": ["SHOP"] * 3, "recipient": ["0912345678"] * 3,
                             "time": pa.array([1767582000, 1767582060, 1767582120], pa.int64()),
                             "kind": ["call"] * 3, "content": [""] * 3}), p)
    assert _rules(audit_send_log(p)) == [(2, "D91-CALL-24H"), (3, "D91-CALL-24H")]


def test_dnc_file(tmp_path):
    p = tmp_path / "dnc.csv"
    p.write_text("number\n+84 912 345 678\n\n0987654321\n")
    assert read_dnc_file(p) == {"0912345678", "0987654321"}
    p.write_text("0912345678\nhello\n")
    with pytest.raises(rec.InputError) as e:
        read_dnc_file(p)
    assert e.value.line == 2


def test_cli_ad_audit(tmp_path):
    log = _log(tmp_path, [("SHOP", "0912345678", "2026-01-05T23:00:00", "sms", "x")])
    dnc = tmp_path / "dnc.txt"
    dnc.write_text("0912345678\n")
    out = tmp_path / "v.csv"
    res = CliRunner().invoke(app, ["antispam", "ad-audit", str(log), "--dnc", str(dnc), "--out", str(out)])
    assert res.exit_code == 0, res.output
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join(VIOLATION_COLUMNS) and len(lines) == 4
    assert "3 violations" in res.output
