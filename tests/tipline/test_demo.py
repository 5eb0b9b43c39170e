"""`make run`'s demo: the centre on an ordinary day, and the period review that counts its work."""

from sqlalchemy import func, select

from ictgov.auth import create_user
from ictgov.stats.areas import load_reference_areas
from ictgov.stats.indicators import load_definitions
from ictgov.stats.report import build_review
from ictgov.tipline.demo import CLAIMS, load_demo
from ictgov.tipline.models import Case, OutboxMessage, Report, Suggestion
from ictgov.tipline.observations import sync
from ictgov.tipline.service import forget


def test_demo_has_every_channel_queue_state_suggestions_and_outbox(session):
    forget()
    admin = create_user(session, "admin", "password-123", "admin")
    session.commit()
    out = load_demo(session, admin)
    assert out["reports"] > 30 and out["suggestions"] >= 2
    channels = dict(session.execute(select(Report.channel, func.count()).group_by(Report.channel)).all())
    assert set(channels) == {"web", "hotline", "email", "chatbot", "api"}, channels
    assert all(r.caller_number for r in session.scalars(select(Report).where(Report.channel == "hotline")))
    states = dict(session.execute(select(Case.state, func.count()).group_by(Case.state)).all())
    assert states.get("published") == 3
    assert states.get("triaged", 0) >= 1 and states.get("assigned", 0) >= 1 and states.get("verifying", 0) >= 1
    # the variants of each claim were grouped: one open case per claim, besides those suggested
    grouped = session.scalar(select(func.max(Case.report_count)))
    assert grouped >= 5
    pending = session.scalar(select(func.count()).select_from(Suggestion).where(Suggestion.decision.is_(None)))
    assert pending == out["suggestions"] >= 2
    assert session.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")) > 0
    assert load_demo(session, admin) == {"skipped": 1}
    assert len(CLAIMS) == 6


def test_period_review_counts_the_centres_work(session):
    forget()
    load_reference_areas(session)
    load_definitions(session)
    admin = create_user(session, "admin", "password-123", "admin")
    session.commit()
    load_demo(session, admin)
    sync(session)
    session.commit()
    year = str(max(c.published_at for c in session.scalars(select(Case).where(Case.state == "published"))).year)
    review = build_review(session, year, "en")
    section = next(s for s in review.sections if s["key"] == "tipline")
    assert section["title"] == "Fake and false news"
    values = {i.code: i.value for i in section["items"]}
    reports = session.scalar(select(func.count()).select_from(Report))
    assert values["tipline_reports_received"] == reports
    for channel in ("web", "hotline", "email", "chatbot", "api"):
        assert values[f"tipline_reports_{channel}"] == session.scalar(
            select(func.count()).select_from(Report).where(Report.channel == channel))
    assert values["tipline_verdicts_published"] == 3
    assert values["tipline_cases_opened"] >= 6
    assert values["tipline_median_days_to_verdict"] > 0
    vi = build_review(session, year, "vi")
    assert any(s["title"] == "Xử lý tin giả, tin sai sự thật" for s in vi.sections)
