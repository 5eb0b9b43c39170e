"""Definitions: data elements, indicators, targets and validation rules.

The bundled definitions live in YAML files (``ictgov/data/definitions``); loading them is
idempotent — an entry is created, or updated when it changed, keyed by its code. Elements
and indicators share one namespace because formulas name both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.audit import record
from ictgov.stats import formulas as fx
from ictgov.stats.models import AGGREGATIONS, DataElement, Indicator, Target, ValidationRule
from ictgov.stats.periods import PeriodError, parse_period
from ictgov.text import fold

DEFINITIONS_DIR = Path(__file__).resolve().parent.parent / "data" / "definitions"
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
OPERATORS = ("<=", "<", "==", ">=", ">", "!=")


class DefinitionError(ValueError):
    """A definition that cannot be accepted; the message names the file, entry and field."""


@dataclass
class Catalog:
    """All definitions, read once per request or command."""

    elements: dict[str, DataElement]
    indicators: dict[str, Indicator]

    @classmethod
    def load(cls, session: Session) -> Catalog:
        return cls(
            elements={e.code: e for e in session.scalars(select(DataElement))},
            indicators={i.code: i for i in session.scalars(select(Indicator))},
        )

    def formulas(self) -> dict[str, str]:
        return {code: ind.formula for code, ind in self.indicators.items()}

    def get(self, code: str) -> DataElement | Indicator | None:
        return self.elements.get(code) or self.indicators.get(code)

    def name(self, code: str, lang: str = "vi") -> str:
        item = self.get(code)
        if item is None:
            return code
        return (item.name_en or item.name) if lang == "en" else item.name

    def unit(self, code: str) -> str:
        item = self.get(code)
        return item.unit if item is not None else ""

    def find_element(self, text: str) -> DataElement | None:
        """By code, else by name as written (folded), in either language."""
        text = text.strip()
        if text in self.elements:
            return self.elements[text]
        key = fold(text)
        for el in self.elements.values():
            if key in (fold(el.code), fold(el.name), fold(el.name_en or "")):
                return el
        return None


def _entries(path: Path, key: str | None = None) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if key is not None and isinstance(data, dict):
        data = data.get(key, [])
    if not isinstance(data, list):
        raise DefinitionError(f"{path.name}: expected a list of entries")
    for i, entry in enumerate(data, 1):
        if not isinstance(entry, dict) or "code" not in entry:
            raise DefinitionError(f"{path.name}: entry {i} has no code")
    return data


def _check_code(where: str, code: Any) -> str:
    if not isinstance(code, str) or not CODE_RE.match(code):
        raise DefinitionError(f"{where}: code {code!r} must match [a-z][a-z0-9_]*")
    return code


def validate_formulas(catalog_elements: set[str], formulas: dict[str, str]) -> list[str]:
    """Dependency order, or a DefinitionError naming the indicator and the position."""
    try:
        return fx.dependency_order(formulas, catalog_elements)
    except fx.FormulaError as exc:
        raise DefinitionError(str(exc)) from exc


def upsert(session: Session, model, code: str, values: dict[str, Any], actor=None) -> tuple[Any, str]:
    row = session.scalar(select(model).where(model.code == code))
    entity = model.__tablename__.rstrip("s")
    if row is None:
        row = model(code=code, **values)
        session.add(row)
        session.flush()
        record(session, actor, "create", entity, code, after=values)
        return row, "created"
    before = {k: getattr(row, k) for k in values}
    if before == values:
        return row, "unchanged"
    for k, v in values.items():
        setattr(row, k, v)
    record(session, actor, "update", entity, code, before=before, after=values)
    return row, "updated"


def load_definitions(session: Session, directory: Path = DEFINITIONS_DIR, actor=None) -> dict[str, int]:
    """Load elements, indicators, targets and validation rules from YAML; returns counts by outcome."""
    counts: dict[str, int] = {"created": 0, "updated": 0, "unchanged": 0}
    elements = _entries(directory / "elements.yaml")
    codes = set()
    for e in elements:
        where = f"elements.yaml: {e.get('code')}"
        code = _check_code(where, e["code"])
        if code in codes:
            raise DefinitionError(f"{where}: defined twice")
        codes.add(code)
        if e.get("aggregation", "sum") not in AGGREGATIONS:
            raise DefinitionError(f"{where}: aggregation must be one of {', '.join(AGGREGATIONS)}")
    # Two passes: references (weight, published growth) may point forward in the file.
    rows: dict[str, DataElement] = {}
    for e in elements:
        values = {
            "name": e.get("name") or e["code"],
            "name_en": e.get("name_en") or "",
            "unit": str(e.get("unit") or ""),
            "aggregation": e.get("aggregation", "sum"),
            "higher_is_better": bool(e.get("higher_is_better", True)),
            "description": e.get("description") or "",
        }
        rows[e["code"]], outcome = upsert(session, DataElement, e["code"], values, actor)
        counts[outcome] += 1
    session.flush()
    existing = {el.code: el for el in session.scalars(select(DataElement))}
    for e in elements:
        row = rows[e["code"]]
        for field, attr in (("weight", "weight_element_id"), ("published_growth_of", "published_growth_of_id")):
            ref = e.get(field)
            if ref and ref not in existing:
                raise DefinitionError(f"elements.yaml: {e['code']}: {field} {ref!r} is not a data element")
            setattr(row, attr, existing[ref].id if ref else None)

    indicators = _entries(directory / "indicators.yaml")
    formulas = {}
    for i in indicators:
        code = _check_code(f"indicators.yaml: {i.get('code')}", i["code"])
        if code in existing:
            raise DefinitionError(f"indicators.yaml: {code}: already a data element code")
        formulas[code] = str(i.get("formula", ""))
    other = {ind.code: ind.formula for ind in session.scalars(select(Indicator)) if ind.code not in formulas}
    validate_formulas(set(existing), {**other, **formulas})
    for i in indicators:
        values = {
            "name": i.get("name") or i["code"],
            "name_en": i.get("name_en") or "",
            "formula": formulas[i["code"]],
            "unit": str(i.get("unit") or ""),
            "decimals": int(i.get("decimals", 1)),
            "higher_is_better": bool(i.get("higher_is_better", True)),
            "description": i.get("description") or "",
        }
        counts[upsert(session, Indicator, i["code"], values, actor)[1]] += 1

    known = set(existing) | set(formulas) | set(other)
    for r in _entries(directory / "validation_rules.yaml"):
        where = f"validation_rules.yaml: {r['code']}"
        if r.get("operator") not in OPERATORS:
            raise DefinitionError(f"{where}: operator must be one of {' '.join(OPERATORS)}")
        for side in ("left", "right"):
            _check_expression(where + f": {side}", str(r.get(side, "")), known)
        values = {
            "name": r.get("name") or r["code"], "name_en": r.get("name_en") or "",
            "left": str(r["left"]), "operator": r["operator"], "right": str(r["right"]),
            "description": r.get("description") or "",
        }
        counts[upsert(session, ValidationRule, _check_code(where, r["code"]), values, actor)[1]] += 1

    for t in _entries(directory / "targets.yaml"):
        counts[_load_target(session, t, known, actor)] += 1
    return counts


def _check_expression(where: str, text: str, known: set[str]) -> fx.Node:
    try:
        node = fx.parse(text)
    except fx.FormulaError as exc:
        raise DefinitionError(f"{where}: {exc}") from exc
    for name, pos in fx.name_positions(node):
        if name not in known:
            raise DefinitionError(f"{where}: unknown name {name!r} at position {pos}")
    return node


def _load_target(session: Session, t: dict[str, Any], known: set[str], actor) -> str:
    from ictgov.stats.areas import find_area_by_code

    where = f"targets.yaml: {t['code']} {t.get('deadline')}"
    if t["code"] not in known:
        raise DefinitionError(f"{where}: {t['code']!r} is not a data element or indicator")
    try:
        deadline = parse_period(str(t.get("deadline", ""))).code
        baseline = parse_period(str(t["baseline_period"])).code if t.get("baseline_period") else None
    except PeriodError as exc:
        raise DefinitionError(f"{where}: {exc}") from exc
    area = find_area_by_code(session, str(t.get("area", "VN")))
    if area is None:
        raise DefinitionError(f"{where}: area {t.get('area')!r} is not known")
    if t.get("comparison", ">=") not in (">=", "<="):
        raise DefinitionError(f"{where}: comparison must be >= or <=")
    values = {
        "value": float(t["value"]), "comparison": t.get("comparison", ">="),
        "baseline_period": baseline, "name": t.get("name") or "",
        "name_en": t.get("name_en") or "", "source": t.get("source") or "",
    }
    row = session.scalar(
        select(Target).where(Target.code == t["code"], Target.area_id == area.id, Target.deadline == deadline)
    )
    if row is None:
        session.add(Target(code=t["code"], area_id=area.id, deadline=deadline, **values))
        record(session, actor, "create", "target", f"{t['code']}@{deadline}", after=values)
        return "created"
    before = {k: getattr(row, k) for k in values}
    if before == values:
        return "unchanged"
    for k, v in values.items():
        setattr(row, k, v)
    record(session, actor, "update", "target", f"{t['code']}@{deadline}", before=before, after=values)
    return "updated"


def define_indicator(
    session: Session, code: str, formula: str, *, name: str = "", name_en: str = "",
    unit: str = "", decimals: int = 1, actor=None,
) -> Indicator:
    """Create or change one indicator after checking its formula against all definitions."""
    _check_code("code", code)
    catalog = Catalog.load(session)
    if code in catalog.elements:
        raise DefinitionError(f"code: {code!r} is already a data element")
    formulas = catalog.formulas()
    formulas[code] = formula
    validate_formulas(set(catalog.elements), formulas)
    values = {"name": name or code, "name_en": name_en, "formula": formula, "unit": unit,
              "decimals": decimals, "higher_is_better": True, "description": ""}
    return upsert(session, Indicator, code, values, actor)[0]
