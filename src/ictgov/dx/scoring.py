"""Scoring an enterprise's answers against an enterprise framework.

``score(framework, answers)`` turns {criterion code: option code} into the total, each
pillar's score, maximum and level, the overall level, what stands between the enterprise
and the next level, the criteria that would add the most points, and which criteria are
still unanswered. ``benchmark(score, peers)`` places a score among its peers.

All arithmetic is exact (fractions); ``as_dict()`` turns the result into plain JSON values.
"""

from __future__ import annotations

import difflib
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ictgov.dx.framework import EnterpriseFramework, MaturityFramework, Pillar, Text

__all__ = [
    "Advice",
    "AnswerError",
    "Benchmark",
    "EnterpriseScore",
    "NextLevel",
    "PillarGap",
    "PillarScore",
    "advise",
    "benchmark",
    "overall_level",
    "pillar_level",
    "score",
]


class AnswerError(ValueError):
    """Answers that do not fit the framework; ``problems`` names every bad criterion."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("answers: " + "; ".join(problems))


def _num(x: Fraction | None) -> float | int | None:
    if x is None:
        return None
    return int(x) if x.denominator == 1 else round(float(x), 6)


def _text(t: Text) -> dict[str, str]:
    return {"vi": t.vi, "en": t.en}


@dataclass(frozen=True)
class ComponentScore:
    code: str
    name: Text
    score: Fraction
    max: Fraction

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": _text(self.name), "score": _num(self.score), "max": _num(self.max)}


@dataclass(frozen=True)
class PillarScore:
    code: str
    name: Text
    score: Fraction
    max: Fraction
    level: int
    level_name: Text
    components: list[ComponentScore]

    @property
    def share(self) -> Fraction:
        return self.score / self.max

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": _text(self.name), "score": _num(self.score), "max": _num(self.max),
                "share": round(float(self.share), 6), "level": self.level,
                "level_name": _text(self.level_name), "components": [c.as_dict() for c in self.components]}


@dataclass(frozen=True)
class PillarGap:
    """A pillar below the next level; it needs strictly more than ``points_short`` more points."""

    code: str
    name: Text
    level: int
    score: Fraction
    points_short: Fraction
    must_lift: bool  # among the cheapest pillars that together meet the pillar condition

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": _text(self.name), "level": self.level, "score": _num(self.score),
                "points_short": _num(self.points_short), "must_lift": self.must_lift}


@dataclass(frozen=True)
class NextLevel:
    """What the next level asks for, and how far the enterprise is from each condition."""

    level: int
    name: Text
    total_above: Fraction
    total_met: bool
    total_short: Fraction  # unless met, the total needs strictly more than this many more points
    pillars_required: int
    pillars_at_level: int
    pillars_missing: int
    pillars_below: list[PillarGap]

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level, "name": _text(self.name), "total_above": _num(self.total_above),
                "total_met": self.total_met, "total_short": _num(self.total_short),
                "pillars_required": self.pillars_required, "pillars_at_level": self.pillars_at_level,
                "pillars_missing": self.pillars_missing,
                "pillars_below": [g.as_dict() for g in self.pillars_below]}


@dataclass(frozen=True)
class Advice:
    criterion: str
    text: Text
    pillar: str
    component: str
    answer: str | None
    points: Fraction
    max_points: Fraction
    lifts_pillar: bool  # the criterion is in a pillar that must be lifted for the next level

    @property
    def gain(self) -> Fraction:
        return self.max_points - self.points

    def as_dict(self) -> dict[str, Any]:
        return {"criterion": self.criterion, "text": _text(self.text), "pillar": self.pillar,
                "component": self.component, "answer": self.answer, "points": _num(self.points),
                "max_points": _num(self.max_points), "gain": _num(self.gain), "lifts_pillar": self.lifts_pillar}


@dataclass(frozen=True)
class EnterpriseScore:
    framework: dict[str, Any]  # id, version, digest of the file it was scored with
    total: Fraction
    max_total: Fraction
    level: int
    level_name: Text
    pillars: list[PillarScore]
    points: dict[str, Fraction]  # criterion code -> points earned
    answers: dict[str, str]  # the answered criteria, as scored
    unanswered: list[str]
    next_level: NextLevel | None  # None at the top level
    advice: list[Advice] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.unanswered

    def as_dict(self) -> dict[str, Any]:
        return {
            "framework": self.framework, "total": _num(self.total), "max_total": _num(self.max_total),
            "level": self.level, "level_name": _text(self.level_name),
            "pillars": [p.as_dict() for p in self.pillars],
            "complete": self.complete, "answered": len(self.answers), "criteria": len(self.points),
            "unanswered": self.unanswered,
            "next_level": self.next_level.as_dict() if self.next_level else None,
            "advice": [a.as_dict() for a in self.advice],
            "points": {k: _num(v) for k, v in self.points.items()},
        }


# -- levels ----------------------------------------------------------------------------------


def pillar_level(framework: EnterpriseFramework, score: Fraction, maximum: Fraction) -> int:
    """The highest level whose share the pillar is strictly above (0 when none)."""
    share = Fraction(score) / Fraction(maximum)
    level = 0
    for rule in framework.levels[1:]:
        if share > rule.pillar_share_above:
            level = rule.level
    return level


def _meets(framework: EnterpriseFramework, level: int, total: Fraction, pillar_levels: Sequence[int]) -> bool:
    rule = framework.levels[level]
    return total > rule.total_above and sum(lv >= level for lv in pillar_levels) >= rule.pillars_at_level


def overall_level(framework: EnterpriseFramework, total: Fraction, pillar_levels: Sequence[int]) -> int:
    """Climb while the next level's total and pillar conditions both hold."""
    level = 0
    while level < framework.top_level and _meets(framework, level + 1, Fraction(total), pillar_levels):
        level += 1
    return level


def _next_level(framework: EnterpriseFramework, level: int, total: Fraction,
                pillars: list[PillarScore]) -> NextLevel | None:
    if level >= framework.top_level:
        return None
    target = level + 1
    rule = framework.levels[target]
    have = sum(p.level >= target for p in pillars)
    missing = max(0, rule.pillars_at_level - have)
    below = sorted(
        ((p, rule.pillar_share_above * p.max - p.score) for p in pillars if p.level < target),
        key=lambda item: item[1],
    )
    gaps = [PillarGap(p.code, p.name, p.level, p.score, short, i < missing) for i, (p, short) in enumerate(below)]
    return NextLevel(level=target, name=rule.name, total_above=rule.total_above,
                     total_met=total > rule.total_above, total_short=max(Fraction(0), rule.total_above - total),
                     pillars_required=rule.pillars_at_level, pillars_at_level=have,
                     pillars_missing=missing, pillars_below=gaps)


# -- scoring ---------------------------------------------------------------------------------


def _check_answers(framework: EnterpriseFramework | MaturityFramework, answers: Mapping[str, Any]) -> dict[str, str]:
    problems: list[str] = []
    clean: dict[str, str] = {}
    for code, answer in answers.items():
        found = framework.criteria.get(str(code))
        if found is None:
            near = difflib.get_close_matches(str(code), list(framework.criteria), n=1)
            problems.append(f"{code}: unknown criterion in {framework.ref}" + (f"; did you mean {near[0]!r}?" if near else ""))
            continue
        if answer is None or (isinstance(answer, str) and not answer.strip()):
            continue  # unanswered
        scale = framework.scale_of(found[2])
        option = str(answer).strip() if not isinstance(answer, bool) else None
        if option not in scale.by_code:
            problems.append(f"{code}: {answer!r} is not an option of scale {found[2].scale!r}; "
                            f"options are {', '.join(scale.by_code)}")
            continue
        clean[str(code)] = option
    if problems:
        raise AnswerError(problems)
    return clean


def answer_points(framework: EnterpriseFramework | MaturityFramework,
                  chosen: Mapping[str, str]) -> dict[str, Fraction]:
    """Each criterion's points from its chosen option's share (0 when unanswered)."""
    points: dict[str, Fraction] = {}
    for code, (_, _, c) in framework.criteria.items():
        option = chosen.get(code)
        points[code] = c.points * framework.scale_of(c).by_code[option].share if option else Fraction(0)
    return points


def component_scores(pillar: Pillar, points: Mapping[str, Fraction]) -> list[ComponentScore]:
    """A pillar's components, each scored as the sum of its criteria's points."""
    return [ComponentScore(comp.code, comp.name, sum((points[c.code] for c in comp.criteria), Fraction(0)),
                           comp.points) for comp in pillar.components]


def score(framework: EnterpriseFramework, answers: Mapping[str, Any], *,
          advice_limit: int | None = 10) -> EnterpriseScore:
    """Score answers {criterion code: option code}; a missing or empty answer is unanswered.

    Raises AnswerError naming every unknown criterion and every answer that is not an
    option of its criterion's scale, so nothing is silently scored as zero by a typo.
    """
    chosen = _check_answers(framework, answers)
    points = answer_points(framework, chosen)
    pillars: list[PillarScore] = []
    for pillar in framework.pillars:
        components = component_scores(pillar, points)
        pillar_score = sum((cs.score for cs in components), Fraction(0))
        lv = pillar_level(framework, pillar_score, pillar.points)
        pillars.append(PillarScore(pillar.code, pillar.name, pillar_score, pillar.points, lv,
                                   framework.level_name(lv), components))
    total = sum((p.score for p in pillars), Fraction(0))
    level = overall_level(framework, total, [p.level for p in pillars])
    nxt = _next_level(framework, level, total, pillars)
    return EnterpriseScore(
        framework=framework.identity(), total=total, max_total=framework.total, level=level,
        level_name=framework.level_name(level), pillars=pillars, points=points, answers=chosen,
        unanswered=[code for code in framework.criteria if code not in chosen], next_level=nxt,
        advice=advise(framework, points, chosen, nxt, limit=advice_limit),
    )


def advise(framework: EnterpriseFramework, points: Mapping[str, Fraction], answers: Mapping[str, str],
           next_level: NextLevel | None, *, limit: int | None = 10) -> list[Advice]:
    """Criteria with points still to gain, the most useful first.

    Criteria in the pillars that must be lifted for the pillar condition of the next level
    come first (a higher total alone cannot unlock a level the pillar count blocks), then
    the rest; within each, the largest gain first, ties in questionnaire order.
    """
    lift = {g.code for g in next_level.pillars_below if g.must_lift} if next_level else set()
    items = []
    for order, (code, (pillar, comp, c)) in enumerate(framework.criteria.items()):
        if points[code] >= c.points:
            continue
        items.append((order, Advice(code, c.text, pillar.code, comp.code, answers.get(code), points[code],
                                    c.points, pillar.code in lift)))
    items.sort(key=lambda item: (not item[1].lifts_pillar, -item[1].gain, item[0]))
    ranked = [a for _, a in items]
    return ranked if limit is None else ranked[:limit]


# -- benchmark -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Benchmark:
    peers: int
    below: int
    equal: int
    above: int
    percentile: float | None  # share of peers below, counting ties as half, in percent
    median: float | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def benchmark(value: float | Fraction, peers: Sequence[float | Fraction]) -> Benchmark:
    """Where `value` stands among `peers` (which should not include the enterprise itself).

    The percentile is the mid-rank percentile rank, 100 × (below + equal / 2) / peers: a
    score equal to every peer is at the 50th, not the 0th or the 100th.
    """
    peer_values = [float(p) for p in peers]
    v = float(value)
    below = sum(p < v for p in peer_values)
    equal = sum(p == v for p in peer_values)
    above = len(peer_values) - below - equal
    if not peer_values:
        return Benchmark(0, 0, 0, 0, None, None)
    return Benchmark(len(peer_values), below, equal, above,
                     round(100 * (below + equal / 2) / len(peer_values), 2),
                     float(statistics.median(peer_values)))
