"""The engine's results are computed once per revision of the data and reused by every
request; any change to what they depend on is seen on the next load."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect as sa_inspect

from ictgov import db as dbmod

from ictgov.stats import figures as figmod
from ictgov.stats.engine import Engine
from ictgov.stats.figures import Figures
from ictgov.stats.indicators import define_indicator
from ictgov.stats.ingest import ImportRejected, import_observations
from ictgov.stats.models import DataElement

HEADER = "indicator,area,period,value,unit,source,status\n"


def load(session, text: str, commit: bool = True) -> None:
    import_observations(session, (HEADER + text).encode(), "t.csv")
    if commit:
        session.commit()


@pytest.fixture
def computes(monkeypatch):
    calls = []
    real = Engine.compute

    def counted(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Engine, "compute", counted)
    figmod.clear_cache()
    yield calls
    figmod.clear_cache()


def vn(fig: Figures, code: str, period: str) -> float | None:
    return fig.value(code, fig.area("VN").id, period)


def test_results_are_reused_until_the_data_change(areas, computes):
    s = areas
    load(s, "subs,Hà Nội,2021,10,million,x,\nsubs,Cần Thơ,2021,2,million,x,\n")
    assert vn(Figures.load(s), "subs", "2021") == 12
    assert vn(Figures.load(s), "subs", "2021") == 12
    assert len(computes) == 1  # the second page of figures reused the first one's results

    load(s, "subs,Hà Nội,2021,11,million,y,\n")  # a revision: a new latest row
    assert vn(Figures.load(s), "subs", "2021") == 13
    assert len(computes) == 2


def test_a_new_formula_or_aggregation_is_seen_at_once(areas, computes):
    s = areas
    load(s, "subs,Hà Nội,2021,10,million,x,\nsubs,Cần Thơ,2021,2,million,x,\n"
            "pop,Hà Nội,2021,8,million,x,\npop,Cần Thơ,2021,1,million,x,\n")
    define_indicator(s, "per_head", "subs / pop")
    s.commit()
    fig = Figures.load(s)
    assert vn(fig, "per_head", "2021") == pytest.approx(12 / 9)
    define_indicator(s, "per_head", "subs / pop * 100")  # create or change
    s.commit()
    assert vn(Figures.load(s), "per_head", "2021") == pytest.approx(1200 / 9)
    s.query(DataElement).filter_by(code="subs").one().aggregation = "mean"
    s.commit()
    assert vn(Figures.load(s), "subs", "2021") == 6


def test_a_rolled_back_import_is_never_mistaken_for_the_one_after(areas, computes):
    # SQLite hands a rolled-back import's ids to the next one: same count, same highest id.
    s = areas
    load(s, "subs,Hà Nội,2021,10,million,x,\n")
    load(s, "subs,Cần Thơ,2021,2,million,x,\n", commit=False)
    assert vn(Figures.load(s), "subs", "2021") == 12  # seen inside the import's transaction
    s.rollback()
    load(s, "subs,Cần Thơ,2021,5,million,x,\n")
    assert vn(Figures.load(s), "subs", "2021") == 15


def test_a_rejected_import_changes_nothing(areas, computes):
    s = areas
    load(s, "subs,Hà Nội,2021,10,million,x,\n")
    assert vn(Figures.load(s), "subs", "2021") == 10
    with pytest.raises(ImportRejected):
        load(s, "subs,Nowhere,2021,1,million,x,\n")
    s.rollback()
    assert vn(Figures.load(s), "subs", "2021") == 10
    assert len(computes) == 1


# -- pages: the cached figures trusted without asking the database --------------------------

@pytest.fixture
def revisions(monkeypatch):
    calls = []
    real = figmod._revision

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(figmod, "_revision", counted)
    return calls


def test_a_page_trusts_the_cached_figures_until_the_recheck_interval(areas, computes, revisions):
    s = areas
    load(s, "subs,Hà Nội,2021,10,million,x,\n")
    assert vn(Figures.for_page(s, recheck_s=3600), "subs", "2021") == 10
    asked = len(revisions)
    for _ in range(3):
        assert vn(Figures.for_page(s, recheck_s=3600), "subs", "2021") == 10
    assert len(revisions) == asked  # no question to the database
    assert vn(Figures.for_page(s, recheck_s=0), "subs", "2021") == 10
    assert len(revisions) == asked + 1 and len(computes) == 1


def test_a_change_made_by_this_process_is_seen_by_the_next_page(areas, computes):
    s = areas
    load(s, "subs,Hà Nội,2021,10,million,x,\n")
    assert vn(Figures.for_page(s, recheck_s=3600), "subs", "2021") == 10
    load(s, "subs,Cần Thơ,2021,2,million,x,\n")
    assert vn(Figures.for_page(s, recheck_s=3600), "subs", "2021") == 12
    s.query(DataElement).filter_by(code="subs").one().aggregation = "mean"
    s.commit()
    assert vn(Figures.for_page(s, recheck_s=3600), "subs", "2021") == 6


def test_a_change_made_by_another_process_is_seen_after_the_recheck_interval(areas, engine, computes):
    s = areas
    load(s, "subs,Hà Nội,2021,10,million,x,\n")
    assert vn(Figures.for_page(s, recheck_s=3600), "subs", "2021") == 10
    s.commit()
    # a DB-API connection of its own: no SQLAlchemy event sees it, as with another worker
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("UPDATE observations SET value = 20 WHERE is_latest")
        raw.commit()
    finally:
        raw.close()
    assert vn(Figures.for_page(s, recheck_s=3600), "subs", "2021") == 10  # within the interval
    assert vn(Figures.for_page(s, recheck_s=0), "subs", "2021") == 20


def test_an_uncommitted_import_is_never_shown_to_another_visitor(areas, engine, computes):
    s = areas
    load(s, "subs,Hà Nội,2021,10,million,x,\n")
    other = dbmod.session_factory(engine)()
    try:
        assert vn(Figures.for_page(other, recheck_s=3600), "subs", "2021") == 10
        other.commit()
        load(s, "subs,Cần Thơ,2021,2,million,x,\n", commit=False)
        assert vn(Figures.load(s), "subs", "2021") == 12  # the importing transaction sees its rows
        assert vn(Figures.for_page(other, recheck_s=3600), "subs", "2021") == 10
        other.commit()
        s.rollback()
        assert vn(Figures.for_page(other, recheck_s=3600), "subs", "2021") == 10
    finally:
        other.close()


def test_the_definitions_a_page_gets_belong_to_no_session(areas):
    s = areas
    load(s, "subs,Hà Nội,2021,10,million,x,\n")
    Figures.for_page(s, recheck_s=3600)
    fig = Figures.for_page(s, recheck_s=3600)
    s.close()
    assert fig.catalog.get("subs").aggregation == "sum" and fig.area("VN").code == "VN"
    assert sa_inspect(fig.catalog.get("subs")).session is None
