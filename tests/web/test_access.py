"""Access: every route of the app × every role, against one table of who may pass.

The routes are read from the app itself, so a route added without a line in ACCESS fails
`test_every_route_has_an_entry`. For each route and each role the test sends a request
(logged in through the real login form; with the session's CSRF token on unsafe methods,
empty bodies, and "1" for every path parameter) and checks the access gate only:

- a role the table admits is never refused (no 401/403, no redirect to the login page):
  it may still get 404 (no object 1) or 422 (empty form), which come after the gate;
- any other role is refused: logged in -> 403; anonymous -> 401 for an API, or a redirect
  to /login for a page.

Scoped roles are bound: the province officer to Hà Nội (01), the operator to Viettel, the
enterprise to one enterprise; whether they see only their own organisation's data is
tested by the services (ids changed by hand), not here.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from .conftest import ANY_PAGE, CSRF_RE, login

ROLES = ("anonymous", "admin", "analyst", "province_officer", "fact_checker", "hotline_agent",
         "operator", "enterprise", "press_agency", "appraiser", "provider")
ANY = frozenset(ROLES)  # public
LOGGED_IN = ANY - {"anonymous"}


def only(*roles: str) -> frozenset[str]:
    unknown = set(roles) - set(ROLES)
    assert not unknown, unknown
    return frozenset(roles)


STAFF_TIPLINE = only("fact_checker", "admin")
IMPORTERS = only("admin", "analyst", "province_officer")
ANTISPAM_STAFF = only("admin", "analyst")
ANTISPAM_HANDLERS = only("operator", "admin", "analyst")  # an operator: its own network only

# (method, path template) -> the roles that pass the gate.
ACCESS: dict[tuple[str, str], frozenset[str]] = {
    # operations and documentation
    ("GET", "/healthz"): ANY,
    ("GET", "/readyz"): ANY,
    ("GET", "/metrics"): ANY,
    ("GET", "/openapi.json"): ANY,
    ("GET", "/docs"): ANY,
    # accounts
    ("GET", "/login"): ANY,
    ("POST", "/login"): ANY,
    ("POST", "/logout"): ANY,
    ("GET", "/api/me"): LOGGED_IN,
    # statistics
    ("GET", "/"): ANY,
    ("GET", "/stats"): ANY,
    ("GET", "/stats/{code}"): ANY,
    ("GET", "/review"): ANY,
    ("POST", "/review/render"): only("admin", "analyst"),
    ("GET", "/review/jobs/{job_id}"): only("admin", "analyst"),
    ("GET", "/review/files/{name}"): only("admin", "analyst"),
    ("GET", "/stats/upload"): IMPORTERS,
    ("POST", "/stats/upload"): IMPORTERS,
    ("GET", "/stats/upload/jobs/{job_id}"): IMPORTERS,
    ("POST", "/api/stats/import"): IMPORTERS,
    ("GET", "/api/stats/indicators"): ANY,
    ("GET", "/api/stats/values/{code}"): ANY,
    ("GET", "/api/stats/rank/{code}"): ANY,
    ("GET", "/api/stats/export.{fmt}"): ANY,
    ("GET", "/api/stats/review/{period}"): ANY,
    ("GET", "/api/stats/validate"): ANY,
    # administration
    ("GET", "/admin"): only("admin"),
    ("GET", "/admin/users"): only("admin"),
    ("POST", "/admin/users"): only("admin"),
    ("POST", "/admin/users/{user_id}/deactivate"): only("admin"),
    ("POST", "/admin/users/{user_id}/activate"): only("admin"),
    ("POST", "/admin/users/{user_id}/tokens"): only("admin"),
    ("POST", "/admin/tokens/{token_id}/revoke"): only("admin"),
    ("GET", "/admin/audit"): only("admin"),
    ("GET", "/admin/jobs"): only("admin"),
    ("POST", "/admin/jobs/{job_id}/rerun"): only("admin"),
    ("GET", "/api/jobs/{job_id}"): LOGGED_IN,  # an admin, or whoever started the job
    # the fake-news centre: public side
    ("GET", "/phan-anh"): ANY,
    ("POST", "/phan-anh"): ANY,
    ("GET", "/phan-anh/tra-cuu"): ANY,
    ("GET", "/phan-anh/{receipt}"): ANY,
    ("GET", "/tin-gia"): ANY,
    ("GET", "/tin-gia/feed.atom"): ANY,
    ("GET", "/tin-gia/thong-ke"): ANY,
    ("GET", "/tin-gia/{slug}"): ANY,
    ("GET", "/api/tipline/stats"): ANY,
    ("GET", "/api/tipline/verdicts"): ANY,
    ("GET", "/api/tipline/reports/{receipt}"): ANY,
    ("POST", "/api/tipline/reports"): only("hotline_agent", "admin"),
    # the fake-news centre: staff side
    ("GET", "/kiem-chung"): STAFF_TIPLINE,
    ("GET", "/kiem-chung/vu-viec/{case_id}"): STAFF_TIPLINE,
    ("POST", "/kiem-chung/vu-viec/{case_id}/{action}"): STAFF_TIPLINE,
    ("POST", "/kiem-chung/bao-cao/{report_id}/tach"): STAFF_TIPLINE,
    ("GET", "/kiem-chung/bang-chung/{evidence_id}"): STAFF_TIPLINE,
    ("GET", "/kiem-chung/goi-y"): STAFF_TIPLINE,
    ("POST", "/kiem-chung/goi-y/{suggestion_id}"): STAFF_TIPLINE,
    ("GET", "/kiem-chung/nguong"): only("admin"),
    ("POST", "/kiem-chung/nguong"): only("admin"),
    ("GET", "/tong-dai"): only("hotline_agent", "admin"),
    ("POST", "/tong-dai"): only("hotline_agent", "admin"),
    # anti-spam: citizens
    ("GET", "/chan-rac"): ANY,
    ("GET", "/chan-rac/phan-anh"): ANY,
    ("POST", "/chan-rac/phan-anh"): ANY,
    ("GET", "/chan-rac/xac-nhan/{ref}"): ANY,
    ("POST", "/chan-rac/xac-nhan/{ref}"): ANY,
    ("GET", "/chan-rac/tra-cuu"): ANY,
    ("GET", "/chan-rac/phan-anh/{receipt}"): ANY,
    ("GET", "/chan-rac/dnc"): ANY,
    ("POST", "/chan-rac/dnc"): ANY,
    ("GET", "/chan-rac/khieu-nai"): ANY,
    ("POST", "/chan-rac/khieu-nai"): ANY,
    ("GET", "/chan-rac/khieu-nai/{receipt}"): ANY,
    ("GET", "/api/antispam/reports/{receipt}"): ANY,
    # anti-spam: SMS gateway, advertisers, operators (own network) and ministry staff
    ("POST", "/api/antispam/sms-inbound"): only("admin", "operator"),
    ("POST", "/api/antispam/dnc/check"): only("enterprise", "operator", "admin"),
    ("POST", "/api/antispam/surveys/{survey_id}/answer"): only("operator"),
    ("GET", "/nha-mang"): ANTISPAM_HANDLERS,
    ("GET", "/nha-mang/phan-anh"): ANTISPAM_HANDLERS,
    ("GET", "/nha-mang/phan-anh/{report_id}"): ANTISPAM_HANDLERS,
    ("GET", "/nha-mang/phan-anh/{report_id}/bang-chung"): ANTISPAM_HANDLERS,
    ("POST", "/nha-mang/phan-anh/{report_id}/tra-loi"): ANTISPAM_HANDLERS,
    ("POST", "/nha-mang/phan-anh/{report_id}/nhan"): ANTISPAM_STAFF,
    ("GET", "/nha-mang/so-nghi-van"): ANTISPAM_HANDLERS,
    ("POST", "/nha-mang/so-nghi-van/{flag_id}/{action}"): ANTISPAM_HANDLERS,
    ("GET", "/nha-mang/danh-sach-chan"): ANTISPAM_HANDLERS,
    ("GET", "/nha-mang/danh-sach-chan.csv"): ANTISPAM_HANDLERS,
    ("POST", "/nha-mang/danh-sach-chan/da-chan"): ANTISPAM_HANDLERS,
    ("GET", "/nha-mang/khieu-nai"): ANTISPAM_HANDLERS,
    ("POST", "/nha-mang/khieu-nai/{appeal_id}"): ANTISPAM_STAFF,
    ("GET", "/chan-rac/quan-ly"): ANTISPAM_STAFF,
    ("GET", "/chan-rac/quan-ly/quang-cao"): ANTISPAM_STAFF,
    ("POST", "/chan-rac/quan-ly/quang-cao"): ANTISPAM_STAFF,
    ("GET", "/nha-mang/quet"): ANTISPAM_HANDLERS,
    ("POST", "/nha-mang/quet"): ANTISPAM_HANDLERS,
    ("GET", "/nha-mang/quet/{job_id}"): ANTISPAM_HANDLERS,
    ("POST", "/chan-rac/quan-ly/huan-luyen"): ANTISPAM_STAFF,
    ("GET", "/chan-rac/quan-ly/huan-luyen/{job_id}"): ANTISPAM_STAFF,
    ("GET", "/api/antispam/figures"): ANTISPAM_STAFF,
    # digital transformation
    ("GET", "/chuyen-doi-so"): ANY,
    ("GET", "/chuyen-doi-so/doanh-nghiep"): only("enterprise"),
    ("POST", "/chuyen-doi-so/doanh-nghiep"): only("enterprise"),
    ("POST", "/chuyen-doi-so/danh-gia"): only("enterprise"),
    ("GET", "/chuyen-doi-so/danh-gia/{assessment_id}"): only("enterprise"),
    ("POST", "/chuyen-doi-so/danh-gia/{assessment_id}/luu"): only("enterprise"),
    ("POST", "/chuyen-doi-so/danh-gia/{assessment_id}/nop"): only("enterprise"),
    ("GET", "/chuyen-doi-so/danh-gia/{assessment_id}/ket-qua"): only("enterprise"),
    ("POST", "/chuyen-doi-so/giai-phap/{solution_id}/ap-dung"): only("enterprise"),
    ("GET", "/chuyen-doi-so/quan-tri/giai-phap"): only("admin"),
    ("POST", "/chuyen-doi-so/quan-tri/giai-phap"): only("admin"),
    ("GET", "/chuyen-doi-so/quan-tri/giai-phap/{solution_id}"): only("admin"),
    ("POST", "/chuyen-doi-so/quan-tri/giai-phap/{solution_id}"): only("admin"),
    ("POST", "/chuyen-doi-so/quan-tri/giai-phap/{solution_id}/xoa"): only("admin"),
    ("GET", "/chuyen-doi-so/dti"): ANY,
    ("GET", "/chuyen-doi-so/dti/tai-len"): only("admin", "analyst"),
    ("POST", "/chuyen-doi-so/dti/tai-len"): only("admin", "analyst"),
    ("GET", "/chuyen-doi-so/dti/tai-len/jobs/{job_id}"): only("admin", "analyst"),
    ("GET", "/chuyen-doi-so/dti/{framework}/{area_code}"): IMPORTERS,  # officer: own province ("1" = 01)
    ("GET", "/api/dx/frameworks"): ANY,
    ("POST", "/api/dx/dti"): only("admin", "analyst"),
    ("GET", "/api/dx/dti/{framework}/{year}"): ANY,
    ("GET", "/api/dx/dti/{framework}/areas/{area_code}"): IMPORTERS,
    # press agencies
    ("GET", "/chuyen-doi-so/bao-chi/co-quan"): only("press_agency"),
    ("POST", "/chuyen-doi-so/bao-chi/co-quan"): only("press_agency"),
    ("POST", "/chuyen-doi-so/bao-chi/danh-gia"): only("press_agency"),
    ("GET", "/chuyen-doi-so/bao-chi/danh-gia/{assessment_id}"): only("press_agency"),  # own agency only
    ("POST", "/chuyen-doi-so/bao-chi/danh-gia/{assessment_id}/luu"): only("press_agency"),
    ("POST", "/chuyen-doi-so/bao-chi/danh-gia/{assessment_id}/gui"): only("press_agency"),
    ("GET", "/chuyen-doi-so/bao-chi/danh-gia/{assessment_id}/ket-qua"): only("press_agency"),
    ("GET", "/chuyen-doi-so/bao-chi/hoi-dong"): only("appraiser", "admin"),
    ("GET", "/chuyen-doi-so/bao-chi/hoi-dong/{assessment_id}"): only("appraiser", "admin"),
    ("POST", "/chuyen-doi-so/bao-chi/hoi-dong/{assessment_id}/dieu-chinh"): only("appraiser", "admin"),
    ("POST", "/chuyen-doi-so/bao-chi/hoi-dong/{assessment_id}/tra-lai"): only("appraiser", "admin"),
    ("POST", "/chuyen-doi-so/bao-chi/hoi-dong/{assessment_id}/chung-nhan"): only("appraiser", "admin"),
    ("GET", "/chuyen-doi-so/bao-chi/xep-hang"): ANY,
    ("GET", "/chuyen-doi-so/bao-chi/chung-nhan"): ANY,
    ("GET", "/chuyen-doi-so/bao-chi/chung-nhan/{number}"): ANY,
    ("GET", "/api/dx/press/ranking/{year}"): ANY,
    ("GET", "/api/dx/press/certificates/{number}"): ANY,
    # SME programme
    ("GET", "/chuyen-doi-so/smedx"): ANY,
    ("GET", "/chuyen-doi-so/smedx/nha-cung-cap"): only("provider"),
    ("POST", "/chuyen-doi-so/smedx/nha-cung-cap"): only("provider"),
    ("GET", "/chuyen-doi-so/smedx/nha-cung-cap/nen-tang"): only("provider"),
    ("POST", "/chuyen-doi-so/smedx/nha-cung-cap/nen-tang"): only("provider"),
    ("GET", "/chuyen-doi-so/smedx/nha-cung-cap/nen-tang/{solution_id}"): only("provider"),  # own only: 404
    ("POST", "/chuyen-doi-so/smedx/nha-cung-cap/nen-tang/{solution_id}"): only("provider"),
    ("GET", "/chuyen-doi-so/smedx/nha-cung-cap/khach-hang"): only("provider"),
    ("GET", "/chuyen-doi-so/smedx/tham-dinh"): only("admin", "analyst"),
    ("GET", "/chuyen-doi-so/smedx/tham-dinh/{solution_id}"): only("admin", "analyst"),
    ("POST", "/chuyen-doi-so/smedx/tham-dinh/{solution_id}"): only("admin", "analyst"),
    ("GET", "/chuyen-doi-so/smedx/thong-ke"): only("admin", "analyst"),
    ("POST", "/chuyen-doi-so/smedx/nen-tang/{solution_id}/quan-tam"): only("enterprise"),
    ("POST", "/chuyen-doi-so/smedx/nen-tang/{solution_id}/dung-thu"): only("enterprise"),
    ("GET", "/chuyen-doi-so/smedx/cua-toi"): only("enterprise"),
    ("POST", "/chuyen-doi-so/smedx/cua-toi/{uptake_id}/dang-dung"): only("enterprise"),
    ("POST", "/chuyen-doi-so/smedx/cua-toi/{uptake_id}/ngung"): only("enterprise"),
    ("GET", "/api/dx/smedx/platforms"): ANY,
    ("GET", "/api/dx/smedx/uptake"): only("admin", "analyst"),
}

BINDINGS = {"province_officer": {"province_code": "01"}, "operator": {"operator_code": "VTL"},
            "enterprise": {"enterprise_ref": "0100109106"}, "press_agency": {"agency_ref": "BC-0001"},
            "provider": {"enterprise_ref": "0101248141"}}
SKIP_METHODS = {"HEAD", "OPTIONS"}


def app_routes(app) -> set[tuple[str, str]]:
    found = set()
    for rc in iter_route_contexts(app.routes):
        path = rc.path_format or rc.path
        if path.startswith("/static"):
            continue
        for method in getattr(rc.route, "methods", None) or ():
            if method not in SKIP_METHODS:
                found.add((method, path))
    return found


def test_every_route_has_an_entry(app):
    routes = app_routes(app)
    missing = sorted(routes - set(ACCESS))
    assert not missing, ("routes without a line in ACCESS (tests/web/test_access.py): say which roles "
                         f"may pass each one: {missing}")
    stale = sorted(set(ACCESS) - routes)
    assert not stale, f"lines in ACCESS for routes that no longer exist: {stale}"


def _refused(role: str, path: str, response) -> bool:
    if role == "anonymous":
        if path.startswith("/api/"):
            return response.status_code == 401
        return response.status_code in (303, 307) and response.headers.get("location", "").startswith("/login") \
            or response.status_code == 401
    return response.status_code == 403


@pytest.fixture
def clients(app, make_user):
    out = {}
    for role in ROLES:
        c = TestClient(app, follow_redirects=False)
        c.__enter__()
        if role != "anonymous":
            make_user(f"u_{role}", role, full_name=f"Test {role}", **BINDINGS.get(role, {}))
            assert login(c, f"u_{role}").status_code == 303, role
        m = CSRF_RE.search(c.get(ANY_PAGE if role != "anonymous" else "/login").text)
        out[role] = (c, m.group(1) if m else "")
    yield out
    for c, _ in out.values():
        c.__exit__(None, None, None)


def test_each_role_passes_exactly_where_the_table_says(clients):
    wrong = []
    for (method, template), allowed in sorted(ACCESS.items()):
        if template in ("/logout", "/login") and method == "POST":
            continue  # would end or change the session under test; tested in test_auth.py
        path = re.sub(r"\{[^}]+\}", "1", template)
        for role in ROLES:
            client, token = clients[role]
            kwargs = {"headers": {"X-CSRF-Token": token}} if method not in ("GET", "HEAD") else {}
            r = client.request(method, path, **kwargs)
            refused = _refused(role, path, r)
            gate_refused = refused or r.status_code in (401, 403)
            if role in allowed and gate_refused:
                wrong.append(f"{method} {template} as {role}: refused ({r.status_code}), table admits it")
            elif role not in allowed and not refused:
                wrong.append(f"{method} {template} as {role}: answered {r.status_code}, table refuses it")
            if r.status_code >= 500:
                wrong.append(f"{method} {template} as {role}: {r.status_code}")
    assert not wrong, "\n".join(wrong)
