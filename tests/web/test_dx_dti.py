"""DTI upload, the public ranking, province detail by role, the API, and the solutions catalogue."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ictgov.audit import AuditEntry
from ictgov.auth import User, issue_token
from ictgov.db import session_scope
from ictgov.dx.models import DtiResult, Solution
from ictgov.stats.areas import load_reference_areas

from .conftest import csrf_token, login
from .test_dx_assessment import BASE, GOOD, answers_at, register, start

HEADER = ("area,year,awareness,institutions,infrastructure,human_resources,cybersecurity,smart_city,"
          "digital_government,digital_economy,digital_society")
GOOD_CSV = "\n".join([HEADER,
                      "Đà Nẵng,2022,0.8,0.8,0.8,0.8,0.8,0.5,0.8,0.8,0.8",
                      "TP. Hồ Chí Minh,2022,0.7,0.7,0.7,0.7,0.7,0.5,0.7,0.7,0.7",
                      "Ha Noi,2022,0.6,0.6,0.6,0.6,0.6,0.5,0.6,0.6,0.6",
                      "Bắc Kạn,2022,0.3,0.3,0.3,0.3,0.3,0.1,0.3,0.3,0.3"]) + "\n"


@pytest.fixture
def areas(engine):
    with session_scope(engine) as s:
        load_reference_areas(s)


def upload(client, text: str, name="dti_2022.csv", **data):
    token = csrf_token(client, f"{BASE}/dti/tai-len")
    return client.post(f"{BASE}/dti/tai-len", data={"csrf_token": token, "framework": "dti-2022",
                                                     "draws": "100", **data},
                       files={"file": (name, text.encode(), "text/csv")})


def test_analyst_upload_bad_lines_are_listed_and_nothing_is_written(client, make_user, engine, areas):
    make_user("ana", "analyst")
    login(client, "ana")
    missing = HEADER.replace(",cybersecurity", "") + "\nĐà Nẵng,2022,0.8,0.8,0.8,0.8,0.5,0.8,0.8,0.8\n"
    r = upload(client, missing)
    assert r.status_code == 422 and "cybersecurity" in r.text and "missing column" in r.text
    bad = GOOD_CSV + "Atlantis,2022,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5\nHuế,2022,1.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5\n"
    r = upload(client, bad)
    assert r.status_code == 422 and 'data-testid="import-errors"' in r.text
    assert '<td class="num">6</td><td>area</td>' in r.text and "Atlantis" in r.text
    assert '<td class="num">7</td><td>awareness</td>' in r.text and "[0, 1]" in r.text
    r = upload(client, GOOD_CSV, draws="lots", perturb="2")
    assert r.status_code == 422 and "<code>draws</code>" in r.text and "<code>perturb</code>" in r.text
    token = csrf_token(client, f"{BASE}/dti/tai-len")
    r = client.post(f"{BASE}/dti/tai-len", data={"csrf_token": token})
    assert r.status_code == 422 and "<code>file</code>" in r.text
    with session_scope(engine) as s:
        assert s.scalar(select(DtiResult)) is None


def test_upload_then_public_ranking_and_province_detail_by_role(client, make_user, engine, areas):
    make_user("ana", "analyst")
    make_user("so_hn", "province_officer", province_code="01")
    login(client, "ana")
    r = upload(client, GOOD_CSV)
    assert r.status_code == 200 and 'data-testid="upload-done"' in r.text and "4" in r.text
    token = csrf_token(client, f"{BASE}/dti")
    client.post("/logout", data={"csrf_token": token})

    page = client.get(f"{BASE}/dti")  # anonymous: the public ranking
    assert page.status_code == 200 and 'id="ranking-spec"' in page.text
    rows = page.text.split('data-testid="ranking"')[1]
    assert rows.index('data-area="48"') < rows.index('data-area="79"') < rows.index('data-area="01"')
    assert "0,8000" in rows and "dti_2022.csv" in page.text
    assert "/chuyen-doi-so/dti/dti-2022/01" not in page.text  # no detail links for the public
    assert client.get(f"{BASE}/dti/dti-2022/01").status_code == 303  # login first

    login(client, "so_hn")
    page = client.get(f"{BASE}/dti")
    assert 'href="/chuyen-doi-so/dti/dti-2022/01"' in page.text
    assert 'href="/chuyen-doi-so/dti/dti-2022/48"' not in page.text
    detail = client.get(f"{BASE}/dti/dti-2022/01")
    assert detail.status_code == 200 and 'data-indicator="digital_government"' in detail.text
    assert client.get(f"{BASE}/dti/dti-2022/48").status_code == 403
    assert client.get("/api/dx/dti/dti-2022/areas/48").status_code == 403
    assert client.get("/api/dx/dti/dti-2022/areas/01").json()["years"][0]["values"]["awareness"] == 0.6


def test_dti_api_mirrors_the_cli(client, make_user, engine, areas):
    uid = make_user("ana", "analyst")
    with session_scope(engine) as s:
        token = issue_token(s, s.get(User, uid), "loader")
    h = {"Authorization": f"Bearer {token}"}
    bad = GOOD_CSV.replace("Ha Noi,2022,0.6", "Ha Noi,2022,60")
    r = client.post("/api/dx/dti", headers=h, files={"file": ("x.csv", bad.encode(), "text/csv")},
                    data={"draws": "50"})
    assert r.status_code == 422
    assert [(e["line"], e["column"]) for e in r.json()["errors"]] == [(4, "awareness")]
    r = client.post("/api/dx/dti", headers=h, files={"file": ("x.csv", GOOD_CSV.encode(), "text/csv")},
                    data={"draws": "50"})
    body = r.json()
    assert r.status_code == 200 and body["stored"] is False and body["framework"]["id"] == "dti-2022"
    assert [a["rank"] for a in body["areas"]] == [1, 2, 3, 4] and body["areas"][0]["rank_interval"]
    assert client.get("/api/dx/dti/dti-2022/2022").status_code == 404  # not stored
    r = client.post("/api/dx/dti", headers=h, files={"file": ("x.csv", GOOD_CSV.encode(), "text/csv")},
                    data={"draws": "50", "store": "true"})
    assert r.json()["stored"] is True
    ranking = client.get("/api/dx/dti/dti-2022/2022").json()  # public
    assert [a["area"] for a in ranking["areas"]] == ["48", "79", "01", "06"]
    assert "values" not in ranking["areas"][0]
    assert client.post("/api/dx/dti", files={"file": ("x.csv", b"", "text/csv")}).status_code in (401, 403)
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/dx/dti", "/api/dx/dti/{framework}/{year}", "/api/dx/dti/{framework}/areas/{area_code}",
            "/api/dx/frameworks"} <= set(paths)
    with session_scope(engine) as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.entity == "dx_dti")).action == "upload"


def test_catalogue_admin_and_recommendations_with_adoption(client, make_user, engine, areas):
    from ictgov.dx.framework import get

    fw = get("dbi-sme-2021", "enterprise")
    make_user("admin", "admin")
    make_user("dn_a", "enterprise", enterprise_ref="0100233488")
    login(client, "dn_a")
    assert client.get(f"{BASE}/quan-tri/giai-phap").status_code == 403
    register(client)
    aid = start(client)
    token = csrf_token(client, f"{BASE}/danh-gia/{aid}")
    client.post(f"{BASE}/danh-gia/{aid}/nop", data={"csrf_token": token, **answers_at(fw, GOOD)})
    client.post("/logout", data={"csrf_token": token})

    login(client, "admin")
    token = csrf_token(client, f"{BASE}/quan-tri/giai-phap")
    form = {"csrf_token": token, "name": "ERP đám mây An Toàn", "provider": "Nhà cung cấp A", "category": "erp",
            "criteria": ["erp", "cloud"], "price_min": "500000", "price_max": "2000000", "active": "true"}
    r = client.post(f"{BASE}/quan-tri/giai-phap", data={**form, "criteria": ["erp", "websitee"], "price_min": "x"})
    assert r.status_code == 422 and "<code>criteria</code>" in r.text and "websitee" in r.text
    assert "<code>price_min</code>" in r.text
    assert client.post(f"{BASE}/quan-tri/giai-phap", data=form).status_code == 303
    assert "ERP đám mây An Toàn" in client.get(f"{BASE}/quan-tri/giai-phap").text
    client.post("/logout", data={"csrf_token": token})

    login(client, "dn_a")
    page = client.get(f"{BASE}/danh-gia/{aid}/ket-qua")
    assert 'data-testid="solutions"' in page.text and "ERP đám mây An Toàn" in page.text
    with session_scope(engine) as s:
        sid = s.scalar(select(Solution.id))
    token = csrf_token(client, f"{BASE}/danh-gia/{aid}/ket-qua")
    r = client.post(f"{BASE}/giai-phap/{sid}/ap-dung",
                    data={"csrf_token": token, "back": f"{BASE}/danh-gia/{aid}/ket-qua"})
    assert r.status_code == 303
    section = client.get(f"{BASE}/danh-gia/{aid}/ket-qua").text.split('data-testid="solutions"')[1]
    assert "áp dụng từ" in section and f"/giai-phap/{sid}/ap-dung" not in section
    assert client.post(f"{BASE}/giai-phap/{sid}/ap-dung", data={"csrf_token": token}).status_code == 409


def test_ministries_are_listed_in_the_groups_the_ministry_publishes(client, make_user, engine, areas):
    # DTI 2021 as published: five units with public services, three without
    published = [("BTC", 0.6321), ("BKHDT", 0.6126), ("BHXH", 0.5747), ("NHNN", 0.5406), ("BCT", 0.5219),
                 ("VHL", 0.4736), ("VTV", 0.4192), ("TTXVN", 0.2737)]
    text = "area,year,awareness,institutions,infrastructure,human_resources,cybersecurity,digital_government\n"
    text += "".join(f"{code},2021,{v},{v},{v},{v},{v},{v}\n" for code, v in published)
    make_user("ana", "analyst")
    login(client, "ana")
    assert 'data-testid="upload-done"' in upload(client, text, "bo_2021.csv", framework="dti-ministry-2022").text
    page = client.get(f"{BASE}/dti", params={"framework": "dti-ministry-2022", "year": "2021"}).text
    with_services, without = page.split('data-testid="ranking-group"')[1:3]
    assert 'data-group="public_services"' in with_services and 'data-group="no_public_services"' in without
    assert with_services.index('data-area="BTC"') < with_services.index('data-area="BCT"')
    assert 'data-area="VHL"' not in with_services and 'data-area="VHL"' in without
    vast = without.split('data-area="VHL"')[1].split("</tr>")[0]
    assert '<td class="num">1</td>' in vast  # first of its group, sixth overall
    assert "Ministries and agencies without public services" in client.get(
        f"{BASE}/dti", params={"framework": "dti-ministry-2022", "year": "2021", "lang": "en"}).text
