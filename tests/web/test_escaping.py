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


# --- the hotline, antispam and dx forms -------------------------------------------------------


def test_a_hotline_report_is_text_on_the_agent_and_staff_pages(client, engine, make_user):
    make_user("agent", "hotline_agent")
    login(client, "agent")
    r = client.post("/tong-dai", data={
        "csrf_token": csrf_token(client, "/tong-dai"), "text": f"Gọi điện báo tin {SCRIPT} {ATTR} về dịch bệnh",
        "urls": "", "platform": "other", "category": "health", "caller_number": "0912345678",
        "call_time": "2026-11-20T09:30", "consent": "1"})
    assert r.status_code == 200, r.text[:300]
    assert_escaped(r.text, "hotline page after the call", shown=False)
    bad = client.post("/tong-dai", data={"csrf_token": csrf_token(client, "/tong-dai"), "text": SCRIPT,
                                         "urls": ATTR, "platform": "nope", "category": "health"})
    assert bad.status_code == 422
    assert_escaped(bad.text, "hotline form with errors")
    client.cookies.clear()
    make_user("checker", "fact_checker")
    login(client, "checker")
    assert_escaped(client.get("/kiem-chung").text, "queue (hotline report)")
    with session_scope(engine) as s:
        case_id = s.scalar(select(Case.id))
    assert_escaped(client.get(f"/kiem-chung/vu-viec/{case_id}").text, "case page (hotline report)")


def _code(engine, number: str) -> str:
    import re

    from ictgov.tipline.models import OutboxMessage

    with session_scope(engine) as s:
        body = s.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == number)
                         .order_by(OutboxMessage.id.desc())).first()
    return re.search(r"\b(\d{6})\b", body).group(1)


def _as(app, username):
    from fastapi.testclient import TestClient

    c = TestClient(app, follow_redirects=False)
    assert login(c, username).status_code == 303
    return c


def test_antispam_citizen_forms_echo_and_keep_text_as_text(app, client, engine, make_user):
    # the report form: a refused report echoes what was typed
    token = csrf_token(client, "/chan-rac/phan-anh")
    bad = client.post("/chan-rac/phan-anh", data={"csrf_token": token, "kind": "sms", "reporter_number": ATTR,
                                                 "source": SCRIPT, "content": f"{SCRIPT}{ATTR}"})
    assert bad.status_code == 422
    assert_escaped(bad.text, "antispam report form with errors")
    # a good one, confirmed with its code
    r = client.post("/chan-rac/phan-anh", data={"csrf_token": token, "kind": "sms", "reporter_number": "0912345678",
                                               "source": "0987654321", "content": f"Vay tien {SCRIPT} {ATTR}"})
    assert r.status_code == 303
    code_url = r.headers["location"]
    wrong = client.post(code_url, data={"csrf_token": token, "code": SCRIPT})  # the code field
    assert wrong.status_code == 422
    assert_escaped(wrong.text, "code page after a wrong code", shown=False)
    done = client.post(code_url, data={"csrf_token": token, "code": _code(engine, "0912345678")})
    assert done.status_code == 303
    receipt_url = done.headers["location"]
    assert_escaped(client.get(receipt_url).text, "antispam status page", shown=False)
    # the do-not-call form
    dnc = client.post("/chan-rac/dnc", data={"csrf_token": token, "number": SCRIPT, "action": ATTR})
    assert dnc.status_code == 422
    assert_escaped(dnc.text, "do-not-call form with errors")
    # the operator's pages show the report's text; the operator's answer reaches the citizen
    make_user("vt", "operator", operator_code="VIETTEL")
    vt = _as(app, "vt")
    with session_scope(engine) as s:
        from ictgov.antispam.models import SpamReport

        report_id = s.scalar(select(SpamReport.id))
    assert_escaped(vt.get("/nha-mang/phan-anh").text, "operator's report list", shown=False)
    assert_escaped(vt.get(f"/nha-mang/phan-anh/{report_id}").text, "operator's report page")
    vt_token = csrf_token(vt, "/nha-mang/phan-anh")
    bad = vt.post(f"/nha-mang/phan-anh/{report_id}/tra-loi", data={"csrf_token": vt_token, "action": ATTR,
                                                                  "answer": SCRIPT})
    assert bad.status_code == 422
    assert_escaped(bad.text, "operator answer form with errors", shown=False)
    ok = vt.post(f"/nha-mang/phan-anh/{report_id}/tra-loi",
                 data={"csrf_token": vt_token, "action": "blocked", "answer": f"Đã chặn {SCRIPT} {ATTR}"})
    assert ok.status_code == 303
    assert_escaped(client.get(receipt_url).text, "antispam status page with the operator's answer")
    assert_escaped(vt.get(f"/nha-mang/phan-anh/{report_id}").text, "operator's report page with its answer")


def test_an_sms_to_5656_is_text_on_the_operator_pages(app, engine, make_user):
    from ictgov.antispam import reports

    with session_scope(engine) as s:
        report_id = reports.receive_sms(s, f"S 0987654321 Vay tien {SCRIPT} {ATTR}", "0912345678").report.id
    make_user("vt", "operator", operator_code="VIETTEL")
    make_user("ana", "analyst")
    for who in ("vt", "ana"):
        c = _as(app, who)
        assert_escaped(c.get("/nha-mang/phan-anh").text, f"report list ({who})", shown=False)
        assert_escaped(c.get(f"/nha-mang/phan-anh/{report_id}").text, f"report page ({who})")


def test_an_appeal_and_its_decision_are_text_everywhere(app, client, engine, make_user):
    import polars as pl

    from ictgov.antispam import flags
    from ictgov.auth import User as U

    make_user("ana", "analyst")
    make_user("vt", "operator", operator_code="VIETTEL")
    with session_scope(engine) as s:
        staff = s.scalar(select(U).where(U.username == "ana"))
        flags.load_scan(s, pl.DataFrame({"number": ["0987654321"], "flagged": [True], "score": [2.0],
                                         "reasons": ["call_volume"], "operator": ["viettel"]}), scan="t")
        flags.confirm(s, flags.visible(s, staff)[0], staff)
    token = csrf_token(client, "/chan-rac/khieu-nai")
    bad = client.post("/chan-rac/khieu-nai", data={"csrf_token": token, "number": ATTR, "reason": SCRIPT})
    assert bad.status_code == 422
    assert_escaped(bad.text, "appeal form with errors")
    r = client.post("/chan-rac/khieu-nai", data={"csrf_token": token, "number": "0987654321",
                                                "reason": f"Tôi là tài xế {SCRIPT} {ATTR}"})
    assert r.status_code == 303
    done = client.post(r.headers["location"], data={"csrf_token": token, "code": _code(engine, "0987654321")})
    assert done.status_code == 303
    appeal_url = done.headers["location"]
    assert_escaped(client.get(appeal_url).text, "appeal status page", shown=False)
    assert_escaped(_as(app, "vt").get("/nha-mang/khieu-nai").text, "operator's appeals page")
    ana = _as(app, "ana")
    assert_escaped(ana.get("/nha-mang/khieu-nai").text, "staff appeals page")
    from ictgov.antispam.models import Appeal

    with session_scope(engine) as s:
        appeal_id = s.scalar(select(Appeal.id))
    ana_token = csrf_token(ana, "/nha-mang/khieu-nai")
    bad = ana.post(f"/nha-mang/khieu-nai/{appeal_id}", data={"csrf_token": ana_token, "decision": ATTR,
                                                            "note": SCRIPT})
    assert bad.status_code == 422
    assert_escaped(bad.text, "appeal decision with errors", shown=False)
    ok = ana.post(f"/nha-mang/khieu-nai/{appeal_id}", data={"csrf_token": ana_token, "decision": "grant",
                                                           "note": f"Đã xác minh {SCRIPT} {ATTR}"})
    assert ok.status_code == 303
    assert_escaped(client.get(appeal_url).text, "appeal status page with the decision")
    assert_escaped(ana.get("/nha-mang/khieu-nai").text, "staff appeals page after the decision", shown=False)


def test_an_advertiser_audit_upload_is_text_on_its_report(app, make_user):
    make_user("ana", "analyst")
    ana = _as(app, "ana")
    token = csrf_token(ana, "/chan-rac/quan-ly/quang-cao")
    log = ("brandname,recipient,time,kind,content\n"
           f'"SHOP{SCRIPT}",0912345678,2026-01-05T23:30:00+07:00,sms,"Giam gia {ATTR}"\n')
    r = ana.post("/chan-rac/quan-ly/quang-cao", data={"csrf_token": token},
                 files={"log": (f"log{ATTR}.csv", log.encode(), "text/csv")})
    assert r.status_code == 200
    assert_escaped(r.text, "advertiser audit report")
    bad = ana.post("/chan-rac/quan-ly/quang-cao", data={"csrf_token": token},
                   files={"log": (f"{SCRIPT}.csv", f"who,{ATTR}\n1,2\n".encode(), "text/csv")})
    assert bad.status_code == 422
    assert_escaped(bad.text, "advertiser audit errors")


def test_dx_registration_and_catalogue_are_text_on_every_page(client, engine, make_user):
    from ictgov.dx.framework import get

    from .test_dx_assessment import BASE, GOOD, answers_at, register, start

    with session_scope(engine) as s:
        load_reference_areas(s)
    make_user("admin", "admin")
    make_user("dn_a", "enterprise", enterprise_ref="0100233488", full_name=f"Công ty {SCRIPT}")
    login(client, "dn_a")
    bad = register(client, name=f"{SCRIPT}{ATTR}", sector=ATTR)
    assert bad.status_code == 422
    assert_escaped(bad.text, "registration form with errors")
    assert register(client, name=f"Công ty An Phát {SCRIPT} {ATTR}").status_code == 303
    assert_escaped(client.get(f"{BASE}/doanh-nghiep").text, "enterprise page")
    aid = start(client)
    assert_escaped(client.get(f"{BASE}/danh-gia/{aid}").text, "questionnaire", shown=False)
    token = csrf_token(client, f"{BASE}/danh-gia/{aid}")
    fw = get("dbi-sme-2021", "enterprise")
    client.post(f"{BASE}/danh-gia/{aid}/nop", data={"csrf_token": token, **answers_at(fw, GOOD)})
    client.post("/logout", data={"csrf_token": token})

    login(client, "admin")
    token = csrf_token(client, f"{BASE}/quan-tri/giai-phap")
    form = {"csrf_token": token, "name": f"ERP {SCRIPT}", "provider": f"Nhà cung cấp {ATTR}",
            "category": "erp", "criteria": ["erp", "cloud"], "price_min": "500000", "price_max": "2000000",
            "active": "true"}
    bad = client.post(f"{BASE}/quan-tri/giai-phap", data={**form, "criteria": [SCRIPT], "price_min": ATTR})
    assert bad.status_code == 422
    assert_escaped(bad.text, "catalogue form with errors")
    assert client.post(f"{BASE}/quan-tri/giai-phap", data=form).status_code == 303
    assert_escaped(client.get(f"{BASE}/quan-tri/giai-phap").text, "catalogue")
    client.post("/logout", data={"csrf_token": token})
    login(client, "dn_a")
    assert_escaped(client.get(f"{BASE}/danh-gia/{aid}/ket-qua").text, "result page with the catalogue")


def test_dti_upload_filename_and_area_names_are_text(client, make_user, engine):
    from .test_dx_dti import GOOD_CSV, HEADER, upload

    with session_scope(engine) as s:
        load_reference_areas(s)
    make_user("ana", "analyst")
    login(client, "ana")
    bad = upload(client, f"{HEADER}\n{SCRIPT},2022,0.8,0.8,0.8,0.8,0.8,0.5,0.8,0.8,0.8\n"
                         f'"{ATTR}",2022,0.8,0.8,0.8,0.8,0.8,0.5,0.8,0.8,0.8\n', name=f"dti{ATTR}.csv")
    assert bad.status_code == 422
    assert_escaped(bad.text, "DTI upload errors")
    ok = upload(client, GOOD_CSV, name=f"dti {SCRIPT}.csv")
    assert ok.status_code == 200
    assert_escaped(ok.text, "DTI upload done", shown=False)
    assert_escaped(client.get("/chuyen-doi-so/dti").text, "public DTI ranking (source file)")
