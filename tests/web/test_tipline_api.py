"""The partner-channel API of the fake-news centre and the `ictgov tipline` commands."""

import json

from sqlalchemy import func, select
from typer.testing import CliRunner

from ictgov.auth import User, issue_token
from ictgov.cli import app as cli
from ictgov.db import session_scope
from ictgov.tipline.models import Report

CLAIM = "Tin nhắn báo trúng thưởng xe máy SH từ Viettel, yêu cầu chuyển khoản 2 triệu phí nhận giải"


def token_for(engine, make_user, username="gateway", role="hotline_agent"):
    make_user(username, role)
    with session_scope(engine) as s:
        return issue_token(s, s.scalar(select(User).where(User.username == username)), "gateway")


def test_partner_api_receipt_idempotency_and_status(client, engine, make_user):
    h = {"Authorization": f"Bearer {token_for(engine, make_user)}", "Idempotency-Key": "msg-42"}
    body = {"text": CLAIM, "urls": ["http://www.example.vn/a?utm_source=zalo"], "category": "scam_links"}
    r = client.post("/api/tipline/reports", json=body, headers=h)
    assert r.status_code == 201, r.text
    receipt = r.json()["receipt"]
    again = client.post("/api/tipline/reports", json=body, headers=h)
    assert again.status_code == 200 and again.json()["receipt"] == receipt
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Report)) == 1
    status = client.get(f"/api/tipline/reports/{receipt}").json()
    assert status["state"] == "new" and "contact_phone" not in status
    assert client.get("/api/tipline/reports/TG-ZZZZZZZZ").status_code == 404
    reused = client.post("/api/tipline/reports", json={"text": "Một nội dung hoàn toàn khác"}, headers=h)
    assert reused.status_code == 422 and reused.json()["detail"][0]["loc"][-1] == "idempotency_key"
    h.pop("Idempotency-Key")
    bad = client.post("/api/tipline/reports", json={"text": "x", "category": "gossip"}, headers=h)
    assert bad.status_code == 422
    assert {d["loc"][-1] for d in bad.json()["detail"]} == {"text", "category"}


def test_partner_api_needs_a_token_with_the_right_role(client, engine, make_user):
    assert client.post("/api/tipline/reports", json={"text": CLAIM}).status_code in (401, 403)
    h = {"Authorization": f"Bearer {token_for(engine, make_user, 'ana', 'analyst')}"}
    assert client.post("/api/tipline/reports", json={"text": CLAIM}, headers=h).status_code == 403


def test_a_partner_token_is_read_once_a_second_and_revoking_it_stops_it_at_once(
        admin_client, engine, make_user, monkeypatch):
    from fastapi.testclient import TestClient

    from ictgov import auth
    from ictgov.web import deps

    from .conftest import csrf_token

    token = token_for(engine, make_user)
    reads = []
    real = auth.user_for_token
    monkeypatch.setattr(deps, "user_for_token", lambda s, t: reads.append(t) or real(s, t))
    h = {"Authorization": f"Bearer {token}"}
    with TestClient(admin_client.app) as gateway:
        for n in range(3):
            r = gateway.post("/api/tipline/reports", json={"text": f"{CLAIM} (lần {n})"}, headers=h)
            assert r.status_code == 201, r.text
        assert len(reads) == 1  # trusted for TOKEN_TRUST_SECONDS by this process
        with session_scope(engine) as s:
            token_id = s.scalar(select(auth.ApiToken.id))
        r = admin_client.post(f"/admin/tokens/{token_id}/revoke",
                              data={"csrf_token": csrf_token(admin_client, "/admin/users")})
        assert r.status_code == 303
        assert gateway.post("/api/tipline/reports", json={"text": CLAIM}, headers=h).status_code == 401
        # a change made elsewhere (another worker, the CLI) is seen once the trust has run out
        other = token_for(engine, make_user, "gateway2")
        h2 = {"Authorization": f"Bearer {other}"}
        assert gateway.post("/api/tipline/reports", json={"text": CLAIM}, headers=h2).status_code == 201
        with session_scope(engine) as s:
            s.scalar(select(User).where(User.username == "gateway2")).is_active = False
        monkeypatch.setattr(deps, "TOKEN_TRUST_SECONDS", 0.0)
        assert gateway.post("/api/tipline/reports", json={"text": CLAIM}, headers=h2).status_code == 401


def test_cli_submit_match_and_group(engine, tmp_path):
    runner = CliRunner()
    r = runner.invoke(cli, ["tipline", "submit", "--text", CLAIM, "--category", "scam_links", "--json"])
    assert r.exit_code == 0, r.output
    first = json.loads(r.stdout)
    r = runner.invoke(cli, ["tipline", "submit", "--json", "--text",
                            "tin nhan bao trung thuong xe may SH tu Viettel yeu cau chuyen khoan 2 trieu phi nhan giai"])
    second = json.loads(r.stdout)
    assert second["case"] == first["case"] and second["decision"] == "join"
    r = runner.invoke(cli, ["tipline", "match", "trúng thưởng xe máy SH Viettel chuyển khoản phí nhận giải", "--json"])
    found = json.loads(r.stdout)
    assert found["matches"][0]["case"] == first["case"]
    f = tmp_path / "g.tsv"
    f.write_text(f"a\t{CLAIM}\nb\t{CLAIM.lower()}\nc\tBão số 9 đổ bộ Hà Nội tối nay\n", encoding="utf-8")
    r = runner.invoke(cli, ["tipline", "group", str(f)])
    cases = dict(line.split("\t") for line in r.stdout.strip().splitlines())
    assert cases["a"] == cases["b"] != cases["c"]
    r = runner.invoke(cli, ["tipline", "submit", "--text", "ab"])
    assert r.exit_code == 1 and "text" in r.output


def test_public_verdict_search_ignores_diacritics(client, engine, make_user):
    from ictgov.tipline.intake import Submission, submit
    from ictgov.tipline.workflow import assign, decide, publish, start, triage

    make_user("fc", "fact_checker")
    with session_scope(engine) as s:
        fc = s.scalar(select(User).where(User.username == "fc"))
        case = submit(s, Submission(text=CLAIM, category="scam_links"), "web").case
        triage(s, case, fc), assign(s, case, fc, fc), start(s, case, fc)
        decide(s, case, fc, "fake", "Viettel không tổ chức chương trình này; đây là lừa đảo.")
        publish(s, case, fc)
    found = client.get("/api/tipline/verdicts", params={"q": "trung thuong xe may"}).json()
    assert len(found) == 1 and found[0]["verdict"] == "fake" and found[0]["label"] == "Tin giả"
    assert client.get("/api/tipline/verdicts", params={"q": "xổ số"}).json() == []
    assert client.get("/api/tipline/verdicts", params={"lang": "fr"}).status_code == 422


def test_a_failed_commit_answers_503_and_the_next_report_is_stored(client, engine, make_user):
    """SQLITE_BUSY at the commit of a report: 503 "nothing was saved", never a 500, and the
    next reports (which get the lost report's id) are stored and grouped (they were 500s until
    a restart when the claim index kept the lost id)."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError
    from sqlalchemy.orm import Session

    from ictgov.tipline.service import forget

    forget()
    h = {"Authorization": f"Bearer {token_for(engine, make_user)}"}
    failures = {"left": 1}

    def busy(session):
        if session.info.get("tipline_on_commit") and failures["left"]:
            failures["left"] -= 1
            raise OperationalError("COMMIT", {}, Exception("database is locked"))

    event.listen(Session, "before_commit", busy)
    try:
        lost = client.post("/api/tipline/reports", json={"text": CLAIM}, headers=h)
    finally:
        event.remove(Session, "before_commit", busy)
    assert lost.status_code == 503, lost.text
    assert lost.headers["Retry-After"] and "nothing was saved" in lost.json()["detail"]
    first = client.post("/api/tipline/reports", json={"text": CLAIM}, headers=h)
    assert first.status_code == 201, first.text
    second = client.post("/api/tipline/reports", json={"text": CLAIM.lower()}, headers=h)
    assert second.status_code == 201, second.text
    assert second.json()["case"] == first.json()["case"] and second.json()["decision"] == "join"
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Report)) == 2


def test_partner_channel_is_recorded_and_bad_channel_named(client, engine, make_user):
    h = {"Authorization": f"Bearer {token_for(engine, make_user)}"}
    r = client.post("/api/tipline/reports", json={"text": CLAIM, "channel": "email"}, headers=h)
    assert r.status_code == 201, r.text
    r2 = client.post("/api/tipline/reports", json={"text": "Bão số 9 đổ bộ Hà Nội tối nay", "channel": "chatbot",
                                                   "reach": 5400}, headers=h)
    assert r2.status_code == 201, r2.text
    bad = client.post("/api/tipline/reports", json={"text": CLAIM, "channel": "hotline"}, headers=h)
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "channel"
    with session_scope(engine) as s:
        rows = dict(s.execute(select(Report.receipt, Report.channel)).all())
        assert rows == {r.json()["receipt"]: "email", r2.json()["receipt"]: "chatbot"}
    from ictgov.tipline.observations import figures

    with session_scope(engine) as s:
        received = {(f["indicator"], f["period"]): f["value"] for f in figures(s)}
    assert any(k[0] == "tipline_reports_email" and v == 1 for k, v in received.items())
    assert any(k[0] == "tipline_reports_chatbot" and v == 1 for k, v in received.items())


def test_oversized_json_body_is_refused_before_it_is_read(client, engine, make_user):
    h = {"Authorization": f"Bearer {token_for(engine, make_user)}", "Content-Type": "application/json"}
    big = b'{"text": "' + b"a" * (200 * 1024) + b'"}'
    r = client.post("/api/tipline/reports", content=big, headers=h)
    assert r.status_code == 413 and r.json()["detail"][0]["field"] == "body"

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"text": "'
        for _ in range(100):
            yield b"a" * 4096
        yield b'"}'

    r = client.post("/api/tipline/reports", content=chunks(), headers=h)
    assert r.status_code == 413
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(Report)) == 0


def test_refused_partner_requests_are_not_awaited_by_the_intake_writer(client, engine, make_user):
    from ictgov.tipline.writer import writer_for

    def transactions() -> float:
        for line in client.get("/metrics").text.splitlines():
            if line.startswith("ictgov_tipline_intake_batch_reports_count "):
                return float(line.split()[1])
        raise AssertionError("the intake's batch histogram is missing from /metrics")

    h = {"Authorization": f"Bearer {token_for(engine, make_user)}"}
    before = transactions()
    assert client.post("/api/tipline/reports", json={"text": CLAIM}, headers=h).status_code == 201
    # the report's transaction is counted for the operators
    assert transactions() == before + 1
    assert client.post("/api/tipline/reports", json={"text": CLAIM, "category": "gossip"}, headers=h).status_code == 422
    assert client.post("/api/tipline/reports", json={"text": CLAIM, "channel": "fax"}, headers=h).status_code == 422
    assert client.post("/api/tipline/reports", content=b"{not json", headers=h).status_code == 422
    assert client.post("/api/tipline/reports", json={"text": CLAIM}).status_code in (401, 403)
    # each request was announced to the writer as it started; none is still awaited
    assert writer_for(client.app)._coming == 0
