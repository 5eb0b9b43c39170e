"""Reporting periods in DHIS2's vocabulary: years, halves, quarters, months and days.

The ministry reports by year, by half-year ("6 tháng đầu năm"), by quarter and by month,
and almost every figure is compared with the same period of the year before; operational
series (spam detected, reports received) are also kept by day. A period is stored
everywhere (observations, targets, URLs, exports) as its canonical code:

    year     2021
    half     2021H1, 2021H2
    quarter  2021Q1 .. 2021Q4
    month    2021-01 .. 2021-12
    day      2021-01-01 .. 2021-12-31 (ISO 8601 dates)

The same day a year before is the same month and day (29 February has none: its previous
year is 28 February).

Parsing is strict on purpose: a code that is almost right ("2021-7", "2021/07",
"H1 2021") is refused with a message rather than guessed, because a guessed period puts a
figure in the wrong column of a review without anyone noticing. The one leniency is case:
"2021h1" and "2021q3" are accepted and canonicalised to "2021H1" and "2021Q3", since a
lower-case letter cannot be mistaken for another period. Years run from 1900 to 2100.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import total_ordering

import polars as pl

__all__ = [
    "KINDS",
    "MAX_YEAR",
    "MIN_YEAR",
    "Period",
    "PeriodError",
    "kind_of",
    "parse_period",
    "period_range",
    "prev_year_expr",
]

MIN_YEAR = 1900
MAX_YEAR = 2100

# Longest first: the position in this tuple breaks ties between periods that start together.
KINDS = ("year", "half", "quarter", "month", "day")
# months in a period of each kind; a day is handled on its own (see `_is_day`)
_MONTHS = {"year": 12, "half": 6, "quarter": 3, "month": 1}

_FORMS = "use 2021, 2021H1, 2021Q3, 2021-07 or 2021-07-15"
# [0-9] rather than \d: \d also matches Arabic-Indic and other Unicode digits.
_CODE = re.compile(
    r"(?P<year>[0-9]{4})(?:(?P<letter>[HhQq])(?P<part>[0-9])"
    r"|-(?P<month>0[1-9]|1[0-2])(?:-(?P<day>[0-9]{2}))?)?"
)

_ROMAN = ("I", "II", "III", "IV")
_MONTH_NAMES_EN = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


class PeriodError(ValueError):
    """A period code or operation that makes no sense; the message is meant for the user."""


@total_ordering
@dataclass(frozen=True)
class Period:
    """One reporting period; build it with `parse_period` rather than by hand.

    Periods sort chronologically by start date and, among periods that start on the same
    day, the longer one first (2021, 2021H1, 2021Q1, 2021-01), which is the order a review
    table lists them in.
    """

    year: int
    kind: str
    index: int  # 1-based position within the year (a day: its day of the year); 1 for a year

    def __post_init__(self) -> None:
        _check_kind(self.kind)
        if not MIN_YEAR <= self.year <= MAX_YEAR:
            raise PeriodError(f"period year {self.year} is outside {MIN_YEAR}..{MAX_YEAR}")
        if not 1 <= self.index <= _per_year(self.kind, self.year):
            raise PeriodError(
                f"a year has {_per_year(self.kind, self.year)} {self.kind} period(s), not {self.index}"
            )

    # -- identity ---------------------------------------------------------------------

    @property
    def code(self) -> str:
        """The canonical code, the only form stored or shown in URLs and exports."""
        if self.kind == "year":
            return str(self.year)
        if self.kind == "month":
            return f"{self.year}-{self.index:02d}"
        if self.kind == "day":
            return self.start.isoformat()
        return f"{self.year}{'H' if self.kind == 'half' else 'Q'}{self.index}"

    def __str__(self) -> str:
        return self.code

    def sort_key(self) -> tuple[int, int, int, int]:
        """Chronological, and longer first for the same start (usable as `key=Period.sort_key`)."""
        start = self.start
        return (self.year, start.month, start.day, KINDS.index(self.kind))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return self.sort_key() < other.sort_key()

    # -- calendar ---------------------------------------------------------------------

    @property
    def start(self) -> date:
        """First day of the period."""
        if self.kind == "day":
            return date(self.year, 1, 1) + timedelta(days=self.index - 1)
        return date(self.year, self._first_month, 1)

    @property
    def end(self) -> date:
        """Last day of the period (inclusive)."""
        if self.kind == "day":
            return self.start
        last_month = self._first_month + _MONTHS[self.kind] - 1
        return date(self.year, last_month, calendar.monthrange(self.year, last_month)[1])

    def contains(self, other: Period) -> bool:
        """Whether `other` lies wholly inside this period; a period contains itself."""
        return self.start <= other.start and other.end <= self.end

    # -- moving in time ---------------------------------------------------------------

    def shift_years(self, years: int) -> Period:
        """The same part of another year (2021Q3 shifted by -1 is 2020Q3; a day keeps its month
        and day, 29 February becoming 28 February in a common year)."""
        if self.kind == "day":
            d, year = self.start, self.year + years
            day = min(d.day, calendar.monthrange(year, d.month)[1])
            return _day(date(year, d.month, day))
        return Period(self.year + years, self.kind, self.index)

    def prev_year(self) -> Period:
        """The same period a year before: the baseline of every growth figure."""
        return self.shift_years(-1)

    def previous(self) -> Period:
        """The period just before, of the same kind (2021Q1 -> 2020Q4)."""
        return _from_ordinal(self.kind, self._ordinal - 1)

    def next(self) -> Period:
        """The period just after, of the same kind (2021-12 -> 2022-01)."""
        return _from_ordinal(self.kind, self._ordinal + 1)

    # -- hierarchy --------------------------------------------------------------------

    def sub_periods(self, kind: str) -> list[Period]:
        """The periods of a shorter (or the same) kind that make up this one, in order."""
        _check_kind(kind)
        if kind == "day":
            first = self.start.toordinal()
            return [_day(date.fromordinal(n)) for n in range(first, self.end.toordinal() + 1)]
        if self.kind == "day" or _MONTHS[kind] > _MONTHS[self.kind]:
            raise PeriodError(f"a {self.kind} ({self.code}) has no {kind} periods inside it")
        first = (self._first_month - 1) // _MONTHS[kind] + 1
        count = _MONTHS[self.kind] // _MONTHS[kind]
        return [Period(self.year, kind, i) for i in range(first, first + count)]

    def parent(self, kind: str) -> Period:
        """The period of a longer (or the same) kind that contains this one."""
        _check_kind(kind)
        if kind == "day" and self.kind == "day":
            return self
        if kind == "day" or (self.kind != "day" and _MONTHS[kind] < _MONTHS[self.kind]):
            raise PeriodError(f"a {self.kind} ({self.code}) does not fit inside a {kind}")
        return Period(self.year, kind, (self._first_month - 1) // _MONTHS[kind] + 1)

    # -- display ----------------------------------------------------------------------

    def label(self, lang: str = "vi") -> str:
        """How a review writes the period: vi "Quý III/2021", en "Q3 2021"."""
        if lang == "vi":
            return self._label_vi()
        if lang == "en":
            return self._label_en()
        raise ValueError(f"label language {lang!r} is not supported; use 'vi' or 'en'")

    def _label_vi(self) -> str:
        if self.kind == "year":
            return f"Năm {self.year}"
        if self.kind == "half":
            return f"6 tháng {'đầu' if self.index == 1 else 'cuối'} năm {self.year}"
        if self.kind == "quarter":
            return f"Quý {_ROMAN[self.index - 1]}/{self.year}"
        if self.kind == "day":
            d = self.start
            return f"Ngày {d.day}/{d.month}/{self.year}"
        return f"Tháng {self.index}/{self.year}"

    def _label_en(self) -> str:
        if self.kind == "year":
            return str(self.year)
        if self.kind == "month":
            return f"{_MONTH_NAMES_EN[self.index - 1]} {self.year}"
        if self.kind == "day":
            d = self.start
            return f"{d.day} {_MONTH_NAMES_EN[d.month - 1]} {self.year}"
        return f"{'H' if self.kind == 'half' else 'Q'}{self.index} {self.year}"

    # -- arithmetic helpers -----------------------------------------------------------

    @property
    def _first_month(self) -> int:
        if self.kind == "day":
            return self.start.month
        return (self.index - 1) * _MONTHS[self.kind] + 1

    @property
    def _ordinal(self) -> int:
        """Periods of one kind counted from year 0, so stepping is plain integer arithmetic."""
        if self.kind == "day":
            return self.start.toordinal()
        return self.year * _per_year(self.kind) + self.index - 1


def _per_year(kind: str, year: int = 2001) -> int:
    if kind == "day":
        return 366 if calendar.isleap(year) else 365
    return 12 // _MONTHS[kind]


def _day(d: date) -> Period:
    return Period(d.year, "day", d.timetuple().tm_yday)


def _from_ordinal(kind: str, ordinal: int) -> Period:
    if kind == "day":
        return _day(date.fromordinal(ordinal))
    year, offset = divmod(ordinal, _per_year(kind))
    return Period(year, kind, offset + 1)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise PeriodError(f"period kind {kind!r} is not one of {', '.join(KINDS)}")


def parse_period(text: str) -> Period:
    """Read a period code strictly (see the module docstring); surrounding spaces are ignored."""
    if not isinstance(text, str):
        raise PeriodError(f"period: {text!r} is a {type(text).__name__}, not text; {_FORMS}")
    match = _CODE.fullmatch(text.strip())
    if match is None:
        raise PeriodError(f"period: {text!r} is not a period; {_FORMS}")
    year = int(match["year"])
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise PeriodError(f"period: {text!r} has a year outside {MIN_YEAR}..{MAX_YEAR}")
    if match["day"]:
        try:
            return _day(date(year, int(match["month"]), int(match["day"])))
        except ValueError:
            raise PeriodError(f"period: {text!r} is not a date of the calendar; {_FORMS}") from None
    if match["month"]:
        return Period(year, "month", int(match["month"]))
    if match["letter"] is None:
        return Period(year, "year", 1)
    kind = "half" if match["letter"] in "Hh" else "quarter"
    part = int(match["part"])
    if not 1 <= part <= _per_year(kind):
        raise PeriodError(f"period: {text!r} is not a period; {_FORMS}")
    return Period(year, kind, part)


def kind_of(code: str) -> str:
    """The kind of a period code ("2021Q3" -> "quarter"), validating it on the way."""
    return parse_period(code).kind


def period_range(start: str, end: str) -> list[Period]:
    """Every period from `start` to `end` inclusive; both must be of the same kind.

    A start after the end is an error rather than an empty list: it is nearly always the
    two bounds typed the wrong way round.
    """
    first, last = parse_period(start), parse_period(end)
    if first.kind != last.kind:
        raise PeriodError(
            f"period range: {first.code} is a {first.kind} and {last.code} is a {last.kind};"
            " both ends must be of the same kind"
        )
    if last._ordinal < first._ordinal:
        raise PeriodError(f"period range: start {first.code} is after end {last.code}")
    return [_from_ordinal(first.kind, n) for n in range(first._ordinal, last._ordinal + 1)]


def prev_year_expr(col: str) -> pl.Expr:
    """Canonical code of the same period a year before, for a column of canonical codes.

    Every canonical code starts with its four-digit year, so shifting a year is string
    slicing and one integer subtraction, evaluated by Polars without Python per row. Nulls
    stay null; 1900's predecessor comes out as 1899, a code that simply matches no data.
    The column must hold canonical codes (a non-numeric prefix makes Polars raise).
    """
    column = pl.col(col)
    year_before = (column.str.head(4).cast(pl.Int32) - 1).cast(pl.String)
    rest = column.str.slice(4)
    # 29 February's year before is a common year: its 28 February (the year before a leap
    # year never is one)
    rest = pl.when(rest == "-02-29").then(pl.lit("-02-28")).otherwise(rest)
    return pl.concat_str([year_before, rest])
