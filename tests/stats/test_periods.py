"""Periods: strict parsing, calendar arithmetic, hierarchy, labels and the Polars helper."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ictgov.stats.periods import (
    KINDS,
    MAX_YEAR,
    MIN_YEAR,
    Period,
    PeriodError,
    kind_of,
    parse_period,
    period_range,
    prev_year_expr,
)

PER_YEAR = {"year": 1, "half": 2, "quarter": 4, "month": 12, "day": 365}  # days: any year has 365


@st.composite
def periods(draw, min_year: int = MIN_YEAR, max_year: int = MAX_YEAR) -> Period:
    kind = draw(st.sampled_from(KINDS))
    year = draw(st.integers(min_year, max_year))
    return Period(year, kind, draw(st.integers(1, PER_YEAR[kind])))


def p(code: str) -> Period:
    return parse_period(code)


# -- parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "year", "kind", "index"),
    [
        ("2021", 2021, "year", 1),
        ("2021H1", 2021, "half", 1),
        ("2021H2", 2021, "half", 2),
        ("2021Q1", 2021, "quarter", 1),
        ("2021Q4", 2021, "quarter", 4),
        ("2021-01", 2021, "month", 1),
        ("2021-12", 2021, "month", 12),
        ("1900", 1900, "year", 1),
        ("2100-12", 2100, "month", 12),
        ("2021-01-01", 2021, "day", 1),
        ("2021-03-01", 2021, "day", 60),
        ("2020-03-01", 2020, "day", 61),
        ("2020-12-31", 2020, "day", 366),
        ("  2021Q3\t", 2021, "quarter", 3),
    ],
)
def test_parse_canonical_forms(text, year, kind, index):
    assert parse_period(text) == Period(year, kind, index)


@pytest.mark.parametrize(("text", "code"), [("2021h1", "2021H1"), ("2021q3", "2021Q3")])
def test_lowercase_letters_are_canonicalised(text, code):
    assert parse_period(text).code == code


@pytest.mark.parametrize(
    "text",
    [
        "H1 2021", "2021/07", "2021-7", "2021-13", "2021-00", "21", "2021H3", "2021H0",
        "2021Q5", "2021Q0", "2021Q10", "2021 H1", "2021-07-1", "2021/07/01", "", "   ", "20211",
        "٢٠٢١", "2021S1", "Q3/2021", "2021-1",
    ],
)  # fmt: skip
def test_parse_refuses_anything_else(text):
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    message = str(caught.value)
    assert repr(text) in message
    assert "2021, 2021H1, 2021Q3, 2021-07 or 2021-07-15" in message


@pytest.mark.parametrize("text", ["2021-02-29", "2021-04-31", "2021-07-32", "2021-07-00"])
def test_a_day_must_be_in_the_calendar(text):
    with pytest.raises(PeriodError, match="not a date of the calendar"):
        parse_period(text)


def test_parse_message_reads_as_documented():
    with pytest.raises(PeriodError, match=r"^period: '2021H3' is not a period; use 2021, "):
        parse_period("2021H3")


@pytest.mark.parametrize("text", ["1899", "2101", "0999-01", "9999Q1"])
def test_parse_refuses_years_out_of_range(text):
    with pytest.raises(PeriodError, match=f"'{text}'.*1900..2100"):
        parse_period(text)


def test_parse_refuses_non_text():
    with pytest.raises(PeriodError, match="2021 is a int, not text"):
        parse_period(2021)  # type: ignore[arg-type]


def test_period_error_is_a_value_error():
    assert issubclass(PeriodError, ValueError)


@pytest.mark.parametrize(
    ("year", "kind", "index"),
    [(2021, "week", 1), (2021, "half", 3), (2021, "year", 0), (1800, "year", 1), (2021, "day", 366),
     (2020, "day", 0)],
)
def test_constructor_validates(year, kind, index):
    with pytest.raises(PeriodError):
        Period(year, kind, index)


def test_kind_of():
    assert [kind_of(c) for c in ("2021", "2021H2", "2021Q3", "2021-07", "2021-07-15")] == list(KINDS)
    with pytest.raises(PeriodError):
        kind_of("2021-7")


# -- calendar ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "start", "end"),
    [
        ("2021", date(2021, 1, 1), date(2021, 12, 31)),
        ("2021H1", date(2021, 1, 1), date(2021, 6, 30)),
        ("2021H2", date(2021, 7, 1), date(2021, 12, 31)),
        ("2021Q3", date(2021, 7, 1), date(2021, 9, 30)),
        ("2020-02", date(2020, 2, 1), date(2020, 2, 29)),
        ("2021-02", date(2021, 2, 1), date(2021, 2, 28)),
        ("1900-02", date(1900, 2, 1), date(1900, 2, 28)),
    ],
)
def test_start_and_end_are_inclusive(code, start, end):
    assert (p(code).start, p(code).end) == (start, end)


def test_str_is_the_code():
    assert str(p("2021q2")) == "2021Q2"


@pytest.mark.parametrize(
    ("outer", "inner", "expected"),
    [
        ("2021", "2021H1", True),
        ("2021", "2021Q3", True),
        ("2021", "2021-07", True),
        ("2021H1", "2021Q2", True),
        ("2021H1", "2021-06", True),
        ("2021H1", "2021Q3", False),
        ("2021H1", "2021-07", False),
        ("2021Q2", "2021H1", False),
        ("2021", "2022-01", False),
        ("2021Q3", "2021Q3", True),
    ],
)
def test_contains(outer, inner, expected):
    assert p(outer).contains(p(inner)) is expected


# -- moving in time ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "before", "after"),
    [
        ("2021", "2020", "2022"),
        ("2021H1", "2020H2", "2021H2"),
        ("2021Q1", "2020Q4", "2021Q2"),
        ("2021-12", "2021-11", "2022-01"),
        ("2021-01", "2020-12", "2021-02"),
    ],
)
def test_previous_and_next(code, before, after):
    assert p(code).previous() == p(before)
    assert p(code).next() == p(after)


def test_prev_year():
    assert p("2021Q3").prev_year() == p("2020Q3")
    assert p("2021-07").prev_year().code == "2020-07"


def test_moving_past_the_supported_years_is_an_error():
    with pytest.raises(PeriodError):
        p("1900").prev_year()
    with pytest.raises(PeriodError):
        p("2100-12").next()
    with pytest.raises(PeriodError):
        p("1900Q1").previous()


# -- hierarchy --------------------------------------------------------------------------


def test_sub_periods():
    assert [x.code for x in p("2021H1").sub_periods("month")] == [
        "2021-01", "2021-02", "2021-03", "2021-04", "2021-05", "2021-06",
    ]  # fmt: skip
    assert [x.code for x in p("2021H2").sub_periods("quarter")] == ["2021Q3", "2021Q4"]
    assert [x.code for x in p("2021").sub_periods("half")] == ["2021H1", "2021H2"]
    assert [x.code for x in p("2021Q4").sub_periods("month")] == ["2021-10", "2021-11", "2021-12"]
    assert p("2021Q2").sub_periods("quarter") == [p("2021Q2")]


def test_sub_periods_of_a_longer_kind_is_an_error():
    with pytest.raises(PeriodError, match="no year periods"):
        p("2021H1").sub_periods("year")
    with pytest.raises(PeriodError, match="not one of"):
        p("2021").sub_periods("week")


@pytest.mark.parametrize(
    ("code", "kind", "parent"),
    [
        ("2021-07", "half", "2021H2"),
        ("2021-06", "half", "2021H1"),
        ("2021-07", "quarter", "2021Q3"),
        ("2021Q2", "half", "2021H1"),
        ("2021Q3", "year", "2021"),
        ("2021H1", "half", "2021H1"),
    ],
)
def test_parent(code, kind, parent):
    assert p(code).parent(kind) == p(parent)


def test_parent_of_a_shorter_kind_is_an_error():
    with pytest.raises(PeriodError, match="does not fit"):
        p("2021Q3").parent("month")


# -- ordering ---------------------------------------------------------------------------


def test_sorting_is_chronological_and_longer_first():
    codes = ["2021-02", "2021Q1", "2020", "2021-01", "2021H1", "2021", "2021H2", "2021Q3"]
    expected = ["2020", "2021", "2021H1", "2021Q1", "2021-01", "2021-02", "2021H2", "2021Q3"]
    assert [x.code for x in sorted(map(p, codes))] == expected
    assert [x.code for x in sorted(map(p, codes), key=Period.sort_key)] == expected


def test_comparison_with_other_types_is_refused():
    with pytest.raises(TypeError):
        _ = p("2021") < "2022"


# -- labels -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "vi", "en"),
    [
        ("2021", "Năm 2021", "2021"),
        ("2021H1", "6 tháng đầu năm 2021", "H1 2021"),
        ("2021H2", "6 tháng cuối năm 2021", "H2 2021"),
        ("2021Q1", "Quý I/2021", "Q1 2021"),
        ("2021Q3", "Quý III/2021", "Q3 2021"),
        ("2021Q4", "Quý IV/2021", "Q4 2021"),
        ("2021-07", "Tháng 7/2021", "July 2021"),
        ("2021-12", "Tháng 12/2021", "December 2021"),
    ],
)
def test_labels(code, vi, en):
    assert p(code).label("vi") == vi
    assert p(code).label("en") == en


def test_label_defaults_to_vietnamese_and_refuses_other_languages():
    assert p("2021Q2").label() == "Quý II/2021"
    with pytest.raises(ValueError, match="'fr'"):
        p("2021").label("fr")


# -- ranges -----------------------------------------------------------------------------


def test_period_range():
    assert [x.code for x in period_range("2020Q3", "2021Q2")] == [
        "2020Q3", "2020Q4", "2021Q1", "2021Q2",
    ]  # fmt: skip
    assert [x.code for x in period_range("2021-11", "2022-02")] == [
        "2021-11", "2021-12", "2022-01", "2022-02",
    ]  # fmt: skip
    assert period_range("2021", "2021") == [p("2021")]


def test_period_range_errors():
    with pytest.raises(PeriodError, match="same kind"):
        period_range("2021", "2022Q1")
    with pytest.raises(PeriodError, match="after end"):
        period_range("2022H1", "2021H2")
    with pytest.raises(PeriodError, match="'2021-7'"):
        period_range("2021-7", "2021-09")


# -- Polars -----------------------------------------------------------------------------


def test_prev_year_expr():
    frame = pl.DataFrame({"period": ["2021", "2021H1", "2000Q3", "2021-07", "1900-01", None]})
    result = frame.select(prev_year_expr("period").alias("before"))["before"].to_list()
    assert result == ["2020", "2020H1", "1999Q3", "2020-07", "1899-01", None]


@given(st.lists(periods(min_year=MIN_YEAR + 1), max_size=30))
def test_prev_year_expr_agrees_with_prev_year(sample):
    frame = pl.DataFrame({"p": [x.code for x in sample]}, schema={"p": pl.String})
    assert frame.select(prev_year_expr("p"))["p"].to_list() == [x.prev_year().code for x in sample]


# -- properties -------------------------------------------------------------------------


@given(periods())
def test_code_round_trips(period):
    assert parse_period(period.code) == period
    assert parse_period(period.code.lower()) == period


@given(periods(min_year=MIN_YEAR + 1))
def test_prev_year_then_a_year_later_round_trips(period):
    before = period.prev_year()
    if period.kind == "day":  # the same month and day (29 February: the 28th)
        start = period.start
        assert (before.year, before.start.month) == (period.year - 1, start.month)
        if (start.month, start.day) != (2, 29):
            assert before.start.day == start.day and before.shift_years(1) == period
        else:
            assert before.start.day == 28
        return
    assert before.shift_years(1) == period
    assert (before.kind, before.index, before.year) == (period.kind, period.index, period.year - 1)


def test_days_in_leap_years():
    assert p("2020-02-29").prev_year().code == "2019-02-28"
    assert p("2021-03-01").prev_year().code == "2020-03-01"  # not the 60th day of 2020
    assert [d.code for d in p("2020-02").sub_periods("day")][-2:] == ["2020-02-28", "2020-02-29"]
    assert p("2021-12-31").next().code == "2022-01-01" and p("2021-07-15").parent("half").code == "2021H2"
    assert p("2021-07-15").label("vi") == "Ngày 15/7/2021" and p("2021-07-15").label("en") == "15 July 2021"
    with pytest.raises(PeriodError):
        p("2021-07-15").sub_periods("month")


@given(periods(), periods())
def test_contains_agrees_with_start_and_end(a, b):
    assert a.contains(b) == (a.start <= b.start and b.end <= a.end)


@given(periods(max_year=MAX_YEAR - 1))
def test_next_starts_the_day_after_the_end(period):
    assert period.next().start == period.end + timedelta(days=1)
    assert period.next().previous() == period


@given(periods(), st.sampled_from(KINDS))
def test_sub_periods_tile_their_parent(period, kind):
    if PER_YEAR[kind] < PER_YEAR[period.kind]:
        return
    parts = period.sub_periods(kind)
    assert parts[0].start == period.start and parts[-1].end == period.end
    assert all(x.next() == y for x, y in pairwise(parts))
    assert all(part.parent(period.kind) == period for part in parts)


@given(periods(), periods())
def test_order_agrees_with_start_then_length(a, b):
    assert (a < b) == ((a.start, -(a.end - a.start)) < (b.start, -(b.end - b.start)))
