"""Press agencies (Decision 951): profile, the self-assessment of a year, the council's
adjustments, certification, the certificate and the ranking, on the database."""

from __future__ import annotations

import copy
from datetime import datetime
from fractions import Fraction

import pytest
import yaml

from ictgov.audit import entries
from ictgov.dx import press
from ictgov.dx.framework import FrameworkError, MaturityFramework, bundled, get, load_text
from ictgov.dx.press import PressError
from ictgov.stats.areas import load_reference_areas

from .conftest import full_answers

@pytest.fixture
def fw() -> MaturityFramework:
    return get("press-maturity@1", "maturity")


@pytest.fixture
def db(session):
    load_reference_areas(session)
    session.flush()
    return session


PROFILE = {"name": "Báo Điện tử Sông Lam", "agency_type": "online", "governing_body": "UBND tỉnh Nghệ An",
           "scope": "local", "province_code": "40"}


def agency(db, code="BC-0001", **over):
    return press.register(db, {**PROFILE, **over}, code=code)


def none_answers(fw) -> dict[str, str]:
    return {code: "none" for code in fw.criteria}


def adjustments_to(fw, target: str) -> dict[str, str]:
    """Council points giving exactly `target` on top of all-zero answers (greedy, criterion order)."""
    left = Fraction(target)
    out = {}
    for code, (_, _, c) in fw.criteria.items():
        give = min(c.points, left)
        if give:
            out[code] = str(float(give)) if give.denominator != 1 else str(give.numerator)
        left -= give
    assert left == 0
    return out


def sent(db, fw, code, year=2025, answers=None):
    ag = press.by_code(db, code) or agency(db, code, name=f"Báo {code}")
    a = press.start(db, ag, year)
    press.save(db, a, answers or none_answers(fw))
    press.submit(db, a)
    return a


def certify_at(db, fw, code, target: str, year=2025):
    a = sent(db, fw, code, year)
    for criterion, points in adjustments_to(fw, target).items():
        press.adjust(db, a, criterion, points, "Hồ sơ minh chứng cho thấy mức cao hơn")
    press.certify(db, a)
    return a


# -- the framework ----------------------------------------------------------------------------------


def test_the_bundled_index_has_the_published_shape(fw):
    assert [p.points for p in fw.pillars] == [18, 24, 20, 23, 15]
    assert sum(len(p.components) for p in fw.pillars) == 10
    assert len(fw.criteria) == 42
    assert fw.total == 100
    assert [(lv.total_at_least, lv.basis) for lv in fw.levels[1:]] == [
        (50, "published"), (65, "reading"), (80, "reading"), (90, "published")]


@pytest.mark.parametrize(("total", "level"), [("89.75", 3), ("90", 4), ("49.75", 0), ("50", 1),
                                              ("64.75", 1), ("65", 2), ("79.75", 2), ("80", 3), ("100", 4)])
def test_level_edges_are_exact(fw, total, level):
    from ictgov.dx.maturity import score

    result = score(fw, none_answers(fw), adjustments_to(fw, total))
    assert result.total == Fraction(total)
    assert result.level == level


def _v1_data() -> dict:
    folder = get("press-maturity@1").file
    from importlib import resources

    return yaml.safe_load(resources.files("ictgov.dx").joinpath("frameworks", folder).read_text(encoding="utf-8"))


def test_maturity_cut_off_above_the_total_is_refused():
    data = _v1_data()
    data["levels"][4]["total_at_least"] = 120
    with pytest.raises(FrameworkError) as exc:
        load_text(yaml.safe_dump(data, allow_unicode=True), "bad.yaml")
    text = str(exc.value)
    assert "levels[4].total_at_least" in text and "cannot be met" in text and "120" in text


def test_maturity_cut_offs_must_increase():
    data = _v1_data()
    data["levels"][3]["total_at_least"] = 60  # Tốt below Khá's 65
    with pytest.raises(FrameworkError) as exc:
        load_text(yaml.safe_dump(data, allow_unicode=True), "bad.yaml")
    assert "levels[3].total_at_least: must be above level 2's 65" in str(exc.value)


@pytest.fixture
def v2(tmp_path):
    """press-maturity@2 with 43 criteria (as Decision 1827 of 2024), in a folder of its own."""
    data = _v1_data()
    data["version"] = 2
    comp = data["pillars"][0]["components"][0]
    first = comp["criteria"][0]
    extra = copy.deepcopy(first)
    first["points"] = first["points"] - 1
    extra.update(code="s1b", points=1, text={"vi": "Tiêu chí bổ sung năm 2024", "en": "A criterion added in 2024"})
    comp["criteria"].insert(1, extra)
    (tmp_path / "press-maturity.v2.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ICTGOV_FRAMEWORKS_DIR", str(tmp_path))
        bundled.cache_clear()
        yield get("press-maturity", "maturity")
    bundled.cache_clear()


def test_a_new_version_applies_to_new_assessments_only(db, fw, v2):
    ag = agency(db)
    old = press.start(db, ag, 2024, framework="press-maturity@1")
    press.save(db, old, {"s1": "full"})
    new = press.start(db, ag, 2025)  # the newest version now
    assert v2.version == 2 and len(v2.criteria) == 43
    assert (new.framework_version, len(press.framework_of(new).criteria)) == (2, 43)
    # the 2024 assessment stays on version 1: 42 criteria, s1 worth 3 points
    assert (old.framework_version, len(press.framework_of(old).criteria)) == (1, 42)
    assert press.current_score(old).points["s1"] == 3
    press.save(db, old, full_answers(press.framework_of(old)))
    press.submit(db, old)
    assert press.certify(db, old)["total"] == 100
    press.save(db, new, {"s1b": "full"})  # a criterion of version 2 only
    assert new.answers == {"s1b": "full"}
    assert press.current_score(new).points["s1b"] == 1


# -- profile -------------------------------------------------------------------------------------


def test_profile_names_every_bad_field(db):
    with pytest.raises(PressError) as exc:
        press.register(db, {"name": " ", "agency_type": "blog", "governing_body": "", "scope": "national",
                            "province_code": "99"}, code="BC-0001")
    errors = exc.value.errors
    assert set(errors) == {"name", "agency_type", "governing_body", "scope", "province_code"}
    assert "print, online, radio, television" in errors["agency_type"]
    with pytest.raises(PressError) as exc:
        press.register(db, PROFILE, code="")
    assert "code" in exc.value.errors
    a = agency(db, code=" bc-0001 ")
    assert a.code == "BC-0001" and not a.central
    with pytest.raises(PressError, match="already registered"):
        agency(db, code="BC-0001")


# -- the agency's assessment -----------------------------------------------------------------------


def test_saved_as_one_goes_resumed_and_sent_only_when_complete(db, fw):
    ag = agency(db)
    a = press.start(db, ag, 2025)
    assert (a.framework_id, a.framework_version, a.framework_digest) == ("press-maturity", 1, fw.digest)
    press.save(db, a, {"s1": "full", "s2": "partial"}, {"s1": "Nghị quyết số 12 của Ban biên tập"})
    assert press.start(db, ag, "2025").id == a.id  # one per agency and year: resumed
    with pytest.raises(PressError) as exc:
        press.submit(db, a)
    assert len(exc.value.missing) == 40 and "s3" in exc.value.errors
    with pytest.raises(PressError) as exc:
        press.save(db, a, {"s3": "excellent", "zz": "full"}, {"s4": "x" * 2001})
    assert set(exc.value.errors) == {"s3", "zz", "note.s4"}
    assert a.answers == {"s1": "full", "s2": "partial"}  # nothing of the bad request saved
    press.save(db, a, full_answers(fw))
    press.submit(db, a)
    assert a.status == "submitted" and a.self_total == 100
    assert a.notes == {"s1": "Nghị quyết số 12 của Ban biên tập"}
    with pytest.raises(PressError, match="status"):
        press.save(db, a, {"s1": "none"})


def test_one_assessment_per_agency_and_year(db, fw):
    ag = agency(db)
    a24 = press.start(db, ag, 2024)
    a25 = press.start(db, ag, 2025)
    assert a24.id != a25.id
    assert press.start(db, ag, 2024).id == a24.id
    assert [x.year for x in press.assessments_of(db, ag)] == [2025, 2024]
    with pytest.raises(PressError) as exc:
        press.start(db, ag, 2022)
    assert "2023" in exc.value.errors["year"]
    with pytest.raises(PressError):
        press.start(db, ag, "next year")


# -- the council --------------------------------------------------------------------------------------


def test_adjustment_outside_the_criterion_points_is_refused_naming_it(db, fw):
    a = sent(db, fw, "BC-0002")
    for bad in ("3.5", "-1", "abc", "1.125"):
        with pytest.raises(PressError) as exc:
            press.adjust(db, a, "s1", bad, "lý do")
        assert exc.value.errors["points"].startswith("s1: "), exc.value.errors
    with pytest.raises(PressError) as exc:
        press.adjust(db, a, "s1", "3.5", "lý do")
    assert "outside 0 to 3 points" in exc.value.errors["points"]
    with pytest.raises(PressError) as exc:
        press.adjust(db, a, "s1", "2", "  ")
    assert exc.value.errors == {"reason": "required: say why"}
    with pytest.raises(PressError) as exc:
        press.adjust(db, a, "nope", "1", "lý do")
    assert "criterion" in exc.value.errors
    assert a.adjustments == {}


def test_adjustments_are_audited_and_shown_beside_the_agencys_points(db, fw):
    a = sent(db, fw, "BC-0003", answers=full_answers(fw))
    press.adjust(db, a, "s1", "1,5", "Chiến lược chưa được phê duyệt chính thức")
    press.adjust(db, a, "s1", "2", "Đã xem quyết định phê duyệt bổ sung")
    entry = a.adjustments["s1"]
    assert (entry["points"], entry["self_points"], entry["reason"]) == ("2", "3", "Đã xem quyết định phê duyệt bổ sung")
    result = press.current_score(a)
    assert (result.self_points["s1"], result.points["s1"], result.total, result.self_total) == (3, 2, 99, 100)
    log = [e for e in entries(db, entity="dx_press_assessment") if e.action == "adjust"]
    assert len(log) == 2  # newest first: each change with the points before and after
    assert log[0].before["s1"]["points"] == "1.5" and log[0].after["s1"]["reason"] == "Đã xem quyết định phê duyệt bổ sung"


def test_return_then_send_again(db, fw):
    a = sent(db, fw, "BC-0004")
    with pytest.raises(PressError, match="reason"):
        press.return_to_agency(db, a, "")
    press.return_to_agency(db, a, "Thiếu minh chứng cho trụ cột Độc giả")
    assert a.status == "returned"
    press.save(db, a, {"a1": "full"})
    press.submit(db, a)
    assert a.status == "submitted" and a.return_reason == "Thiếu minh chứng cho trụ cột Độc giả"


def test_certify_freezes_score_level_and_issues_a_number_unique_in_its_year(db, fw):
    when = datetime(2025, 12, 16, 9, 0)
    a = sent(db, fw, "BC-0005", answers=full_answers(fw))
    press.adjust(db, a, "s1", "0", "Không có minh chứng")
    data = press.certify(db, a, at=when)
    assert (a.status, a.total, a.level, a.certificate_no) == ("certified", 97.0, 4, "PDT-2025-0001")
    assert data["certificate"]["date"] == "2025-12-16T09:00:00" and a.certified_at == when
    for change in (lambda: press.adjust(db, a, "s2", "0", "muộn"), lambda: press.save(db, a, {"s1": "none"}),
                   lambda: press.return_to_agency(db, a, "muộn"), lambda: press.certify(db, a)):
        with pytest.raises(PressError, match="certified"):
            change()
    assert (a.total, a.result["total"], a.result["points"]["s1"]) == (97.0, 97, 0)
    b = certify_at(db, fw, "BC-0006", "55")
    c = certify_at(db, fw, "BC-0007", "55", year=2024)
    assert b.certificate_no == "PDT-2025-0002" and c.certificate_no == "PDT-2024-0001"
    assert press.by_certificate(db, " pdt-2025-0002 ").id == b.id
    assert press.by_certificate(db, "PDT-2025-0099") is None


def test_ranking_ties_share_a_rank_filter_and_distribution(db, fw):
    certify_at(db, fw, "BC-0010", "92")
    certify_at(db, fw, "BC-0011", "70.5")
    certify_at(db, fw, "BC-0012", "70.5")
    certify_at(db, fw, "BC-0013", "40")
    press.by_code(db, "BC-0013").agency_type = "radio"
    sent(db, fw, "BC-0014")  # waiting for the council: not ranked
    rows = press.ranking(db, 2025)
    assert [(r["code"], r["rank"]) for r in rows] == [("BC-0010", 1), ("BC-0011", 2), ("BC-0012", 2), ("BC-0013", 4)]
    assert [r["code"] for r in press.ranking(db, 2025, "radio")] == ["BC-0013"]
    dist = {d["level"]: d["count"] for d in press.distribution(rows)}
    assert dist == {4: 1, 3: 0, 2: 2, 1: 0, 0: 1}
    assert press.certified_years(db) == [2025]


# -- figures ---------------------------------------------------------------------------------------


def test_certified_results_become_figures_apart_from_the_published_ones(db, fw):
    from ictgov.dx.press_observations import ELEMENTS, sync
    from ictgov.stats.figures import Figures
    from ictgov.stats.indicators import DEFINITIONS_DIR, load_definitions

    defined = {e["code"]: e for e in yaml.safe_load((DEFINITIONS_DIR / "elements.yaml").read_text())}
    assert all(defined[c].get("computed_by") == "dx" for c in ELEMENTS)
    assert not any(c.endswith("_pub") for c in ELEMENTS)
    load_definitions(db)
    certify_at(db, fw, "BC-0020", "92")
    certify_at(db, fw, "BC-0021", "81")
    certify_at(db, fw, "BC-0022", "30")
    certify_at(db, fw, "BC-0020", "95", year=2024)
    sent(db, fw, "BC-0023")  # not certified: not counted
    assert sync(db).created > 0
    db.commit()
    fig = Figures.load(db)
    vn = fig.area("VN").id
    assert fig.value("dx_press_certified", vn, "2025") == 3
    assert fig.value("dx_press_certified", vn, "2024") == 1
    assert [fig.value(f"dx_press_level_{n}", vn, "2025") for n in range(5)] == [1, 0, 0, 1, 1]
    again = sync(db)
    assert again.created == 0 and again.revised == 0


def test_published_results_2023_to_2025_are_bundled_with_their_sources(db):
    from ictgov.stats.figures import Figures
    from ictgov.stats.sample import load_sample

    load_sample(db)
    db.commit()
    fig = Figures.load(db)
    vn = fig.area("VN").id
    assert [fig.value("press_assessed_pub", vn, y) for y in ("2023", "2024", "2025")] == [273, 282, 177]
    assert [fig.value("press_agencies_pub", vn, y) for y in ("2023", "2025")] == [882, 778]
    levels = ("excellent", "good", "fair", "average", "weak")
    assert [fig.value(f"press_level_{lv}_pub", vn, "2024") for lv in levels] == [28, 65, 55, 25, 109]
    assert [fig.value(f"press_level_{lv}_pub", vn, "2025") for lv in levels] == [33, 57, 31, 9, 47]
    assert sum(fig.value(f"press_level_{lv}_pct_pub", vn, "2023") for lv in levels) == pytest.approx(100)
    assert fig.value("press_level_excellent_pub", vn, "2023") is None  # published as a share only


# -- demo ------------------------------------------------------------------------------------------


def test_demo_two_years_certified_adjusted_one_waiting_and_a_half_done_draft(db):
    from sqlalchemy import select

    from ictgov.auth import User
    from ictgov.dx.models import PressAssessment
    from ictgov.dx.press_demo import load_demo

    out = load_demo(db, None)
    assert out["agencies"] == 12 and out["certified"] == 22
    rows = db.scalars(select(PressAssessment)).all()
    assert len({a.year for a in rows}) == 2
    assert sum(a.status == "submitted" for a in rows) == 1
    assert any(a.adjustments for a in rows if a.status == "certified")
    assert all("minh hoạ" in a.agency.name for a in rows)
    users = {u.username: u for u in db.scalars(select(User))}
    assert users["hoidong"].role == "appraiser" and users["baochi"].role == "press_agency"
    own = press.of_user(db, users["baochi"])
    draft = next(a for a in press.assessments_of(db, own) if a.status == "draft")
    assert 0 < len(draft.answers) < len(press.framework_of(draft).criteria)
    assert load_demo(db, None) == {"skipped": 1}


def test_a_certificate_number_drawn_twice_is_refused_not_duplicated(db, fw, monkeypatch):
    a = certify_at(db, fw, "BC-0030", "60")
    b = sent(db, fw, "BC-0031")
    db.commit()
    monkeypatch.setattr(press, "_next_certificate", lambda session, year: a.certificate_no)
    with pytest.raises(PressError) as exc:
        press.certify(db, b)
    assert "certify again" in exc.value.errors["certificate"]
    db.refresh(b)
    assert (b.status, b.certificate_no) == ("submitted", None)
    monkeypatch.undo()
    assert press.certify(db, b)["certificate"]["number"] == "PDT-2025-0002"
