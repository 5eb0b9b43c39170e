"""Long work leaves the request: the period review rendered to a file, a DTI run with many
draws, and a large import through the API go to background jobs; the page that started one
shows its progress and then its outcome, and the API answers 202 with the job's URL."""

from __future__ import annotations

import pytest

from ictgov import jobs
from ictgov.db import session_scope
from ictgov.stats.areas import load_reference_areas

from .conftest import ANY_PAGE, csrf_token, login
from .test_dx_dti import GOOD_CSV, HEADER, upload
from .test_stats_web import GOOD, n_observations


@pytest.fixture
def areas(engine):
    with session_scope(engine) as s:
        load_reference_areas(s)


def test_the_period_review_is_rendered_to_a_file_by_a_job(client, engine, make_user):
    from ictgov.stats.sample import load_sample

    with session_scope(engine) as s:
        load_sample(s)
    make_user("ana", "analyst")
    assert 'data-testid="render-form"' not in client.get("/review?period=2021H1").text  # the public reads
    login(client, "ana")
    page = client.get("/review?period=2021H1")
    assert 'data-testid="render-form"' in page.text
    token = csrf_token(client, "/review?period=2021H1")
    r = client.post("/review/render", data={"csrf_token": token, "period": "2021H1", "lang": "vi", "fmt": "html"})
    assert r.status_code == 303 and r.headers["location"].startswith("/review/jobs/")
    job_page = client.get(r.headers["location"])
    assert job_page.status_code == 200 and 'data-testid="review-file"' in job_page.text
    assert [j.name for j in jobs.recent()] == ["stats.review"]
    f = client.get("/review/files/review-2021H1-vi.html")
    assert f.status_code == 200 and f.headers["content-type"].startswith("text/html")
    assert "Báo cáo sơ kết 6 tháng đầu năm 2021" in f.text and "<html" in f.text.lower()
    md = client.post("/review/render", data={"csrf_token": token, "period": "2021H1", "lang": "en", "fmt": "md"})
    assert "review-2021H1-en.md" in client.get(md.headers["location"]).text
    assert client.get("/review/files/review-2021H1-en.md").text.startswith("#")
    # only the files the job writes, never another path
    assert client.get("/review/files/..%2Fsecret_key").status_code == 404
    assert client.post("/review/render", data={"csrf_token": token, "period": "2021X9"}).status_code == 422


def test_a_dti_run_with_many_draws_goes_to_a_job_with_its_progress_page(app, client, make_user, engine, areas):
    app.state.settings = app.state.settings.model_copy(update={"background_draw_areas": 1000})
    make_user("ana", "analyst")
    login(client, "ana")
    small = upload(client, GOOD_CSV, draws="100")  # 100 × 4 rows: in the request
    assert small.status_code == 200 and 'data-testid="upload-done"' in small.text
    assert jobs.recent() == []
    # a bad file is refused at once, every line named, even when the run would be long
    bad = upload(client, f"{HEADER}\nAtlantis,2022,0.8,0.8,0.8,0.8,0.8,0.5,0.8,0.8,0.8\n", draws="2000")
    assert bad.status_code == 422 and "Atlantis" in bad.text and jobs.recent() == []
    r = upload(client, GOOD_CSV, draws="2000")  # 2000 × 4 rows: a job
    assert r.status_code == 303 and "/dti/tai-len/jobs/" in r.headers["location"]
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and 'data-testid="upload-done"' in page.text
    [job] = jobs.recent()
    assert job.name == "dx.dti" and job.status == "finished" and job.progress == 1.0
    ranking = client.get("/chuyen-doi-so/dti").text
    assert 'data-area="48"' in ranking
    make_user("other", "analyst")
    client.post("/logout", data={"csrf_token": csrf_token(client, ANY_PAGE)})
    login(client, "other")
    assert client.get(r.headers["location"]).status_code == 404  # another's run


def test_the_dti_api_answers_202_with_the_job_url(app, client, make_user, engine, areas):
    from ictgov.auth import User, issue_token

    app.state.settings = app.state.settings.model_copy(update={"background_draw_areas": 1000})
    uid = make_user("ana", "analyst")
    with session_scope(engine) as s:
        h = {"Authorization": f"Bearer {issue_token(s, s.get(User, uid), 't')}"}
    r = client.post("/api/dx/dti", headers=h, files={"file": ("x.csv", GOOD_CSV.encode(), "text/csv")},
                    data={"draws": "2000", "seed": "7"})
    assert r.status_code == 202, r.text
    url = r.json()["status_url"]
    assert r.headers["location"] == url and r.json()["name"] == "dx.dti"
    state = client.get(url, headers=h).json()
    assert state["status"] == "finished"
    areas_out = state["result"]["areas"]
    assert len(areas_out) == 4 and all(a["rank_interval"] for a in areas_out)
    assert state["result"]["uncertainty"]["draws"] == 2000
    small = client.post("/api/dx/dti", headers=h, files={"file": ("x.csv", GOOD_CSV.encode(), "text/csv")},
                        data={"draws": "100"})
    assert small.status_code == 200 and len(small.json()["areas"]) == 4


def test_a_large_api_import_goes_to_the_job_like_the_web_form(app, client, make_user, engine, areas):
    from ictgov.auth import User, issue_token

    app.state.settings = app.state.settings.model_copy(update={"import_background_bytes": 100})
    uid = make_user("ana", "analyst")
    other = make_user("bob", "analyst")
    with session_scope(engine) as s:
        h = {"Authorization": f"Bearer {issue_token(s, s.get(User, uid), 't')}"}
        h_other = {"Authorization": f"Bearer {issue_token(s, s.get(User, other), 't')}"}
    r = client.post("/api/stats/import", headers=h, files={"file": ("big.csv", GOOD.encode(), "text/csv")})
    assert r.status_code == 202, r.text
    url = r.json()["status_url"]
    done = client.get(url, headers=h).json()
    assert done["status"] == "finished" and done["result"]["ok"] and n_observations(engine) == 5
    assert client.get(url, headers=h_other).status_code == 404  # not another analyst's to read
    assert client.get(url).status_code == 401
