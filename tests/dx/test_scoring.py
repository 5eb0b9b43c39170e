"""Enterprise scoring on Decision 1970's SME index: levels on their edges, blockers, advice."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ictgov.dx.scoring import AnswerError, benchmark, overall_level, pillar_level, score

from .conftest import answers_for, full_answers

MAXIMA = {"customer_experience": 65, "strategy": 25, "infrastructure": 80, "operations": 65,
          "culture": 50, "data": 35}


def _pillar(result, code):
    return next(p for p in result.pillars if p.code == code)


def test_39_of_65_is_level_3_of_its_pillar(dbi):
    result = score(dbi, answers_for(dbi, {"customer_experience": 39}))
    p = _pillar(result, "customer_experience")
    assert (p.score, p.max, p.level, p.level_name.vi) == (39, 65, 3, "Hình thành")
    assert p.share == Fraction(3, 5)


@pytest.mark.parametrize("pillar", list(MAXIMA))
@pytest.mark.parametrize(("level", "share"), [(1, Fraction(1, 10)), (2, Fraction(1, 5)), (3, Fraction(2, 5)),
                                              (4, Fraction(3, 5)), (5, Fraction(4, 5))])
def test_band_ends_open_below_closed_above(dbi, pillar, level, share):
    """Exactly at a band's lower bound is still the level below ('>10-20 %' excludes 10 %)."""
    maximum = MAXIMA[pillar]
    at = share * maximum
    assert pillar_level(dbi, at, maximum) == level - 1
    assert pillar_level(dbi, at + Fraction(1, 1000), maximum) == level
    # and the bound that closes the band above belongs to the band
    upper = (Fraction(1) if level == 5 else [Fraction(1, 5), Fraction(2, 5), Fraction(3, 5),
                                               Fraction(4, 5)][level - 1]) * maximum
    assert pillar_level(dbi, upper, maximum) == level


def test_built_boundary_scores(dbi):
    """The same edges through real answers: 13/65 = 20 % is level 1, 14/65 level 2; 8/80 = 10 % is 0."""
    cases = {("customer_experience", 13): 1, ("customer_experience", 14): 2, ("infrastructure", 8): 0,
             ("infrastructure", 9): 1, ("strategy", 5): 1, ("strategy", 20): 4, ("data", 28): 4, ("data", 29): 5,
             ("culture", 0): 0, ("culture", 50): 5}
    for (pillar, pts), level in cases.items():
        result = score(dbi, answers_for(dbi, {pillar: pts}))
        assert _pillar(result, pillar).level == level, (pillar, pts)


def test_total_above_192_with_only_four_pillars_at_level_4_is_level_3(dbi):
    # 4 pillars at 80 % (level 4), strategy and data at 60 % (level 3)
    targets = {"customer_experience": 52, "infrastructure": 64, "operations": 52, "culture": 40,
               "strategy": 15, "data": 21}
    result = score(dbi, answers_for(dbi, targets))
    assert result.total == 244 and result.total > 192
    assert sorted(p.level for p in result.pillars) == [3, 3, 4, 4, 4, 4]
    assert result.level == 3 and result.level_name.vi == "Hình thành"
    nxt = result.next_level
    assert (nxt.level, nxt.total_met, nxt.pillars_required, nxt.pillars_at_level, nxt.pillars_missing) == (
        4, True, 5, 4, 1)
    # the cheapest pillar to lift: strategy sits exactly on 60 % of 25, data on 60 % of 35
    assert [g.code for g in nxt.pillars_below] == ["strategy", "data"]
    assert nxt.pillars_below[0].must_lift and not nxt.pillars_below[1].must_lift
    assert nxt.pillars_below[0].points_short == 0  # any point above 15 does it
    assert nxt.pillars_below[1].points_short == 0
    # advice starts in the pillar that must be lifted
    assert result.advice[0].pillar == "strategy" and result.advice[0].lifts_pillar
    assert result.advice[0].criterion == "dx_plan" and result.advice[0].gain == 10


def test_total_exactly_at_a_threshold_is_not_above_it(dbi):
    # five pillars just above 60 % (level 4), strategy at 40 %; total exactly 192
    exact = {"customer_experience": 40, "strategy": 10, "infrastructure": 49, "operations": 40,
             "culture": 31, "data": 22}
    result = score(dbi, answers_for(dbi, exact))
    assert result.total == 192
    assert sum(p.level >= 4 for p in result.pillars) == 5
    assert result.level == 3
    nxt = result.next_level
    assert (nxt.total_met, nxt.total_short, nxt.pillars_missing) == (False, 0, 0)  # any point more
    assert score(dbi, answers_for(dbi, dict(exact, operations=41))).level == 4


def test_level_5_needs_all_six_pillars_at_level_5(dbi):
    everything = full_answers(dbi)
    top = score(dbi, everything)
    assert (top.total, top.level, top.level_name.vi, top.next_level) == (320, 5, "Dẫn dắt", None)
    assert top.complete and top.advice == []
    # data at exactly 80 % (level 4): total 313 > 256, five pillars at 5 -> level 4
    answers = dict(everything, **answers_for(dbi, {"data": 28}))
    result = score(dbi, answers)
    assert result.total == 313 and result.level == 4
    assert result.next_level.pillars_missing == 1
    assert [g.code for g in result.next_level.pillars_below] == ["data"]


def test_level_1_needs_four_pillars_at_level_1(dbi):
    # total 30 > 20 but only 3 pillars above 10 %
    result = score(dbi, answers_for(dbi, {"infrastructure": 20, "customer_experience": 7, "data": 4}))
    assert result.total == 31 and result.level == 0
    assert result.next_level.pillars_missing == 1
    result = score(dbi, answers_for(dbi, {"infrastructure": 20, "customer_experience": 7, "data": 4,
                                          "culture": 6}))
    assert result.level == 1 and result.level_name.vi == "Khởi động"


def test_nothing_answered(dbi):
    result = score(dbi, {})
    assert (result.total, result.level, result.complete) == (0, 0, False)
    assert len(result.unanswered) == 60 and result.unanswered[0] == "website"
    assert result.next_level.total_short == 20
    assert len(result.advice) == 10
    assert result.advice[0].criterion == "dx_plan"  # 25 points: the largest single gain


def test_empty_and_none_answers_are_unanswered(dbi):
    result = score(dbi, {"website": "", "erp": None, "crm": "wide"})
    assert result.answers == {"crm": "wide"}
    assert "website" in result.unanswered and "erp" in result.unanswered
    assert result.points["crm"] == 4


def test_bad_answers_are_all_named(dbi):
    with pytest.raises(AnswerError) as info:
        score(dbi, {"websit": "wide", "erp": "sometimes", "it_unit": True, "crm": "wide"})
    problems = info.value.problems
    assert len(problems) == 3
    assert "websit: unknown criterion in dbi-sme-2021@1; did you mean 'website'?" in problems
    assert any(p.startswith("erp: 'sometimes' is not an option of scale 'extent'") for p in problems)
    assert any(p.startswith("it_unit:") for p in problems)


def test_result_records_the_framework_and_serialises(dbi):
    result = score(dbi, answers_for(dbi, {"strategy": 15}))
    data = result.as_dict()
    assert data["framework"] == {"id": "dbi-sme-2021", "version": 1, "digest": dbi.digest}
    assert data["pillars"][1]["score"] == 15 and data["pillars"][1]["share"] == 0.6
    assert data["criteria"] == 60 and data["answered"] == 1 and data["complete"] is False
    assert isinstance(data["next_level"]["total_short"], int)


def test_advice_limit_none_lists_every_gap(dbi):
    result = score(dbi, full_answers(dbi, Fraction(4, 5)), advice_limit=None)
    # every answer at 80 % (yes/no criteria fall to "no"): all 60 criteria can still gain
    assert len(result.advice) == 60
    gains = [a.gain for a in result.advice if not a.lifts_pillar]
    assert gains == sorted(gains, reverse=True)


def test_overall_level_is_a_staircase(dbi):
    assert overall_level(dbi, Fraction(300), [5, 5, 5, 5, 5, 5]) == 5
    assert overall_level(dbi, Fraction(300), [5, 5, 5, 5, 5, 2]) == 4
    assert overall_level(dbi, Fraction(21), [1, 1, 1, 1, 0, 0]) == 1
    assert overall_level(dbi, Fraction(20), [5, 5, 5, 5, 5, 5]) == 0


answer_lists = st.lists(st.integers(min_value=0, max_value=5), min_size=60, max_size=60)


def _answers(dbi, picks):
    out = {}
    for (code, (_, _, c)), k in zip(dbi.criteria.items(), picks, strict=True):
        options = sorted(dbi.scale_of(c).options, key=lambda o: o.share)
        out[code] = options[min(k, len(options) - 1)].code
    return out


@settings(max_examples=60, deadline=None)
@given(answer_lists, st.integers(min_value=0, max_value=59))
def test_a_better_answer_never_lowers_a_level(dbi, picks, i):
    before = score(dbi, _answers(dbi, picks))
    raised = list(picks)
    raised[i] = 5
    after = score(dbi, _answers(dbi, raised))
    assert after.total >= before.total
    assert after.level >= before.level
    assert all(a.level >= b.level for a, b in zip(after.pillars, before.pillars, strict=True))


@settings(max_examples=60, deadline=None)
@given(answer_lists)
def test_levels_agree_with_the_rules(dbi, picks):
    result = score(dbi, _answers(dbi, picks))
    assert result.total == sum(p.score for p in result.pillars) == sum(result.points.values())
    for p in result.pillars:
        share = p.score / p.max
        bounds = [Fraction(0), Fraction(1, 10), Fraction(1, 5), Fraction(2, 5), Fraction(3, 5), Fraction(4, 5)]
        assert p.level == max(lv for lv, b in enumerate(bounds) if lv == 0 or share > b)
    lv = result.level
    if lv:
        rule = dbi.levels[lv]
        assert result.total > rule.total_above
        assert sum(p.level >= lv for p in result.pillars) >= rule.pillars_at_level
    if result.next_level:
        nxt = result.next_level
        assert not (nxt.total_met and nxt.pillars_missing == 0)


def test_benchmark():
    b = benchmark(150, [100, 120, 150, 200, 250])
    assert (b.peers, b.below, b.equal, b.above) == (5, 2, 1, 2)
    assert b.percentile == 50.0 and b.median == 150
    assert benchmark(10, [20, 30]).percentile == 0
    assert benchmark(40, [20, 30]).percentile == 100
    assert benchmark(Fraction(45, 2), [20, 25]).median == 22.5
    empty = benchmark(5, [])
    assert (empty.peers, empty.percentile, empty.median) == (0, None, None)
