"""The statistics pages and API as an analyst, a province officer and the public use them."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import func, select

from ictgov.db import session_scope
from ictgov.stats.areas import load_reference_areas
from ictgov.stats.models import Observation

from .conftest import csrf_token, login

GOOD = (
    "indicator,area,period,value,unit,source\n"
    "ict_revenue,VN,2020H1,50,billion USD,https://mic.example/2020h1\n"
    "ict_revenue,VN,2021H1,65,billion USD,https://mic.example/2021h1\n"
    "pdti,Hà Nội,2022,0.61,index 0-1,dti 2022\n"
    "pdti,Đà Nẵng,2022,0.70,index 0-1,dti 2022\n"
    "pdti,TP. Hồ Chí Minh,2022,0.61,index 0-1,dti 2022\n"
)
BAD = (
    "indicator,area,period,value,unit,source\n"
    "ict_revenue,VN,2021H1,65,billion USD,ok\n"
    "ict_revenue,Atlantis,2021H1,1,billion USD,src\n"
    "ict_revenue,VN,2021H3,1,billion USD,src\n"
    "ict_revenue,VN,2019,\"12,5\",billion USD,src\n"
)


@pytest.fixture
def areas_loaded(engine):
    with session_scope(engine) as s:
        load_reference_areas(s)


def upload(client, text: str, name: str = "f.csv", **form):
    token = csrf_token(client, "/stats/upload")
    return client.post("/stats/upload", data={"csrf_token": token, **form},
                       files={"file": (name, text.encode(), "text/csv")})


def n_observations(engine) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(Observation))


def test_upload_lists_every_error_then_accepts_the_fixed_file(client, make_user, areas_loaded, engine):
    make_user("ana", "analyst")
    login(client, "ana")
    r = upload(client, BAD, "bad.csv")
    assert r.status_code == 422
    page = r.text
    for needle in ("Atlantis", "2021H3", "number_format=vi", "bad.csv"):
        assert needle in page
    assert page.count("<tr>") >= 4  # header + three bad rows
    assert n_observations(engine) == 0
    r = upload(client, GOOD, "good.csv")
    assert r.status_code == 200 and 'data-testid="import-report"' in r.text
    assert n_observations(engine) == 5
    page = client.get("/stats/ict_revenue?period=2021H1").text
    assert "https://mic.example/2021h1" in page and "30,0 %" in page  # computed growth, vi notation
    ranking = client.get("/api/stats/rank/pdti?period=2022").json()
    assert [(r["rank"], r["area"]) for r in ranking] == [(1, "48"), (2, "01"), (2, "79")]


def test_public_cannot_upload_and_province_officer_only_own_province(client, make_user, areas_loaded, engine):
    r = client.get("/stats/upload")
    assert r.status_code in (302, 303, 307) and "/login" in r.headers["location"]
    make_user("hn", "province_officer", province_code="01")
    login(client, "hn")
    r = upload(client, GOOD, "good.csv")
    assert r.status_code == 422 and "01" in r.text
    assert n_observations(engine) == 0
    ok = "indicator,area,period,value,unit,source\npdti,Hà Nội,2022,0.61,index 0-1,dti\n"
    assert upload(client, ok).status_code == 200
    assert n_observations(engine) == 1


def test_import_api_with_token_reports_rows_and_writes_nothing_on_error(client, make_user, areas_loaded, engine):
    from ictgov.auth import User, issue_token

    make_user("bot", "analyst")
    with session_scope(engine) as s:
        token = issue_token(s, s.scalar(select(User).where(User.username == "bot")), "loader")
    h = {"Authorization": f"Bearer {token}"}
    r = client.post("/api/stats/import", headers=h, files={"file": ("bad.csv", BAD.encode(), "text/csv")})
    assert r.status_code == 422
    assert {(e["row"], e["column"]) for e in r.json()["errors"]} == {(3, "area"), (4, "period"), (5, "value")}
    r = client.post("/api/stats/import", headers=h, files={"file": ("good.csv", GOOD.encode(), "text/csv")})
    assert r.status_code == 200 and r.json()["created"] == 5
    shown = client.get("/api/stats/values/ict_revenue", params={"period": "2021H1"}).json()
    assert shown["value"] == 65 and shown["growth_pct"] == 30.0
    assert client.get("/api/stats/values/nope", params={"period": "2021"}).status_code == 404
    assert client.get("/api/stats/values/ict_revenue", params={"period": "2021H3"}).status_code == 422


def test_open_data_exports(client, make_user, areas_loaded, engine):
    make_user("ana", "analyst")
    login(client, "ana")
    upload(client, GOOD)
    client.cookies.clear()
    r = client.get("/api/stats/export.sdmx-csv", params={"indicator": "ict_revenue"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.sdmx.data+csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0])[:3] == ["STRUCTURE", "STRUCTURE_ID", "ACTION"]
    assert {(x["REF_AREA"], x["TIME_PERIOD"], x["OBS_VALUE"]) for x in rows} == {
        ("VN", "2020-S1", "50"), ("VN", "2021-S1", "65")}
    data = client.get("/api/stats/export.json", params={"period": "2022"}).json()
    assert data["count"] >= 3 and {o["indicator"] for o in data["observations"]} >= {"pdti"}
    assert client.get("/api/stats/export.xml").status_code == 404


def test_sample_dashboard_indicator_and_review_pages(client, engine):
    from ictgov.stats.sample import load_sample

    with session_scope(engine) as s:
        load_sample(s)
    home = client.get("/")
    assert home.status_code == 200 and 'data-code="ict_revenue_usd"' in home.text
    en = client.get("/?lang=en").text
    assert "ICT sector at a glance" in en
    page = client.get("/stats/ict_revenue_usd", params={"period": "2020", "kind": "year", "lang": "vi"}).text
    assert page.count('class="selected"') >= 1 and "124,6" in page and "126" in page  # revisions kept
    review = client.get("/review", params={"period": "2021H1"}).text
    assert "Báo cáo sơ kết 6 tháng đầu năm 2021" in review
    assert "tăng 22,0% so với cùng kỳ năm trước" in review
    md = client.get("/api/stats/review/2021H1", params={"lang": "en", "format": "md"}).text
    assert "up 22.0 % year on year" in md and "+30.0 %" in md


def test_figure_pages_kept_per_revision_show_each_visitor_their_own_layout(client, app, make_user, engine):
    # The content of the dashboard, an indicator and a review is kept per revision of the data
    # and shared by every visitor; who is signed in, their token and their actions are not.
    from fastapi.testclient import TestClient

    from ictgov.stats.sample import load_sample

    with session_scope(engine) as s:
        load_sample(s)
    make_user("phantich", "analyst", full_name="Trần Thị Phân Tích")
    pages = ["/", "/stats/ict_revenue_usd", "/review?period=2021H1"]
    anonymous = [client.get(p).text for p in pages]
    with TestClient(app, follow_redirects=False) as analyst:
        assert login(analyst, "phantich").status_code == 303
        for path, before in zip(pages, anonymous, strict=True):
            mine = analyst.get(path).text
            assert "Trần Thị Phân Tích" in mine and "Trần Thị Phân Tích" not in before
            token = csrf_token(analyst, path)
            assert token and token not in client.get(path).text
        assert 'data-testid="render-form"' in analyst.get("/review?period=2021H1").text
    assert 'data-testid="render-form"' not in client.get("/review?period=2021H1").text
    # the same content for both: the figures of the page
    assert 'data-testid="value-ict_revenue_usd"' in anonymous[0]

    # a new revision uploaded by this process is on the next page, in both languages
    make_user("nhaplieu", "analyst")
    with TestClient(app, follow_redirects=False) as importer:
        assert login(importer, "nhaplieu").status_code == 303
        r = upload(importer, "indicator,area,period,value,unit,source\n"
                             "ict_revenue_usd,VN,2021H1,77777,billion USD,https://mic.example/fix\n")
        assert r.status_code in (200, 303), r.text
    assert "77.777" in client.get("/stats/ict_revenue_usd", params={"kind": "half"}).text
    assert "77,777" in client.get("/stats/ict_revenue_usd", params={"kind": "half", "lang": "en"}).text


def test_the_2021_review_weighs_the_smedx_aim_against_the_published_figure(engine):
    from ictgov.stats.report import build_review
    from ictgov.stats.sample import load_sample

    with session_scope(engine) as s:
        load_sample(s)
        review = build_review(s, "2021", "en")
    aim = next(t for t in review.targets if t["code"] == "smedx_enterprises_reached_pub")
    # about 37,000 SMEs reached by the end of 2021 against the plan's 50,000 a year
    assert (aim["latest_period"], aim["latest"], aim["met"]) == ("2021", 37000, False)
    assert aim["progress_pct"] == 74.0 and "50,000" in aim["label"]


def test_only_canonical_addresses_are_kept(client, engine):
    # Junk or other spellings of the parameters get the same page but are never kept, so a
    # crawler (or an attacker) cannot fill the memory with copies of one page.
    from ictgov.stats import figures as figmod
    from ictgov.stats.sample import load_sample

    with session_scope(engine) as s:
        load_sample(s)
    figmod.clear_cache()
    for path in ["/", "/?utm_source=x", "/?lang=en", "/stats/ict_revenue_usd", "/stats/ict_revenue_usd?kind=foo",
                 "/stats/ict_revenue_usd?kind=year&kind=half", "/stats/ict_revenue_usd?period=2020&kind=year",
                 "/review?period=2021h1", "/review?period=2021H1", "/stats?q="]:
        assert client.get(path).status_code == 200, path
    kept = {k[:4] for entry in figmod._RESULTS.values() for k in entry.memo if k[0] == "page"}
    assert kept == {
        ("page", "/", (), "vi"), ("page", "/", (), "en"),
        ("page", "/stats/ict_revenue_usd", (), "en"),
        ("page", "/stats/ict_revenue_usd", (("kind", "year"), ("period", "2020")), "en"),
        ("page", "/review", (("period", "2021H1"),), "en"),
    }
