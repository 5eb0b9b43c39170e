"""Scoring against a maturity framework (the press index): self-assessed answers, then the
appraisal council's adjustments, to a total and a level.

``score(framework, answers, adjustments)`` gives each criterion's points — from the answer's
share of the criterion, or the council's figure where it set one — summed to components,
pillars and the total; the level is the highest whose cut-off the total reaches. Everything
is exact (fractions), so 89.75 + 0.25 is 90 and Xuất sắc, never 89.99999.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from ictgov.dx.framework import MaturityFramework, Text
from ictgov.dx.scoring import (
    AnswerError,
    ComponentScore,
    _check_answers,
    _num,
    _text,
    answer_points,
    component_scores,
)

__all__ = ["AdjustmentError", "MaturityScore", "PillarResult", "parse_points", "score"]


class AdjustmentError(ValueError):
    """Council adjustments that do not fit the framework; ``problems`` names each criterion."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("adjustments: " + "; ".join(problems))


def parse_points(value: Any, maximum: Fraction, code: str) -> Fraction:
    """A council's figure for a criterion: a decimal (comma or point) from 0 to ``maximum``."""
    text = str(value).strip().replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise AdjustmentError([f"{code}: {value!r} is not a number"]) from None
    if not number.is_finite():
        raise AdjustmentError([f"{code}: {value!r} is not a number"])
    points = Fraction(number)
    if not 0 <= points <= maximum:
        raise AdjustmentError([f"{code}: {text} is outside 0 to {_num(maximum)} points"])
    if number.as_tuple().exponent < -2:
        raise AdjustmentError([f"{code}: at most two decimals ({text})"])
    return points


@dataclass(frozen=True)
class PillarResult:
    code: str
    name: Text
    score: Fraction
    max: Fraction
    components: list[ComponentScore]

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": _text(self.name), "score": _num(self.score), "max": _num(self.max),
                "share": round(float(self.score / self.max), 6),
                "components": [c.as_dict() for c in self.components]}


@dataclass(frozen=True)
class MaturityScore:
    framework: dict[str, Any]
    total: Fraction
    max_total: Fraction
    level: int
    level_name: Text
    pillars: list[PillarResult]
    points: dict[str, Fraction]  # criterion -> points counted (the council's where it set one)
    self_points: dict[str, Fraction]  # criterion -> points from the agency's own answer
    answers: dict[str, str]
    unanswered: list[str]
    adjusted: dict[str, Fraction] = field(default_factory=dict)  # criterion -> council's points
    next_level: dict[str, Any] | None = None

    @property
    def complete(self) -> bool:
        return not self.unanswered

    @property
    def self_total(self) -> Fraction:
        return sum(self.self_points.values(), Fraction(0))

    def as_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework, "total": _num(self.total), "self_total": _num(self.self_total),
            "max_total": _num(self.max_total), "level": self.level, "level_name": _text(self.level_name),
            "pillars": [p.as_dict() for p in self.pillars], "complete": self.complete,
            "answered": len(self.answers), "criteria": len(self.points), "unanswered": self.unanswered,
            "points": {k: _num(v) for k, v in self.points.items()},
            "self_points": {k: _num(v) for k, v in self.self_points.items()},
            "adjusted": {k: _num(v) for k, v in self.adjusted.items()},
            "next_level": self.next_level,
        }


def check_adjustments(framework: MaturityFramework, adjustments: Mapping[str, Any]) -> dict[str, Fraction]:
    """{criterion: points} checked against the framework; every bad entry named at once."""
    problems: list[str] = []
    clean: dict[str, Fraction] = {}
    for code, value in adjustments.items():
        found = framework.criteria.get(str(code))
        if found is None:
            problems.append(f"{code}: unknown criterion in {framework.ref}")
            continue
        try:
            clean[str(code)] = parse_points(value, found[2].points, str(code))
        except AdjustmentError as exc:
            problems.extend(exc.problems)
    if problems:
        raise AdjustmentError(problems)
    return clean


def score(framework: MaturityFramework, answers: Mapping[str, Any],
          adjustments: Mapping[str, Any] | None = None) -> MaturityScore:
    """Score answers {criterion: option}, then apply the council's {criterion: points}.

    Raises AnswerError or AdjustmentError naming every criterion that does not fit.
    """
    chosen = _check_answers(framework, answers)
    adjusted = check_adjustments(framework, adjustments or {})
    self_points = answer_points(framework, chosen)
    points = {**self_points, **adjusted}
    pillars: list[PillarResult] = []
    for pillar in framework.pillars:
        comps = component_scores(pillar, points)
        pillars.append(PillarResult(pillar.code, pillar.name, sum((c.score for c in comps), Fraction(0)),
                                    pillar.points, comps))
    total = sum((p.score for p in pillars), Fraction(0))
    level = framework.level_of(total)
    nxt = None
    if level < framework.top_level:
        rule = framework.levels[level + 1]
        nxt = {"level": rule.level, "name": _text(rule.name), "total_at_least": _num(rule.total_at_least),
               "points_short": _num(rule.total_at_least - total)}
    return MaturityScore(
        framework=framework.identity(), total=total, max_total=framework.total, level=level,
        level_name=framework.level_name(level), pillars=pillars, points=points, self_points=self_points,
        answers=chosen, unanswered=[code for code in framework.criteria if code not in chosen],
        adjusted=adjusted, next_level=nxt)


__all__ += ["AnswerError", "check_adjustments"]
