"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import create_engine


def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_readyz_when_the_database_answers(client):
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["database"] == "ok"


def test_readyz_is_503_when_the_database_does_not_answer(app):
    # Nothing listens on port 1: the connection is refused at once.
    app.state.engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none",
                                     connect_args={"connect_timeout": 2})
    with TestClient(app) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and r.json()["status"] == "unavailable"
        assert c.get("/healthz").status_code == 200  # liveness does not depend on it


def _sample(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        labels_part, _, value = line[len(name) + 1:].rpartition("} ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', labels_part))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return 0.0


def test_metrics_count_requests_by_route_template_and_status(client, admin_client):
    before = _sample(client.get("/metrics").text, "ictgov_http_requests_total",
                     method="GET", route="/healthz", status="200")
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no/such/thing")
    client.get("/static/css/app.css")
    admin_client.get("/admin/users/abc/deactivate")  # 405, labelled by its template
    text = client.get("/metrics").text
    assert _sample(text, "ictgov_http_requests_total", method="GET", route="/healthz",
                   status="200") == before + 2
    assert _sample(text, "ictgov_http_requests_total", method="GET", route="<unmatched>",
                   status="404") >= 1
    assert _sample(text, "ictgov_http_requests_total", method="GET",
                   route="/admin/users/{user_id}/deactivate", status="405") >= 1
    assert _sample(text, "ictgov_http_request_duration_seconds_count", method="GET",
                   route="/healthz", status="200") >= 2
    assert _sample(text, "ictgov_http_requests_total", method="GET", route="/static/{path}",
                   status="200") >= 1
    assert "/no/such/thing" not in text  # raw paths never become labels


def test_openapi_docs_are_served_without_a_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    spec = client.get("/openapi.json").json()
    assert "/api/stats/import" in spec["paths"] and "/api/stats/export.{fmt}" in spec["paths"]


def test_every_page_carries_the_security_headers(client):
    for path in ("/", "/docs", "/phan-anh", "/tin-gia", "/login", "/no/such/page", "/static/app.js"):
        r = client.get(path)
        csp = r.headers.get("content-security-policy", "")
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp, path
        assert r.headers["x-content-type-options"] == "nosniff", path
    docs = client.get("/docs").text
    assert "<script>" not in docs  # started from /static/swagger-init.js, not inline
