"""The citizens' anti-spam pages: report with a one-time code, status, do-not-call, appeal."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ictgov.antispam.models import DncEntry, SpamReport
from ictgov.db import session_scope
from ictgov.tipline.models import OutboxMessage

from .conftest import csrf_token

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
AMR = b"#!AMR\n" + b"\x3c" * 64
VALID = {"kind": "sms", "reporter_number": "0912 345 678", "source": "0987654321",
         "content": "Vay tien nhanh 50tr, giai ngan 5 phut, truy cap vaynhanh.top"}


def last_code(engine, number: str) -> str:
    with session_scope(engine) as s:
        msg = s.scalars(select(OutboxMessage).where(OutboxMessage.recipient == number)
                        .order_by(OutboxMessage.id.desc())).first()
        assert msg is not None, f"no SMS to {number}"
        return re.search(r"\b(\d{6})\b", msg.body).group(1)


def start_report(client, data=None, files=None):
    token = csrf_token(client, "/chan-rac/phan-anh")
    return client.post("/chan-rac/phan-anh", data={**(data or VALID), "csrf_token": token}, files=files)


def test_report_with_code_gives_a_receipt_and_is_routed(client, engine):
    r = start_report(client, files={"evidence": ("anh.jpg", PNG, "image/jpeg")})  # a PNG named .jpg
    assert r.status_code == 303 and r.headers["location"].startswith("/chan-rac/xac-nhan/")
    otp_page = client.get(r.headers["location"])
    assert otp_page.status_code == 200 and "091****78" in otp_page.text and "0912345678" not in otp_page.text
    with session_scope(engine) as s:
        assert s.scalar(select(SpamReport)) is None  # nothing stored before the code comes back
        sms = s.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "0912345678"))
        assert sms.status == "sent"  # handed to the sender (the console in development) at once
    token = csrf_token(client, r.headers["location"])
    done = client.post(r.headers["location"], data={"code": last_code(engine, "0912345678"), "csrf_token": token})
    assert done.status_code == 303
    receipt = done.headers["location"].rsplit("/", 1)[-1]
    page = client.get(done.headers["location"])
    assert receipt in page.text and 'data-state="routed"' in page.text and "Viettel" in page.text
    assert "0912345678" not in page.text
    with session_scope(engine) as s:
        report = s.scalar(select(SpamReport))
        assert (report.receipt, report.channel, report.operator_code) == (receipt, "web", "VIETTEL")
        assert report.evidence_media_type == "image/png"
    # the code works once
    again = client.post(r.headers["location"], data={"code": "000000", "csrf_token": token})
    assert again.status_code == 404


def test_bad_fields_are_named_and_nothing_is_sent(client, engine):
    r = start_report(client, {"kind": "fax", "reporter_number": "123", "source": "", "content": "x"},
                     files={"evidence": ("a.mp3", b"not audio at all", "audio/mpeg")})
    assert r.status_code == 422
    for field in ("f-kind", "f-reporter_number", "f-source", "error-content", "error-evidence"):
        assert field in r.text
    assert "a.mp3: không phải tệp jpg, png, amr, mp3, mp4 hoặc pdf" in r.text
    with session_scope(engine) as s:
        assert s.scalar(select(OutboxMessage)) is None


def test_wrong_code_counts_and_locks(client, engine):
    r = start_report(client)
    url = r.headers["location"]
    token = csrf_token(client, url)
    right = last_code(engine, "0912345678")
    wrong = "000000" if right != "000000" else "111111"
    first = client.post(url, data={"code": wrong, "csrf_token": token})
    assert first.status_code == 422 and "Còn 4 lần thử" in first.text
    for _ in range(4):
        last = client.post(url, data={"code": wrong, "csrf_token": token})
    assert last.status_code == 410
    assert client.post(url, data={"code": right, "csrf_token": token}).status_code == 410
    with session_scope(engine) as s:
        assert s.scalar(select(SpamReport)) is None


def test_code_page_of_another_visitor_is_not_found(client, app, engine):
    from fastapi.testclient import TestClient

    url = start_report(client).headers["location"]
    with TestClient(app, follow_redirects=False) as other:
        assert other.get(url).status_code == 404
        token = csrf_token(other, "/chan-rac/phan-anh")
        assert other.post(url, data={"code": last_code(engine, "0912345678"),
                                     "csrf_token": token}).status_code == 404


def test_rate_limited_per_number(client):
    for _ in range(5):
        assert start_report(client).status_code == 303
    r = start_report(client)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_rate_limited_per_address(client, app, engine):
    """Ten forms in ten minutes from one address, whatever the numbers; the eleventh waits and
    no code is sent for it. Another address is not held back."""
    from fastapi.testclient import TestClient

    for i in range(10):
        r = start_report(client, {**VALID, "reporter_number": f"0912 345 6{i:02d}"})
        assert r.status_code == 303, i
    r = start_report(client, {**VALID, "reporter_number": "0912 345 699"})
    assert r.status_code == 429 and "Retry-After" in r.headers
    assert 0 < int(r.headers["retry-after"]) <= 10 * 60
    # the do-not-call form shares the address's allowance
    token = csrf_token(client, "/chan-rac/dnc")
    dnc = client.post("/chan-rac/dnc", data={"number": "0903 456 789", "action": "join", "csrf_token": token})
    assert dnc.status_code == 429 and int(dnc.headers["retry-after"]) > 0
    with session_scope(engine) as s:
        sent = set(s.scalars(select(OutboxMessage.recipient)))
    assert "0912345699" not in sent and "0903456789" not in sent and len(sent) == 10
    with TestClient(app, follow_redirects=False, client=("203.0.113.7", 50000)) as other:
        assert start_report(other, {**VALID, "reporter_number": "0912 345 699"}).status_code == 303


def test_lookup_unknown_receipt_is_404_and_known_redirects(client):
    assert client.get("/chan-rac/tra-cuu?receipt=tr-abc").headers["location"] == "/chan-rac/phan-anh/TR-ABC"
    assert client.get("/chan-rac/phan-anh/TR-NOPE2345").status_code == 404


def test_dnc_join_and_leave_with_code(client, engine):
    def do(action):
        token = csrf_token(client, "/chan-rac/dnc")
        r = client.post("/chan-rac/dnc", data={"number": "+84 903 456 789", "action": action, "csrf_token": token})
        assert r.status_code == 303
        done = client.post(r.headers["location"], data={"code": last_code(engine, "0903456789"),
                                                        "csrf_token": token})
        assert done.status_code == 200 and 'data-testid="dnc-done"' in done.text
        with session_scope(engine) as s:
            return s.scalar(select(DncEntry)).listed

    assert do("join") is True
    assert do("leave") is False
    token = csrf_token(client, "/chan-rac/dnc")
    bad = client.post("/chan-rac/dnc", data={"number": "12", "action": "maybe", "csrf_token": token})
    assert bad.status_code == 422 and 'id="e-number"' in bad.text


def test_appeal_only_for_a_blocked_number(client, engine):
    import polars as pl

    from ictgov.antispam import flags
    from ictgov.auth import create_user

    token = csrf_token(client, "/chan-rac/khieu-nai")
    r = client.post("/chan-rac/khieu-nai", data={"number": "0987654321", "reason": "Tôi bán hàng online",
                                                 "csrf_token": token})
    assert r.status_code == 422 and "Số này không có trong danh sách chặn nào." in r.text
    with session_scope(engine) as s:
        staff = create_user(s, "ana", "password-123", "analyst")
        flags.load_scan(s, pl.DataFrame({"number": ["0987654321"], "flagged": [True], "score": [2.0],
                                         "reasons": ["call_volume"]}), scan="t")
        flags.confirm(s, flags.visible(s, staff)[0], staff)
    r = client.post("/chan-rac/khieu-nai", data={"number": "0987654321", "reason": "Tôi bán hàng online, gọi khách",
                                                 "csrf_token": token})
    assert r.status_code == 303
    done = client.post(r.headers["location"], data={"code": last_code(engine, "0987654321"), "csrf_token": token})
    assert done.status_code == 303 and "/chan-rac/khieu-nai/KN-" in done.headers["location"]
    assert 'data-state="pending"' in client.get(done.headers["location"]).text


@pytest.mark.parametrize("path", ["/chan-rac/phan-anh", "/chan-rac/dnc", "/chan-rac/khieu-nai", "/chan-rac/tra-cuu"])
def test_pages_in_both_languages(client, path):
    vi, en = client.get(path), client.get(path + "?lang=en")
    assert vi.status_code == en.status_code == 200
    assert 'lang="vi"' in vi.text and 'lang="en"' in en.text


def test_reporters_number_is_never_logged(client, engine, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    r = start_report(client)
    token = csrf_token(client, r.headers["location"])
    client.post(r.headers["location"], data={"code": "000000", "csrf_token": token})
    client.post(r.headers["location"], data={"code": last_code(engine, "0912345678"), "csrf_token": token})
    assert caplog.records  # the requests were logged
    for spelled in ("0912345678", "912345678", "0912 345 678"):
        assert spelled not in caplog.text
