"""The press digital-maturity service in the web app: the agency's profile and questionnaire
(saved as it goes, sent once complete), the council's review, adjustment, return and
certification, the certificate, the check and the public ranking; and who may see what."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from ictgov.db import session_scope
from ictgov.dx.framework import get
from ictgov.dx.models import PressAssessment
from ictgov.stats.areas import load_reference_areas

from .conftest import csrf_token, login

BASE = "/chuyen-doi-so/bao-chi"
PROFILE = {"name": "Báo Điện tử Hồng Lĩnh", "agency_type": "online", "governing_body": "Hội Nhà văn minh hoạ",
           "scope": "central", "province_code": "01"}


@pytest.fixture
def fw():
    return get("press-maturity", "maturity")


@pytest.fixture
def accounts(engine, make_user):
    with session_scope(engine) as s:
        load_reference_areas(s)
    make_user("bc_a", "press_agency", agency_ref="BC-0001", full_name="Báo A")
    make_user("bc_b", "press_agency", agency_ref="BC-0002", full_name="Báo B")
    make_user("hd", "appraiser", full_name="Trần Thẩm Định")


def client_for(app, username: str) -> TestClient:
    c = TestClient(app, follow_redirects=False)
    c.__enter__()
    assert login(c, username).status_code == 303
    return c


@pytest.fixture
def agency_a(app, accounts):
    c = client_for(app, "bc_a")
    yield c
    c.__exit__(None, None, None)


@pytest.fixture
def agency_b(app, accounts):
    c = client_for(app, "bc_b")
    yield c
    c.__exit__(None, None, None)


@pytest.fixture
def council(app, accounts):
    c = client_for(app, "hd")
    yield c
    c.__exit__(None, None, None)


def post(client, path: str, data: dict, token_page: str | None = None, **kw):
    token = csrf_token(client, token_page or f"{BASE}/co-quan")
    return client.post(path, data={"csrf_token": token, **data}, **kw)


def profile(client, **over):
    return post(client, f"{BASE}/co-quan", {**PROFILE, **over})


def start(client, year=2025) -> int:
    r = post(client, f"{BASE}/danh-gia", {"year": str(year)})
    assert r.status_code == 303, r.text
    return int(re.search(r"/danh-gia/(\d+)$", r.headers["location"]).group(1))


def all_answers(fw, option="full") -> dict[str, str]:
    return {f"q.{code}": option for code in fw.criteria}


def sent_assessment(client, fw) -> int:
    assert profile(client).status_code == 303
    aid = start(client)
    r = post(client, f"{BASE}/danh-gia/{aid}/gui", all_answers(fw, "mostly"), token_page=f"{BASE}/danh-gia/{aid}")
    assert r.status_code == 303, r.text
    return aid


def test_profile_errors_name_each_field(agency_a):
    r = profile(agency_a, name="", agency_type="magazine", scope="", province_code="99")
    assert r.status_code == 422
    for field in ("name", "agency_type", "scope", "province_code"):
        assert f"<code>{field}</code>" in r.text
    assert "BC-0001" in r.text  # the code comes from the account, read only
    assert profile(agency_a).status_code == 303
    page = agency_a.get(f"{BASE}/co-quan").text
    assert 'value="Báo Điện tử Hồng Lĩnh"' in page


def test_questionnaire_saves_as_it_goes_then_sends_only_complete(agency_a, fw):
    assert profile(agency_a).status_code == 303
    aid = start(agency_a)
    page = f"{BASE}/danh-gia/{aid}"
    r = post(agency_a, f"{page}/luu", {"q.s1": "full", "note.s1": "Quyết định 15/QĐ của Tổng biên tập"},
             token_page=page, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'data-answered="1"' in r.text
    r = post(agency_a, f"{page}/luu", {"q.s2": "brilliant"}, token_page=page, headers={"HX-Request": "true"})
    assert r.status_code == 422 and "s2" in r.text
    html = agency_a.get(page).text  # resumed: the answer and the note are there
    assert 'name="q.s1" value="full" checked' in html and "Quyết định 15/QĐ của Tổng biên tập" in html
    assert start(agency_a) == aid  # one per year
    r = post(agency_a, f"{page}/gui", {"q.s2": "partial"}, token_page=page)
    assert r.status_code == 422 and 'data-testid="missing"' in r.text and "(<code>s3</code>)" in r.text
    r = post(agency_a, f"{page}/gui", all_answers(fw), token_page=page)
    assert r.status_code == 303 and r.headers["location"].endswith("/ket-qua")
    result = agency_a.get(f"{page}/ket-qua").text
    assert 'data-testid="waiting"' in result and "100/100" in result


def test_an_agency_cannot_read_another_agencys_assessment(agency_a, agency_b, fw):
    aid = sent_assessment(agency_a, fw)
    assert profile(agency_b, name="Đài Phát thanh Hạ Long", agency_type="radio").status_code == 303
    own_b = start(agency_b)
    for path in (f"{BASE}/danh-gia/{aid}", f"{BASE}/danh-gia/{aid}/ket-qua"):
        r = agency_b.get(path)
        assert r.status_code == 403, path
        assert "Hồng Lĩnh" not in r.text
    token = csrf_token(agency_b, f"{BASE}/danh-gia/{own_b}")
    for path in (f"{BASE}/danh-gia/{aid}/luu", f"{BASE}/danh-gia/{aid}/gui"):
        assert agency_b.post(path, data={"csrf_token": token, "q.s1": "none"}).status_code == 403
    assert agency_b.get(f"{BASE}/danh-gia/999999").status_code == 404
    assert agency_b.get(f"{BASE}/hoi-dong/{aid}").status_code == 403


def test_council_adjusts_with_reason_and_certifies(agency_a, council, fw, engine):
    aid = sent_assessment(agency_a, fw)  # every criterion "mostly": 75 points
    review = f"{BASE}/hoi-dong/{aid}"
    assert "Hồng Lĩnh" in council.get(f"{BASE}/hoi-dong").text
    r = post(council, f"{review}/dieu-chinh", {"criterion": "s1", "points": "1", "reason": ""}, token_page=review)
    assert r.status_code == 422 and "<code>reason</code>" in r.text
    r = post(council, f"{review}/dieu-chinh", {"criterion": "s1", "points": "7", "reason": "x"}, token_page=review)
    assert r.status_code == 422 and "s1: 7 is outside 0 to 3 points" in r.text
    r = post(council, f"{review}/dieu-chinh", {"criterion": "s1", "points": "3", "reason": "Có quyết định phê duyệt"},
             token_page=review)
    assert r.status_code == 303
    html = council.get(review).text
    assert 'data-testid="own-s1">2.25<' in html.replace(",", ".") and "Có quyết định phê duyệt" in html
    r = post(council, f"{review}/chung-nhan", {}, token_page=review)
    assert r.status_code == 303
    with session_scope(engine) as s:
        a = s.get(PressAssessment, aid)
        number, total, level = a.certificate_no, a.total, a.level
    assert re.fullmatch(r"PDT-2025-\d{4}", number) and total == 75.75 and level == 2
    # frozen: no more adjustment
    r = post(council, f"{review}/dieu-chinh", {"criterion": "s2", "points": "0", "reason": "muộn"}, token_page=review)
    assert r.status_code == 409
    result = agency_a.get(f"{BASE}/danh-gia/{aid}/ket-qua").text
    assert number in result and "Có quyết định phê duyệt" in result
    cert = agency_a.get(f"{BASE}/chung-nhan/{number}")  # public
    assert cert.status_code == 200 and "Khá" in cert.text and "press-maturity@1" in cert.text
    assert "Khá" in TestClient(council.app).get(f"{BASE}/chung-nhan?so={number.lower()}").text
    assert TestClient(council.app).get(f"{BASE}/chung-nhan?so=PDT-1999-0001").status_code == 404
    ranking = TestClient(council.app).get(f"{BASE}/xep-hang?year=2025").text
    assert 'data-agency="BC-0001" data-rank="1"' in ranking
    assert 'data-agency="BC-0001"' not in TestClient(council.app).get(f"{BASE}/xep-hang?agency_type=radio").text
    public = TestClient(council.app)
    api = public.get("/api/dx/press/ranking/2025").json()
    assert [(r["code"], r["rank"], r["total"], r["certificate_no"]) for r in api["agencies"]] == [
        ("BC-0001", 1, 75.75, number)]
    assert {d["level"]: d["count"] for d in api["distribution"]}[2] == 1
    assert public.get("/api/dx/press/ranking/2025?agency_type=radio").json()["agencies"] == []
    assert public.get("/api/dx/press/ranking/2025?agency_type=blog").status_code == 422
    assert public.get("/api/dx/press/ranking/2019").status_code == 404
    assert public.get(f"/api/dx/press/certificates/{number}").json()["level_name"]["en"] == "Fair"
    # the same pages in English
    for path in (f"{BASE}/xep-hang?lang=en", f"{BASE}/chung-nhan/{number}?lang=en"):
        assert "Fair" in public.get(path).text
    assert "Council&#39;s points" in council.get(f"{review}?lang=en").text


def test_returned_to_the_agency_with_a_reason(agency_a, council, fw):
    aid = sent_assessment(agency_a, fw)
    review = f"{BASE}/hoi-dong/{aid}"
    r = post(council, f"{review}/tra-lai", {"reason": " "}, token_page=review)
    assert r.status_code == 422 and "<code>return_reason</code>" in r.text
    assert post(council, f"{review}/tra-lai", {"reason": "Bổ sung minh chứng trụ cột 4"},
                token_page=review).status_code == 303
    page = agency_a.get(f"{BASE}/danh-gia/{aid}").text
    assert "Bổ sung minh chứng trụ cột 4" in page and 'data-testid="questionnaire"' in page
    r = post(agency_a, f"{BASE}/danh-gia/{aid}/gui", {"q.a1": "full"}, token_page=f"{BASE}/danh-gia/{aid}")
    assert r.status_code == 303
    assert "Hồng Lĩnh" in council.get(f"{BASE}/hoi-dong").text


def test_script_typed_into_the_name_and_a_reason_is_shown_as_text(agency_a, council, fw):
    evil = "<script>alert(1)</script>"
    assert profile(agency_a, name=f"Báo {evil}").status_code == 303
    aid = start(agency_a)
    page = f"{BASE}/danh-gia/{aid}"
    assert post(agency_a, f"{page}/gui", {**all_answers(fw), "note.s1": evil}, token_page=page).status_code == 303
    review = f"{BASE}/hoi-dong/{aid}"
    assert post(council, f"{review}/dieu-chinh", {"criterion": "s1", "points": "0", "reason": evil},
                token_page=review).status_code == 303
    assert post(council, f"{review}/chung-nhan", {}, token_page=review).status_code == 303
    pages = [council.get(review).text, council.get(f"{BASE}/hoi-dong").text,
             agency_a.get(f"{page}/ket-qua").text, agency_a.get(f"{BASE}/co-quan").text,
             TestClient(council.app).get(f"{BASE}/xep-hang").text]
    for html in pages:
        assert evil not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # inside the chart's JSON the name is escaped for a <script> element too
    assert "\\u003cscript\\u003e" in pages[-1]


def test_the_review_compares_the_published_results_year_over_year(client, engine):
    from ictgov.stats.sample import load_sample

    with session_scope(engine) as s:
        load_sample(s)
    review = client.get("/review", params={"period": "2025"}).text
    assert "Chuyển đổi số báo chí" in review
    section = review[review.index("Chuyển đổi số báo chí"):]
    assert "177" in section and "282" in section  # 2025 beside the same period of 2024
