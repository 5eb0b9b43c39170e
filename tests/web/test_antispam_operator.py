"""Operators' and ministry pages: each operator sees and answers only its own network's reports,
flags and blocklist; staff see all, label reports and decide appeals; citizens see the answer."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from ictgov.antispam import flags, reports
from ictgov.antispam.models import FlaggedNumber, SpamReport
from ictgov.db import session_scope

from .conftest import csrf_token, login


@pytest.fixture
def data(engine, make_user):
    """Two reports (Viettel, MobiFone), two flags (same), two operator accounts and an analyst."""
    make_user("vt", "operator", operator_code="VIETTEL")
    make_user("mb", "operator", operator_code="MOBIFONE")
    make_user("ana", "analyst")
    with session_scope(engine) as s:
        vt = reports.receive_sms(s, "S 0987654321 Vay tien nhanh", "0912345678").report
        mb = reports.receive_sms(s, "V 0901234567 goi quang cao dat nen", "0913000111").report
        flags.load_scan(s, pl.DataFrame({
            "number": ["0987654321", "0901234567"], "flagged": [True, True], "score": [2.0, 1.5],
            "reasons": ["call_volume (calls_out 345 >= 150)", "short_calls (short_call_share 80% >= 60%)"],
            "operator": ["viettel", "mobifone"]}), scan="t")
        ids = {"vt_report": vt.id, "mb_report": mb.id, "vt_receipt": vt.receipt,
               "vt_flag": s.scalar(select(FlaggedNumber.id).where(FlaggedNumber.number == "0987654321")),
               "mb_flag": s.scalar(select(FlaggedNumber.id).where(FlaggedNumber.number == "0901234567"))}
    return ids


def as_user(app, username):
    c = TestClient(app, follow_redirects=False)
    assert login(c, username).status_code == 303
    return c


def test_operator_sees_only_its_own_reports(app, data):
    vt = as_user(app, "vt")
    page = vt.get("/nha-mang/phan-anh")
    assert page.status_code == 200 and data["vt_receipt"] in page.text and "0901234567" not in page.text
    own = vt.get(f"/nha-mang/phan-anh/{data['vt_report']}")
    assert own.status_code == 200 and 'data-testid="reporter">0912345678' in own.text
    # another operator's report by changing the id, its evidence, its answer form: not found
    assert vt.get(f"/nha-mang/phan-anh/{data['mb_report']}").status_code == 404
    assert vt.get(f"/nha-mang/phan-anh/{data['mb_report']}/bang-chung").status_code == 404
    token = csrf_token(vt, "/nha-mang/phan-anh")
    r = vt.post(f"/nha-mang/phan-anh/{data['mb_report']}/tra-loi",
                data={"action": "blocked", "answer": "Đã chặn thuê bao", "csrf_token": token})
    assert r.status_code == 404
    # asking for another operator in the query changes nothing for an operator
    assert "0901234567" not in vt.get("/nha-mang/phan-anh?operator=MOBIFONE").text


def test_operator_answers_and_the_citizen_sees_it(app, client, engine, data):
    vt = as_user(app, "vt")
    token = csrf_token(vt, "/nha-mang/phan-anh")
    bad = vt.post(f"/nha-mang/phan-anh/{data['vt_report']}/tra-loi",
                  data={"action": "explode", "answer": "", "csrf_token": token})
    assert bad.status_code == 422 and "Hãy chọn một biện pháp." in bad.text and "Cần nội dung trả lời" in bad.text
    ok = vt.post(f"/nha-mang/phan-anh/{data['vt_report']}/tra-loi",
                 data={"action": "blocked", "answer": "Đã chặn chiều gọi đi của thuê bao.", "csrf_token": token})
    assert ok.status_code == 303
    status = client.get(f"/chan-rac/phan-anh/{data['vt_receipt']}")
    assert 'data-state="answered"' in status.text and "Đã chặn chiều gọi đi của thuê bao." in status.text
    api = client.get(f"/api/antispam/reports/{data['vt_receipt']}").json()
    assert api["status"] == "answered" and "0912345678" not in str(api)


def test_citizen_and_other_roles_are_kept_out(app, client, make_user, data):
    assert client.get("/nha-mang/phan-anh").status_code == 303  # to the login page
    make_user("fc", "fact_checker")
    fc = as_user(app, "fc")
    for path in ("/nha-mang/phan-anh", "/nha-mang/so-nghi-van", "/nha-mang/danh-sach-chan.csv",
                 "/chan-rac/quan-ly", "/chan-rac/quan-ly/quang-cao"):
        assert fc.get(path).status_code == 403, path
    vt = as_user(app, "vt")
    assert vt.get("/chan-rac/quan-ly").status_code == 403  # ministry pages are staff only
    token = csrf_token(vt, "/nha-mang/phan-anh")
    assert vt.post(f"/nha-mang/phan-anh/{data['vt_report']}/nhan",
                   data={"label": "spam", "csrf_token": token}).status_code == 403


def test_flags_confirm_export_and_scoping(app, engine, data):
    vt = as_user(app, "vt")
    page = vt.get("/nha-mang/so-nghi-van")
    assert "call_volume (calls_out 345 &gt;= 150)" in page.text and "0901234567" not in page.text
    token = csrf_token(vt, "/nha-mang/so-nghi-van")
    assert vt.post(f"/nha-mang/so-nghi-van/{data['mb_flag']}/confirm",
                   data={"csrf_token": token}).status_code == 404
    assert vt.post(f"/nha-mang/so-nghi-van/{data['vt_flag']}/confirm",
                   data={"csrf_token": token}).status_code == 303
    rows = list(csv.DictReader(io.StringIO(vt.get("/nha-mang/danh-sach-chan.csv?operator=MOBIFONE").text)))
    assert [r["number"] for r in rows] == ["0987654321"]  # its own list, whatever it asks for
    again = vt.post(f"/nha-mang/so-nghi-van/{data['vt_flag']}/confirm", data={"csrf_token": token})
    assert again.status_code == 422
    assert vt.post("/nha-mang/danh-sach-chan/da-chan", data={"csrf_token": token}).status_code == 303
    with session_scope(engine) as s:
        assert s.get(FlaggedNumber, data["vt_flag"]).status == "blocked"
        assert s.get(FlaggedNumber, data["mb_flag"]).status == "flagged"
    survey = vt.post(f"/nha-mang/so-nghi-van/{data['vt_flag']}/survey",
                     data={"recipients": "0912345678", "csrf_token": token})
    assert survey.status_code == 422  # a blocked number is not surveyed any more


def test_staff_see_every_operator_label_and_decide_appeals(app, engine, data):
    ana = as_user(app, "ana")
    page = ana.get("/nha-mang/phan-anh")
    assert data["vt_receipt"] in page.text and "0901234567" in page.text
    only_mb = ana.get("/nha-mang/phan-anh?operator=MOBIFONE").text
    assert data["vt_receipt"] not in only_mb
    token = csrf_token(ana, "/nha-mang/phan-anh")
    assert ana.post(f"/nha-mang/phan-anh/{data['vt_report']}/nhan",
                    data={"label": "spam", "csrf_token": token}).status_code == 303
    assert ana.post(f"/nha-mang/phan-anh/{data['vt_report']}/nhan",
                    data={"label": "maybe", "csrf_token": token}).status_code == 422
    with session_scope(engine) as s:
        assert s.get(SpamReport, data["vt_report"]).label == "spam"
        f = s.get(FlaggedNumber, data["vt_flag"])
        from ictgov.auth import User

        flags.confirm(s, f, s.scalar(select(User).where(User.username == "ana")))
        appeal = flags.submit_appeal(s, "0987654321", "Tôi là tài xế, gọi cho khách hàng")
        appeal_id = appeal.id
    vt = as_user(app, "vt")
    assert "Tôi là tài xế" in vt.get("/nha-mang/khieu-nai").text
    vt_token = csrf_token(vt, "/nha-mang/khieu-nai")
    assert vt.post(f"/nha-mang/khieu-nai/{appeal_id}", data={"decision": "grant", "note": "ok ok ok",
                                                             "csrf_token": vt_token}).status_code == 403
    assert "Tôi là tài xế" not in as_user(app, "mb").get("/nha-mang/khieu-nai").text
    missing_note = ana.post(f"/nha-mang/khieu-nai/{appeal_id}", data={"decision": "grant", "csrf_token": token})
    assert missing_note.status_code == 422 and "note" in missing_note.text
    done = ana.post(f"/nha-mang/khieu-nai/{appeal_id}",
                    data={"decision": "grant", "note": "Đã xác minh là tài xế giao hàng", "csrf_token": token})
    assert done.status_code == 303
    assert ana.get("/nha-mang/danh-sach-chan.csv?operator=VIETTEL").text.strip().count("\n") == 0


def test_ministry_figures_and_ad_audit(app, engine, data):
    ana = as_user(app, "ana")
    page = ana.get("/chan-rac/quan-ly")
    assert page.status_code == 200 and 'data-testid="reports-total">2<' in page.text
    assert ana.get("/chan-rac/quan-ly?lang=en").status_code == 200
    assert ana.get("/api/antispam/figures").json()["reports_total"] == 2
    token = csrf_token(ana, "/chan-rac/quan-ly/quang-cao")
    log = ("brandname,recipient,time,kind,content\n"
           "SHOPX,0912345678,2026-01-05T23:30:00+07:00,sms,Giam gia 50%\n")
    r = ana.post("/chan-rac/quan-ly/quang-cao", data={"csrf_token": token},
                 files={"log": ("log.csv", log.encode(), "text/csv")})
    assert r.status_code == 200 and 'data-testid="violations"' in r.text
    assert r.text.count("<tr><td>2</td>") == 2  # line 2: outside the hours and without [QC]
    bad = ana.post("/chan-rac/quan-ly/quang-cao", data={"csrf_token": token},
                   files={"log": ("log.csv", b"who,what\n1,2\n", "text/csv")})
    assert bad.status_code == 422 and "log.csv" in bad.text
