"""Demo data for `make run`: simulated traffic scanned into flags, and citizens' reports of
the simulated spammers, some answered, some confirmed and blocked.

Everything is generated here: the traffic by the simulator (``simulate.py``), the report
texts from templates written for this project (no rows copied from any data set). The
traffic covers the last two weeks, so the figures sit apart from the published 2019–2022
ones.
"""

from __future__ import annotations

import csv
import random
import tempfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ictgov.antispam import dnc, flags, reports
from ictgov.antispam.cdr import scan
from ictgov.antispam.models import FlaggedNumber, SpamReport
from ictgov.antispam.simulate import SimSpec, simulate
from ictgov.db import utcnow

SMS_TEMPLATES = [
    "Vay tien nhanh {n} trieu khong can the chap, giai ngan trong {m} phut, lien he {link}",
    "Chuc mung thue bao da trung thuong {n} trieu dong, truy cap {link} de nhan giai",
    "Ban co {n} diem thuong sap het han, doi qua ngay tai {link}",
    "Tai khoan ngan hang cua ban bi tam khoa, xac minh tai {link} trong {m} phut",
]
CALL_TEMPLATES = [
    "Goi moi mua dat nen du an gan san bay, gia chi {n} trieu/m2",
    "Goi tu xung nhan vien ngan hang moi vay tieu dung lai suat {m}%",
    "Cuoc goi quang cao bao hiem nhan tho, goi {m} lan trong ngay",
]
SCAM_TEMPLATES = ["Gia danh cong an yeu cau chuyen tien de xac minh tai khoan",
                  "Tu xung nhan vien nha mang doi ma OTP de nang cap SIM 5G"]
ANSWERS = [("blocked", "Đã chặn chiều gọi đi và nhắn tin của thuê bao sau khi xác minh."),
           ("warned", "Đã cảnh báo chủ thuê bao; nếu tái phạm sẽ chặn."),
           ("investigating", "Đang xác minh với người nhận qua USSD.")]


def _text(rng: random.Random, templates: list[str]) -> str:
    return rng.choice(templates).format(n=rng.choice([5, 20, 50, 100]), m=rng.choice([3, 5, 15]),
                                        link=rng.choice(["vaynhanh.top", "bit.ly/qua-tang", "nhanqua.vip"]))


def load_demo(session: Session, actor, *, subscribers: int = 1500, days: int = 14) -> dict[str, int]:
    """Create the demo (once): a scan's flags, about sixty reports, a few blocks and an appeal."""
    if session.scalar(select(func.count()).select_from(SpamReport)) or \
            session.scalar(select(func.count()).select_from(FlaggedNumber)):
        return {"skipped": 1}
    rng = random.Random(5656)
    today = utcnow().date()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        simulate(SimSpec(subscribers=subscribers, days=days, spammers=0.02, heavy=0.02, seed=56,
                         start=today - timedelta(days=days), fmt="parquet"), out)
        result = scan(out / "records.parquet", out / "subscribers.csv")
        with open(out / "truth.csv", encoding="utf-8") as fh:
            truth = list(csv.DictReader(fh))
    counts = flags.load_scan(session, result.numbers, scan=f"demo-{today.isoformat()}", days=result.days)
    spammers = [r for r in truth if r["spam"] in ("1", "true", "True")]
    citizens = [r["number"] for r in truth if r["class"] == "ordinary"]
    now = utcnow()
    made = []
    for k in range(60):
        who = rng.choice(spammers)
        cls = who["class"]
        kind, templates = (("scam_call", SCAM_TEMPLATES) if cls == "scam_caller" else
                           ("call", CALL_TEMPLATES) if cls == "spam_caller" else ("sms", SMS_TEMPLATES))
        r = reports.submit(session, reports.ReportInput(kind, rng.choice(citizens), who["number"],
                                                        _text(rng, templates)),
                           rng.choice(["shortcode", "shortcode", "web"]))
        r.created_at = now - timedelta(days=rng.randint(0, days), hours=rng.randint(0, 23))
        made.append(r)
    for brand in ("BANKVIP", "SHOPSALE"):
        reports.submit(session, reports.ReportInput("sms", rng.choice(citizens), brand,
                                                    _text(rng, SMS_TEMPLATES)), "shortcode")
    for r in made[:25]:
        action, text = rng.choice(ANSWERS)
        reports.answer(session, r, actor, action, text)
    for r in made[:15]:
        if r.kind == "sms":
            reports.set_label(session, r, actor, "spam")
    flagged = list(session.scalars(select(FlaggedNumber).order_by(FlaggedNumber.score.desc())))
    for flag in flagged[: len(flagged) // 2]:
        flags.confirm(session, flag, actor, "Demo: người nhận xác nhận là rác")
    for operator in {f.operator_code for f in flagged[: len(flagged) // 4] if f.operator_code}:
        flags.mark_blocked(session, actor, operator)
    appeals = 0
    if flagged:
        flags.submit_appeal(session, flagged[0].number, "Demo: tôi bán hàng online, gọi cho khách đã đặt hàng")
        appeals = 1
    for number in rng.sample(citizens, min(30, len(citizens))):
        dnc.join(session, number, rng.choice(dnc.CHANNELS))
    session.flush()
    return {"reports": len(made) + 2, "flagged": counts["flagged"], "days": counts["days"], "appeals": appeals}
