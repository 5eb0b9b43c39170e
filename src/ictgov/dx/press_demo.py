"""Demo data for `make run`: press agencies, their maturity assessments for two years, the
appraisal council's adjustments and certificates, all generated here.

The agencies are invented (every name says "minh hoạ", demo) and their codes are in a
BC-9xxx range no licence uses in the demo. Answers are drawn at random around a profile per
agency; the council adjusts a few criteria of some of them, with a reason, before it
certifies. Last year every agency is certified; this year most are, one waits for the
council, and the demo agency's own questionnaire is left half done, to show resuming.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ictgov.db import utcnow
from ictgov.dx import press
from ictgov.dx.framework import MaturityFramework, get
from ictgov.dx.models import PressAgency

# (name, type, governing body, central?, province)
AGENCIES = [
    ("Báo điện tử Trúc Lâm (minh hoạ)", "online", "Hội Khoa học minh hoạ Việt Nam", True, "01"),
    ("Báo Ánh Dương (minh hoạ)", "print", "Tổng hội minh hoạ", True, "01"),
    ("Đài Phát thanh Hải Đăng (minh hoạ)", "radio", "Cơ quan minh hoạ Trung ương", True, "01"),
    ("Đài Truyền hình Phương Nam (minh hoạ)", "television", "UBND Thành phố Hồ Chí Minh (minh hoạ)", False, "79"),
    ("Báo Sen Hồng (minh hoạ)", "print", "Tỉnh ủy minh hoạ", False, "92"),
    ("Tin nhanh Vạn Xuân (minh hoạ)", "online", "Liên hiệp minh hoạ", True, "01"),
    ("Báo Biển Xanh (minh hoạ)", "print", "UBND Thành phố Đà Nẵng (minh hoạ)", False, "48"),
    ("Đài Phát thanh và Truyền hình Cảng Biển (minh hoạ)", "television", "UBND Thành phố Hải Phòng (minh hoạ)", False, "31"),
    ("Báo điện tử Kinh Bắc Số (minh hoạ)", "online", "Tỉnh ủy minh hoạ", False, "24"),
    ("Báo Nông Nghiệp Xanh (minh hoạ)", "print", "Bộ minh hoạ", True, "01"),
    ("Đài Phát thanh Tây Đô (minh hoạ)", "radio", "UBND Thành phố Cần Thơ (minh hoạ)", False, "92"),
    ("Báo điện tử Sao Khuê (minh hoạ)", "online", "Hội minh hoạ", True, "79"),
]
REASONS = [
    ("Không có minh chứng đi kèm cho mức đã tự chấm.", -1),
    ("Minh chứng cho thấy mới triển khai một phần.", -1),
    ("Đã xác minh qua số liệu đo lường độc giả: đạt cao hơn mức tự chấm.", 1),
    ("Kế hoạch chưa được người đứng đầu phê duyệt.", -1),
]


def _answers(fw: MaturityFramework, rng: random.Random, maturity: float) -> dict[str, str]:
    out = {}
    for code, (_, _, c) in fw.criteria.items():
        options = sorted(fw.scale_of(c).options, key=lambda o: o.share)
        target = min(1.0, max(0.0, rng.gauss(maturity, 0.2)))
        out[code] = min(options, key=lambda o: abs(float(o.share) - target)).code
    return out


def _review(session: Session, fw: MaturityFramework, a, rng: random.Random, council, when: datetime) -> None:
    """Adjust one to three criteria (sometimes none), then certify."""
    if rng.random() < 0.7:
        points = press.current_score(a).self_points
        for code in rng.sample(list(fw.criteria), rng.randint(1, 3)):
            reason, direction = rng.choice(REASONS)
            maximum = fw.criteria[code][2].points
            step = maximum / 4
            value = min(maximum, max(0, points[code] + direction * step))
            if value == points[code]:
                continue
            press.adjust(session, a, code, f"{float(value):g}", reason, council, at=when)
    press.certify(session, a, council, at=when + timedelta(hours=2))


def load_demo(session: Session, actor) -> dict[str, object]:
    """Create the demo once: 12 agencies, two years of assessments, the accounts baochi and hoidong."""
    if session.scalar(select(func.count()).select_from(PressAgency)):
        return {"skipped": 1}
    from ictgov.auth import create_user

    rng = random.Random(951)
    fw = get(press.DEFAULT_FRAMEWORK, "maturity")
    assert isinstance(fw, MaturityFramework)
    now = utcnow()
    this_year, last_year = now.year, now.year - 1
    council_password, agency_password = secrets.token_urlsafe(9), secrets.token_urlsafe(9)
    council = create_user(session, "hoidong", council_password, "appraiser",
                          full_name="Hội đồng thẩm định (minh hoạ)", actor=actor)
    made = certified = 0
    demo_agency = None
    for n, (name, kind, body, central, province) in enumerate(AGENCIES):
        code = f"BC-{9001 + n}"
        agency = press.register(session, {"name": name, "agency_type": kind, "governing_body": body,
                                          "scope": "central" if central else "local",
                                          "province_code": province}, actor, code=code)
        demo_agency = demo_agency or agency
        maturity = rng.uniform(0.25, 0.9)
        for year, lift in ((last_year, 0.0), (this_year, 0.08)):
            a = press.start(session, agency, year, actor)
            made += 1
            if agency is demo_agency and year == this_year:
                continue  # the demo account's own questionnaire, left half done below
            press.save(session, a, _answers(fw, rng, min(1.0, maturity + lift)), actor=actor)
            press.submit(session, a, actor)
            sent = (datetime(year, 11, 20) if year < this_year else now - timedelta(days=12)) + timedelta(hours=n)
            a.submitted_at = sent
            if year == this_year and n == len(AGENCIES) - 1:
                continue  # waits for the council
            _review(session, fw, a, rng, council, sent + timedelta(days=7))
            certified += 1
    user = create_user(session, "baochi", agency_password, "press_agency", full_name=demo_agency.name,
                       agency_ref=demo_agency.code, actor=actor)
    draft = press.assessment_of(session, demo_agency, this_year)
    half = dict(list(_answers(fw, rng, 0.6).items())[:21])
    press.save(session, draft, half, {next(iter(half)): "Quyết định ban hành chiến lược chuyển đổi số (minh hoạ)"}, user)
    session.flush()
    return {"agencies": len(AGENCIES), "assessments": made, "certified": certified,
            "agency_user": user.username, "agency_password": agency_password,
            "council_user": council.username, "council_password": council_password}
