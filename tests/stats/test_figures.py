"""Figures over the database: growth beside the published one, ranks with ties, targets,
provenance, and historical series re-aggregated onto today's provinces."""

import pytest

from ictgov.stats.figures import FigureError, Figures
from ictgov.stats.indicators import DefinitionError, define_indicator
from ictgov.stats.ingest import import_observations
from ictgov.stats.models import DataElement, Target


def load(session, text: str) -> None:
    import_observations(session, ("indicator,area,period,value,unit,source,status\n" + text).encode(), "t.csv")
    session.commit()


def test_published_growth_is_shown_beside_the_computed_one_and_flagged(areas):
    s = areas
    load(s, "rev,VN,2020H1,50,billion USD,a,approximate\nrev,VN,2021H1,65,billion USD,b,approximate\n"
            "rev_growth,VN,2021H1,22,%,b,final\n")
    rev = s.query(DataElement).filter_by(code="rev").one()
    s.query(DataElement).filter_by(code="rev_growth").one().published_growth_of_id = rev.id
    s.commit()
    shown = Figures.load(s).show(s, "rev", "VN", "2021H1")
    assert shown["growth_pct"] == 30.0 and shown["published_growth_pct"] == 22.0
    assert shown["growth_differs"] is True
    assert shown["status"] == "approximate"


def test_rank_shares_ties_and_ranks_smaller_first_when_lower_is_better(areas):
    s = areas
    load(s, "score,Hà Nội,2022,0.5,index,x,\nscore,Đà Nẵng,2022,0.7,index,x,\nscore,Huế,2022,0.5,index,x,\n"
            "score,Cần Thơ,2022,0.4,index,x,\n")
    ranked = Figures.load(s).rank("score", "2022")
    assert [(r["rank"], r["area"]) for r in ranked] == [(1, "48"), (2, "01"), (2, "46"), (4, "92")]
    s.query(DataElement).filter_by(code="score").one().higher_is_better = False
    s.commit()
    assert [r["area"] for r in Figures.load(s).rank("score", "2022")][0] == "92"
    with pytest.raises(FigureError, match="did you mean score"):
        Figures.load(s).rank("scor", "2022")


def test_regions_and_nation_are_aggregated_and_traced(areas):
    s = areas
    load(s, "subs,Hà Nội,2021,10,million,x,\nsubs,Hải Phòng,2021,5,million,x,\nsubs,Cần Thơ,2021,2,million,x,\n")
    fig = Figures.load(s)
    red_river = fig.area("R1")
    assert fig.value("subs", red_river.id, "2021") == 15
    assert fig.value("subs", fig.area("VN").id, "2021") == 17
    trace = fig.show(s, "subs", "VN", "2021")["trace"]
    assert trace["observed"] is False and trace["aggregated_from"] == 2  # two regions report


def test_indicator_formula_and_its_trace(areas):
    s = areas
    load(s, "fdi,VN,2021,117,billion USD,x,lower_bound\nrev,VN,2021,136,billion USD,y,\n")
    define_indicator(s, "fdi_share", "fdi / rev * 100", unit="%")
    s.commit()
    fig = Figures.load(s)
    shown = fig.show(s, "fdi_share", "VN", "2021")
    assert shown["value"] == pytest.approx(86.03, abs=0.01)
    assert shown["status"] == "lower_bound"
    assert {i["code"] for i in shown["trace"]["inputs"]} == {"fdi", "rev"}
    with pytest.raises(DefinitionError, match="already a data element"):
        define_indicator(s, "fdi", "rev * 2")
    define_indicator(s, "double_share", "fdi_share * 2")
    with pytest.raises(DefinitionError, match="cycle"):
        define_indicator(s, "fdi_share", "double_share / 2")
    with pytest.raises(DefinitionError, match="unknown name 'nope'"):
        define_indicator(s, "bad", "rev / nope")


def test_target_progress_from_its_baseline(areas):
    s = areas
    load(s, "dte,VN,2020,58000,enterprises,x,\ndte,VN,2021,64000,enterprises,y,\n")
    fig = Figures.load(s)
    vn = fig.area("VN")
    t = Target(code="dte", area_id=vn.id, deadline="2025", value=100000, comparison=">=", baseline_period="2020")
    p = fig.target_progress(t, "2021")
    assert p["latest"] == 64000 and p["latest_period"] == "2021"
    assert p["progress_pct"] == pytest.approx(14.29, abs=0.01) and p["met"] is False
    ceiling = Target(code="dte", area_id=vn.id, deadline="2025", value=70000, comparison="<=")
    assert fig.target_progress(ceiling, "2021")["met"] is True


def test_old_provinces_reaggregate_onto_todays_units(areas):
    s = areas
    # Hà Giang (02) merged into Tuyên Quang (08) on 2025-07-01.
    load(s, "subs,Hà Giang,2021,3,million,x,\nsubs,Tuyên Quang,2021,4,million,x,\nsubs,Hà Nội,2021,9,million,x,\n")
    published = Figures.load(s)
    assert published.value("subs", published.area("08", "2021").id, "2021") == 4
    current = Figures.load(s, boundaries="current")
    new_tq = current.area("08")
    assert new_tq.valid_from is not None and new_tq.valid_from.year == 2025
    assert current.value("subs", new_tq.id, "2021") == 7
    assert current.value("subs", current.area("01").id, "2021") == 9
    assert current.value("subs", current.area("VN").id, "2021") == 16
