"""A case from report to published verdict, with roles checked and every step audited."""

from datetime import date

import pytest
from sqlalchemy import select

from ictgov.audit import entries
from ictgov.auth import create_user
from ictgov.tipline.intake import Submission, submit
from ictgov.tipline.match import ClaimMatcher
from ictgov.tipline.models import OutboxMessage, Suggestion
from ictgov.tipline.workflow import (
    WorkflowError,
    assign,
    calibration_decisions,
    close_duplicate,
    decide,
    publish,
    queue,
    refer,
    resolve_suggestion,
    start,
    triage,
)

CLAIM = "Uống nước chanh nóng mỗi sáng chữa khỏi hoàn toàn bệnh ung thư, Bộ Y tế đã xác nhận"


@pytest.fixture
def people(session):
    fc = create_user(session, "fc", "password-123", "fact_checker")
    agent = create_user(session, "agent", "password-123", "hotline_agent")
    session.flush()
    return fc, agent


def test_full_workflow_publishes_and_notifies_consenting_reporters(session, people):
    fc, agent = people
    r1 = submit(session, Submission(text=CLAIM, category="health", contact_email="a@example.vn", consent=True), "web")
    submit(session, Submission(text="Bão số 9 đổ bộ Hà Nội tối nay với sức gió cấp 17"), "web")
    case = r1.case
    with pytest.raises(WorkflowError, match="role"):
        triage(session, case, agent)
    with pytest.raises(WorkflowError, match="cannot be moved"):
        decide(session, case, fc, "fake", "Không có bằng chứng khoa học nào")
    triage(session, case, fc, category="health")
    assign(session, case, fc, fc)
    refer(session, case, fc, "Bộ Y tế", date(2021, 7, 10))
    start(session, case, fc)
    with pytest.raises(WorkflowError, match="verdict"):
        decide(session, case, fc, "maybe", "Không có bằng chứng khoa học nào")
    decide(session, case, fc, "fake", "Bộ Y tế khẳng định không có thông tin này; nước chanh không chữa ung thư.",
           sources=["https://moh.gov.vn/x"])
    messages = publish(session, case, fc)
    session.commit()
    assert case.state == "published" and case.slug.startswith(f"{case.id}-")
    assert [m.recipient for m in messages] == ["a@example.vn"]
    assert session.scalar(select(OutboxMessage)).status == "pending"
    actions = [e.action for e in entries(session, "tipline_case")][::-1]
    assert actions == ["triage", "assign", "refer", "start", "decide", "publish"]
    # A new report about the published claim is answered at once with the verdict.
    matcher = ClaimMatcher()
    matcher.add(r1.report.id, case.id, CLAIM, verdict="fake")
    again = submit(session, Submission(text=CLAIM.lower()), "web", matcher=matcher)
    assert again.decision == "join" and again.verdict == "fake"


def test_health_case_outranks_other_with_same_reports(session, people):
    health = submit(session, Submission(text=CLAIM, category="health"), "web").case
    other = submit(session, Submission(text="Giá vàng ngày mai sẽ tăng gấp đôi theo nguồn tin nội bộ", category="other"), "web").case
    session.flush()
    assert [c.id for c in queue(session)][:2] == [health.id, other.id]


def test_suggestion_confirmed_moves_the_report_and_feeds_calibration(session, people):
    fc, _ = people
    matcher = ClaimMatcher(auto_threshold=0.99, suggest_threshold=0.3)
    a = submit(session, Submission(text=CLAIM), "web", matcher=matcher)
    session.commit()  # the index learns of a report at its commit
    b = submit(session, Submission(text="Có thật là nước chanh nóng chữa được ung thư không? Nghe nói Bộ Y tế xác nhận"),
               "web", matcher=matcher)
    sug = session.scalar(select(Suggestion))
    resolve_suggestion(session, sug, fc, confirm=True)
    session.flush()
    assert b.report.case_id == a.case.id and a.case.report_count == 2
    assert b.case.state == "closed_duplicate"
    assert calibration_decisions(session) == [(pytest.approx(sug.score), True)]
    with pytest.raises(WorkflowError, match="already"):
        resolve_suggestion(session, sug, fc, confirm=False)


def test_close_as_duplicate_moves_reports(session, people):
    fc, _ = people
    a = submit(session, Submission(text=CLAIM), "web").case
    b = submit(session, Submission(text="Một nội dung khác hẳn về xổ số kiến thiết trúng giải đặc biệt"), "web").case
    session.flush()
    close_duplicate(session, b, fc, a)
    assert b.state == "closed_duplicate" and a.report_count == 2 and b.report_count == 0
    with pytest.raises(WorkflowError):
        close_duplicate(session, a, fc, a)


def test_published_verdict_has_a_complete_claim_review_and_is_found_without_diacritics(session, people):
    from ictgov.tipline.publish import claim_review, missing_fields, search_verdicts

    fc, _ = people
    case = submit(session, Submission(text=CLAIM, urls=["https://facebook.com/posts/9"], category="health"), "web").case
    for step in (lambda: triage(session, case, fc), lambda: assign(session, case, fc, fc),
                 lambda: start(session, case, fc)):
        step()
    decide(session, case, fc, "fake", "Bộ Y tế khẳng định không có thông tin này.")
    publish(session, case, fc)
    session.flush()
    review = claim_review(case, "https://tingia.example.vn", "vi")
    assert missing_fields(review) == []
    assert review["reviewRating"]["alternateName"] == "Tin giả"
    assert len(review["claimReviewed"]) <= 75
    assert review["url"].startswith("https://tingia.example.vn/tin-gia/")
    assert [c.id for c in search_verdicts(session, "nuoc chanh ung thu")] == [case.id]
    assert search_verdicts(session, "bao so 9") == []


def test_text_only_claim_still_has_an_appearance_naming_the_platform(session, people):
    from ictgov.tipline.publish import claim_review, missing_fields

    fc, _ = people
    case = submit(session, Submission(text=CLAIM, platform="zalo", category="health"), "web").case
    for step in (lambda: triage(session, case, fc), lambda: assign(session, case, fc, fc),
                 lambda: start(session, case, fc)):
        step()
    decide(session, case, fc, "false", "Bộ Y tế khẳng định không có thông tin này.")
    publish(session, case, fc)
    session.flush()
    review = claim_review(case, "https://tingia.example.vn", "en")
    assert missing_fields(review) == []
    appearance = review["itemReviewed"]["appearance"]
    assert appearance["name"] == "A Zalo message or post" and "url" not in appearance
    assert review["itemReviewed"]["datePublished"] == case.reports[0].created_at.date().isoformat()


def test_queue_puts_fast_spreading_and_far_reaching_claims_first(session, people):
    from datetime import timedelta

    from ictgov.db import utcnow

    old = submit(session, Submission(text=CLAIM, category="economy_finance"), "web").case
    fresh = submit(session, Submission(text="Ngân hàng Nhà nước sẽ đổi tiền mới từ tháng sau, "
                                            "người dân phải nộp hết tiền mặt cũ", category="economy_finance"),
                   "web").case
    wide = submit(session, Submission(text="Bão số 9 sẽ đổ bộ vào Hà Nội đêm nay, học sinh nghỉ học cả tuần",
                                      category="economy_finance", reach=2_000_000), "web").case
    for r in old.reports:
        r.created_at = utcnow() - timedelta(days=3)
    for r in wide.reports:
        r.created_at = utcnow() - timedelta(days=3)
    session.flush()
    # Same category, one report each: reported today, or seen by millions, goes before neither.
    order = [c.id for c in queue(session)]
    assert order.index(fresh.id) < order.index(old.id)
    assert order.index(wide.id) < order.index(old.id)


def test_public_search_matches_words_not_parts_of_words(session, people):
    from ictgov.tipline.publish import search_verdicts

    fc, _ = people
    published = []
    for text, summary in (
        (CLAIM, "Không có bằng chứng nước chanh chữa được ung thư."),
        ("Phần mềm vay tiền nhanh lấy cắp dữ liệu người dùng điện thoại",
         "Cơ quan chức năng chưa ghi nhận; người dùng nên cài phần mềm từ kho chính thức."),
    ):
        case = submit(session, Submission(text=text), "web").case
        triage(session, case, fc), assign(session, case, fc, fc), start(session, case, fc)
        decide(session, case, fc, "fake", summary)
        publish(session, case, fc)
        published.append(case.id)
    session.flush()
    cancer, app = published

    def ids(q):
        return [c.id for c in search_verdicts(session, q)]

    assert ids("ung thu") == [cancer]          # diacritics ignored
    assert ids("ung") == [cancer]              # "ung" is a word of "ung thư", and only a part of "dùng"
    assert ids("dung") == [app]                # "dùng"
    assert ids("chanh ko co bang chung") == [cancer]  # teencode "ko" is "không"
    assert ids("chan") == []                   # part of "chanh": not a word of it
    assert sorted(ids("")) == sorted(published)


def test_a_report_that_joined_the_wrong_case_is_taken_out_and_counted_as_a_wrong_match(session, people):
    from ictgov.tipline.models import Case, Report
    from ictgov.tipline.workflow import REMOVED, move_report

    fc, agent = people
    matcher = ClaimMatcher()
    first = submit(session, Submission(text=CLAIM), "web", matcher=matcher)
    session.commit()
    right = submit(session, Submission(text=CLAIM.lower() + " nhé"), "web", matcher=matcher)
    session.commit()
    # ginger, not lemon: another claim, close enough in its words to join automatically
    wrong = submit(session, Submission(text=CLAIM.replace("chanh", "gừng")), "web", matcher=matcher)
    session.commit()
    assert (right.decision, wrong.decision) == ("join", "join"), (right.score, wrong.score)
    assert wrong.case.id == first.case.id
    case = first.case
    assert calibration_decisions(session) == []  # nothing judged yet

    with pytest.raises(WorkflowError, match="may not"):
        move_report(session, wrong.report, agent)
    with pytest.raises(WorkflowError, match="already in this case"):
        move_report(session, wrong.report, fc, case)
    new_case = move_report(session, wrong.report, fc, reason="a different claim")
    session.flush()
    assert wrong.report.case_id == new_case.id != case.id and new_case.state == "new"
    assert new_case.report_count == 1 and case.report_count == 2
    removed = session.scalar(select(Suggestion).where(Suggestion.decision == REMOVED))
    assert removed.report_id == wrong.report.id and removed.case_id == case.id
    moved = [e for e in entries(session, entity="tipline_report")
             if e.action == "move_report" and e.entity_id == wrong.report.receipt][0]
    assert moved.before == {"case": case.id} and moved.after["case"] == new_case.id
    assert moved.after["automatic_match_rejected"] is True and moved.after["reason"] == "a different claim"
    # the wrong automatic match is a rejected decision at its score
    assert calibration_decisions(session) == [(pytest.approx(wrong.report.match_score), False)]

    # once the case is verified with the other automatic match still in it, that one counts as right
    triage(session, case, fc), assign(session, case, fc, fc), start(session, case, fc)
    decide(session, case, fc, "fake", "Không có bằng chứng nào như vậy.")
    session.flush()
    decisions = sorted(calibration_decisions(session), key=lambda d: d[1])
    assert decisions == [(pytest.approx(wrong.report.match_score), False),
                         (pytest.approx(right.report.match_score), True)]

    # moved on again (to another open case): not a second wrong automatic match
    other = session.get(Case, submit(session, Submission(text="Bão số 9 đổ bộ Hà Nội tối nay"), "web").case.id)
    session.flush()
    move_report(session, session.get(Report, wrong.report.id), fc, other)
    session.flush()
    assert len(calibration_decisions(session)) == 2
    closed = submit(session, Submission(text="Xổ số kiến thiết trúng giải đặc biệt"), "web").case
    close_duplicate(session, closed, fc, other)
    with pytest.raises(WorkflowError, match="closed"):
        move_report(session, session.get(Report, wrong.report.id), fc, closed)
