"""Importing observations: CSV, XLSX or JSON in the long format, one file = one transaction.

Columns: indicator, area, period, value, unit, source, and optionally status and note
(Vietnamese headers such as "chỉ tiêu", "địa bàn", "kỳ", "giá trị" are read too). The
whole file is checked before anything is written; any bad row rejects the file, and the
error report lists every bad row and column with the reason, not just the first — the
thing users of SDMX loaders complain about most is fixing one error per attempt.

A value for a key (element, area, period) that already has one becomes a new revision;
re-importing the same file changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.audit import record
from ictgov.jobs import progress
from ictgov.stats.areas import AreaError, AreaResolver
from ictgov.stats.indicators import Catalog
from ictgov.stats.models import STATUSES, DataElement, ImportBatch, Observation
from ictgov.stats.numbers import NUMBER_FORMATS, NumberError, parse_number
from ictgov.stats.periods import PeriodError, parse_period
from ictgov.stats.units import conversion_factor
from ictgov.text import fold, normalize, slugify

REQUIRED = ("indicator", "area", "period", "value", "unit", "source")
OPTIONAL = ("status", "note")
HEADER_ALIASES = {
    "indicator": ("indicator", "chi tieu", "data element", "element"),
    "area": ("area", "dia ban", "don vi hanh chinh", "tinh", "org unit"),
    "period": ("period", "ky", "ky bao cao", "thoi gian"),
    "value": ("value", "gia tri", "so lieu"),
    "unit": ("unit", "don vi", "don vi tinh", "dvt"),
    "source": ("source", "nguon"),
    "status": ("status", "trang thai", "tinh trang"),
    "note": ("note", "ghi chu"),
}
STATUS_ALIASES = {
    "final": "final", "chinh thuc": "final", "": "final",
    "provisional": "provisional", "preliminary": "provisional", "so bo": "provisional",
    "estimate": "estimate", "estimated": "estimate", "uoc tinh": "estimate", "du kien": "estimate",
    "approximate": "approximate", "approx": "approximate", "khoang": "approximate",
    "xap xi": "approximate", "lower bound": "lower_bound", "lower_bound": "lower_bound",
    "over": "lower_bound", "tren": "lower_bound", "hon": "lower_bound",
}
FORMATS = ("csv", "xlsx", "json")
# A CSV may declare its notation on a first line: "# number_format: vi".
DIRECTIVE = re.compile(r"^\s*#\s*number_format\s*[:=]\s*(\w+)\s*$", re.I)


@dataclass
class RowError:
    row: int | None  # line of the file (header = 1), sheet row, or item number; None = whole file
    column: str | None
    message: str
    value: str | None = None

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        if self.column:
            where += f", {self.column}"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message, "value": self.value}


class ImportRejected(ValueError):
    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(f"import rejected: {len(errors)} error(s); nothing was written\n"
                         + "\n".join(str(e) for e in errors[:50]))


@dataclass
class RawRow:
    row: int
    cells: dict[str, Any]


@dataclass
class ParsedFile:
    rows: list[RawRow]
    number_format: str
    file_format: str


@dataclass
class ImportReport:
    batch_id: int | None
    rows: int
    created: int = 0
    revised: int = 0
    unchanged: int = 0
    new_elements: list[dict[str, str]] = field(default_factory=list)
    converted: int = 0
    violations: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# -- reading ----------------------------------------------------------------------------


def detect_format(filename: str) -> str:
    ext = Path(filename).suffix.lower().lstrip(".")
    if ext in FORMATS:
        return ext
    raise ImportRejected([RowError(None, None, f"file: {filename!r} is not .csv, .xlsx or .json")])


def _map_header(names: list[Any]) -> tuple[dict[int, str], list[RowError]]:
    lookup = {fold(alias): canon for canon, aliases in HEADER_ALIASES.items() for alias in aliases}
    mapping: dict[int, str] = {}
    errors: list[RowError] = []
    for i, name in enumerate(names):
        key = fold(str(name or ""))
        if not key:
            continue
        canon = lookup.get(key)
        if canon is None:
            errors.append(RowError(1, str(name), f"unknown column {name!r}; columns are "
                                   + ", ".join(REQUIRED + OPTIONAL)))
        elif canon in mapping.values():
            errors.append(RowError(1, str(name), f"column {canon!r} appears twice"))
        else:
            mapping[i] = canon
    for col in REQUIRED:
        if col not in mapping.values():
            errors.append(RowError(1, col, f"missing column {col!r}"))
    return mapping, errors


def _read_csv(data: bytes, number_format: str | None) -> ParsedFile:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected([RowError(None, None, f"file: not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None
    lines = text.splitlines(keepends=True)
    offset = 0
    while lines and (m := DIRECTIVE.match(lines[0])):
        number_format = number_format or m.group(1).lower()
        lines.pop(0)
        offset += 1
    body = "".join(lines)
    if not body.strip():
        raise ImportRejected([RowError(None, None, "file: empty")])
    try:
        dialect = csv.Sniffer().sniff(body.split("\n", 1)[0], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(body), delimiter=delimiter)
    header = next(reader)
    mapping, errors = _map_header(header)
    if errors:
        for e in errors:
            e.row = 1 + offset
        raise ImportRejected(errors)
    rows = []
    for cells in reader:
        line = reader.line_num + offset
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            errors.append(RowError(line, None, f"{len(cells)} fields, the header has {len(header)}"))
            continue
        rows.append(RawRow(line, {mapping[i]: c for i, c in enumerate(cells) if i in mapping}))
    if errors:
        raise ImportRejected(errors)
    return ParsedFile(rows, number_format or "en", "csv")


def _read_xlsx(data: bytes, number_format: str | None) -> ParsedFile:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ImportRejected([RowError(None, None, f"file: not a readable XLSX workbook ({exc.__class__.__name__})")]) from None
    ws = wb.worksheets[0]
    it = ws.iter_rows(values_only=True)
    header = next(it, None)
    if header is None:
        raise ImportRejected([RowError(None, None, "file: the first sheet is empty")])
    mapping, errors = _map_header(list(header))
    if errors:
        raise ImportRejected(errors)
    rows = []
    for n, cells in enumerate(it, start=2):
        if not any(c is not None and str(c).strip() for c in cells):
            continue
        rows.append(RawRow(n, {mapping[i]: ("" if c is None else c) for i, c in enumerate(cells) if i in mapping}))
    wb.close()
    return ParsedFile(rows, number_format or "en", "xlsx")


def _read_json(data: bytes, number_format: str | None) -> ParsedFile:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportRejected([RowError(None, None, f"file: not valid JSON ({exc})")]) from None
    if isinstance(doc, dict):
        number_format = number_format or doc.get("number_format")
        items = doc.get("observations")
    else:
        items = doc
    if not isinstance(items, list):
        raise ImportRejected([RowError(None, None, "file: expected a list of observations, "
                                       "or an object with an \"observations\" list")])
    lookup = {fold(a): canon for canon, aliases in HEADER_ALIASES.items() for a in aliases}
    rows, errors = [], []
    for n, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            errors.append(RowError(n, None, "each observation must be an object"))
            continue
        cells = {}
        for key, val in item.items():
            canon = lookup.get(fold(str(key)))
            if canon is None:
                errors.append(RowError(n, str(key), f"unknown field {key!r}"))
            else:
                cells[canon] = "" if val is None else val
        for col in REQUIRED:
            if col not in cells:
                errors.append(RowError(n, col, f"missing field {col!r}"))
        rows.append(RawRow(n, cells))
    if errors:
        raise ImportRejected(errors)
    return ParsedFile(rows, number_format or "en", "json")


def read_file(data: bytes, filename: str, number_format: str | None = None) -> ParsedFile:
    fmt = detect_format(filename)
    parsed = {"csv": _read_csv, "xlsx": _read_xlsx, "json": _read_json}[fmt](data, number_format)
    if parsed.number_format not in NUMBER_FORMATS:
        raise ImportRejected([RowError(None, "number_format",
                                       f"number_format {parsed.number_format!r} must be en or vi")])
    if not parsed.rows:
        raise ImportRejected([RowError(None, None, "file: no rows of data")])
    return parsed


# -- checking ---------------------------------------------------------------------------


@dataclass
class Prepared:
    row: int
    element_code: str
    area_id: int
    period: str
    value: float
    unit: str
    status: str
    source: str
    note: str


def _cell(raw: RawRow, col: str) -> str:
    value = raw.cells.get(col, "")
    if isinstance(value, float) and value.is_integer() and col in ("period",):
        value = int(value)  # a spreadsheet turns the period 2021 into 2021.0
    if isinstance(value, date):
        value = value.strftime("%Y-%m")
    return normalize(str(value)) if not isinstance(value, (int, float)) else str(value)


def check_rows(
    session: Session,
    parsed: ParsedFile,
    *,
    strict: bool = False,
    allow_repeated_keys: bool = False,
    scope_area_codes: set[str] | None = None,
) -> tuple[list[Prepared], list[dict[str, str]], int, list[RowError]]:
    """Every row checked; returns the prepared rows, the new elements, conversions, and all errors."""
    catalog = Catalog.load(session)
    resolver = AreaResolver(session)
    errors: list[RowError] = []
    prepared: list[Prepared] = []
    new_elements: dict[str, dict[str, str]] = {}
    seen: dict[tuple[str, int, str], int] = {}
    converted = 0

    step = max(1, len(parsed.rows) // 50)
    for i, raw in enumerate(parsed.rows):
        if i % step == 0:
            progress(0.1 + 0.5 * i / len(parsed.rows), "checking every row")
        row_errors: list[RowError] = []

        def err(col: str, msg: str, val: Any = None, _row=raw.row, _errs=row_errors) -> None:
            _errs.append(RowError(_row, col, msg, None if val is None else str(val)))

        name = _cell(raw, "indicator")
        unit = _cell(raw, "unit")
        element_code = None
        element_unit = None
        if not name:
            err("indicator", "required")
        else:
            el = catalog.find_element(name)
            if el is not None:
                element_code, element_unit = el.code, el.unit
            elif name in catalog.indicators:
                err("indicator", f"{name!r} is a computed indicator; import its data elements instead", name)
            elif strict:
                err("indicator", f"unknown indicator {name!r} (strict import refuses new ones)", name)
            else:
                key = fold(name)
                if key in new_elements:
                    element_code, element_unit = new_elements[key]["code"], new_elements[key]["unit"]
                else:
                    code = _new_code(name, catalog, new_elements)
                    if not unit:
                        err("unit", f"required: {name!r} is a new data element and needs its unit")
                    new_elements[key] = {"code": code, "name": name, "unit": unit}
                    element_code, element_unit = code, unit

        period = None
        period_text = _cell(raw, "period")
        try:
            period = parse_period(period_text)
        except PeriodError as exc:
            err("period", _strip_field(str(exc), "period"), period_text)

        area = None
        area_text = _cell(raw, "area")
        if not area_text:
            err("area", "required")
        elif period is not None:
            try:
                area = resolver.resolve(area_text, period.start)
            except AreaError as exc:
                err("area", _strip_field(str(exc), "area"), area_text)
            else:
                if scope_area_codes is not None and area.code not in scope_area_codes:
                    err("area", f"you may submit figures only for {', '.join(sorted(scope_area_codes))}", area_text)

        value = None
        try:
            value = parse_number(raw.cells.get("value", ""), parsed.number_format)
        except NumberError as exc:
            err("value", str(exc), raw.cells.get("value"))
        factor = 1.0
        if element_unit is not None and unit and element_code not in {v["code"] for v in new_elements.values()}:
            f = conversion_factor(unit, element_unit)
            if f is None:
                err("unit", f"{unit!r} does not convert to {element_unit!r}, the unit of {element_code}", unit)
            else:
                factor = f
        elif element_unit is not None and unit and unit != element_unit:
            f = conversion_factor(unit, element_unit)
            if f is None:
                err("unit", f"{unit!r} differs from {element_unit!r} given earlier in this file for {name!r}", unit)
            else:
                factor = f

        status_text = fold(_cell(raw, "status"))
        status = STATUS_ALIASES.get(status_text)
        if status is None:
            err("status", f"unknown status {status_text!r}; one of {', '.join(STATUSES)}", status_text)
        source = _cell(raw, "source")
        if not source:
            err("source", "required: every figure needs its source (publication, date or address)")

        if not row_errors and element_code and area is not None and period is not None:
            key = (element_code, area.id, period.code)
            if key in seen and not allow_repeated_keys:
                err("period", f"repeats row {seen[key]} ({element_code}, {area.code}, {period.code})")
            seen.setdefault(key, raw.row)
        if row_errors:
            errors.extend(row_errors)
            continue
        note = _cell(raw, "note")
        if factor != 1.0:
            converted += 1
            note = (note + "; " if note else "") + f"converted from {raw.cells.get('value')} {unit}"
        prepared.append(Prepared(raw.row, element_code, area.id, period.code, value * factor,
                                 element_unit or unit, status, source, note))
    return prepared, list(new_elements.values()), converted, errors


def _strip_field(message: str, field_name: str) -> str:
    prefix = f"{field_name}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def _new_code(name: str, catalog: Catalog, taken: dict[str, dict[str, str]]) -> str:
    base = slugify(name, max_length=90) or "element"
    if not base[0].isalpha():
        base = "e_" + base
    used = set(catalog.elements) | set(catalog.indicators) | {v["code"] for v in taken.values()}
    code, n = base, 2
    while code in used:
        code, n = f"{base}_{n}", n + 1
    return code


# -- writing ----------------------------------------------------------------------------


def import_observations(
    session: Session,
    data: bytes,
    filename: str,
    *,
    user=None,
    strict: bool = False,
    number_format: str | None = None,
    allow_repeated_keys: bool = False,
    scope_area_codes: set[str] | None = None,
    max_rows: int | None = None,
) -> ImportReport:
    """Check the whole file, then write it in the caller's transaction; ImportRejected lists every error.

    The caller commits; on ImportRejected nothing has been added to the session.
    """
    parsed = read_file(data, filename, number_format)
    if max_rows is not None and len(parsed.rows) > max_rows:
        raise ImportRejected([RowError(None, None, f"file: {len(parsed.rows)} rows; at most {max_rows} per file")])
    return _write(session, parsed, filename, hashlib.sha256(data).hexdigest(), user=user, strict=strict,
                  allow_repeated_keys=allow_repeated_keys, scope_area_codes=scope_area_codes)


def record_observations(session: Session, rows: list[dict[str, Any]], label: str, *, user=None) -> ImportReport:
    """Figures a service computed (reports received, verdicts published ...), through the same checks.

    `rows` are dicts with the import columns; `label` names the batch (e.g. "tipline 2021-07").
    """
    parsed = ParsedFile([RawRow(n, r) for n, r in enumerate(rows, start=1)], "en", "json")
    digest = hashlib.sha256(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest()
    return _write(session, parsed, label, digest, user=user, strict=False, allow_repeated_keys=False,
                  scope_area_codes=None)


def _write(session: Session, parsed: ParsedFile, filename: str, digest: str, *, user, strict: bool,
           allow_repeated_keys: bool, scope_area_codes: set[str] | None) -> ImportReport:
    prepared, new_elements, converted, errors = check_rows(
        session, parsed, strict=strict, allow_repeated_keys=allow_repeated_keys,
        scope_area_codes=scope_area_codes,
    )
    if errors:
        raise ImportRejected(errors)

    batch = ImportBatch(filename=Path(filename).name[:300], file_format=parsed.file_format,
                        content_sha256=digest,
                        row_count=len(prepared), new_elements=new_elements,
                        created_by_id=getattr(user, "id", None))
    session.add(batch)
    for el in new_elements:
        session.add(DataElement(code=el["code"], name=el["name"], unit=el["unit"], aggregation="sum"))
    session.flush()
    ids = {code: id_ for code, id_ in session.execute(select(DataElement.code, DataElement.id))}
    report = ImportReport(batch_id=batch.id, rows=len(prepared), new_elements=new_elements,
                          converted=converted)
    latest = _latest_for(session, {(ids[p.element_code], p.area_id, p.period) for p in prepared})
    revised_log: list[dict[str, Any]] = []
    progress(0.6, "writing")
    for p in prepared:
        key = (ids[p.element_code], p.area_id, p.period)
        current = latest.get(key)
        fields = dict(value=p.value, unit=p.unit, status=p.status, source=p.source, note=p.note)
        if current is not None and all(getattr(current, k) == v for k, v in fields.items()):
            report.unchanged += 1
            continue
        revision = 1
        if current is not None:
            current.is_latest = False
            revision = current.revision + 1
            report.revised += 1
            if len(revised_log) < 1000:
                revised_log.append({"key": [p.element_code, p.area_id, p.period],
                                    "before": current.value, "after": p.value})
        else:
            report.created += 1
        obs = Observation(element_id=key[0], area_id=p.area_id, period=p.period, revision=revision,
                          is_latest=True, batch_id=batch.id, created_by_id=getattr(user, "id", None),
                          **fields)
        session.add(obs)
        # Flush so a later row of the same key (a revision within the file) sees this one.
        if allow_repeated_keys:
            session.flush()
        latest[key] = obs
    session.flush()
    record(session, user, "import", "import_batch", batch.id,
           after={"file": batch.filename, "created": report.created, "revised": report.revised,
                  "unchanged": report.unchanged, "new_elements": [e["code"] for e in new_elements],
                  "revisions": revised_log})
    return report


def _latest_for(session: Session, keys: set[tuple[int, int, str]]) -> dict[tuple[int, int, str], Observation]:
    if not keys:
        return {}
    element_ids = {k[0] for k in keys}
    out = {}
    for obs in session.scalars(
        select(Observation).where(Observation.is_latest.is_(True), Observation.element_id.in_(element_ids))
    ):
        key = (obs.element_id, obs.area_id, obs.period)
        if key in keys:
            out[key] = obs
    return out


def revisions(session: Session, element_id: int, area_id: int, period: str) -> list[Observation]:
    return list(session.scalars(
        select(Observation)
        .where(Observation.element_id == element_id, Observation.area_id == area_id, Observation.period == period)
        .order_by(Observation.revision.desc())
    ))
