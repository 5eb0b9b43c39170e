"""Property tests of the import parser: whatever a file holds, CSV, XLSX or JSON, the import
either writes it whole or rejects it with errors that each name a line of the file (or the
file itself) and a message, and then nothing of it is in the session."""

from __future__ import annotations

import io
import json

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from ictgov.stats.ingest import ImportRejected, import_observations
from ictgov.stats.models import Observation

COLUMNS = ["indicator", "area", "period", "value", "unit", "source"]
GOOD = {
    "indicator": st.sampled_from(["ict_revenue_usd", "Doanh thu CNTT", "fuzz element"]),
    "area": st.sampled_from(["VN", "01", "Hà Nội", "TP. Hồ Chí Minh", "thua thien hue"]),
    "period": st.sampled_from(["2021", "2021H1", "2020Q3", "2022-05", "6T/2021"]),
    "value": st.sampled_from(["50", "1.234,5", "1,234.5", "0", "-3", "12%"]),
    "unit": st.sampled_from(["billion USD", "%", "units", "tỷ đồng"]),
    "source": st.sampled_from(["MIC report 2021", "https://example.gov.vn/x"]),
}
JUNK = st.one_of(st.text(max_size=12), st.sampled_from(["", " ", "NaN", "1e309", "2021H3", "ZZ", '"', ";"]))
SETTINGS = settings(max_examples=40, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@st.composite
def tables(draw):
    header = draw(st.one_of(st.just(COLUMNS), st.permutations(COLUMNS),
                            st.lists(st.sampled_from(COLUMNS + ["x", "ghi chú"]), max_size=7)))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        row = [draw(GOOD.get(col, JUNK)) for col in header]
        if row and draw(st.booleans()):  # half the rows carry one bad cell
            row[draw(st.integers(0, len(row) - 1))] = draw(JUNK)
        rows.append(row)
    return header, rows


def _csv(header, rows) -> bytes:
    import csv

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode()


def _xlsx(header, rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:  # a worksheet cannot hold control characters at all
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", c) for c in r])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _json(header, rows) -> bytes:
    return json.dumps([dict(zip(header, r)) for r in rows], ensure_ascii=False).encode()


OUTCOMES: set[str] = set()


def _import_all_or_nothing(session, data: bytes, filename: str, n_rows: int) -> None:
    before = session.scalar(select(func.count()).select_from(Observation))
    try:
        report = import_observations(session, data, filename)
    except ImportRejected as exc:
        OUTCOMES.add("rejected")
        assert exc.errors
        for e in exc.errors:
            assert e.message
            assert e.row is None or 1 <= e.row <= n_rows + 1, e
        assert not [o for o in session.new if isinstance(o, Observation)]
    else:
        OUTCOMES.add("written")
        session.flush()
        after = session.scalar(select(func.count()).select_from(Observation))
        assert after - before == report.created + report.revised
        assert report.rows == n_rows
    finally:
        session.rollback()


@SETTINGS
@given(table=tables(), fmt=st.sampled_from(["csv", "xlsx", "json"]))
def test_any_table_is_written_whole_or_rejected_by_line(areas, table, fmt):
    header, rows = table
    data = {"csv": _csv, "xlsx": _xlsx, "json": _json}[fmt](header, rows)
    _import_all_or_nothing(areas, data, f"fuzz.{fmt}", len(rows))


def test_the_tables_above_reached_both_outcomes(areas):
    # guards the generator: a strategy that only ever made broken files would test little
    if OUTCOMES != {"written", "rejected"}:
        test_any_table_is_written_whole_or_rejected_by_line(areas)
    assert OUTCOMES == {"written", "rejected"}


@SETTINGS
@given(data=st.binary(max_size=300), fmt=st.sampled_from(["csv", "xlsx", "json"]))
def test_any_bytes_are_rejected_cleanly_or_imported(areas, data, fmt):
    try:
        report = import_observations(areas, data, f"junk.{fmt}")
    except ImportRejected as exc:
        assert exc.errors and all(e.message for e in exc.errors)
    else:
        assert report.rows >= 0
    finally:
        areas.rollback()
