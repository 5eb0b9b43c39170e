"""Demo data for `make run`: enterprises, their self-assessments, a solutions catalogue and a
provincial DTI ranking, all generated here.

Nothing is copied from a data set: enterprise names, tax codes (with a valid check digit),
solutions and providers are invented for the demo, answers are drawn at random around a
profile per enterprise, and the DTI values are drawn at random for the 34 provincial units
in force at the end of 2025. The ranking is uploaded as a file named so that no one takes it
for the ministry's published figures.
"""

from __future__ import annotations

import random
import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ictgov.db import utcnow
from ictgov.dx import assessments as asm
from ictgov.dx import catalogue, enterprises, rankings
from ictgov.dx.enterprises import check_digit
from ictgov.dx.framework import EnterpriseFramework, get
from ictgov.dx.models import SECTORS, SIZE_CLASSES, Enterprise

DEMO_DTI_FILE = "dti-demo-generated-by-ictgov (not published figures).csv"
DEMO_DTI_YEAR = 2025
PROVINCES = ("01", "79", "48", "31", "92", "24")  # Hà Nội, TP.HCM, Đà Nẵng, Hải Phòng, Cần Thơ, Bắc Ninh
NAMES = ("An Phát", "Bình Minh", "Cửu Long", "Đại Dương", "Hoà Bình", "Hưng Thịnh", "Kim Ngân", "Lạc Việt",
         "Minh Khang", "Nam Sơn", "Phú Gia", "Quang Trung", "Sao Mai", "Tân Tiến", "Thành Công", "Trường An",
         "Việt Tín", "Xuân Hoà")
SOLUTIONS = [
    ("Website bán hàng trọn gói", "Online shop package", "website_ecommerce",
     ["website", "online_ordering", "online_payment", "marketplace"], 300_000, 1_500_000),
    ("Hoá đơn điện tử và kế toán đám mây", "E-invoicing and cloud accounting", "finance_invoicing",
     ["e_invoice", "e_banking", "e_records"], 150_000, 800_000),
    ("Phần mềm quản trị doanh nghiệp (ERP) cho SME", "ERP for SMEs", "erp",
     ["erp", "digital_supply_chain", "data_sharing"], 2_000_000, 10_000_000),
    ("Quản lý khách hàng (CRM) và chăm sóc trực tuyến", "CRM and online customer care", "crm",
     ["crm", "online_support", "customer_feedback", "order_tracking"], 500_000, 3_000_000),
    ("Lưu trữ đám mây và thư điện tử theo tên miền", "Cloud storage and domain e-mail", "cloud",
     ["cloud", "domain_email", "office_software"], 100_000, 600_000),
    ("Gói an toàn thông tin cho doanh nghiệp nhỏ", "Security pack for small businesses", "security",
     ["security_tools", "security_policy", "data_protection"], 400_000, 2_500_000),
    ("Báo cáo quản trị và bảng điều khiển dữ liệu", "Management reports and dashboards", "data_analytics",
     ["dashboards", "decision_support", "own_database", "dbms"], 1_000_000, 5_000_000),
    ("Khoá học kỹ năng số cho người lao động", "Digital-skills courses for staff", "training",
     ["ict_training", "online_courses", "knowledge_base"], None, 1_000_000),
]


def _tax_code(rng: random.Random) -> str:
    while True:
        first = f"0{rng.randint(1, 9)}" + "".join(str(rng.randint(0, 9)) for _ in range(7))
        digit = check_digit(first)
        if digit < 10 and first[2:9] != "0000000":
            return first + str(digit)


def _answers(fw: EnterpriseFramework, rng: random.Random, maturity: float) -> dict[str, str]:
    """One option per criterion, drawn around the enterprise's maturity (a share in [0, 1])."""
    out = {}
    for code, (_, _, c) in fw.criteria.items():
        options = sorted(fw.scale_of(c).options, key=lambda o: o.share)
        target = min(1.0, max(0.0, rng.gauss(maturity, 0.18)))
        out[code] = min(options, key=lambda o: abs(float(o.share) - target)).code
    return out


def _dti_csv(session: Session, rng: random.Random) -> bytes:
    from datetime import date

    from ictgov.stats.areas import areas_in_force

    fw = rankings.index_framework(rankings.DEFAULT_FRAMEWORK)
    provinces = areas_in_force(session, date(DEMO_DTI_YEAR, 12, 31), level="province")
    lines = ["area,year," + ",".join(i.code for i in fw.indicators)]
    for area in provinces:
        base = rng.uniform(0.3, 0.75)
        values = [min(1.0, max(0.0, rng.gauss(base, 0.08))) for _ in fw.indicators]
        lines.append(f"{area.code},{DEMO_DTI_YEAR}," + ",".join(f"{v:.4f}" for v in values))
    return ("\n".join(lines) + "\n").encode()


def load_demo(session: Session, actor) -> dict[str, object]:
    """Create the demo once: 18 enterprises, about 30 assessments, 8 solutions, a DTI ranking.

    Returns the counts and the demo enterprise account (username, password) for logging in.
    """
    if session.scalar(select(func.count()).select_from(Enterprise)):
        return {"skipped": 1}
    from ictgov.auth import create_user

    rng = random.Random(1970)
    fw = get(asm.DEFAULT_FRAMEWORK, "enterprise")
    solutions = [catalogue.create(session, {"name": vi, "name_en": en, "provider": f"Nhà cung cấp minh hoạ {n + 1}",
                                            "category": cat, "criteria": crit, "price_min": low, "price_max": high,
                                            "description": "Giải pháp minh hoạ của bản demo.",
                                            "description_en": "A demo solution."}, actor)
                 for n, (vi, en, cat, crit, low, high) in enumerate(SOLUTIONS)]
    now = utcnow()
    made = 0
    first = None
    for n, name in enumerate(NAMES):
        g = n // 3  # groups of three peers: same sector, size and province
        e = enterprises.register(session, {
            "name": f"Công ty TNHH {name}", "sector": SECTORS[g % len(SECTORS)],
            "size_class": SIZE_CLASSES[g % len(SIZE_CLASSES)],
            "province_code": PROVINCES[g % len(PROVINCES)]}, actor, tax_code=_tax_code(rng))
        first = first or e
        maturity = rng.uniform(0.1, 0.8)
        rounds = 1 + (n % 3 == 0)
        for k in range(rounds):
            a = asm.start(session, e, actor)
            asm.save_answers(session, a, _answers(fw, rng, maturity + 0.12 * k), actor)
            asm.submit(session, a, actor)
            a.submitted_at = now - timedelta(days=120 - 90 * k - n)
            made += 1
        if rounds == 2:
            catalogue.adopt(session, e, solutions[n % len(solutions)], (now - timedelta(days=60)).date(), actor)
    # The demo account's enterprise shares sector, size and province with two others (peers)
    # and has one assessment left halfway, to show resuming.
    password = secrets.token_urlsafe(9)
    user = create_user(session, "doanhnghiep", password, "enterprise", full_name="Công ty TNHH An Phát",
                       enterprise_ref=first.tax_code, actor=actor)
    draft = asm.start(session, first, user)
    half = dict(list(_answers(fw, rng, 0.5).items())[:30])
    asm.save_answers(session, draft, half, user)
    session.flush()
    rankings.upload(session, _dti_csv(session, rng), rankings.index_framework(rankings.DEFAULT_FRAMEWORK),
                    DEMO_DTI_FILE, actor, draws=1000)
    return {"enterprises": len(NAMES), "assessments": made, "solutions": len(solutions),
            "user": user.username, "password": password}
