"""Logs: JSON lines with request ids, and no reporter's phone or e-mail in them."""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ictgov.logs import JsonFormatter, PersonalDataFilter, handler, scrub

PHONE, EMAIL = "0912876543", "tran.thi.bao@example.vn"


@pytest.mark.parametrize("text, hidden", [
    ("gọi lại cho 0912 876 543 nhé", "876 543"),
    ("số +84 912 876 543", "876 543"),
    ("liên hệ tran.thi.bao@example.vn", "tran.thi.bao"),
])
def test_scrub_masks_numbers_and_addresses(text, hidden):
    out = scrub(text)
    assert hidden not in out and "****" in out or "***@" in out


def test_scrub_leaves_amounts_dates_and_counts():
    for text in ("giá 5.000.000đ", "ngày 23/11/2026", "1234 reports in 12.5 s", "/api/tipline/reports/TG-7K2M9Q4P"):
        assert scrub(text) == text


def test_records_are_scrubbed_in_message_args_and_tracebacks():
    stream = io.StringIO()
    log = logging.getLogger("ictgov.test.logs")
    log.propagate = False
    log.addHandler(handler(stream))
    try:
        log.warning("report from %s (%s)", PHONE, EMAIL)
        try:
            raise ValueError(f"bad contact {EMAIL}")
        except ValueError:
            log.exception("failed")
    finally:
        log.handlers.clear()
        log.propagate = True
    out = stream.getvalue()
    assert PHONE not in out and EMAIL not in out
    lines = [json.loads(line) for line in out.splitlines()]
    assert lines[0]["level"] == "warning" and "091****43" in lines[0]["msg"]
    assert "ValueError" in lines[1]["exc"] and EMAIL not in lines[1]["exc"]
    assert isinstance(PersonalDataFilter(), logging.Filter) and isinstance(JsonFormatter(), logging.Formatter)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("workers", [1, 2])
def test_server_logs_are_json_with_request_ids_and_no_personal_data(tmp_path, workers):
    """The real `ictgov serve` (one process, or worker processes, which set their logging up
    themselves): a citizen's report with contacts, a lookup, an error page."""
    env = {**os.environ, "ICTGOV_DATA_DIR": str(tmp_path), "ICTGOV_SECRET_KEY": "log-test",
           "ICTGOV_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    ictgov = str(Path(sys.executable).parent / "ictgov")
    subprocess.run([ictgov, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = _free_port()
    errlog = tmp_path / "server.log"
    with open(errlog, "w") as err:
        server = subprocess.Popen([ictgov, "serve", "--port", str(port), "--workers", str(workers)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        with httpx.Client(base_url=base, follow_redirects=False) as c:
            form = c.get("/phan-anh")
            token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            r = c.post("/phan-anh", data={
                "csrf_token": token, "text": "Tin nhắn mạo danh ngân hàng yêu cầu bấm link cập nhật",
                "platform": "sms", "category": "scam_links", "contact_phone": PHONE,
                "contact_email": EMAIL, "consent": "1"}, headers={"X-Request-ID": "test-req-0001"})
            assert r.status_code == 303 and r.headers["x-request-id"] == "test-req-0001"
            receipt_path = r.headers["location"]
            assert c.get(receipt_path).status_code == 200
            assert c.get(f"/phan-anh/tra-cuu?receipt={PHONE}").status_code < 500
            assert c.get("/no-such-page").status_code == 404
            generated = c.get("/healthz").headers["x-request-id"]
            assert len(generated) >= 8
    finally:
        server.terminate()
        server.wait(timeout=30)
    text = errlog.read_text()
    assert PHONE not in text and EMAIL not in text and "876 543" not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    requests = [ln for ln in lines if ln.get("event") == "request"]
    assert {"method", "route", "status", "ms", "request_id"} <= set(requests[0])
    posted = [ln for ln in requests if ln["request_id"] == "test-req-0001"]
    assert posted and posted[0]["route"] == "/phan-anh" and posted[0]["status"] == 303
    # routes are templates, never raw paths with their receipts or query strings
    assert not any("TG-" in ln["route"] or "?" in ln["route"] for ln in requests)


LEAK_TEST = """
import logging

def test_logs_a_contact():
    logging.getLogger("ictgov.leaky").warning("new reporter %s", "Trần Thị Lan")
"""


def test_the_run_log_scan_fails_a_run_whose_logs_hold_a_name_or_contact(tmp_path):
    """The check of tests/conftest.py, on a run of one test that logs a person's name."""
    tests_dir = Path(__file__).resolve().parent
    (tmp_path / "test_leak.py").write_text(LEAK_TEST)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests_dir), os.environ.get("PYTHONPATH", "")])}
    env.pop("ICTGOV_SKIP_LOG_SCAN", None)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "conftest", "--rootdir", str(tmp_path),
                          "-p", "no:cacheprovider", str(tmp_path / "test_leak.py")],
                         env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode != 0, run.stdout
    assert "personal data in the logs of this run" in run.stdout
    assert "name 'Trần Thị Lan'" in run.stdout
    # the platform's filter still masks a phone or address in that same place
    (tmp_path / "test_leak.py").write_text(LEAK_TEST.replace('"Trần Thị Lan"', '"0912 345 678 / a@example.vn"'))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "conftest", "--rootdir", str(tmp_path),
                          "-p", "no:cacheprovider", str(tmp_path / "test_leak.py")],
                         env=env, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert run.returncode == 0 and "log scan:" in run.stdout, run.stdout
