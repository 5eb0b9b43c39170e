"""User text is escaped everywhere: markup typed into a form comes back as text on every page
that shows it, never as markup.

Each form that keeps what a user typed gets the payloads below in its free-text fields; then
every page that shows that text is fetched, and must carry the escaped text (so it is shown)
and none of the raw markup (so it cannot run). A new form that stores text gets a test here.
"""

from __future__ import annotations

from sqlalchemy import select

from ictgov.auth import User
from ictgov.db import session_scope
from ictgov.stats.areas import load_reference_areas
from ictgov.tipline import workflow
from ictgov.tipline.models import Case

from .conftest import csrf_token, login

SCRIPT = "<script>alert('x')</script>"
ATTR = '"><img src=x onerror=alert(1)>'
# The raw forms that must never reach a page, and what each looks like escaped by Jinja2.
RAW = ("<script>alert(", "<img src=x onerror")
ESCAPED = ("&lt;script&gt;alert(", "&lt;img src=x onerror")


def assert_escaped(html: str, where: str, shown: bool = True) -> None:
    for raw in RAW:
        assert raw not in html, f"{where}: raw markup {raw!r} in the page"
    if shown:
        assert any(e in html for e in ESCAPED), f"{where}: the text typed is not shown at all"


def test_a_citizen_report_is_text_on_the_staff_pages(client, engine, make_user):
    text = f"Tin đồn về bệnh viện {SCRIPT} đóng cửa {ATTR} từ tuần sau"
    token = csrf_token(client, "/phan-anh")
    r = client.post("/phan-anh", data={"csrf_token": token, "text": text, "links": "https://example.vn/a",
                                       "platform": "facebook", "category": "health"})
    assert r.status_code == 303, r.text[:500]
    assert_escaped(client.get(r.headers["location"]).text, "receipt page", shown=False)

    make_user("checker", "fact_checker")
    login(client, "checker")
    assert_escaped(client.get("/kiem-chung").text, "queue")
    with session_scope(engine) as s:
        case_id = s.scalar(select(Case.id))
    assert_escaped(client.get(f"/kiem-chung/vu-viec/{case_id}").text, "case page")


def test_a_form_error_echoes_the_input_as_text(client):
    token = csrf_token(client, "/phan-anh")
    r = client.post("/phan-anh", data={"csrf_token": token, "text": f"{ATTR}{SCRIPT}", "links": ATTR,
                                       "platform": "facebook", "category": "nope"})
    assert r.status_code == 422
    assert_escaped(r.text, "report form with errors")


def test_a_published_verdict_is_text_on_every_public_page(client, engine, make_user):
    token = csrf_token(client, "/phan-anh")
    client.post("/phan-anh", data={"csrf_token": token, "text": f"Uống nước chanh chữa ung thư {SCRIPT}",
                                   "platform": "facebook", "category": "health"})
    fc_id = make_user("kiemchung", "fact_checker")
    with session_scope(engine) as s:
        fc, case = s.get(User, fc_id), s.scalar(select(Case))
        workflow.triage(s, case, fc)
        workflow.assign(s, case, fc, fc)
        workflow.start(s, case, fc)
        workflow.decide(s, case, fc, "fake", f"Không đúng {SCRIPT} {ATTR}", summary_en=f"Untrue {SCRIPT}",
                        sources=["https://moh.gov.vn/a", f"Công văn {ATTR}"])
        workflow.publish(s, case, fc)
        s.flush()
        slug = case.slug
    for path in (f"/tin-gia/{slug}", f"/tin-gia/{slug}?lang=en", "/tin-gia", "/tin-gia?q=nuoc+chanh"):
        assert_escaped(client.get(path).text, path)
    assert_escaped(client.get("/tin-gia/thong-ke").text, "statistics", shown=False)
    feed = client.get("/tin-gia/feed.atom").text  # XML: escaped the XML way
    assert "<script>" not in feed and "&lt;script&gt;" in feed


def test_an_account_name_is_text_on_the_admin_pages_and_in_the_header(admin_client, engine):
    token = csrf_token(admin_client, "/admin/users")
    r = admin_client.post("/admin/users", data={
        "csrf_token": token, "username": "sneaky", "password": "Sneaky-Pass-1234", "role": "analyst",
        "full_name": f"Nguyễn {SCRIPT}{ATTR}", "email": "a@example.vn"})
    assert r.status_code == 303, r.text[:500]
    assert_escaped(admin_client.get("/admin/users").text, "users page")
    assert_escaped(admin_client.get("/admin/audit").text, "audit page", shown=False)
    admin_client.post("/logout", data={"csrf_token": csrf_token(admin_client, "/admin/users")})
    login(admin_client, "sneaky", "Sneaky-Pass-1234")
    assert_escaped(admin_client.get("/stats").text, "header of a page for the user")


def test_uploaded_figures_are_text_on_the_stats_pages(client, engine, make_user):
    with session_scope(engine) as s:
        load_reference_areas(s)
    make_user("ana", "analyst")
    login(client, "ana")
    name = f"Chỉ tiêu {SCRIPT}"
    csv = ("indicator,area,period,value,unit,source\n"
           f'"{name}",VN,2021,5,units,"Nguồn {ATTR}"\n')
    token = csrf_token(client, "/stats/upload")
    r = client.post("/stats/upload", data={"csrf_token": token},
                    files={"file": ("x.csv", csv.encode(), "text/csv")})
    assert r.status_code in (200, 303), r.text[:500]
    assert_escaped(client.get("/stats").text, "indicator list")
    bad = client.post("/stats/upload", data={"csrf_token": token},
                      files={"file": (f"{ATTR}.csv", f"indicator,area\n{SCRIPT},ZZ\n".encode(), "text/csv")})
    assert bad.status_code == 422
    assert_escaped(bad.text, "upload error report")
