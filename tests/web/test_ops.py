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


def test_metrics_count_reports_received_by_service_and_channel(client, engine):
    from ictgov.antispam import reports

    from .conftest import csrf_token

    token = csrf_token(client, "/phan-anh")
    for i in range(2):
        assert client.post("/phan-anh", data={"csrf_token": token, "text": f"Tin đồn số {i} về ngân hàng đóng cửa",
                                               "platform": "zalo", "category": "other"}).status_code == 303
    from ictgov.db import session_scope

    with session_scope(engine) as s:
        reports.receive_sms(s, "S 0987654321 Vay tien nhanh", "0912345678", gateway_id="m1")
    text = client.get("/metrics").text
    assert 'ictgov_reports_received_total{channel="web",service="tipline"} 2.0' in text
    assert 'ictgov_reports_received_total{channel="shortcode",service="antispam"} 1.0' in text
    assert "ictgov_jobs_failed" in text and "ictgov_jobs_queued" in text


def _session_cookie(response) -> str:
    cookies = [v for k, v in response.headers.multi_items() if k == "set-cookie" and "ictgov_session" in v]
    assert cookies, "no session cookie set"
    return cookies[0].lower()


def test_the_session_cookie_is_secure_behind_a_trusted_tls_proxy(engine):
    from ictgov.config import get_settings
    from ictgov.web.app import create_app

    trusted = create_app(get_settings().model_copy(update={"trust_proxy": True}))
    with TestClient(trusted) as c:
        over_tls = _session_cookie(c.get("/login", headers={"X-Forwarded-Proto": "https"}))
        assert "secure" in over_tls and "httponly" in over_tls and "samesite=lax" in over_tls
    with TestClient(trusted) as c:
        assert "secure" not in _session_cookie(c.get("/login", headers={"X-Forwarded-Proto": "http"}))
    # a proxy that is not trusted: a client cannot choose (the header is ignored)
    with TestClient(create_app(get_settings())) as c:
        r = c.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert "secure" not in _session_cookie(r)
    with TestClient(create_app(get_settings().model_copy(update={"cookie_secure": True}))) as c:
        assert "secure" in _session_cookie(c.get("/login"))


def test_a_broken_bundled_framework_stops_the_start(engine, monkeypatch, tmp_path):
    import pytest

    from ictgov.config import get_settings
    from ictgov.dx import framework
    from ictgov.web.app import create_app

    folder = tmp_path / "frameworks"
    folder.mkdir()
    (folder / "broken.yaml").write_text("id: broken\nversion: 1\nkind: enterprise\npillars: [oops\n")
    monkeypatch.setattr(framework.resources, "files", lambda package: tmp_path)
    framework.bundled.cache_clear()
    try:
        with pytest.raises(framework.FrameworkError) as err:
            create_app(get_settings())
        assert "broken.yaml" in str(err.value)
    finally:
        monkeypatch.undo()
        framework.bundled.cache_clear()
    create_app(get_settings())  # the real bundled files load


def test_blocking_intake_and_upload_routes_do_not_run_on_the_event_loop(app):
    import inspect

    from fastapi.routing import iter_route_contexts

    heavy = ("/stats/upload", "/api/stats/import", "/chuyen-doi-so/dti/tai-len", "/api/dx/dti",
             "/chan-rac/", "/nha-mang/", "/api/antispam/")
    checked = [rc for rc in iter_route_contexts(app.routes) if "POST" in (getattr(rc.route, "methods", None) or ())
               and (rc.path_format or rc.path).startswith(heavy)]
    assert len(checked) >= 12
    on_loop = [rc.path for rc in checked if inspect.iscoroutinefunction(rc.route.endpoint)]
    assert on_loop == [], f"async routes doing blocking work on the event loop: {on_loop}"
