"""The SME programme on the web: providers submit, staff decide, enterprises take platforms up
from their gaps, providers see their leads and nothing of another provider's, the ministry
sees uptake; bad input names its field, text is escaped."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ictgov.db import session_scope
from ictgov.dx.framework import get
from ictgov.dx.models import Solution, Uptake
from ictgov.stats.areas import load_reference_areas

from .conftest import csrf_token, login
from .test_dx_assessment import GOOD, answers_at, start

BASE = "/chuyen-doi-so/smedx"
TAX_P1, TAX_P2, TAX_E = "0101248141", "0145383236", "0100233488"


@pytest.fixture
def areas(engine):
    with session_scope(engine) as s:
        load_reference_areas(s)


@pytest.fixture
def accounts(make_user, areas):
    make_user("ncc1", "provider", enterprise_ref=TAX_P1, full_name="Sen Vàng")
    make_user("ncc2", "provider", enterprise_ref=TAX_P2, full_name="Hoa Mai")
    make_user("thamdinh", "analyst", full_name="Thẩm Định")
    make_user("dn", "enterprise", enterprise_ref=TAX_E, full_name="Công ty An Phát")


def client_for(app, username: str) -> TestClient:
    c = TestClient(app, follow_redirects=False)
    c.__enter__()
    assert login(c, username).status_code == 303
    return c


@pytest.fixture
def clients(app, accounts):
    made = {u: client_for(app, u) for u in ("ncc1", "ncc2", "thamdinh", "dn")}
    yield made
    for c in made.values():
        c.__exit__(None, None, None)


def profile(c, name: str):
    token = csrf_token(c, f"{BASE}/nha-cung-cap")
    return c.post(f"{BASE}/nha-cung-cap", data={"csrf_token": token, "name": name, "website": "https://x.example.vn",
                                                "contact_email": "lienhe@x.example.vn"})


def submit(c, **over) -> int:
    token = csrf_token(c, f"{BASE}/nha-cung-cap/nen-tang")
    data = {"csrf_token": token, "name": "Quản trị bán hàng Sen Vàng", "platform_group": "enterprise_management",
            "criteria": ["erp", "crm"], "free_months": "6", "free_max_staff": "50", "price_after": "990000",
            "cost_support": "true", **over}
    r = c.post(f"{BASE}/nha-cung-cap/nen-tang", data=data)
    assert r.status_code == 303, r.text
    return int(r.headers["location"].rsplit("/", 1)[1])


def decide(c, sid: int, decision: str, reason: str = ""):
    token = csrf_token(c, f"{BASE}/tham-dinh/{sid}")
    return c.post(f"{BASE}/tham-dinh/{sid}", data={"csrf_token": token, "decision": decision, "reason": reason})


def register_enterprise(c, employees: str):
    token = csrf_token(c, "/chuyen-doi-so/doanh-nghiep")
    return c.post("/chuyen-doi-so/doanh-nghiep", data={
        "csrf_token": token, "name": "Công ty TNHH An Phát", "sector": "trade", "size_class": "small",
        "province_code": "01", "employees": employees})


def submitted_assessment(c) -> int:
    fw = get("dbi-sme-2021", "enterprise")
    aid = start(c)
    token = csrf_token(c, f"/chuyen-doi-so/danh-gia/{aid}")
    # answers well below the top, so erp and crm are gaps
    low = {"extent": "none", "percent": "0", "strategy": "none", "yes_no": "no"}
    answers = {**answers_at(fw, GOOD), **answers_at(fw, low, ["erp", "crm"])}
    assert c.post(f"/chuyen-doi-so/danh-gia/{aid}/nop", data={"csrf_token": token, **answers}).status_code == 303
    return aid


def test_submission_errors_name_their_fields(clients):
    c = clients["ncc1"]
    assert c.get(f"{BASE}/nha-cung-cap/nen-tang").status_code == 303  # profile first
    r = profile(c, "")
    assert r.status_code == 422 and "<code>name</code>" in r.text
    assert profile(c, "Công ty Sen Vàng").status_code == 303
    token = csrf_token(c, f"{BASE}/nha-cung-cap/nen-tang")
    r = c.post(f"{BASE}/nha-cung-cap/nen-tang", data={"csrf_token": token, "name": "X", "criteria": ["nope"],
                                                      "free_months": "99"})
    assert r.status_code == 422
    for field in ("criteria", "platform_group", "free_months", "free_max_staff", "price_after"):
        assert f"<code>{field}</code>" in r.text, field


def test_providers_see_only_their_own_platforms_and_leads(clients, engine):
    p1, p2, staff, dn = clients["ncc1"], clients["ncc2"], clients["thamdinh"], clients["dn"]
    profile(p1, "Công ty Sen Vàng")
    profile(p2, "Công ty Hoa Mai")
    sid = submit(p1)
    other = submit(p2, name="Nền tảng Hoa Mai", criteria=["website"])
    assert decide(staff, sid, "approve").status_code == 303
    assert decide(staff, other, "approve").status_code == 303
    assert register_enterprise(dn, "12").status_code == 303
    # from the public list too, for an enterprise
    assert 'data-testid="interest"' in dn.get(BASE).text and 'data-testid="trial"' in dn.get(BASE).text
    assert 'data-testid="interest"' not in p1.get(BASE).text
    token = csrf_token(dn, f"{BASE}/cua-toi")
    r = dn.post(f"{BASE}/nen-tang/{sid}/quan-tam", data={"csrf_token": token, "back": BASE})
    assert r.status_code == 303 and r.headers["location"] == BASE
    assert 'data-stage="interested"' in dn.get(BASE).text

    own = p1.get(f"{BASE}/nha-cung-cap/nen-tang/{sid}")
    assert own.status_code == 200 and "Công ty TNHH An Phát" in own.text
    assert "Công ty TNHH An Phát" in p1.get(f"{BASE}/nha-cung-cap/khach-hang").text
    # the other provider: by changing the id, nothing
    assert p2.get(f"{BASE}/nha-cung-cap/nen-tang/{sid}").status_code == 404
    token2 = csrf_token(p2, f"{BASE}/nha-cung-cap")
    r = p2.post(f"{BASE}/nha-cung-cap/nen-tang/{sid}", data={"csrf_token": token2, "name": "Chiếm",
                                                             "platform_group": "hr", "criteria": ["erp"],
                                                             "free_months": "3", "free_max_staff": "10",
                                                             "price_after": "1"})
    assert r.status_code == 404
    leads = p2.get(f"{BASE}/nha-cung-cap/khach-hang")
    assert leads.status_code == 200 and "Công ty TNHH An Phát" not in leads.text
    assert "Quản trị bán hàng Sen Vàng" not in p2.get(f"{BASE}/nha-cung-cap").text
    with session_scope(engine) as s:
        assert s.get(Solution, sid).name == "Quản trị bán hàng Sen Vàng"


def test_reject_without_a_reason_is_a_422_naming_the_field_then_with_reasons_the_provider_reads_them(clients, engine):
    p1, staff = clients["ncc1"], clients["thamdinh"]
    profile(p1, "Công ty Sen Vàng")
    sid = submit(p1)
    assert sid in [int(x) for x in re.findall(r"/tham-dinh/(\d+)", staff.get(f"{BASE}/tham-dinh").text)]
    r = decide(staff, sid, "reject", "  ")
    assert r.status_code == 422 and "<code>reason</code>" in r.text
    with session_scope(engine) as s:
        assert s.get(Solution, sid).status == "submitted"
    assert "Quản trị bán hàng Sen Vàng" not in clients["dn"].get(BASE).text
    assert decide(staff, sid, "reject", "Thiếu điều khoản bảo mật dữ liệu").status_code == 303
    page = p1.get(f"{BASE}/nha-cung-cap")
    assert "Thiếu điều khoản bảo mật dữ liệu" in page.text and 'data-status="rejected"' in page.text
    assert decide(staff, sid, "approve").status_code == 409  # decided already
    # changed and sent again: back in the queue
    token = csrf_token(p1, f"{BASE}/nha-cung-cap/nen-tang/{sid}")
    r = p1.post(f"{BASE}/nha-cung-cap/nen-tang/{sid}", data={
        "csrf_token": token, "name": "Quản trị bán hàng Sen Vàng", "platform_group": "enterprise_management",
        "criteria": ["erp", "crm", "data_protection"], "free_months": "6", "free_max_staff": "50",
        "price_after": "990000"})
    assert r.status_code == 303
    assert decide(staff, sid, "approve").status_code == 303
    listed = clients["dn"].get(BASE)
    assert "Quản trị bán hàng Sen Vàng" in listed.text and "Miễn phí 6 tháng" in listed.text
    english = clients["dn"].get(f"{BASE}?lang=en&tieu_chi=data_protection").text
    assert "customers&#39; and staff&#39;s personal data" in english and "&amp;#39;" not in english  # escaped once
    assert 'data-testid="count">1 platforms' in english


def test_an_enterprise_finds_a_platform_from_its_gaps_and_the_free_period_is_refused_with_the_reason(clients, engine):
    p1, staff, dn = clients["ncc1"], clients["thamdinh"], clients["dn"]
    profile(p1, "Công ty Sen Vàng")
    sid = submit(p1)
    decide(staff, sid, "approve")
    r = register_enterprise(dn, "mười")
    assert r.status_code == 422 and "<code>employees</code>" in r.text
    assert register_enterprise(dn, "60").status_code == 303
    aid = submitted_assessment(dn)
    result = dn.get(f"/chuyen-doi-so/danh-gia/{aid}/ket-qua")
    offer = re.search(rf'data-testid="smedx-offer" data-solution="{sid}".*?</div>\s*</div>', result.text, re.S)
    assert offer, "the platform is recommended from the gaps"
    assert 'data-testid="interest"' in offer.group(0) and 'data-testid="trial"' not in offer.group(0)
    assert "doanh nghiệp có 60 lao động" in offer.group(0)
    token = csrf_token(dn, f"{BASE}/cua-toi")
    r = dn.post(f"{BASE}/nen-tang/{sid}/dung-thu", data={"csrf_token": token, "assessment_id": str(aid)})
    assert r.status_code == 409 and "60 lao động" in r.text and "dưới 50 lao động" in r.text
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Uptake)) == 0
    # with fewer staff, the free period starts from the result page
    token = csrf_token(dn, "/chuyen-doi-so/doanh-nghiep")
    dn.post("/chuyen-doi-so/doanh-nghiep", data={"csrf_token": token, "name": "Công ty TNHH An Phát",
                                                 "sector": "trade", "size_class": "small", "province_code": "01",
                                                 "employees": "12"})
    back = f"/chuyen-doi-so/danh-gia/{aid}/ket-qua"
    r = dn.post(f"{BASE}/nen-tang/{sid}/dung-thu", data={"csrf_token": token, "assessment_id": str(aid),
                                                         "back": back})
    assert r.status_code == 303 and r.headers["location"] == back
    assert 'data-stage="trial"' in dn.get(back).text
    mine = dn.get(f"{BASE}/cua-toi")
    assert 'data-stage="trial"' in mine.text
    uid = int(re.search(r"/cua-toi/(\d+)/dang-dung", mine.text).group(1))
    assert dn.post(f"{BASE}/cua-toi/{uid}/dang-dung", data={"csrf_token": token}).status_code == 303
    assert 'data-stage="using"' in dn.get(f"{BASE}/cua-toi").text
    # the provider's lead names the gaps that led there
    lead = p1.get(f"{BASE}/nha-cung-cap/khach-hang")
    assert "Đang sử dụng" in lead.text and "Hà Nội" in lead.text
    fw = get("dbi-sme-2021", "enterprise")
    assert fw.criteria["erp"][2].text.vi in lead.text
    # the ministry's page
    uptake = staff.get(f"{BASE}/thong-ke")
    assert uptake.status_code == 200 and 'data-testid="totals"' in uptake.text
    assert "1 doanh nghiệp đã tiếp cận, 1 doanh nghiệp đang dùng" in uptake.text
    spec = json.loads(re.search(r'id="month-spec">(.*?)</script>', uptake.text, re.S).group(1))
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert {v["enterprises"] for v in spec["data"]["values"]} == {1}
    row = re.search(r'<tr data-group="enterprise_management">(.*?)</tr>', uptake.text, re.S).group(1)
    assert re.findall(r'class="num">(\d+)<', row) == ["1", "1", "1"]
    # another enterprise's uptake: not found
    with session_scope(engine) as s:
        assert s.get(Uptake, uid).stage == "using"


def test_an_enterprise_cannot_move_another_enterprises_uptake(clients, make_user, app, engine):
    p1, staff, dn = clients["ncc1"], clients["thamdinh"], clients["dn"]
    profile(p1, "Công ty Sen Vàng")
    sid = submit(p1)
    decide(staff, sid, "approve")
    register_enterprise(dn, "10")
    token = csrf_token(dn, f"{BASE}/cua-toi")
    dn.post(f"{BASE}/nen-tang/{sid}/quan-tam", data={"csrf_token": token})
    with session_scope(engine) as s:
        uid = s.scalar(select(Uptake.id))
    make_user("dn2", "enterprise", enterprise_ref="0158073023")
    other = client_for(app, "dn2")
    try:
        register_enterprise(other, "5")
        t2 = csrf_token(other, f"{BASE}/cua-toi")
        assert other.post(f"{BASE}/cua-toi/{uid}/ngung", data={"csrf_token": t2}).status_code == 404
    finally:
        other.__exit__(None, None, None)
    with session_scope(engine) as s:
        assert s.get(Uptake, uid).stage == "interested"


def test_script_in_a_platform_name_and_a_rejection_reason_is_shown_as_text(clients):
    p1, staff = clients["ncc1"], clients["thamdinh"]
    profile(p1, "Công ty <b>Sen</b>")
    evil = "<script>alert('ten')</script>"
    sid = submit(p1, name=evil, description="<img src=x onerror=alert(1)>")
    for page in (staff.get(f"{BASE}/tham-dinh"), staff.get(f"{BASE}/tham-dinh/{sid}"),
                 p1.get(f"{BASE}/nha-cung-cap"), p1.get(f"{BASE}/nha-cung-cap/nen-tang/{sid}")):
        assert page.status_code == 200
        assert evil not in page.text and "&lt;script&gt;" in page.text
        assert "<b>Sen</b>" not in page.text
    assert decide(staff, sid, "reject", "<script>alert('ly do')</script>").status_code == 303
    for page in (p1.get(f"{BASE}/nha-cung-cap"), p1.get(f"{BASE}/nha-cung-cap/nen-tang/{sid}"),
                 staff.get(f"{BASE}/tham-dinh")):
        assert "<script>alert('ly do')" not in page.text and "&lt;script&gt;alert(" in page.text


def test_the_admin_catalogue_takes_the_programme_offer_and_lists_it_at_once(client, make_user, areas, engine):
    make_user("admin", "admin")
    login(client, "admin")
    token = csrf_token(client, "/chuyen-doi-so/quan-tri/giai-phap")
    form = {"csrf_token": token, "name": "Kế toán đám mây Hồng Hà", "provider": "Nhà cung cấp B",
            "category": "finance_invoicing", "criteria": ["e_invoice", "e_banking"], "active": "true",
            "platform_group": "accounting", "free_months": "3", "price_after": "200000", "cost_support": "true"}
    r = client.post("/chuyen-doi-so/quan-tri/giai-phap", data=form)
    assert r.status_code == 422 and "<code>free_max_staff</code>" in r.text  # a free period needs its limit
    r = client.post("/chuyen-doi-so/quan-tri/giai-phap", data={**form, "free_max_staff": "50"})
    assert r.status_code == 303
    with session_scope(engine) as s:
        sol = s.scalar(select(Solution))
        assert (sol.status, sol.platform_group, sol.free_months, sol.free_max_staff, sol.price_after,
                sol.cost_support) == ("approved", "accounting", 3, 50, 200_000, True)
    listed = client.get(f"{BASE}?nhom=accounting")
    assert 'data-testid="group-accounting"' in listed.text and "Kế toán đám mây Hồng Hà" in listed.text
    assert "Miễn phí 3 tháng cho doanh nghiệp dưới 50 lao động" in listed.text
    assert "Kế toán đám mây Hồng Hà" not in client.get(f"{BASE}?nhom=hr").text


def test_the_api_lists_approved_platforms_and_gives_staff_the_uptake(clients):
    p1, staff, dn = clients["ncc1"], clients["thamdinh"], clients["dn"]
    profile(p1, "Công ty Sen Vàng")
    sid = submit(p1)
    waiting = submit(p1, name="Chờ duyệt", platform_group="hr", criteria=["ict_training"])
    decide(staff, sid, "approve")
    register_enterprise(dn, "8")
    token = csrf_token(dn, f"{BASE}/cua-toi")
    assert dn.post(f"{BASE}/nen-tang/{sid}/dung-thu", data={"csrf_token": token}).status_code == 303
    api = dn.get("/api/dx/smedx/platforms").json()
    assert [p["id"] for p in api] == [sid] and waiting not in [p["id"] for p in api]
    assert api[0]["free_months"] == 6 and api[0]["criteria"] == ["erp", "crm"]
    assert dn.get("/api/dx/smedx/platforms?criterion=website").json() == []
    r = dn.get("/api/dx/smedx/platforms?group=games")
    assert r.status_code == 422 and r.json()["detail"][0]["loc"][-1] == "group"
    assert dn.get("/api/dx/smedx/uptake").status_code == 403
    up = staff.get("/api/dx/smedx/uptake").json()
    assert (up["now"]["platforms"], up["now"]["reached"], up["now"]["using"], up["waiting"]) == (1, 1, 1, 1)
    assert up["now"]["groups"]["enterprise_management"] == {"platforms": 1, "reached": 1, "using": 1}
    assert up["stages"] == {"trial": 1}
