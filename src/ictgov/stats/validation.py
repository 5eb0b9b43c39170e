"""Validation rules (DHIS2 style: left side, operator, right side), run on import and on demand.

Each side is a formula, computed by the engine for every area and period where it has a
value; a rule is checked wherever both sides have one, and every violation is listed.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.stats import formulas as fx
from ictgov.stats.figures import Figures
from ictgov.stats.models import ValidationRule

OPS = {"<=": operator.le, "<": operator.lt, "==": operator.eq, ">=": operator.ge,
       ">": operator.gt, "!=": operator.ne}
# Equality within rounding: figures published to a few decimals must not trip "==".
REL_TOLERANCE = 1e-9


@dataclass
class Violation:
    rule: str
    name: str
    name_en: str
    area: str
    area_name: str
    period: str
    left: float
    operator: str
    right: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def describe(self, lang: str = "vi") -> str:
        name = self.name_en if lang == "en" and self.name_en else self.name
        return f"{name} — {self.area_name} {self.period}: {self.left:g} {self.operator} {self.right:g} ✗"


def _holds(op: str, left: float, right: float) -> bool:
    if op in ("==", "!="):
        close = abs(left - right) <= REL_TOLERANCE * max(abs(left), abs(right), 1.0)
        return close if op == "==" else not close
    return OPS[op](left, right)


def run_rules(
    session: Session,
    figures: Figures,
    periods: set[str] | None = None,
    area_ids: set[int] | None = None,
) -> list[Violation]:
    rules = list(session.scalars(select(ValidationRule).order_by(ValidationRule.code)))
    if not rules or figures.engine is None:
        return []
    formulas, constants = {}, {}
    for rule in rules:
        for side in ("left", "right"):
            key = f"__{side}__{rule.code}"
            node = fx.parse(getattr(rule, side))
            if fx.names(node):
                formulas[key] = getattr(rule, side)
            else:
                constants[key] = fx.evaluate_scalar(node, lambda name, shift: None)
    results = figures.engine.compute({**figures.catalog.formulas(), **formulas}, elements=set())
    out: list[Violation] = []
    for rule in rules:
        sides = []
        for side in ("left", "right"):
            key = f"__{side}__{rule.code}"
            if key in constants:
                sides.append(constants[key])
            else:
                sides.append(results.frame(key).select("area_id", "period", pl.col("value").alias(side)))
        left, right = sides
        if isinstance(left, pl.DataFrame) and isinstance(right, pl.DataFrame):
            df = left.join(right, on=["area_id", "period"])
        elif isinstance(left, pl.DataFrame):
            df = left.with_columns(pl.lit(right).alias("right"))
        elif isinstance(right, pl.DataFrame):
            df = right.with_columns(pl.lit(left).alias("left"))
        else:
            continue
        if periods is not None:
            df = df.filter(pl.col("period").is_in(list(periods)))
        if area_ids is not None:
            df = df.filter(pl.col("area_id").is_in(list(area_ids)))
        for r in df.sort(["period", "area_id"]).iter_rows(named=True):
            if not _holds(rule.operator, r["left"], r["right"]):
                area = figures.areas[r["area_id"]]
                out.append(Violation(rule.code, rule.name, rule.name_en, area.code, area.name,
                                     r["period"], r["left"], rule.operator, r["right"]))
    return out
