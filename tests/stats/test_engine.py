"""The engine on small hand-made hierarchies whose answers can be worked out on paper."""

import math

import polars as pl
import pytest

from ictgov.stats.engine import ElementSpec, Engine, EngineError

# nation 1 > regions 10, 20 > provinces 101, 102 (region 10) and 201 (region 20)
PARENTS = {10: 1, 20: 1, 101: 10, 102: 10, 201: 20}


def frame(rows):
    return pl.DataFrame(rows, schema=["element", "area_id", "period", "value"], orient="row")


def obs():
    rows = []
    for period, vals in {"2020": (10, 20, 30), "2021": (12, 25, 33)}.items():
        for area, v in zip((101, 102, 201), vals):
            rows.append(("rev", area, period, float(v)))
    for area, pop in ((101, 1.0), (102, 3.0), (201, 4.0)):
        rows.append(("pop", area, "2021", pop))
        rows.append(("score", area, "2021", {101: 0.5, 102: 0.9, 201: 0.2}[area]))
    return frame(rows)


def test_sum_aggregates_to_regions_and_nation():
    eng = Engine(obs(), PARENTS, [ElementSpec("rev", "sum")])
    res = eng.compute()
    assert res.get("rev", 10, "2021") == 37
    assert res.get("rev", 20, "2021") == 33
    assert res.get("rev", 1, "2021") == 70


def test_observed_value_at_nation_wins_over_aggregate():
    df = pl.concat([obs(), frame([("rev", 1, "2021", 99.0)])])
    res = Engine(df, PARENTS, [ElementSpec("rev", "sum")]).compute()
    assert res.get("rev", 1, "2021") == 99
    assert res.get("rev", 10, "2021") == 37


def test_weighted_mean_uses_weight_element():
    specs = [ElementSpec("score", "mean", "pop"), ElementSpec("pop", "sum")]
    res = Engine(obs(), PARENTS, specs).compute()
    assert math.isclose(res.get("score", 10, "2021"), (0.5 * 1 + 0.9 * 3) / 4)
    assert math.isclose(res.get("score", 1, "2021"), (0.5 + 2.7 + 0.8) / 8)


def test_none_aggregation_leaves_upper_levels_empty():
    res = Engine(obs(), PARENTS, [ElementSpec("rev", "none")]).compute()
    assert res.get("rev", 1, "2021") is None


def test_growth_prev_year_share_and_sum_children():
    eng = Engine(obs(), PARENTS, [ElementSpec("rev", "sum")])
    res = eng.compute(
        {
            "g": "growth(rev) * 100",
            "p": "prev_year(rev)",
            "s": "share(rev) * 100",
            "c": "sum_children(rev)",
            "gg": "g / 2",
        }
    )
    assert math.isclose(res.get("g", 101, "2021"), 20.0)
    assert math.isclose(res.get("g", 1, "2021"), (70 / 60 - 1) * 100)
    assert res.get("g", 101, "2020") is None  # no 2019
    assert res.get("p", 102, "2021") == 20
    assert math.isclose(res.get("s", 102, "2021"), 25 / 37 * 100)
    assert math.isclose(res.get("s", 10, "2021"), 37 / 70 * 100)
    assert res.get("c", 10, "2020") == 30
    assert math.isclose(res.get("gg", 101, "2021"), 10.0)


def test_division_by_zero_gives_no_value():
    df = frame([("a", 101, "2021", 1.0), ("b", 101, "2021", 0.0)])
    res = Engine(df, PARENTS).compute({"r": "a / b"})
    assert res.get("r", 101, "2021") is None


def test_status_is_the_weakest_of_the_inputs():
    df = pl.DataFrame(
        {
            "element": ["a", "b"],
            "area_id": [101, 101],
            "period": ["2021", "2021"],
            "value": [1.0, 2.0],
            "status": ["final", "approximate"],
        }
    )
    res = Engine(df, PARENTS).compute({"r": "a + b", "s": "a * 2"})
    assert res.status("r", 101, "2021") == "approximate"
    assert res.status("s", 101, "2021") == "final"


def test_unknown_name_and_cycle_are_rejected():
    with pytest.raises(EngineError, match="nope"):
        Engine(obs(), PARENTS).compute({"x": "rev + nope"})
    with pytest.raises(EngineError, match="cycle"):
        Engine(obs(), PARENTS).compute({"x": "y + 1", "y": "x * 2"})


def test_half_year_growth_compares_same_half():
    df = frame([("r", 101, "2020H1", 50.0), ("r", 101, "2021H1", 65.0), ("r", 101, "2020H2", 10.0)])
    res = Engine(df, PARENTS).compute({"g": "growth(r)"})
    assert math.isclose(res.get("g", 101, "2021H1"), 0.3)
    assert res.get("g", 101, "2021H2") is None


def test_daily_series_aggregate_and_grow_against_the_same_day_a_year_before():
    # 1 March is the 60th day of 2021 and the 61st of 2020: compared by month and day
    rows = [("calls", 101, "2020-03-01", 40.0), ("calls", 201, "2020-03-01", 60.0),
            ("calls", 101, "2021-03-01", 30.0), ("calls", 201, "2021-03-01", 50.0),
            ("calls", 101, "2020-02-29", 7.0), ("calls", 101, "2021-02-28", 5.0),
            ("calls", 101, "2021-03", 900.0)]
    res = Engine(frame(rows), PARENTS, [ElementSpec("calls", "sum")]).compute({"g": "growth(calls) * 100"})
    assert res.get("calls", 1, "2021-03-01") == 80 and res.get("calls", 1, "2020-03-01") == 100
    assert res.get("g", 1, "2021-03-01") == pytest.approx(-20.0)
    assert res.get("calls", 1, "2021-03") == 900  # a month is its own period, not the days' sum
    # 29 February has no same day a year later to be compared with; 28 February has its own
    assert res.get("g", 101, "2021-02-28") is None
    assert [p for p, _ in res.series("calls", 101)] == ["2020-02-29", "2020-03-01", "2021-02-28", "2021-03",
                                                        "2021-03-01"]
