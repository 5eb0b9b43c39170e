"""The SME programme (SMEdx) on the database: providers, submissions, review, uptake, leads,
the ministry's monthly figures and their observations."""

from __future__ import annotations

import csv
from datetime import date, datetime

import pytest
import yaml
from sqlalchemy import select

from ictgov.audit import entries
from ictgov.auth import create_user
from ictgov.dx import assessments as asm
from ictgov.dx import catalogue, smedx, smedx_observations, smedx_uptake
from ictgov.dx.framework import get
from ictgov.dx.models import PLATFORM_GROUPS, Adoption, Solution
from ictgov.dx.smedx import SmedxError
from ictgov.dx.smedx_uptake import UptakeError, add_months
from ictgov.stats.figures import Figures
from ictgov.stats.indicators import DEFINITIONS_DIR, load_definitions
from ictgov.stats.sample import SAMPLE_DIR

from .test_assessments import CODES, at_share, db, make_enterprise  # noqa: F401

PROVIDER_TAX, OTHER_TAX = "0101248141", "0145383236"


def offer(**over):
    data = {"name": "Nền tảng quản trị Sen Vàng", "name_en": "Golden Lotus management", "platform_group":
            "enterprise_management", "criteria": ["erp", "crm"], "free_months": "6", "free_max_staff": "50",
            "price_after": "1.500.000", "cost_support": True, "description": "Quản trị bán hàng, kho.",
            "url": "https://senvang.example.vn"}
    data.update(over)
    return data


@pytest.fixture
def people(db):
    staff = create_user(db, "tham_dinh", "password-123", "analyst")
    seller = create_user(db, "ncc", "password-123", "provider", enterprise_ref=PROVIDER_TAX)
    other = create_user(db, "ncc2", "password-123", "provider", enterprise_ref=OTHER_TAX)
    return staff, seller, other


@pytest.fixture
def provider(db, people):
    return smedx.save_profile(db, people[1], {"name": "Công ty Phần mềm Sen Vàng", "website": "https://senvang.example.vn",
                                              "contact_email": "lienhe@senvang.example.vn"})


def approved(db, provider, staff, **over):
    s = smedx.submit(db, provider, offer(**over))
    smedx.decide(db, s, "approve", "", staff)
    return s


def test_profile_takes_the_tax_code_from_the_account_and_checks_the_fields(db, people):
    _, seller, _ = people
    with pytest.raises(SmedxError) as exc:
        smedx.save_profile(db, seller, {"name": "", "website": "ftp://x", "contact_email": "khong-phai-thu"})
    assert set(exc.value.errors) == {"name", "website", "contact_email"}
    bad = create_user(db, "ncc_sai", "password-123", "provider", enterprise_ref="0101248142")
    with pytest.raises(SmedxError) as exc:
        smedx.save_profile(db, bad, {"name": "X", "contact_email": "a@b.vn"})
    assert "check digit" in exc.value.errors["tax_code"]
    p = smedx.save_profile(db, seller, {"name": "Sen Vàng", "contact_email": "a@b.vn"})
    assert p.tax_code == PROVIDER_TAX and smedx.provider_of(db, seller) is p
    smedx.save_profile(db, seller, {"name": "Sen Vàng JSC", "contact_email": "a@b.vn"})
    assert [e.action for e in entries(db, "dx_provider")] == ["update", "register"]


def test_a_submission_must_state_the_whole_offer_with_known_criteria(db, people, provider):
    with pytest.raises(SmedxError) as exc:
        smedx.submit(db, provider, offer(name="", platform_group="games", criteria=["erp", "teleport"],
                                         free_months="", free_max_staff="0", price_after="miễn phí"), people[1])
    errors = exc.value.errors
    assert set(errors) == {"name", "platform_group", "criteria", "free_months", "free_max_staff", "price_after"}
    assert "teleport" in errors["criteria"]
    assert not db.scalars(select(Solution)).all()


def test_submitted_platforms_are_not_listed_until_approved_and_rejection_needs_reasons(db, people, provider):
    staff = people[0]
    s = smedx.submit(db, provider, offer(), people[1])
    assert (s.status, s.provider, s.category, s.price_after, s.cost_support) == (
        "submitted", "Công ty Phần mềm Sen Vàng", "erp", 1_500_000, True)
    assert smedx.listed(db) == [] and s in smedx.review_queue(db)
    with pytest.raises(SmedxError) as exc:
        smedx.decide(db, s, "reject", "   ", staff)
    assert "reason" in exc.value.errors and s.status == "submitted"
    smedx.decide(db, s, "reject", "Thiếu bảng giá sau thời gian miễn phí", staff)
    assert (s.status, s.review_reason, s.reviewed_by_id) == ("rejected", "Thiếu bảng giá sau thời gian miễn phí",
                                                             staff.id)
    with pytest.raises(SmedxError) as exc:  # only a submitted platform is decided
        smedx.decide(db, s, "approve", "", staff)
    assert "status" in exc.value.errors
    # the provider changes it: sent again
    smedx.change(db, provider, s, offer(price_after="990000"), people[1])
    assert s.status == "submitted" and s.price_after == 990_000
    smedx.decide(db, s, "approve", "", staff)
    assert smedx.listed(db) == [s] and smedx.listed(db, group="hr") == []
    assert smedx.listed(db, criterion="crm") == [s] and smedx.listed(db, criterion="website") == []
    assert [e.action for e in entries(db, "dx_solution")] == ["approve", "resubmit", "reject", "submit"]
    # a change to an approved platform takes it off the list until approved again
    smedx.change(db, provider, s, offer(free_months="3"), people[1])
    assert s.status == "submitted" and smedx.listed(db) == []


def test_a_provider_cannot_change_another_providers_platform(db, people, provider):
    other = smedx.save_profile(db, people[2], {"name": "Khác", "contact_email": "b@c.vn"})
    s = smedx.submit(db, provider, offer(), people[1])
    assert smedx.own_platform(db, other, s.id) is None and smedx.own_platform(db, provider, s.id) is s
    with pytest.raises(PermissionError):
        smedx.change(db, other, s, offer(name="Chiếm"), people[2])


def test_admin_solutions_are_approved_from_the_start_and_a_free_period_needs_its_staff_limit(db, people):
    admin = people[0]
    with pytest.raises(catalogue.CatalogueError) as exc:
        catalogue.create(db, {"name": "A", "provider": "B", "category": "erp", "criteria": ["erp"],
                              "free_months": "3"}, admin)
    assert "free_max_staff" in exc.value.errors
    s = catalogue.create(db, {"name": "A", "provider": "B", "category": "erp", "criteria": ["erp"],
                              "platform_group": "accounting", "free_months": "3", "free_max_staff": "50"}, admin)
    assert s.status == "approved" and s.reviewed_at is not None and smedx.listed(db) == [s]


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 11, 30), 3) == date(2025, 2, 28)
    assert add_months(date(2026, 3, 15), 6) == date(2026, 9, 15)


def submitted_assessment(db, e, share="0.2"):
    fw = get("dbi-sme-2021", "enterprise")
    a = asm.start(db, e)
    asm.save_answers(db, a, at_share(fw, share))
    asm.submit(db, a)
    return a


def test_the_free_period_is_for_firms_under_the_staff_limit_and_records_an_adoption(db, people, provider):
    staff = people[0]
    s = approved(db, provider, staff)
    e = make_enterprise(db, CODES[0])
    a = submitted_assessment(db, e)
    # from the gaps: the platform is recommended on the result
    assert s in [r["solution"] for r in catalogue.recommend(db, a.result, limit=50)]
    el = smedx_uptake.free_period_eligibility(e, s)
    assert not el.ok and el.key == "smedx.why.no_head_count"
    e.employees = 50
    with pytest.raises(UptakeError) as exc:
        smedx_uptake.start_trial(db, e, s, a)
    assert exc.value.key == "smedx.why.too_many_staff" and "fewer than 50" in str(exc.value)
    assert exc.value.params == {"employees": 50, "limit": 50}
    e.employees = 49
    u = smedx_uptake.register_interest(db, e, s, a)
    assert u.stage == "interested" and u.assessment_id == a.id
    with pytest.raises(UptakeError):
        smedx_uptake.register_interest(db, e, s, a)
    u = smedx_uptake.start_trial(db, e, s, a, start=date(2026, 1, 31))
    assert (u.stage, u.trial_start, u.trial_end) == ("trial", date(2026, 1, 31), date(2026, 7, 31))
    ad = db.scalar(select(Adoption).where(Adoption.enterprise_id == e.id))
    assert ad.solution_id == s.id and ad.adopted_on == date(2026, 1, 31)
    smedx_uptake.move(db, u, "using")
    with pytest.raises(UptakeError) as exc:  # once per enterprise and platform
        smedx_uptake.start_trial(db, e, s, a)
    assert exc.value.key == "smedx.why.already_had"
    smedx_uptake.move(db, u, "stopped")
    with pytest.raises(UptakeError):
        smedx_uptake.move(db, u, "using")
    assert [x.action for x in entries(db, "dx_uptake")] == ["stopped", "using", "trial", "interest"]


def test_a_platform_not_approved_cannot_be_taken_up(db, people, provider):
    s = smedx.submit(db, provider, offer(), people[1])
    e = make_enterprise(db, CODES[0])
    e.employees = 5
    with pytest.raises(UptakeError):
        smedx_uptake.register_interest(db, e, s)
    with pytest.raises(UptakeError):
        smedx_uptake.start_trial(db, e, s)


def test_leads_are_the_providers_own_with_the_gaps_that_led_there(db, people, provider):
    staff = people[0]
    other = smedx.save_profile(db, people[2], {"name": "Khác", "contact_email": "b@c.vn"})
    mine = approved(db, provider, staff)
    theirs = approved(db, other, staff, name="Nền tảng khác", criteria=["website"])
    e = make_enterprise(db, CODES[0])
    a = submitted_assessment(db, e)
    smedx_uptake.register_interest(db, e, mine, a)
    smedx_uptake.register_interest(db, e, theirs, a)
    leads = smedx_uptake.leads(db, provider)
    assert [u.solution_id for u in leads] == [mine.id]
    gaps = smedx_uptake.gaps_of(db, leads[0])
    assert {g["criterion"] for g in gaps} == {"erp", "crm"} and all(g["gain"] > 0 for g in gaps)
    assert [u.solution_id for u in smedx_uptake.leads(db, other)] == [theirs.id]


def test_monthly_figures_and_their_observations(db, people, provider):
    staff = people[0]
    load_definitions(db)
    erp = approved(db, provider, staff)
    hr = approved(db, provider, staff, name="Nhân sự", platform_group="hr", criteria=["ict_training"])
    erp.reviewed_at, hr.reviewed_at = datetime(2026, 1, 10), datetime(2026, 2, 20)
    e1, e2, e3 = (make_enterprise(db, c) for c in CODES[:3])
    for e in (e1, e2, e3):
        e.employees = 10
    u1 = smedx_uptake.register_interest(db, e1, erp)
    u1.created_at = datetime(2026, 1, 20)
    u2 = smedx_uptake.start_trial(db, e2, erp, start=date(2026, 2, 3))
    u2.created_at = datetime(2026, 2, 3)
    u3 = smedx_uptake.start_trial(db, e2, hr, start=date(2026, 2, 25))
    u3.created_at = datetime(2026, 2, 25)
    smedx_uptake.move(db, u2, "stopped")
    u2.stopped_at = datetime(2026, 3, 5)
    u4 = smedx_uptake.register_interest(db, e3, hr)
    u4.created_at = datetime(2026, 3, 1)
    db.flush()
    series = {p["period"]: p for p in smedx_uptake.monthly(db, until=date(2026, 3, 31))}
    assert list(series) == ["2026-01", "2026-02", "2026-03"]
    jan, feb, mar = series["2026-01"], series["2026-02"], series["2026-03"]
    assert (jan["platforms"], jan["providers"], jan["reached"], jan["using"]) == (1, 1, 1, 0)
    assert (feb["platforms"], feb["reached"], feb["using"]) == (2, 2, 1)  # e2 counted once nationally
    assert feb["groups"]["enterprise_management"] == {"platforms": 1, "reached": 2, "using": 1}
    assert feb["groups"]["hr"] == {"platforms": 1, "reached": 1, "using": 1}
    # e2 stopped the ERP platform on 5 March but still tries the HR one
    assert (mar["reached"], mar["using"]) == (3, 1)
    assert mar["groups"]["enterprise_management"]["using"] == 0 and mar["groups"]["hr"]["reached"] == 2

    report = smedx_observations.sync(db)
    db.commit()
    assert report.created > 0
    fig = Figures.load(db)
    vn = fig.area("VN").id
    assert fig.value("smedx_enterprises_reached", vn, "2026-02") == 2
    assert fig.value("smedx_enterprises_using_hr", vn, "2026-02") == 1
    assert fig.value("smedx_platforms_listed", vn, "2026-01") == 1
    again = smedx_observations.sync(db)
    assert again.created == 0 and again.revised == 0


def test_computed_and_published_elements_are_defined_and_apart():
    defined = {e["code"]: e for e in yaml.safe_load((DEFINITIONS_DIR / "elements.yaml").read_text())}
    computed = smedx_observations.element_codes()
    assert set(computed) <= set(defined)
    assert all(defined[c].get("computed_by") == "dx" for c in computed)
    with (SAMPLE_DIR / "smedx_published.csv").open(encoding="utf-8", newline="") as f:
        published = list(csv.DictReader(f))
    codes = {r["indicator"] for r in published}
    assert codes <= set(defined) and not codes & set(computed)
    assert all(not defined[c].get("computed_by") for c in codes)
    assert all(r["source"].startswith("http") and r["note"] for r in published)
    sep = {r["indicator"]: float(r["value"]) for r in published if r["period"] == "2022-09"}
    assert (sep["smedx_platforms_pub"], sep["smedx_providers_pub"], sep["smedx_enterprises_reached_pub"],
            sep["smedx_enterprises_using_pub"]) == (45, 27, 490_923, 62_047)
    shares = [v for k, v in sep.items() if k.startswith("smedx_usage_share_")]
    assert len(shares) == 10 and abs(sum(shares) - 99.6) < 1e-9  # as published: 39.8 + 17 + ... + 0.1
    assert {k.removeprefix("smedx_usage_share_").removesuffix("_pub") for k in sep if "share" in k} \
        <= set(PLATFORM_GROUPS)


def test_a_lead_from_the_public_list_carries_the_gaps_of_the_latest_assessment(db, people, provider):
    staff = people[0]
    mine = approved(db, provider, staff)
    e = make_enterprise(db, CODES[0])
    smedx_uptake.register_interest(db, e, mine)  # no assessment yet: a lead without gaps
    assert smedx_uptake.gaps_of(db, smedx_uptake.leads(db, provider)[0]) == []
    other = make_enterprise(db, CODES[1])
    a = submitted_assessment(db, other)
    u = smedx_uptake.register_interest(db, other, mine)  # from the public list: no assessment given
    assert u.assessment_id == a.id
    assert {g["criterion"] for g in smedx_uptake.gaps_of(db, u)} == {"erp", "crm"}
