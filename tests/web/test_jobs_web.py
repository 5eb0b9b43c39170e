"""Background jobs seen from the web: notices sent by a job after publication; the admin page."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from ictgov import jobs

from .conftest import csrf_token, login


@jobs.job("test.web_failing", retries=1, backoff=(0,))
def failing(key: str) -> None:
    raise ValueError(f"attempt failed for {key}")

def test_publishing_a_verdict_sends_the_notices_through_a_job(engine, make_user, client, capsys):
    from ictgov.db import session_scope
    from ictgov.tipline.intake import Submission, submit
    from ictgov.tipline.models import OutboxMessage

    with session_scope(engine) as s:
        case_id = submit(s, Submission(text="Bộ Y tế thông báo dừng tiêm vắc xin cho trẻ em từ tuần sau",
                                       category="health", contact_email="me@example.vn", consent=True),
                         "web").case.id
    make_user("checker", "fact_checker")
    login(client, "checker")
    token = csrf_token(client, f"/kiem-chung/vu-viec/{case_id}")
    for action, data in (("triage", {}), ("assign", {}), ("start", {}),
                         ("decide", {"verdict": "false", "summary": "Bộ Y tế không có thông báo nào như vậy."}),
                         ("publish", {})):
        if action == "assign":
            page = client.get(f"/kiem-chung/vu-viec/{case_id}").text
            data = {"assignee_id": page.split('name="assignee_id"', 1)[1].split('value="', 1)[1].split('"', 1)[0]}
        r = client.post(f"/kiem-chung/vu-viec/{case_id}/{action}", data={"csrf_token": token, **data})
        assert r.status_code == 303, (action, r.text[:500])
    with session_scope(engine) as s:
        msg = s.scalar(select(OutboxMessage))
        assert msg.status == "sent" and msg.recipient == "me@example.vn"
    assert "m***@example.vn" in capsys.readouterr().out  # the console sender, recipient masked
    assert sorted(j.name for j in jobs.recent()) == ["notify.drain", "tipline.sync_stats"]


def test_admin_sees_jobs_and_reruns_a_failed_one(client, make_user, engine, admin_id):
    b = jobs.backend()
    failed = b.enqueue("test.web_failing", {"key": uuid.uuid4().hex}, None)
    make_user("ana", "analyst")
    login(client, "ana")
    assert client.get("/admin/jobs").status_code == 403
    client.cookies.clear()
    login(client, "admin")
    page = client.get("/admin/jobs")
    assert page.status_code == 200 and f'data-job="{failed.id}" data-status="failed"' in page.text
    assert "ValueError: attempt" in page.text
    status = client.get(f"/api/jobs/{failed.id}").json()
    assert status["status"] == "failed" and status["error"].startswith("ValueError")
    token = csrf_token(client, "/admin/jobs")
    r = client.post(f"/admin/jobs/{failed.id}/rerun", data={"csrf_token": token})
    assert r.status_code == 303
    assert len(jobs.recent()) == 2
    assert client.post("/admin/jobs/nope/rerun", data={"csrf_token": token}).status_code == 404
