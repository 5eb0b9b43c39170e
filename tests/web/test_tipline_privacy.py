"""Reporters' contacts: kept for the staff who need them, never in logs, the audit log or
anything the public or the reporter's receipt shows."""

from __future__ import annotations

import io
import logging

from sqlalchemy import select

from ictgov.audit import AuditEntry
from ictgov.auth import User
from ictgov.db import session_scope
from ictgov.notify import ConsoleSender, drain
from ictgov.tipline import workflow
from ictgov.tipline.models import Case

from .conftest import csrf_token, login

CLAIM = "Bộ Y tế yêu cầu người dân tự cách ly 30 ngày nếu đã ăn hải sản nhập khẩu trong tháng này"
PHONE, EMAIL = "0912876543", "tran.thi.bao@example.vn"
CALLER, CALLER_EMAIL = "0987123456", "nguoi.goi@example.vn"


def test_contacts_never_reach_logs_audit_or_public_pages(client, engine, make_user, caplog):
    caplog.set_level(logging.DEBUG)
    r = client.post("/phan-anh", data={
        "csrf_token": csrf_token(client, "/phan-anh"), "text": CLAIM, "links": "", "platform": "zalo",
        "category": "health", "contact_phone": PHONE, "contact_email": EMAIL, "consent": "1"})
    assert r.status_code == 303
    receipt_page = client.get(r.headers["location"]).text

    make_user("agent", "hotline_agent")
    login(client, "agent")
    r = client.post("/tong-dai", data={
        "csrf_token": csrf_token(client, "/tong-dai"), "text": CLAIM + " ngay", "platform": "other",
        "category": "health", "caller_number": CALLER, "call_time": "2026-11-20T09:30",
        "contact_email": CALLER_EMAIL, "consent": "1"})
    assert r.status_code == 200
    client.cookies.clear()

    make_user("checker", "fact_checker")
    with session_scope(engine) as s:
        fc = s.scalar(select(User).where(User.username == "checker"))
        case = s.scalar(select(Case))
        workflow.triage(s, case, fc)
        workflow.assign(s, case, fc, fc)
        workflow.start(s, case, fc)
        workflow.decide(s, case, fc, "fake", "Bộ Y tế không ban hành yêu cầu nào như vậy.")
        workflow.publish(s, case, fc)
    out = io.StringIO()
    with session_scope(engine) as s:
        sent = drain(s, {"email": ConsoleSender("email", out), "sms": ConsoleSender("sms", out)})
    assert sent["sent"] >= 2

    # The staff who work the case see the contacts.
    login(client, "checker")
    case_page = client.get(f"/kiem-chung/vu-viec/{case.id}").text
    assert PHONE in case_page and EMAIL in case_page and CALLER in case_page
    client.cookies.clear()

    public = "".join(client.get(p).text for p in
                     ("/tin-gia", f"/tin-gia/{case.slug}", "/tin-gia/feed.atom", "/tin-gia/thong-ke",
                      "/api/tipline/verdicts?q=hai+san"))
    with session_scope(engine) as s:
        audit = " ".join(f"{e.before} {e.after} {e.entity_id}" for e in s.scalars(select(AuditEntry)))
    logs = "\n".join(rec.getMessage() + " " + str(rec.args) for rec in caplog.records)
    for secret in (PHONE, EMAIL, CALLER, CALLER_EMAIL, "912876543", "987123456"):
        assert secret not in logs, f"{secret} in the logs"
        assert secret not in audit, f"{secret} in the audit log"
        assert secret not in public, f"{secret} on a public page"
        assert secret not in receipt_page, f"{secret} on the receipt page"
        assert secret not in out.getvalue(), f"{secret} printed by the console sender"
