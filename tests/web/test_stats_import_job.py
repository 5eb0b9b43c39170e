"""A large upload leaves the request: it is imported by a job whose page shows the outcome."""

from __future__ import annotations

import pytest

from .conftest import ANY_PAGE, csrf_token, login
from .test_stats_web import BAD, GOOD, areas_loaded, n_observations, upload  # noqa: F401

__all__ = ["areas_loaded"]


@pytest.fixture
def small_limit(app):
    app.state.settings = app.state.settings.model_copy(update={"import_background_bytes": 100})
    return app.state.settings


def test_a_large_file_is_imported_by_a_job_and_its_page_shows_the_report(
        client, make_user, areas_loaded, engine, small_limit):  # noqa: F811
    make_user("ana", "analyst")
    login(client, "ana")
    assert len(GOOD.encode()) > small_limit.import_background_bytes
    r = upload(client, GOOD, "large.csv")
    assert r.status_code == 303 and r.headers["location"].startswith("/stats/upload/jobs/")
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and 'data-testid="import-report"' in page.text
    assert "large.csv" in page.text and n_observations(engine) == 5
    assert not list((small_limit.data_dir / "imports").glob("*")), "the stored upload is removed"

    # someone else cannot read it, by changing nothing but the account
    make_user("other", "analyst")
    client.post("/logout", data={"csrf_token": csrf_token(client, ANY_PAGE)})
    login(client, "other")
    assert client.get(r.headers["location"]).status_code == 404
    assert client.get("/stats/upload/jobs/no-such-job").status_code == 404


def test_a_large_file_with_errors_lists_them_and_writes_nothing(
        client, make_user, areas_loaded, engine, small_limit):  # noqa: F811
    make_user("ana", "analyst")
    login(client, "ana")
    r = upload(client, BAD, "large-bad.csv")
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert page.status_code == 422 and 'data-testid="import-errors"' in page.text
    assert "Atlantis" in page.text and "2021H3" in page.text
    assert n_observations(engine) == 0
