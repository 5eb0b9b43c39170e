"""Reference areas: the nation, its six regions, provinces in two boundary versions, and
the reporting units that are not places (mobile operators, the ministry).

Vietnam reorganised its provinces on 2025-07-01 (Resolution 202/2025/QH15): 63 units
became 34. Historical figures stay attached to the province they were reported for, so
both versions live in the ``areas`` table side by side, each row with its validity:

- a province the reform left unchanged is ONE row, valid from 2008-08-01 with no end;
- an old province that merged ends on 2025-06-30 and has an ``AreaSuccession`` to the
  new unit; a new unit that kept an old GSO code is a second row with that code,
  valid from 2025-07-01 (the table's key is (code, valid_from));
- the nation and the regions have no validity bounds.

So every lookup takes a date: "Bắc Ninh" in 2021 is the old province 27, in 2026 the new
unit 24, and "Hà Giang" in 2026 is an error that says where it went. The facts come from
``ictgov/data/areas/*.csv``; ``SOURCES.md`` beside them gives each file's sources.
"""

from __future__ import annotations

import csv
import functools
import difflib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.stats.models import Area, AreaSuccession
from ictgov.text import fold

__all__ = [
    "HIERARCHY_LEVELS",
    "AreaError",
    "AreaResolver",
    "areas_in_force",
    "find_area_by_code",
    "hierarchy",
    "load_reference_areas",
    "reference_specs",
    "successor_map",
]

HIERARCHY_LEVELS = ("nation", "region", "province")
SUCCESSION_SOURCE = (
    "Resolution 202/2025/QH15 of the National Assembly (12 June 2025) on the arrangement of "
    "provincial-level administrative units; old -> new codes per PyPI vietnam-provinces 2026.9.0 "
    "(_province_conversion_2025.OLD_TO_NEW, GSO/NSO codes)"
)
# Folded prefixes and suffixes that name the kind of unit rather than the unit itself.
_PREFIXES = ("thanh pho truc thuoc trung uong", "thanh pho", "tp", "t p", "tinh", "vung", "province of",
             "city of")
_SUFFIXES = ("province", "city", "municipality", "region")
_GSO_CODE = re.compile(r"\d{1,2}(?:\.0+)?")


class AreaError(ValueError):
    """An area that cannot be resolved; the message starts with ``area:`` and says why."""


# -- reference data ----------------------------------------------------------------------


@dataclass(frozen=True)
class AreaSpec:
    """One reference row as the CSV files give it, before it meets the database."""

    code: str
    level: str
    name: str
    name_en: str
    sort_order: int
    parent_code: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    boundary_version: str = ""
    aliases: tuple[str, ...] = field(default=())

    @property
    def key(self) -> tuple[str, date | None]:
        return (self.code, self.valid_from)


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("ictgov").joinpath("data", "areas", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def strip_unit_kind(key: str) -> str:
    """A folded name without "tp", "tinh", "thanh pho", "province", "(region)"... around it."""
    for prefix in _PREFIXES:
        if key.startswith(prefix + " "):
            key = key[len(prefix) + 1:]
            break
    for suffix in _SUFFIXES:
        if key.endswith(" " + suffix):
            key = key[: -len(suffix) - 1]
            break
    return key


def _extra_aliases() -> dict[tuple[str, str], list[str]]:
    extra: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in _rows("aliases.csv"):
        extra[(row["code"], row["version"])].append(fold(row["alias"]))
    return extra


def _aliases(name: str, *other_names: str, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Folded keys: the name, the other names without their "Tỉnh"/"Thành phố"/"city", the extras."""
    keys = {fold(name)} | {strip_unit_kind(fold(n)) for n in other_names if n} | set(extra)
    return tuple(sorted(k for k in keys if k))


def _province_specs(extra) -> Iterator[AreaSpec]:
    for row in _rows("provinces_63.csv"):
        unchanged = not row["valid_to"]
        yield AreaSpec(
            code=row["gso_code"], level="province", name=row["name"], name_en=row["name_en"],
            sort_order=100 + int(row["gso_code"]), parent_code=row["region"],
            valid_from=_date(row["valid_from"]), valid_to=_date(row["valid_to"]),
            boundary_version="63+34" if unchanged else "63",
            aliases=_aliases(row["name"], row["full_name"], row["name_en"],
                             extra=extra[(row["gso_code"], "")] + extra[(row["gso_code"], "63")]),
        )
    for row in _rows("provinces_34.csv"):
        if row["change"] == "unchanged":
            continue  # the 63-version row stays in force
        yield AreaSpec(
            code=row["gso_code"], level="province", name=row["name"], name_en=row["name_en"],
            sort_order=100 + int(row["gso_code"]), parent_code=row["region"],
            valid_from=_date(row["valid_from"]), boundary_version="34",
            aliases=_aliases(row["name"], row["full_name"], row["name_en"],
                             extra=extra[(row["gso_code"], "")] + extra[(row["gso_code"], "34")]),
        )


def reference_specs() -> list[AreaSpec]:
    """Every bundled reference row, parents before children."""
    extra = _extra_aliases()
    specs = [
        AreaSpec(code=r["code"], level=r["level"], name=r["name"], name_en=r["name_en"],
                 sort_order=int(r["sort_order"]), parent_code="VN" if r["level"] == "region" else None,
                 aliases=_aliases(r["name"], r["name_en"], extra=extra[(r["code"], "")]))
        for r in _rows("nation_regions.csv")
    ]
    specs += _province_specs(extra)
    specs += [
        AreaSpec(code=r["code"], level=r["level"], name=r["name"], name_en=r["name_en"],
                 sort_order=int(r["sort_order"]),
                 aliases=_aliases(r["name"], r["code"], r["name_en"], extra=extra[(r["code"], "")]))
        for r in _rows("reporting_units.csv")
    ]
    return specs


@functools.cache
def dti_groups() -> dict[str, str]:
    """The group the ministry-level DTI ranks each reporting unit in (`dti_group` of
    reporting_units.csv: public_services, no_public_services); units without one are absent."""
    return {r["code"]: r["dti_group"] for r in _rows("reporting_units.csv") if r.get("dti_group")}


def reference_successions() -> list[tuple[str, str, float, date]]:
    """(old code, new code, share, effective date) of the 2025 mergers."""
    return [(r["old_code"], r["new_code"], float(r["share"]), date.fromisoformat(r["effective"]))
            for r in _rows("successions_2025.csv")]


# -- loading ---------------------------------------------------------------------------------


def _apply(row: Area, spec: AreaSpec, parent_id: int | None) -> bool:
    """Bring an existing row in line with its spec; True when anything changed.

    Aliases are merged, never replaced, so spellings an administrator added survive a reload.
    """
    wanted = {
        "level": spec.level, "name": spec.name, "name_en": spec.name_en, "parent_id": parent_id,
        "valid_to": spec.valid_to, "boundary_version": spec.boundary_version,
        "sort_order": spec.sort_order,
    }
    changed = False
    if not set(spec.aliases) <= set(row.aliases or []):
        row.aliases = sorted(set(row.aliases or []) | set(spec.aliases))
        changed = True
    for attr, value in wanted.items():
        if getattr(row, attr) != value:
            setattr(row, attr, value)
            changed = True
    return changed


def _parent_id(spec: AreaSpec, by_key: dict[tuple[str, date | None], Area]) -> int | None:
    if spec.parent_code is None:
        return None
    return by_key[(spec.parent_code, None)].id


def load_reference_areas(session: Session) -> dict[str, int]:
    """Insert or update the bundled areas and successions; running it again changes nothing.

    Flushes but does not commit: the caller owns the transaction. Returns counts of what
    was created and updated, and the totals the reference data defines.
    """
    by_key = {(a.code, a.valid_from): a for a in session.scalars(select(Area))}
    created = updated = 0
    specs = reference_specs()
    for spec in specs:  # parents come first, and each is flushed before its children need its id
        row = by_key.get(spec.key)
        if row is None:
            row = Area(code=spec.code, valid_from=spec.valid_from, aliases=[])
            session.add(row)
            by_key[spec.key] = row
            created += 1
            _apply(row, spec, _parent_id(spec, by_key))
            session.flush()
        elif _apply(row, spec, _parent_id(spec, by_key)):
            updated += 1
    session.flush()
    new_successions = _load_successions(session, by_key)
    return {
        "areas_created": created,
        "areas_updated": updated,
        "successions_created": new_successions,
        "areas": len(specs),
        "successions": len(reference_successions()),
    }


def _load_successions(session: Session, by_key: dict[tuple[str, date | None], Area]) -> int:
    old_rows = {a.code: a for a in by_key.values() if a.level == "province" and a.valid_to is not None}
    existing = {tuple(r) for r in session.execute(
        select(AreaSuccession.old_area_id, AreaSuccession.new_area_id, AreaSuccession.effective)
    )}
    created = 0
    for old_code, new_code, share, effective in reference_successions():
        old, new = old_rows[old_code], by_key[(new_code, effective)]
        if (old.id, new.id, effective) in existing:
            continue
        session.add(AreaSuccession(old_area_id=old.id, new_area_id=new.id, share=share,
                                   effective=effective, source=SUCCESSION_SOURCE))
        created += 1
    session.flush()
    return created


# -- lookups -------------------------------------------------------------------------------


def valid_on(area: Area, on: date) -> bool:
    """Whether the area exists on that day (open bounds are unbounded)."""
    return (area.valid_from is None or area.valid_from <= on) and (area.valid_to is None or on <= area.valid_to)


def normalize_code(code: str) -> str:
    """Codes as stored: upper case, GSO codes two digits ("1" and "1.0" from a spreadsheet -> "01")."""
    code = str(code).strip()
    if _GSO_CODE.fullmatch(code):
        return f"{int(float(code)):02d}"
    return code.upper()


def _pick_valid(rows: Iterable[Area], on: date) -> Area | None:
    valid = [a for a in rows if valid_on(a, on)]
    return valid[0] if valid else None


def find_area_by_code(session: Session, code: str, level: str | None = None,
                      on: date | None = None) -> Area | None:
    """The area with that code in force on `on` (default today), or None.

    A code shared by an old province and the new unit that kept it picks by date; a code
    whose only row is not in force that day gives None.
    """
    query = select(Area).where(Area.code == normalize_code(code))
    if level is not None:
        query = query.where(Area.level == level)
    return _pick_valid(session.scalars(query.order_by(Area.valid_from)), on or date.today())


def areas_in_force(session: Session, on: date, level: str | None = None) -> list[Area]:
    """Areas in force on `on` (of one level if given), in display order."""
    query = select(Area).order_by(Area.sort_order, Area.code)
    if level is not None:
        query = query.where(Area.level == level)
    return [a for a in session.scalars(query) if valid_on(a, on)]


def _label(area: Area) -> str:
    return f"{area.name} ({area.code})"


class AreaResolver:
    """Resolves area names and codes as people write them, for one import or many.

    Built once from a session: every area and succession is read into memory and each
    distinct spelling is resolved once, so checking 100k rows costs a dictionary lookup
    per row. Returned `Area` objects belong to that session.
    """

    def __init__(self, session: Session) -> None:
        self.areas: list[Area] = list(session.scalars(select(Area).order_by(Area.sort_order, Area.valid_from)))
        self._by_id = {a.id: a for a in self.areas}
        self._by_code: dict[str, list[Area]] = defaultdict(list)
        self._by_key: dict[str, list[Area]] = defaultdict(list)
        for area in self.areas:
            self._by_code[area.code.upper()].append(area)
            for key in {fold(area.name), fold(area.name_en or ""), *(fold(a) for a in area.aliases or [])}:
                if key and area not in self._by_key[key]:
                    self._by_key[key].append(area)
        self._successors: dict[int, list[AreaSuccession]] = defaultdict(list)
        for s in session.scalars(select(AreaSuccession)):
            self._successors[s.old_area_id].append(s)
        self._candidates: dict[str, list[Area]] = {}
        self._resolved: dict[tuple[str, date], Area | AreaError] = {}

    def candidates(self, text: str) -> list[Area]:
        """Every area, of any date, that the text could mean: by code first, then by name."""
        if text not in self._candidates:
            self._candidates[text] = self._lookup(text)
        return self._candidates[text]

    def _lookup(self, text: str) -> list[Area]:
        by_code = self._by_code.get(normalize_code(text))
        if by_code:
            return by_code
        key = fold(text)
        return self._by_key.get(key) or self._by_key.get(strip_unit_kind(key)) or []

    def resolve(self, text: str, on: date) -> Area:
        """The one area `text` names on `on` (an import passes the period's start date).

        Raises AreaError when the text names nothing, more than one area, or an area that
        is not in force that day (a province merged on 2025-07-01 says into which unit).
        """
        text = "" if text is None else str(text)
        if isinstance(on, datetime):
            on = on.date()
        result = self._resolved.get((text, on))
        if result is None:
            try:
                result = self._resolve(text, on)
            except AreaError as exc:
                result = exc
            self._resolved[(text, on)] = result
        if isinstance(result, AreaError):
            raise AreaError(str(result))
        return result

    def _resolve(self, text: str, on: date) -> Area:
        if not text.strip():
            raise AreaError("area: empty area name")
        found = self.candidates(text)
        if not found:
            raise AreaError(self._unknown_message(text, on))
        valid = [a for a in found if valid_on(a, on)]
        if len(valid) == 1:
            return valid[0]
        if valid:
            raise AreaError(f"area: {text!r} is ambiguous: " + ", ".join(_label(a) for a in valid))
        raise AreaError(self._out_of_force_message(text, found, on))

    def _unknown_message(self, text: str, on: date) -> str:
        message = f"area: unknown area {text!r}"
        key = strip_unit_kind(fold(text))
        if not key:
            return message
        labels: list[str] = []
        for match in difflib.get_close_matches(key, self._by_key.keys(), n=3, cutoff=0.75):
            areas = self._by_key[match]
            area = next((a for a in areas if valid_on(a, on)), areas[0])
            if _label(area) not in labels:
                labels.append(_label(area))
        if labels:
            message += "; did you mean " + " or ".join(labels) + "?"
        return message

    def successor_on(self, area: Area, on: date) -> tuple[Area, date] | None:
        """The unit that carries `area` on `on`, following successions, with the first change date."""
        seen: set[int] = set()
        first: date | None = None
        node = area
        while node.id not in seen:
            seen.add(node.id)
            nxt = max(self._successors.get(node.id, []), key=lambda s: s.share, default=None)
            if nxt is None:
                return None
            first = first or nxt.effective
            node = self._by_id[nxt.new_area_id]
            if valid_on(node, on):
                return node, first
        return None

    def _out_of_force_message(self, text: str, found: list[Area], on: date) -> str:
        for area in found:
            if area.valid_to is not None and area.valid_to < on:
                successor = self.successor_on(area, on)
                if successor is not None:
                    new, effective = successor
                    return (f"area: {text!r} is {_label(area)}, merged into {_label(new)} on "
                            f"{effective.isoformat()}; figures for periods from that date belong to "
                            f"{new.name} ({new.code})")
        area = found[0]
        start = area.valid_from.isoformat() if area.valid_from else "the beginning"
        end = area.valid_to.isoformat() if area.valid_to else "today"
        return (f"area: {text!r} is {_label(area)}, in force from {start} to {end}, "
                f"not on {on.isoformat()}")


# -- hierarchy ---------------------------------------------------------------------------------


def _all_areas(source: Session | AreaResolver) -> list[Area]:
    if isinstance(source, AreaResolver):
        return source.areas
    return list(source.scalars(select(Area)))


def hierarchy(source: Session | AreaResolver, on: date) -> dict[int, int]:
    """Child area id -> parent area id for the nation, regions and provinces in force on `on`.

    Operators and the ministry are left out: their figures are not parts of a place and
    must never be summed into the nation's.
    """
    areas = [a for a in _all_areas(source) if a.level in HIERARCHY_LEVELS and valid_on(a, on)]
    ids = {a.id for a in areas}
    return {a.id: a.parent_id for a in areas if a.parent_id is not None and a.parent_id in ids}


def successor_map(session: Session) -> dict[int, int]:
    """Old province id -> id of the unit that carries it today, for re-aggregating history.

    Covers every province of an earlier boundary version: merged ones map to their new
    unit (following chains of successions, the largest share where a unit was split),
    unchanged ones to themselves. Areas that are not keys are already current: use
    ``mapping.get(area_id, area_id)``.
    """
    resolver = AreaResolver(session)
    successions = [s for ss in resolver._successors.values() for s in ss]
    if not successions:
        return {}
    latest = max(s.effective for s in successions)
    mapping: dict[int, int] = {}
    for area in resolver.areas:
        if area.level != "province" or area.valid_from is None or area.valid_from >= latest:
            continue
        if area.valid_to is None:
            mapping[area.id] = area.id
            continue
        target = resolver.successor_on(area, latest)
        if target is not None:
            mapping[area.id] = target[0].id
    return mapping
