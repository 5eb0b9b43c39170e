"""Demo data of the SME programme for `make run`: providers, platforms, reviews and uptake.

Everything is invented: the providers' names and tax codes (valid check digits), the platform
names (descriptive, no real product), the offers. Six months back from today, staff approve
platforms one after another, one is rejected with reasons and one waits for review; the demo
enterprises of ``dx.demo`` get a staff head count and take platforms up (interest, free
period, use, a few stopped) month by month. Runs after ``dx.demo.load_demo``.
"""

from __future__ import annotations

import random
import secrets
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ictgov.dx import smedx, smedx_uptake
from ictgov.dx.demo import _tax_code
from ictgov.dx.models import Assessment, Enterprise, Provider, Uptake

PROVIDERS = ("Công ty Cổ phần Công nghệ Mây Xanh (minh hoạ)", "Công ty TNHH Phần mềm Sao Việt (minh hoạ)",
             "Công ty Cổ phần Giải pháp số Trường Sơn (minh hoạ)", "Công ty TNHH Dữ liệu Hồng Hà (minh hoạ)")
# (provider index, name, English name, group, criteria, free months, staff limit, price after, cost support)
PLATFORMS = [
    (0, "Nền tảng quản trị bán hàng và kho", "Sales and stock management", "enterprise_management",
     ["erp", "order_tracking", "digital_supply_chain"], 6, 50, 990_000, True),
    (0, "Nền tảng hoá đơn điện tử", "E-invoicing", "e_invoice", ["e_invoice", "e_records", "b2g"], 6, 50,
     150_000, True),
    (1, "Nền tảng quản lý nhân sự và chấm công", "HR and attendance", "hr",
     ["performance_evaluation", "remote_work", "office_software"], 3, 50, 450_000, False),
    (1, "Nền tảng kế toán trực tuyến", "Online accounting", "accounting", ["e_banking", "e_records", "dashboards"],
     6, 50, 300_000, True),
    (2, "Nền tảng quản lý khách sạn, lưu trú", "Hotel and lodging management", "tourism_hotel",
     ["online_ordering", "online_payment", "customer_feedback"], 3, 50, 600_000, False),
    (2, "Nền tảng chăm sóc khách hàng đa kênh", "Omnichannel customer care", "ads_crm",
     ["crm", "online_support", "online_marketing"], 3, 30, 700_000, False),
    (3, "Nền tảng lưu trữ đám mây và thư điện tử", "Cloud storage and e-mail", "tech_infrastructure",
     ["cloud", "domain_email", "online_meetings"], 6, 50, 200_000, True),
    (3, "Nền tảng đào tạo trực tuyến cho người lao động", "Online training for staff", "e_learning",
     ["ict_training", "online_courses", "knowledge_base"], 4, 50, 250_000, False),
]
REJECTED = (3, "Nền tảng phân tích dữ liệu bán lẻ", "Retail data analytics", "enterprise_management",
            ["dashboards", "big_data", "decision_support"], 1, 50, 2_000_000, True)
REJECT_REASON = ("Thời gian miễn phí 1 tháng ngắn hơn mức tối thiểu 3 tháng của chương trình; chưa nêu rõ "
                 "cách bảo vệ dữ liệu của doanh nghiệp. Đề nghị bổ sung và gửi lại.")
WAITING = (1, "Nền tảng quản lý vận tải và giao nhận", "Transport and delivery management", "logistics",
           ["order_tracking", "rfid", "digital_supply_chain"], 3, 50, 800_000, False)
MONTHS = 6


def _offer(p) -> dict:
    _, vi, en, group, criteria, months, staff, price, support = p
    return {"name": vi, "name_en": en, "platform_group": group, "criteria": criteria, "free_months": months,
            "free_max_staff": staff, "price_after": price, "cost_support": support,
            "description": "Nền tảng minh hoạ của bản demo, không phải sản phẩm thật.",
            "description_en": "A demo platform, not a real product.", "url": ""}


def load_demo(session: Session, actor) -> dict[str, object]:
    """Create the demo once; returns the counts and the provider account (username, password)."""
    if session.scalar(select(func.count()).select_from(Provider)):
        return {"skipped": 1}
    from ictgov.auth import create_user

    rng = random.Random(2021)
    today = smedx_uptake.today()
    start = today - timedelta(days=30 * MONTHS)
    password = secrets.token_urlsafe(9)
    providers = []
    for n, name in enumerate(PROVIDERS):
        tax = _tax_code(rng)
        user = create_user(session, "nhacungcap" if n == 0 else f"nhacungcap{n + 1}",
                           password if n == 0 else secrets.token_urlsafe(12), "provider",
                           full_name=name, enterprise_ref=tax, actor=actor)
        providers.append((smedx.save_profile(session, user, {
            "name": name, "website": f"https://ncc{n + 1}.example.vn",
            "contact_email": f"lienhe@ncc{n + 1}.example.vn"}), user))
    listed = []
    for k, p in enumerate(PLATFORMS):
        provider, user = providers[p[0]]
        s = smedx.submit(session, provider, _offer(p), user)
        # approved one after another over the months, so the list grows
        when = datetime.combine(start + timedelta(days=20 * k), time(3, 0))
        s.submitted_at = when - timedelta(days=7)
        smedx.decide(session, s, "approve", "", actor)
        s.reviewed_at = when
        listed.append(s)
    provider, user = providers[REJECTED[0]]
    bad = smedx.submit(session, provider, _offer(REJECTED), user)
    smedx.decide(session, bad, "reject", REJECT_REASON, actor)
    provider, user = providers[WAITING[0]]
    smedx.submit(session, provider, _offer(WAITING), user)
    enterprises = list(session.scalars(select(Enterprise).order_by(Enterprise.id)))
    for e in enterprises:
        e.employees = rng.choice((4, 8, 12, 18, 25, 35, 45, 60, 90, 150))
    if enterprises:
        enterprises[0].employees = 12  # the demo enterprise account: eligible for free periods
    for e in enterprises[1:]:
        latest = session.scalar(select(Assessment).where(Assessment.enterprise_id == e.id,
                                                         Assessment.status == "submitted")
                                .order_by(Assessment.submitted_at.desc()).limit(1))
        for s in rng.sample(listed, k=rng.randint(0, 3)):
            first = smedx_uptake.vn_date(s.reviewed_at)
            if first >= today:
                continue
            day = first + timedelta(days=rng.randint(0, (today - first).days))
            stamp = datetime.combine(day, time(2, 0)) - timedelta(hours=7)
            eligible = smedx_uptake.free_period_eligibility(e, s).ok
            if eligible and rng.random() < 0.7:
                u = smedx_uptake.start_trial(session, e, s, latest, actor=actor, start=day)
                if smedx_uptake.add_months(day, s.free_months) <= today and rng.random() < 0.8:
                    smedx_uptake.move(session, u, "using" if rng.random() < 0.75 else "stopped", actor,
                                      on=u.trial_end)
                    if u.stage == "stopped":
                        u.stopped_at = datetime.combine(u.trial_end, time(2, 0))
            else:
                u = smedx_uptake.register_interest(session, e, s, latest, actor=actor)
                u.interested_at = stamp
            u.created_at = stamp
    session.flush()
    return {"providers": len(PROVIDERS), "platforms": len(PLATFORMS) + 2,
            "uptakes": session.scalar(select(func.count()).select_from(Uptake)),
            "user": "nhacungcap", "password": password}

