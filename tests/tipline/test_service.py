"""The per-process claim index: thresholds set anywhere reach every process's matcher."""

from ictgov.audit import record
from ictgov.tipline.match import ClaimMatcher
from ictgov.tipline.service import THRESHOLDS_ACTION, THRESHOLDS_ENTITY, forget, matcher_for


def test_thresholds_set_by_another_process_apply_on_the_next_report(session):
    defaults = ClaimMatcher()
    m = matcher_for(session)
    assert (m.auto_threshold, m.suggest_threshold) == (defaults.auto_threshold, defaults.suggest_threshold)
    # Another worker's admin changes them: the entry is all this process sees of it.
    record(session, None, THRESHOLDS_ACTION, THRESHOLDS_ENTITY, "thresholds",
           after={"auto_threshold": 0.9, "suggest_threshold": 0.55})
    session.flush()
    m = matcher_for(session)
    assert (m.auto_threshold, m.suggest_threshold) == (0.9, 0.55)
    # An entry the matcher would refuse (auto below suggest) leaves the last good setting.
    record(session, None, THRESHOLDS_ACTION, THRESHOLDS_ENTITY, "thresholds",
           after={"auto_threshold": 0.3, "suggest_threshold": 0.6})
    session.flush()
    m = matcher_for(session)
    assert (m.auto_threshold, m.suggest_threshold) == (0.9, 0.55)
    forget()


def test_reports_stored_by_another_process_are_matched_here(engine):
    from ictgov.db import session_scope
    from ictgov.tipline.intake import Submission, submit

    claim = "Từ tháng sau mỗi người dân phải nộp phí 200 nghìn đồng để giữ số điện thoại di động"
    with session_scope(engine) as s:
        matcher_for(s)  # this process's index exists, empty
        # Another worker stores a report: submit without this process's matcher.
        other = submit(s, Submission(text=claim, category="economy_finance"), "web", matcher=None)
        case_id = other.case.id
    with session_scope(engine) as s:
        best = matcher_for(s).match(claim.lower())
        assert best and best[0].case_id == case_id
        again = submit(s, Submission(text=claim + "!!"), "web", matcher=matcher_for(s))
        assert again.decision == "join" and again.case.id == case_id
    forget()


def test_the_backend_is_chosen_by_setting(session, monkeypatch):
    import pytest
    from pydantic import ValidationError

    from ictgov.config import Settings

    monkeypatch.setenv("ICTGOV_TIPLINE_EMBEDDER", "no-such-backend")
    with pytest.raises(ValidationError, match="tipline_embedder"):
        Settings()  # refused when the settings are read, before any report comes in
    monkeypatch.delenv("ICTGOV_TIPLINE_EMBEDDER")
    forget()
    assert matcher_for(session).dense_ is None  # the default: character n-grams
    forget()


VAGUE = "Video TikTok này nói chuyện đổi tiền, có ai biết không"
SUMMARY = "Ngân hàng Nhà nước không có kế hoạch đổi tiền mới; tiền cũ vẫn có giá trị lưu hành bình thường."
LIKE_THE_VERDICT = "Ngân hàng Nhà nước có kế hoạch đổi tiền mới, tiền cũ hết giá trị lưu hành?"


def _verdict_published(session, fc, *, commit=True):
    from ictgov.tipline.intake import Submission, submit
    from ictgov.tipline.service import matcher_for
    from ictgov.tipline.workflow import assign, decide, publish, start, triage

    case = submit(session, Submission(text=VAGUE), "web", matcher=matcher_for(session)).case
    session.commit()
    triage(session, case, fc), assign(session, case, fc, fc), start(session, case, fc)
    decide(session, case, fc, "false", SUMMARY)
    publish(session, case, fc)
    if commit:
        session.commit()
    return case


def test_a_report_worded_like_a_published_verdict_is_answered_with_it(session):
    from ictgov.auth import create_user
    from ictgov.tipline.intake import Submission, submit
    from ictgov.tipline.service import forget, matcher_for

    forget()
    fc = create_user(session, "fc", "password-123", "fact_checker")
    case = _verdict_published(session, fc)
    # none of the case's reports says this; the verdict's summary does
    assert matcher_for(session).match_brute_force(LIKE_THE_VERDICT, min_score=0.0)
    r = submit(session, Submission(text=LIKE_THE_VERDICT), "web", matcher=matcher_for(session))
    session.commit()
    assert r.decision == "join" and r.case.id == case.id and r.verdict == "false"
    # a process started later (or another worker) indexes the verdicts from the database
    forget()
    best = matcher_for(session).match(LIKE_THE_VERDICT)[0]
    assert best.case_id == case.id and best.verdict == "false"


def test_a_publication_that_fails_to_commit_leaves_the_index_as_it_was(session):
    from ictgov.auth import create_user
    from ictgov.tipline.service import forget, matcher_for

    forget()
    fc = create_user(session, "fc", "password-123", "fact_checker")
    session.commit()
    _verdict_published(session, fc, commit=False)
    session.rollback()  # the commit of the publication failed
    m = matcher_for(session)
    assert all(x.verdict is None for x in m.match(VAGUE, min_score=0.0))
    assert not any(x.verdict for x in m.match(LIKE_THE_VERDICT, min_score=0.0))


def test_reports_moved_by_another_process_are_regrouped_here(engine):
    # A fact-checker on another web worker closes a case as a duplicate and takes a report out
    # of a case: this process's index, built before, follows on its next use.
    from ictgov.auth import create_user
    from ictgov.db import session_scope
    from ictgov.tipline.intake import Submission, submit
    from ictgov.tipline.models import Report
    from ictgov.tipline.workflow import close_duplicate, move_report

    x = "Uống nước chanh nóng mỗi sáng chữa khỏi hoàn toàn bệnh ung thư, Bộ Y tế đã xác nhận"
    y = "Ngân hàng Nhà nước sẽ thu hồi toàn bộ tiền mặt mệnh giá nhỏ từ tháng sau"
    forget()
    with session_scope(engine) as s:
        fc = create_user(s, "fc", "password-123", "fact_checker")
        a = submit(s, Submission(text=x, category="health"), "web", matcher=matcher_for(s))
        b = submit(s, Submission(text=y, category="economy_finance"), "web", matcher=matcher_for(s))
        case_a, case_b, report_b = a.case.id, b.case.id, b.report.id
    with session_scope(engine) as s:
        assert matcher_for(s).match(y.lower())[0].case_id == case_b  # the index is built
    with session_scope(engine) as other:  # the other worker: no matcher involved
        from ictgov.tipline.models import Case

        close_duplicate(other, other.get(Case, case_b), other.get(type(fc), fc.id), other.get(Case, case_a))
    with session_scope(engine) as s:
        assert matcher_for(s).match(y.lower())[0].case_id == case_a
    with session_scope(engine) as other:
        moved_to = move_report(other, other.get(Report, report_b), other.get(type(fc), fc.id), reason="khác")
        case_c = moved_to.id
    with session_scope(engine) as s:
        best = matcher_for(s).match(y.lower())[0]
        assert best.case_id == case_c and case_c not in (case_a, case_b)
        # and a fresh process starts from the cases as they are, the moves behind it
        forget()
        assert matcher_for(s).match(y.lower())[0].case_id == case_c
    forget()
