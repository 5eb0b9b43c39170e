"""The enterprise self-assessment in the web app: registration, questionnaire saved as one
goes, resumable, submitted once complete, the result page, and who may see what."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from ictgov.db import session_scope
from ictgov.dx.framework import get
from ictgov.dx.models import Assessment, Enterprise
from ictgov.stats.areas import load_reference_areas

from .conftest import csrf_token, login

TAX_A, TAX_B = "0100233488", "0158073023"
BASE = "/chuyen-doi-so"


@pytest.fixture
def fw():
    return get("dbi-sme-2021", "enterprise")


@pytest.fixture
def areas(engine):
    with session_scope(engine) as s:
        load_reference_areas(s)


@pytest.fixture
def enterprise_client(client, make_user, areas):
    make_user("dn_a", "enterprise", enterprise_ref=TAX_A, full_name="Công ty An Phát")
    assert login(client, "dn_a").status_code == 303
    return client


def register(client, **over):
    token = csrf_token(client, f"{BASE}/doanh-nghiep")
    data = {"csrf_token": token, "name": "Công ty TNHH An Phát", "sector": "trade", "size_class": "small",
            "province_code": "01", **over}
    return client.post(f"{BASE}/doanh-nghiep", data=data)


def start(client) -> int:
    token = csrf_token(client, f"{BASE}/doanh-nghiep")
    r = client.post(f"{BASE}/danh-gia", data={"csrf_token": token})
    assert r.status_code == 303
    return int(re.search(r"/danh-gia/(\d+)$", r.headers["location"]).group(1))


def answers_at(fw, share_code: dict[str, str], codes=None) -> dict[str, str]:
    """`q.<criterion>` fields: each criterion answered with the option named for its scale."""
    out = {}
    for code, (_, _, c) in fw.criteria.items():
        if codes is None or code in codes:
            out[f"q.{code}"] = share_code[c.scale]
    return out


GOOD = {"extent": "partial", "percent": "41-60", "strategy": "plan", "yes_no": "yes"}


def test_registration_refuses_bad_fields_by_name_then_saves(enterprise_client, engine):
    page = enterprise_client.get(f"{BASE}/doanh-nghiep")
    assert page.status_code == 200 and "Đăng ký doanh nghiệp" in page.text and TAX_A in page.text
    r = register(enterprise_client, name="", sector="mining", province_code="99")
    assert r.status_code == 422
    for field in ("name", "sector", "province_code"):
        assert f"<code>{field}</code>" in r.text
    assert register(enterprise_client).status_code == 303
    with session_scope(engine) as s:
        e = s.scalar(select(Enterprise))
        assert (e.tax_code, e.name, e.province_code) == (TAX_A, "Công ty TNHH An Phát", "01")


def test_questionnaire_is_saved_as_one_goes_resumed_and_submitted_once_complete(enterprise_client, engine, fw):
    register(enterprise_client)
    aid = start(enterprise_client)
    url = f"{BASE}/danh-gia/{aid}"
    page = enterprise_client.get(url)
    assert page.status_code == 200
    assert page.text.count('type="radio"') == sum(len(fw.scale_of(c).options) for _, _, c in fw.criteria.values())
    assert fw.criteria["erp"][2].text.vi in page.text
    assert fw.criteria["erp"][2].text.en in enterprise_client.get(url + "?lang=en").text
    enterprise_client.get(url + "?lang=vi")

    token = csrf_token(enterprise_client, url)
    first_half = list(fw.criteria)[:30]
    # htmx autosave: a fragment comes back with the count
    r = enterprise_client.post(f"{url}/luu", data={"csrf_token": token, **answers_at(fw, GOOD, first_half)},
                               headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'data-state="saved"' in r.text and 'data-answered="30"' in r.text
    # a bad answer: 422 naming the criterion, nothing saved
    r = enterprise_client.post(f"{url}/luu", data={"csrf_token": token, "q.erp": "sometimes", "q.wifi": "wide"})
    assert r.status_code == 422 and "<code>erp</code>" in r.text
    # coming back: the answers are there
    again = enterprise_client.get(f"{BASE}/doanh-nghiep")
    assert "30/60" in again.text
    page = enterprise_client.get(url)
    assert 'name="q.website" value="partial" checked' in page.text
    assert 'name="q.wifi" value="wide" checked' not in page.text

    # submitting incomplete: 422 listing what is missing
    r = enterprise_client.post(f"{url}/nop", data={"csrf_token": token})
    assert r.status_code == 422 and 'data-testid="missing"' in r.text and "còn 30 tiêu chí" in r.text
    assert 'href="#c-dashboards"' in r.text and 'href="#c-website"' not in r.text

    r = enterprise_client.post(f"{url}/nop", data={"csrf_token": token, **answers_at(fw, GOOD)})
    assert r.status_code == 303 and r.headers["location"] == f"{url}/ket-qua"
    result = enterprise_client.get(f"{url}/ket-qua")
    assert result.status_code == 200
    # 3/5 of every graded criterion plus the three yes/no: 198 points, level 3 "Hình thành"
    assert 'data-level="3"' in result.text and "Mức 3: Hình thành" in result.text
    assert "Tổng điểm 198/320" in result.text
    spec = json.loads(re.search(r'<script type="application/json" id="radar-spec">(.*?)</script>',
                                result.text, re.S).group(1))
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert len(spec["layer"][3]["data"]["values"]) == 6  # one point per pillar
    assert 'data-testid="next-level"' in result.text and "Để lên mức 4 (Nâng cao)" in result.text
    assert 'data-testid="advice"' in result.text and "Chưa có doanh nghiệp cùng nhóm" in result.text
    assert "Level 3: Forming" in enterprise_client.get(f"{url}/ket-qua?lang=en").text
    # submitted: the questionnaire sends to the result, saving is refused
    assert enterprise_client.get(url).headers["location"] == f"{url}/ket-qua"
    assert enterprise_client.post(f"{url}/luu", data={"csrf_token": token, "q.erp": "none"}).status_code == 409
    with session_scope(engine) as s:
        a = s.get(Assessment, aid)
        assert a.status == "submitted" and a.result["framework"]["version"] == 1 and a.answers["erp"] == "partial"


def test_an_enterprise_cannot_reach_another_enterprises_assessment(enterprise_client, client, make_user, engine, fw):
    register(enterprise_client)
    aid = start(enterprise_client)
    token = csrf_token(enterprise_client, f"{BASE}/danh-gia/{aid}")
    enterprise_client.post(f"{BASE}/danh-gia/{aid}/luu", data={"csrf_token": token, "q.website": "wide"})
    enterprise_client.post("/logout", data={"csrf_token": token})

    make_user("dn_b", "enterprise", enterprise_ref=TAX_B)
    assert login(client, "dn_b").status_code == 303
    token_b = csrf_token(client, f"{BASE}/doanh-nghiep")
    assert client.get(f"{BASE}/danh-gia/{aid}").status_code == 403
    assert client.get(f"{BASE}/danh-gia/{aid}/ket-qua").status_code == 403
    r = client.post(f"{BASE}/danh-gia/{aid}/luu", data={"csrf_token": token_b, "q.website": "none"})
    assert r.status_code == 403
    assert client.post(f"{BASE}/danh-gia/{aid}/nop", data={"csrf_token": token_b}).status_code == 403
    assert client.get(f"{BASE}/danh-gia/{aid + 999}").status_code == 404
    with session_scope(engine) as s:
        assert s.get(Assessment, aid).answers == {"website": "wide"}


def test_who_may_open_the_enterprise_pages(client, make_user, areas):
    assert client.get(f"{BASE}/doanh-nghiep").status_code == 303  # to the login page
    make_user("ana", "analyst")
    login(client, "ana")
    assert client.get(f"{BASE}/doanh-nghiep").status_code == 403
    assert client.get(BASE).status_code == 200
