"""Demo data for `make run`: the centre on an ordinary day, from intake to published verdicts.

The claims are written for this project (no rows copied from any data set); they are the
kinds the centre sees — health cures, disaster rumours, prize scams, fake accounts. Their
reports come through every channel (the web portal, the hotline with a caller's number, the
partner API as e-mail and chatbot messages), grouped by the matcher as the service would;
some reporters left a contact with consent. Three cases are published (their notices wait in
the outbox), the others sit in the queue as triaged, assigned and being verified, and a few
loosely worded reports wait as suggestions for a fact-checker. The reports are dated in the
last weeks so they do not mix with the published 2019–2022 figures.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ictgov.db import utcnow
from ictgov.tipline.evaluate import generate_variants
from ictgov.tipline.intake import Submission, submit
from ictgov.tipline.models import Case
from ictgov.tipline.workflow import assign, decide, publish, refer, start, triage

# (category, platform, claim, where the case ends: a verdict to publish or a queue state,
#  summary, summary in English)
CLAIMS = [
    ("health", "facebook", "Uống nước chanh nóng mỗi sáng chữa khỏi hoàn toàn bệnh ung thư, Bộ Y tế đã xác nhận",
     "fake", "Bộ Y tế không có thông báo nào như vậy; không có bằng chứng nước chanh chữa được ung thư.",
     "The Ministry of Health made no such statement; there is no evidence that lemon water cures cancer."),
    ("disasters_epidemics", "zalo", "Bão số 9 sẽ đổ bộ vào Hà Nội tối nay với sức gió giật cấp 17, các trường cho học sinh nghỉ",
     "false", "Trung tâm Dự báo khí tượng thủy văn quốc gia không có bản tin nào như vậy.",
     "The national hydro-meteorological forecasting centre issued no such bulletin."),
    ("scam_links", "sms", "Chúc mừng thuê bao trúng thưởng xe máy SH, truy cập đường link để nhận giải và nộp phí 2 triệu",
     "fake", "Nhà mạng không tổ chức chương trình này; đường link dẫn tới trang lừa đảo thu phí.",
     "The operator runs no such promotion; the link leads to a scam page that collects a fee."),
    ("fake_accounts", "facebook", "Trang Facebook mạo danh Trung tâm Dự báo khí tượng thủy văn kêu gọi chuyển tiền ủng hộ vùng lũ",
     "verifying", None, None),
    ("economy_finance", "tiktok", "Ngân hàng Nhà nước sẽ đổi tiền mới từ tháng sau, tiền cũ mất giá trị sau 30 ngày",
     "assigned", None, None),
    ("security_order", "youtube", "Clip quay cảnh xô xát tại trung tâm thương mại tối qua khiến nhiều người thương vong",
     "triaged", None, None),
]
# Loose rewordings of claims above: between the two thresholds, so each waits as a suggestion.
SUGGESTED = [
    (0, "Uống nước chanh nóng chữa khỏi ung thư, Bộ Y tế xác nhận hay không?"),
    (2, "Thuê bao trúng thưởng xe máy SH, nộp phí 2 triệu để nhận giải có phải lừa đảo?"),
    (1, "Bão số 9 đổ bộ Hà Nội tối nay, học sinh được nghỉ học?"),
]
# Who sends which report of a claim, in turn: the portal most, then the hotline and partners.
CHANNEL_CYCLE = ["web", "web", "hotline", "email", "web", "chatbot", "api"]
REACH = [None, 120, 5400, 23000, None, 860]


def _submission(text: str, category: str, platform: str, channel: str, rng: random.Random,
                k: int) -> Submission:
    sub = Submission(text=text, category=category, platform=platform, reach=rng.choice(REACH))
    if channel == "hotline":
        sub.caller_number = f"09{rng.randrange(10**8):08d}"
        sub.call_time = utcnow() - timedelta(minutes=rng.randrange(30, 600))
    if k % 3 == 0:  # a third of reporters leave a contact and agree to hear the outcome
        sub.consent = True
        if k % 2 == 0:
            sub.contact_email = f"nguoi.phan.anh{k}@example.vn"
        else:
            sub.contact_phone = f"09{rng.randrange(10**8):08d}"
    return sub


def load_demo(session: Session, actor) -> dict[str, int]:
    """Create the demo (once). Each report is committed on its own, as on the web, so the
    claim index groups the next one with it."""
    if session.scalar(select(func.count()).select_from(Case)):
        return {"skipped": 1}
    from ictgov.tipline.service import matcher_for

    rng = random.Random(2021)
    matcher = matcher_for(session)
    now = utcnow()
    created = suggested = 0
    cases: list[Case] = []
    for n, (category, platform, text, outcome, summary, summary_en) in enumerate(CLAIMS):
        texts = [text, *generate_variants(text, rng, n=4 + n % 3)]
        first = None
        for k, t in enumerate(texts):
            channel = CHANNEL_CYCLE[(n + k) % len(CHANNEL_CYCLE)]
            result = submit(session, _submission(t, category, platform, channel, rng, created), channel,
                            matcher=matcher, user=actor if channel != "web" else None)
            result.report.created_at = now - timedelta(days=20 - n * 2, hours=k)
            first = first or result.case
            created += 1
            session.commit()
        first.created_at = now - timedelta(days=20 - n * 2)
        cases.append(first)
    for n, text in SUGGESTED:
        category, platform = CLAIMS[n][0], CLAIMS[n][1]
        result = submit(session, _submission(text, category, platform, "web", rng, created), "web",
                        matcher=matcher)
        result.report.created_at = now - timedelta(days=3, hours=n)
        suggested += result.decision == "suggest"
        created += 1
        session.commit()
    for n, (category, _, _, outcome, summary, summary_en) in enumerate(CLAIMS):
        case = cases[n]
        triage(session, case, actor, category=category)
        if outcome == "triaged":
            continue
        assign(session, case, actor, actor)
        refer(session, case, actor, "Bộ Thông tin và Truyền thông" if n % 2 else "Công an tỉnh",
              date.today() + timedelta(days=5 - n))
        if outcome == "assigned":
            continue
        start(session, case, actor)
        if outcome == "verifying":
            continue
        decide(session, case, actor, outcome, summary, summary_en=summary_en)
        publish(session, case, actor)
        case.published_at = now - timedelta(days=18 - n * 2)
        session.commit()
    session.flush()
    return {"reports": created, "claims": len(CLAIMS), "suggestions": suggested}
