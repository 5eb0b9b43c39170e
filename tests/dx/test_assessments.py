"""Enterprises, their assessments (save as you go, resume, submit once complete, progress,
peers), the solutions catalogue and the stored DTI rankings, on the database."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction

import pytest

from ictgov.audit import entries
from ictgov.dx import assessments as asm
from ictgov.dx import catalogue, enterprises, rankings
from ictgov.dx.dti import DtiInputError
from ictgov.dx.enterprises import EnterpriseError, normalise_tax_code
from ictgov.stats.areas import load_reference_areas

from .conftest import full_answers

# Tax codes whose 10th digit is the check digit of the first nine.
CODES = ["0100233488", "0158073023", "0173681932", "0164262124", "0145383236"]

DTI_HEADER = ("area,year,awareness,institutions,infrastructure,human_resources,cybersecurity,"
              "smart_city,digital_government,digital_economy,digital_society")


@pytest.fixture
def db(session):
    load_reference_areas(session)
    session.flush()
    return session


def at_share(fw, share: str) -> dict[str, str]:
    """Every criterion at the option worth `share` of its points; yes/no criteria "yes"."""
    out = {}
    for code, (_, _, c) in fw.criteria.items():
        options = fw.scale_of(c).options
        exact = [o for o in options if o.share == Fraction(share)]
        out[code] = (exact[0] if exact else max(options, key=lambda o: o.share)).code
    return out


def make_enterprise(db, code, province="01", sector="trade", size="small", name=None):
    return enterprises.register(db, {"name": name or f"Công ty {code}", "sector": sector,
                                     "size_class": size, "province_code": province}, tax_code=code)


def submitted_with(db, e, answers, when=None):
    a = asm.start(db, e)
    asm.save_answers(db, a, answers)
    asm.submit(db, a)
    if when is not None:
        a.submitted_at = when
    db.flush()
    return a


# -- enterprises ------------------------------------------------------------------------------


@pytest.mark.parametrize("text,expected", [
    ("0100233488", "0100233488"), ("0100 233 488", "0100233488"),
    ("0100233488001", "0100233488-001"), ("0100233488-001", "0100233488-001"),
])
def test_tax_codes_of_10_or_13_digits_are_normalised(text, expected):
    assert normalise_tax_code(text) == expected


@pytest.mark.parametrize("text,message", [
    ("0100233489", "check digit"), ("010023348", "10 digits"), ("01002334880011", "10 digits"),
    ("01A0233488", "10 digits"), ("0100233488-000", "all zeros"), ("", "required"),
])
def test_bad_tax_codes_are_refused_with_the_reason(text, message):
    with pytest.raises(ValueError, match=message):
        normalise_tax_code(text)


def test_registration_checks_every_field_and_is_audited(db):
    with pytest.raises(EnterpriseError) as exc:
        enterprises.register(db, {"tax_code": "0100233489", "name": "", "sector": "mining",
                                  "size_class": "huge", "province_code": "99"})
    assert set(exc.value.errors) == {"tax_code", "name", "sector", "size_class", "province_code"}
    e = make_enterprise(db, "0100233488")
    assert e.tax_code == "0100233488" and e.province_code == "01"
    with pytest.raises(EnterpriseError, match="already registered"):
        make_enterprise(db, "0100233488")
    enterprises.update(db, e, {"name": "Công ty Mới", "sector": "ict", "size_class": "medium",
                               "province_code": "79"})
    log = entries(db, "dx_enterprise")
    assert [x.action for x in log] == ["update", "register"]
    assert log[0].before["name"] == "Công ty 0100233488" and log[0].after["sector"] == "ict"


# -- assessments ------------------------------------------------------------------------------


def test_answers_are_saved_as_the_user_goes_and_the_draft_is_resumed(db, dbi):
    e = make_enterprise(db, CODES[0])
    a = asm.start(db, e)
    asm.save_answers(db, a, {"website": "wide", "dx_plan": "plan"})
    asm.save_answers(db, a, {"wifi": "partial", "website": ""})  # "" clears an answer
    db.flush()
    again = asm.start(db, e)
    assert again.id == a.id
    assert again.answers == {"dx_plan": "plan", "wifi": "partial"}
    assert [x.action for x in entries(db, "dx_assessment")] == ["save_answers", "save_answers", "start"]


def test_a_bad_answer_saves_nothing_and_names_the_criterion(db):
    a = asm.start(db, make_enterprise(db, CODES[0]))
    asm.save_answers(db, a, {"website": "wide"})
    with pytest.raises(asm.AssessmentError) as exc:
        asm.save_answers(db, a, {"wifi": "partial", "erp": "sometimes", "websit": "wide"})
    text = "; ".join(exc.value.problems)
    assert "erp: 'sometimes' is not an option" in text and "websit: unknown criterion" in text
    assert a.answers == {"website": "wide"}


def test_an_incomplete_assessment_is_refused_naming_the_missing_criteria(db, dbi):
    a = asm.start(db, make_enterprise(db, CODES[0]))
    answers = full_answers(dbi)
    del answers["erp"], answers["dashboards"]
    asm.save_answers(db, a, answers)
    with pytest.raises(asm.AssessmentError) as exc:
        asm.submit(db, a)
    assert exc.value.missing == ["erp", "dashboards"]
    assert a.status == "draft" and a.result is None


def test_submitted_result_keeps_its_framework_and_cannot_change(db, dbi):
    a = submitted_with(db, make_enterprise(db, CODES[0]), at_share(dbi, "0.6"))
    assert a.status == "submitted" and a.submitted_at is not None
    assert a.result["framework"] == {"id": "dbi-sme-2021", "version": 1, "digest": dbi.digest}
    assert (a.framework_id, a.framework_version, a.framework_digest) == ("dbi-sme-2021", 1, dbi.digest)
    # 3/5 of 305 points on the graded criteria + 15 on the three yes/no: 198, above 192, but
    # only operations and culture (with yes/no points) reach level 4: level 3.
    assert a.total == 198.0 and a.level == 3
    with pytest.raises(asm.AssessmentError, match="submitted"):
        asm.save_answers(db, a, {"website": "none"})
    with pytest.raises(asm.AssessmentError, match="already submitted"):
        asm.submit(db, a)
    assert asm.start(db, a.enterprise).id != a.id  # a re-assessment is a new draft


def test_reassessments_give_progress_over_time(db, dbi):
    e = make_enterprise(db, CODES[0])
    t0 = datetime(2026, 3, 1)
    submitted_with(db, e, at_share(dbi, "0.2"), when=t0)
    submitted_with(db, e, at_share(dbi, "0.6"), when=t0 + timedelta(days=90))
    points = asm.progress(db, e)
    assert [p["total"] for p in points] == [76, 198]
    assert points[0]["change"] is None and points[1]["change"] == 122
    assert [p["level"] for p in points] == [1, 3] and points[1]["level_change"] == 2
    assert points[1]["pillars"]["strategy"] == 15


def test_peers_are_same_sector_size_and_province_each_counted_once(db, dbi):
    me = make_enterprise(db, CODES[0])
    same = [make_enterprise(db, c) for c in CODES[1:3]]
    other_province = make_enterprise(db, CODES[3], province="79")
    other_sector = make_enterprise(db, CODES[4], sector="ict")
    t = datetime(2026, 1, 1)
    submitted_with(db, same[0], at_share(dbi, "0.2"), when=t)
    submitted_with(db, same[0], at_share(dbi, "1"), when=t + timedelta(days=1))  # its latest: 320
    submitted_with(db, same[1], at_share(dbi, "0.2"), when=t)  # 76
    submitted_with(db, other_province, at_share(dbi, "0.4"), when=t)
    submitted_with(db, other_sector, at_share(dbi, "0.4"), when=t)
    mine = submitted_with(db, me, at_share(dbi, "0.6"), when=t + timedelta(days=2))  # 198
    bench, group = asm.peers(db, mine)
    assert group == {"sector": "trade", "size_class": "small", "province_code": "01"}
    assert (bench.peers, bench.below, bench.above) == (2, 1, 1)
    assert bench.percentile == 50.0 and bench.median == (76 + 320) / 2


# -- catalogue --------------------------------------------------------------------------------


SOLUTION = {"name": "Phần mềm ERP đám mây", "name_en": "Cloud ERP", "provider": "Nhà cung cấp A",
            "category": "erp", "criteria": "erp, cloud", "price_min": "500.000", "price_max": "2000000",
            "url": "https://example.vn/erp"}


def test_catalogue_checks_fields_and_audits_every_change(db):
    with pytest.raises(catalogue.CatalogueError) as exc:
        catalogue.create(db, {**SOLUTION, "criteria": "erp, websitee", "category": "x", "price_min": "abc",
                              "url": "javascript:alert(1)", "provider": ""})
    assert set(exc.value.errors) == {"criteria", "category", "price_min", "url", "provider"}
    assert "websitee" in exc.value.errors["criteria"]
    s = catalogue.create(db, SOLUTION)
    assert s.criteria == ["erp", "cloud"] and s.price_min == 500000
    catalogue.update(db, s, {**SOLUTION, "price_max": "3000000"})
    assert catalogue.delete(db, s) is True
    assert [x.action for x in entries(db, "dx_solution")] == ["delete", "update", "create"]


def test_recommendations_follow_the_gaps_and_adoption_shows_its_effect(db, dbi):
    erp = catalogue.create(db, SOLUTION)
    web = catalogue.create(db, {**SOLUTION, "name": "Website bán hàng", "category": "website_ecommerce",
                                "criteria": ["website", "online_ordering"]})
    catalogue.create(db, {**SOLUTION, "name": "Không liên quan", "criteria": ["patents"], "active": "false"})
    e = make_enterprise(db, CODES[0])
    answers = at_share(dbi, "0.6")
    first = submitted_with(db, e, answers, when=datetime.now() - timedelta(days=30))
    recs = catalogue.recommend(db, first.result)
    assert {r["solution"].id for r in recs} == {erp.id, web.id}  # the withdrawn one is not offered
    assert all(r["gain"] == 4 for r in recs)  # two criteria of 5 points at 3/5 each
    catalogue.adopt(db, e, erp, date.today() - timedelta(days=10))
    with pytest.raises(catalogue.CatalogueError, match="already recorded"):
        catalogue.adopt(db, e, erp)
    second = submitted_with(db, e, {**answers, "erp": "optimised", "cloud": "wide"})
    effect = catalogue.effects(db, second, asm.previous_of(db, second))
    assert len(effect) == 1 and effect[0]["solution"].id == erp.id
    assert {r["criterion"]: (r["before"], r["after"]) for r in effect[0]["criteria"]} == {
        "erp": (3, 5), "cloud": (3, 4)}
    assert effect[0]["change"] == 3
    assert catalogue.delete(db, erp) is False and erp.active is False  # adopted: withdrawn, kept


# -- stored DTI rankings ----------------------------------------------------------------------


def dti_csv(rows: list[tuple[str, int, float]]) -> bytes:
    return (DTI_HEADER + "\n" + "\n".join(
        f"{a},{y}," + ",".join([str(v)] * 9) for a, y, v in rows) + "\n").encode()


def test_an_upload_is_stored_and_replaces_its_year_whole(db):
    fw = rankings.index_framework("dti-2022")
    batch, _ = rankings.upload(db, dti_csv([("Đà Nẵng", 2022, 0.7), ("Hà Nội", 2022, 0.6),
                                            ("Bắc Ninh", 2022, 0.6)]), fw, "dti.csv", draws=50)
    rows = rankings.ranking(db, "dti-2022", 2022)
    assert [(r.area_code, r.rank) for r in rows] == [("48", 1), ("01", 2), ("27", 2)]
    assert rows[0].index == 0.7 and rows[0].rank_low is not None
    assert batch.content_sha256 and batch.years == [2022]
    rankings.upload(db, dti_csv([("Hà Nội", 2022, 0.8), ("Đà Nẵng", 2022, 0.5)]), fw, "dti2.csv", draws=0)
    rows = rankings.ranking(db, "dti-2022", 2022)
    assert [(r.area_code, r.rank) for r in rows] == [("01", 1), ("48", 2)]
    assert entries(db, "dx_dti")[0].after["replaced"] == 3


def test_a_bad_upload_writes_nothing(db):
    fw = rankings.index_framework("dti-2022")
    with pytest.raises(DtiInputError) as exc:
        rankings.upload(db, dti_csv([("Đà Nẵng", 2022, 0.7), ("Atlantis", 2022, 1.5)]), fw, "bad.csv")
    assert {e.line for e in exc.value.errors} == {3}
    assert rankings.ranking(db, "dti-2022", 2022) == []
