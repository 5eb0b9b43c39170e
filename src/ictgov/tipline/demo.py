"""Demo data for `make run`: reports about invented claims, grouped, some verified and published.

The claims are written for this project (no rows copied from any data set); they are the
kinds the centre sees — health cures, disaster rumours, prize scams, fake accounts. The
reports are dated in the last weeks so they do not mix with the published 2019–2022 figures.
"""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ictgov.db import utcnow
from ictgov.tipline.evaluate import generate_variants
from ictgov.tipline.intake import Submission, submit
from ictgov.tipline.models import Case
from ictgov.tipline.workflow import assign, decide, publish, start, triage

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
     None, None, None),
    ("economy_finance", "tiktok", "Ngân hàng Nhà nước sẽ đổi tiền mới từ tháng sau, tiền cũ mất giá trị sau 30 ngày",
     None, None, None),
    ("security_order", "youtube", "Clip quay cảnh xô xát tại trung tâm thương mại tối qua khiến nhiều người thương vong",
     None, None, None),
]


def load_demo(session: Session, actor) -> dict[str, int]:
    """Create the demo (once): about thirty reports over six claims, three verdicts published."""
    if session.scalar(select(func.count()).select_from(Case)):
        return {"skipped": 1}
    from ictgov.tipline.service import matcher_for

    rng = random.Random(2021)
    matcher = matcher_for(session)
    now = utcnow()
    created = 0
    for n, (category, platform, text, verdict, summary, summary_en) in enumerate(CLAIMS):
        texts = [text, *generate_variants(text, rng, n=4 + n % 3)]
        first = None
        for k, t in enumerate(texts):
            result = submit(session, Submission(text=t, category=category, platform=platform,
                                                reach=rng.choice([None, 120, 5400, 23000])), "web", matcher=matcher)
            result.report.created_at = now - timedelta(days=20 - n * 2, hours=k)
            first = first or result.case
            created += 1
        first.created_at = now - timedelta(days=20 - n * 2)
        if verdict:
            triage(session, first, actor, category=category)
            assign(session, first, actor, actor)
            start(session, first, actor)
            decide(session, first, actor, verdict, summary, summary_en=summary_en)
            publish(session, first, actor)
            first.published_at = now - timedelta(days=18 - n * 2)
    session.flush()
    return {"reports": created, "claims": len(CLAIMS)}
