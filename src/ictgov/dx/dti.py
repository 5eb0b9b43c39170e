"""The provincial (and ministerial) digital-transformation index, DTI.

Input: for each area and year, the value in [0, 1] of every main indicator of an ``index``
framework (``dti-2022``: awareness, institutions, ... digital_society). Output per area and
year: the index Σ value × points / total, its rank among the areas of that year (ties share
a rank), each pillar group's score, the change against the previous year when the input
has it, and the rank interval under perturbed weights (``uncertainty``).

The index is computed in decimal arithmetic from the values as written, and rounded half up
to the framework's published precision, so a published figure is reproduced digit for
digit (Bắc Ninh 2020: 0.4 × 0.4449 + 0.3 × 0.3668 + 0.3 × 0.4052 = 0.40956 -> 0.4096).

``read_csv`` checks a whole file and reports every bad line at once (missing column, value
outside [0, 1], unknown area, duplicate area-year), matching area names as the ministry's
tables write them through the stats service's area resolver.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from typing import Any, Protocol

import numpy as np

from ictgov.dx.framework import IndexFramework
from ictgov.dx.uncertainty import competition_ranks, rank_intervals
from ictgov.jobs import progress
from ictgov.text import fold

__all__ = [
    "DtiArea",
    "DtiInputError",
    "DtiResult",
    "DtiRow",
    "LineError",
    "compute",
    "group_scores",
    "index_value",
    "read_csv",
    "reference_resolver",
    "rows_from_values",
    "run",
]

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
_AREA_HEADERS = ("area", "province", "ministry", "tinh", "tinh thanh pho", "tinh tp", "dia phuong",
                 "don vi", "ten tinh", "ten don vi", "ma tinh", "code", "gso code")
_YEAR_HEADERS = ("year", "nam")
# An optional column with the published index, checked against the computed one.
_PUBLISHED_HEADERS = ("dti", "index", "chi so", "chi so dti", "published")


class _Resolver(Protocol):
    def resolve(self, text: str, on: date) -> Any: ...


# -- errors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineError:
    line: int | None  # line of the file, header = 1; None for the file as a whole
    column: str | None
    message: str
    value: str | None = None

    def __str__(self) -> str:
        where = "file" if self.line is None else f"line {self.line}"
        if self.column:
            where += f", {self.column}"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message, "value": self.value}


class DtiInputError(ValueError):
    """A file that cannot be used as it is; ``errors`` lists every bad line."""

    def __init__(self, errors: list[LineError], source: str = ""):
        self.errors = errors
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(f"{head}{len(errors)} error(s)\n" + "\n".join(str(e) for e in errors[:100]))

    @property
    def unknown_areas(self) -> list[str]:
        """The area names that matched nothing, in file order, each once."""
        seen: dict[str, None] = {}
        for e in self.errors:
            if e.column == "area" and e.value is not None and "unknown area" in e.message:
                seen.setdefault(e.value)
        return list(seen)


# -- areas -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def reference_resolver():
    """An AreaResolver over the bundled reference areas, without the application database.

    The CLI reads a CSV before any database exists; the same resolver class, over an
    in-memory copy of the reference areas, gives the same matches the importer gives.
    A web request should pass ``AreaResolver(session)`` instead, which also sees the
    aliases an administrator added.
    """
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from ictgov.db import Base
    from ictgov.stats.areas import AreaResolver, load_reference_areas
    from ictgov.stats.models import Area, AreaSuccession

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[Area.__table__, AreaSuccession.__table__])
    session = Session(engine)  # kept open for the life of the resolver's Area objects
    load_reference_areas(session)
    return AreaResolver(session)


def _on(year: int) -> date:
    # The index describes what a unit reached by the end of the year, and is published the
    # year after for the units then in force; so the year's last day picks the unit
    # (a province merged on 2025-07-01 is refused for 2025 with the unit it merged into).
    return date(year, 12, 31)


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DtiRow:
    line: int
    area_input: str
    area_code: str
    area_name: str
    year: int
    values: dict[str, Decimal | None]  # indicator code -> value in [0, 1]; None: not given (unscored only)
    published: Decimal | None = None


def _decimal(text: str) -> Decimal | None:
    s = text.strip().replace("\u00a0", "").replace(" ", "")
    if not s:
        return None
    if "," in s and "." not in s and s.count(",") == 1:
        s = s.replace(",", ".")  # Vietnamese decimal comma: "0,4449"
    try:
        d = Decimal(s)
    except InvalidOperation:
        raise ValueError(f"{text.strip()!r} is not a number") from None
    if not d.is_finite():
        raise ValueError(f"{text.strip()!r} is not a finite number")
    return d


def _year(text: str) -> int | None:
    """2022, or 2022.0 as a spreadsheet writes it; None for anything else."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() and 1990 <= value <= 2100 else None


def _header(names: list[str], fw: IndexFramework) -> tuple[dict[int, str], list[LineError]]:
    lookup: dict[str, str] = {}
    for alias in _AREA_HEADERS:
        lookup[alias] = "area"
    for alias in _YEAR_HEADERS:
        lookup[alias] = "year"
    for alias in _PUBLISHED_HEADERS:
        lookup[alias] = "published"
    for ind in fw.indicators:
        for alias in (ind.code, ind.name.vi, ind.name.en):
            lookup[fold(alias)] = ind.code
    mapping: dict[int, str] = {}
    errors: list[LineError] = []
    expected = ", ".join(["area", "year", *(i.code for i in fw.indicators)])
    for i, raw in enumerate(names):
        key = fold(raw or "")
        if not key:
            continue
        canon = lookup.get(key)
        if canon is None:
            errors.append(LineError(1, raw, f"unknown column {raw!r}; {fw.ref} takes {expected}"))
        elif canon in mapping.values():
            errors.append(LineError(1, raw, f"column {canon!r} appears twice"))
        else:
            mapping[i] = canon
    required = ["area", "year", *(i.code for i in fw.scored)]
    for col in required:
        if col not in mapping.values():
            errors.append(LineError(1, col, f"missing column {col!r}; {fw.ref} takes {expected}"))
    return mapping, errors


def read_csv(data: bytes | str, framework: IndexFramework, *, resolver: _Resolver | None = None,
             source: str = "") -> list[DtiRow]:
    """Rows of a CSV (``area,year,<indicator codes>``), checked whole; raises DtiInputError.

    The delimiter may be a comma, a semicolon or a tab; values may use a decimal comma when
    the delimiter is not a comma. Columns of indicators that carry no points may be left out.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_BYTES:
            raise DtiInputError([LineError(None, None, f"larger than {MAX_BYTES // (1024 * 1024)} MB")], source)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DtiInputError([LineError(None, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")],
                                source) from None
    else:
        text = data.lstrip("\ufeff")
    if not text.strip():
        raise DtiInputError([LineError(None, None, "empty file")], source)
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(reader)
    mapping, errors = _header(header, framework)
    if errors:
        raise DtiInputError(errors, source)
    resolver = resolver or reference_resolver()
    indicators = {i.code: i for i in framework.indicators}
    rows: list[DtiRow] = []
    seen: dict[tuple[str, int], int] = {}
    start = reader.line_num + 1
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            errors.append(LineError(line, None, f"more than {MAX_ROWS} rows"))
            break
        if len(cells) > len(header):
            errors.append(LineError(line, None, f"{len(cells)} fields, the header has {len(header)}"))
            continue
        cell = {mapping[i]: c for i, c in enumerate(cells) if i in mapping}
        row_errors: list[LineError] = []

        year_text = cell.get("year", "").strip()
        year = _year(year_text)
        if year is None:
            row_errors.append(LineError(line, "year", f"year must be a year such as 2022, not {year_text!r}",
                                        year_text))

        values: dict[str, Decimal | None] = {}
        for code, ind in indicators.items():
            raw = cell.get(code, "")
            try:
                v = _decimal(raw)
            except ValueError as exc:
                row_errors.append(LineError(line, code, str(exc), raw))
                continue
            if v is None:
                if ind.points > 0:
                    row_errors.append(LineError(line, code, "missing value (a value in [0, 1] is required)"))
                values[code] = None
                continue
            if not 0 <= v <= 1:
                hint = "; percentages are written as fractions (44.49 % is 0.4449)" if 1 < v <= 100 else ""
                row_errors.append(LineError(line, code, f"value {raw.strip()} is outside [0, 1]{hint}", raw))
                continue
            values[code] = v
        published = None
        if cell.get("published", "").strip():
            try:
                published = _decimal(cell["published"])
            except ValueError as exc:
                row_errors.append(LineError(line, "published", str(exc), cell["published"]))

        area_text = cell.get("area", "").strip()
        area = None
        if not area_text:
            row_errors.append(LineError(line, "area", "missing area"))
        elif year is not None:
            area, area_error = _resolve(resolver, area_text, year, framework.unit)
            if area_error:
                row_errors.append(LineError(line, "area", area_error, area_text))
        if area is not None and year is not None:
            key = (area.code, year)
            if key in seen:
                row_errors.append(LineError(line, "area", f"{area.name} ({area.code}) {year} is already on "
                                            f"line {seen[key]}", area_text))
            else:
                seen[key] = line
        if row_errors:
            errors.extend(row_errors)
            continue
        rows.append(DtiRow(line, area_text, area.code, area.name, year, values, published))
    if errors:
        raise DtiInputError(errors, source)
    if not rows:
        raise DtiInputError([LineError(None, None, "no data rows")], source)
    return rows


def _resolve(resolver: _Resolver, text: str, year: int, unit: str) -> tuple[Any, str | None]:
    from ictgov.stats.areas import AreaError

    try:
        area = resolver.resolve(text, _on(year))
    except AreaError as exc:
        return None, str(exc)
    if area.level != unit:
        return None, f"area: {text!r} is {area.name} ({area.code}), a {area.level}, not a {unit}"
    return area, None


# -- computing -------------------------------------------------------------------------------


def _round(x: Decimal, places: int) -> Decimal:
    return x.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _dec(x: Fraction | Decimal | float) -> Decimal:
    if isinstance(x, Fraction):
        return Decimal(x.numerator) / Decimal(x.denominator)
    return x if isinstance(x, Decimal) else Decimal(str(x))


def index_value(framework: IndexFramework, values: Mapping[str, Decimal | float | None]) -> Decimal:
    """Σ value × points / total, exact (not rounded); unscored indicators may be absent."""
    total = sum((_dec(values[i.code]) * _dec(i.points) for i in framework.scored), Decimal(0))
    return total / _dec(framework.total)


def group_scores(framework: IndexFramework, values: Mapping[str, Decimal | float | None]) -> dict[str, Decimal]:
    """Each group's points earned over its maximum, in [0, 1], exact."""
    out = {}
    for g in framework.groups:
        earned = sum((_dec(values[i.code]) * _dec(i.points)
                      for i in framework.group_indicators(g.code) if i.points > 0), Decimal(0))
        out[g.code] = earned / _dec(g.points)
    return out


@dataclass
class DtiArea:
    line: int | None
    area_code: str
    area_name: str
    area_input: str
    year: int
    values: dict[str, Decimal | None]
    index_exact: Decimal
    index: Decimal  # rounded to the framework's precision; ranks are taken on this
    groups: dict[str, Decimal]  # rounded like the index
    rank: int = 0
    previous_index: Decimal | None = None
    change: Decimal | None = None
    change_pct: float | None = None
    previous_rank: int | None = None
    rank_change: int | None = None  # positive: moved up
    rank_low: int | None = None
    rank_high: int | None = None
    rank_median: float | None = None
    published: Decimal | None = None
    published_differs: bool = False
    group: str = ""  # the ranking group (ministries: with or without public services)

    def as_dict(self) -> dict[str, Any]:
        def f(x):
            return None if x is None else float(x)
        return {
            "line": self.line, "area": self.area_code, "area_name": self.area_name,
            "area_input": self.area_input, "year": self.year, "index": f(self.index),
            "index_exact": f(self.index_exact), "rank": self.rank,
            "rank_interval": None if self.rank_low is None else [self.rank_low, self.rank_high],
            "rank_median": self.rank_median,
            "groups": {k: f(v) for k, v in self.groups.items()},
            "values": {k: f(v) for k, v in self.values.items()},
            "previous_index": f(self.previous_index), "change": f(self.change), "change_pct": self.change_pct,
            "previous_rank": self.previous_rank, "rank_change": self.rank_change,
            "published": f(self.published), "published_differs": self.published_differs,
            "group": self.group,
        }


@dataclass
class DtiResult:
    framework: dict[str, Any]  # id, version, digest
    areas: list[DtiArea]  # by year, then rank, then code
    uncertainty: dict[str, Any] | None  # draws, perturb, seed, interval; None when not run
    averages: dict[int, Decimal] = field(default_factory=dict)  # mean index per year

    @property
    def years(self) -> list[int]:
        return sorted({a.year for a in self.areas})

    def year(self, year: int) -> list[DtiArea]:
        return [a for a in self.areas if a.year == year]

    def as_dict(self) -> dict[str, Any]:
        return {"framework": self.framework, "uncertainty": self.uncertainty,
                "averages": {str(y): float(v) for y, v in self.averages.items()},
                "areas": [a.as_dict() for a in self.areas]}


def compute(framework: IndexFramework, rows: Iterable[DtiRow], *, draws: int = 1000, perturb: float = 0.2,
            seed: int | None = 0, interval: float = 0.9) -> DtiResult:
    """Index, rank, groups, change on the previous year and rank interval of every row.

    Ranks and rank intervals are taken among the areas of the same year and, for ministries,
    the same group (with or without public services, as the ministry publishes them).
    `draws=0` skips the uncertainty run. The default seed makes the printed intervals the same
    on every run.
    """
    p = framework.precision
    groups = _ranking_groups(framework)
    by_year: dict[tuple[int, str], list[DtiArea]] = defaultdict(list)
    for r in rows:
        exact = index_value(framework, r.values)
        rounded = _round(exact, p)
        published_differs = r.published is not None and abs(r.published - rounded) > Decimal(1).scaleb(-p) / 2
        group = groups.get(r.area_code, "")
        by_year[(r.year, group)].append(DtiArea(
            line=r.line, area_code=r.area_code, area_name=r.area_name, area_input=r.area_input, year=r.year,
            values=dict(r.values), index_exact=exact, index=rounded,
            groups={k: _round(v, p) for k, v in group_scores(framework, r.values).items()},
            published=r.published, published_differs=published_differs, group=group))

    weights = np.array([float(i.points) for i in framework.scored])
    for done, ((year, _group), areas) in enumerate(by_year.items()):
        progress(0.1 + 0.85 * done / len(by_year), f"{year}: {draws} draws" if draws else str(year))
        ranks = competition_ranks(np.array([float(a.index) for a in areas]))
        for a, rank in zip(areas, ranks, strict=True):
            a.rank = int(rank)
        if draws and len(areas) > 1:
            matrix = np.array([[float(a.values[i.code]) for i in framework.scored] for a in areas])
            ri = rank_intervals(matrix, weights, draws=draws, perturb=perturb, seed=seed, interval=interval,
                                decimals=p)
            for a, lo, hi, med in zip(areas, ri.low, ri.high, ri.median, strict=True):
                a.rank_low, a.rank_high, a.rank_median = int(lo), int(hi), float(med)
        areas.sort(key=lambda a: (a.rank, a.area_code))

    previous = {(a.area_code, a.year): a for areas in by_year.values() for a in areas}
    for areas in by_year.values():
        for a in areas:
            before = previous.get((a.area_code, a.year - 1))
            if before is None:
                continue
            a.previous_index, a.previous_rank = before.index, before.rank
            a.change = a.index - before.index
            a.change_pct = round(float(a.change / before.index * 100), 2) if before.index else None
            a.rank_change = before.rank - a.rank

    per_year: dict[int, list[DtiArea]] = defaultdict(list)
    for (year, _group), areas in sorted(by_year.items(), key=lambda kv: (kv[0][0], group_order(kv[0][1]))):
        per_year[year].extend(areas)
    averages = {y: _round(sum((a.index for a in areas), Decimal(0)) / len(areas), p)
                for y, areas in sorted(per_year.items())}
    settings = ({"draws": draws, "perturb": perturb, "seed": seed, "interval": interval} if draws else None)
    return DtiResult(framework=framework.identity(),
                     areas=[a for y in sorted(per_year) for a in per_year[y]],
                     uncertainty=settings, averages=averages)


# the order the ministry publishes its groups in; a unit without a group comes last
RANKING_GROUPS = ("public_services", "no_public_services", "")


def group_order(group: str) -> int:
    return RANKING_GROUPS.index(group) if group in RANKING_GROUPS else len(RANKING_GROUPS)


def _ranking_groups(framework: IndexFramework) -> dict[str, str]:
    if framework.unit != "ministry":
        return {}
    from ictgov.stats.areas import dti_groups

    return dti_groups()


def run(data: bytes | str, framework: IndexFramework, *, resolver: _Resolver | None = None, source: str = "",
        **options: Any) -> DtiResult:
    """read_csv then compute: what the CLI, the API and the upload page call."""
    return compute(framework, read_csv(data, framework, resolver=resolver, source=source), **options)


def rows_from_values(framework: IndexFramework, records: Sequence[Mapping[str, Any]]) -> list[DtiRow]:
    """Rows from already-resolved records {area_code, area_name, year, <indicator>: value} (e.g. the database)."""
    out = []
    for n, rec in enumerate(records, start=1):
        values = {i.code: (None if rec.get(i.code) is None else Decimal(str(rec[i.code])))
                  for i in framework.indicators}
        missing = [i.code for i in framework.scored if values[i.code] is None]
        bad = [i.code for i in framework.indicators if values[i.code] is not None and not 0 <= values[i.code] <= 1]
        if missing or bad:
            raise DtiInputError([LineError(n, c, "missing value") for c in missing]
                                + [LineError(n, c, "value outside [0, 1]", str(rec[c])) for c in bad])
        out.append(DtiRow(n, str(rec.get("area_name") or rec["area_code"]), str(rec["area_code"]),
                          str(rec.get("area_name") or rec["area_code"]), int(rec["year"]), values))
    return out
