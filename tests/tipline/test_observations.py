"""The centre's work appears in the stats engine, so the period review counts it."""

from datetime import datetime

from ictgov.auth import create_user
from ictgov.stats.areas import load_reference_areas
from ictgov.stats.figures import Figures
from ictgov.stats.indicators import load_definitions
from ictgov.tipline.intake import Submission, submit
from ictgov.tipline.observations import sync
from ictgov.tipline.workflow import assign, decide, publish, start, triage


def test_reports_and_verdicts_become_observations(session):
    load_reference_areas(session)
    load_definitions(session)
    fc = create_user(session, "fc", "password-123", "fact_checker")
    a = submit(session, Submission(text="Uống nước chanh nóng chữa khỏi ung thư, Bộ Y tế đã xác nhận",
                                   category="health"), "web")
    submit(session, Submission(text="Bão số 9 sẽ đổ bộ vào Hà Nội tối nay", caller_number="0912345678",
                               call_time=datetime(2021, 7, 1)), "hotline")
    a.report.created_at = a.case.created_at = datetime(2021, 7, 1, 8, 0)
    case = a.case
    triage(session, case, fc), assign(session, case, fc, fc), start(session, case, fc)
    decide(session, case, fc, "fake", "Bộ Y tế khẳng định không có thông tin này.")
    publish(session, case, fc)
    case.published_at = datetime(2021, 7, 4, 8, 0)
    session.flush()
    report = sync(session)
    session.commit()
    assert report.created > 0
    fig = Figures.load(session)
    vn = fig.area("VN").id
    assert fig.value("tipline_reports_received", vn, "2021-07") == 1
    assert fig.value("tipline_reports_cat_health", vn, "2021-07") == 1
    assert fig.value("tipline_reports_cat_other", vn, "2021-07") is None
    assert fig.value("tipline_verdicts_fake", vn, "2021H2") == 1
    assert fig.value("tipline_median_days_to_verdict", vn, "2021") == 3.0
    again = sync(session)
    assert again.created == 0 and again.revised == 0


def test_the_publication_job_skips_a_database_without_reference_areas(engine):
    from ictgov.tipline.observations import sync_in_background

    assert sync_in_background() == {"skipped": 1}
