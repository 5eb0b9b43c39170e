"""Fixtures for the dx tests: the bundled frameworks and answers built to hit chosen scores."""

from __future__ import annotations

from fractions import Fraction

import pytest

from ictgov.dx.framework import EnterpriseFramework, get


@pytest.fixture(scope="session")
def dbi() -> EnterpriseFramework:
    return get("dbi-sme-2021", "enterprise")


def answers_for(fw: EnterpriseFramework, targets: dict[str, int | Fraction]) -> dict[str, str]:
    """Answers giving each named pillar exactly its target score (others unanswered).

    Greedy over the pillar's criteria: each takes the best option not above what is left.
    Fails loudly when the target cannot be hit that way, so a test never checks a score it
    did not build.
    """
    answers: dict[str, str] = {}
    for pillar in fw.pillars:
        if pillar.code not in targets:
            continue
        left = Fraction(targets[pillar.code])
        for c in pillar.criteria:
            options = sorted(fw.scale_of(c).options, key=lambda o: o.share)
            best = max((o for o in options if c.points * o.share <= left), key=lambda o: o.share)
            answers[c.code] = best.code
            left -= c.points * best.share
        assert left == 0, f"cannot build {targets[pillar.code]} points for {pillar.code} ({left} left)"
    return answers


def full_answers(fw: EnterpriseFramework, share: int | Fraction = 1) -> dict[str, str]:
    """Every criterion answered with its best option whose share is at most `share` (1 = best)."""
    out = {}
    for code, (_, _, c) in fw.criteria.items():
        out[code] = max((o for o in fw.scale_of(c).options if o.share <= share), key=lambda o: o.share).code
    return out

