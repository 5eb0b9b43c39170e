"""Anti-spam pages in chromium, as their users work them.

- An operator opens its flagged numbers with the reasons of Circular 22, sends a survey to
  the recipients, confirms a number, finds it on its blocklist and in the CSV export, and
  says it is blocked; another operator's number is not on its pages.
- A citizen joins the do-not-call list with the code sent to the phone; a blocked subscriber
  appeals with a code, the operator sees the appeal, ministry staff grant it and the citizen
  reads the decision on the appeal's status page.
- Ministry staff read the figures with both Vega charts drawn in the page, and audit an
  advertiser's send log against Decree 91/2020 with every violation listed.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "operator-pass-456"
VT, MB = "vt-chan-rac", "mb-chan-rac"
SPAMMER, OTHER_NET, BLOCKED = "0986111222", "0903111222", "0987000333"
REASON = "call_volume (calls_out 345 >= 150); new_recipients (new_recipient_share 97% >= 90%)"


def _session(live_server):
    from ictgov import db as dbmod

    return dbmod.session_scope(dbmod.get_engine(live_server.database_url))


@pytest.fixture(scope="module")
def antispam_data(live_server):
    """Two operator accounts; flags from a scan (one Viettel number, one MobiFone); a Viettel
    number already confirmed and blocked; a number on the do-not-call list; reports and daily
    spam traffic for the figures."""
    import polars as pl
    from sqlalchemy import select

    from ictgov.antispam import dnc, flags, reports
    from ictgov.antispam.models import FlaggedNumber
    from ictgov.auth import User, hash_password

    with _session(live_server) as s:
        for name, code in ((VT, "VIETTEL"), (MB, "MOBIFONE")):
            s.add(User(username=name, password_hash=hash_password(PASSWORD), role="operator",
                       operator_code=code, full_name=f"CSKH {code}"))
        s.flush()
        flags.load_scan(s, pl.DataFrame({
            "number": [SPAMMER, OTHER_NET, BLOCKED], "flagged": [True, True, True],
            "score": [3.5, 2.0, 2.5],
            "reasons": [REASON, "short_calls (short_call_share 80% >= 60%)", "sms_volume (sms_out 900 >= 300)"],
            "operator": ["viettel", "mobifone", "viettel"]}), scan="browser-scan")
        admin = s.scalar(select(User).where(User.username == live_server.username))
        blocked = s.scalar(select(FlaggedNumber).where(FlaggedNumber.number == BLOCKED))
        flags.confirm(s, blocked, admin, "khảo sát: 5/5 người nhận xác nhận rác")
        flags.mark_blocked(s, admin, "VIETTEL")
        for text, sender in (("S 0986111222 Vay tien nhanh 50tr", "0912000001"),
                             ("V 0903111222 goi quang cao dat nen", "0912000002"),
                             ("LD 0986111222 gia danh cong an", "0912000003")):
            reports.receive_sms(s, text, sender)
        dnc.join(s, "0904777888", "shortcode")
        today = date.today()
        flags.load_days(s, pl.DataFrame({
            "number": [SPAMMER, SPAMMER, OTHER_NET],
            "day": [today - timedelta(days=2), today - timedelta(days=1), today - timedelta(days=1)],
            "sms_out": [120, 80, 0], "calls_out": [40, 300, 150], "operator": ["viettel", "viettel", "mobifone"]}),
            scan="browser-scan")


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()


def sent_code(live_server, number: str) -> str:
    from sqlalchemy import select

    from ictgov.tipline.models import OutboxMessage

    with _session(live_server) as s:
        body = s.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == number)
                         .order_by(OutboxMessage.id.desc())).first()
    return re.search(r"\b(\d{6})\b", body).group(1)


def flag_row(page, number: str):
    return page.get_by_test_id("flags").locator("tr", has_text=number)


def test_operator_flags_survey_confirm_blocklist_export(page, live_server, antispam_data):
    log_in(page, VT)
    page.goto("/nha-mang/so-nghi-van")
    table = page.get_by_test_id("flags")
    expect(table).to_contain_text(SPAMMER)
    expect(table).not_to_contain_text(OTHER_NET)  # MobiFone's number is not Viettel's business
    expect(flag_row(page, SPAMMER).get_by_test_id("reasons")).to_have_text(REASON)

    # a survey to two recipients of the number: two SMS queued, the tally shows them waiting
    row = flag_row(page, SPAMMER)
    row.get_by_text("Gửi khảo sát", exact=True).first.click()
    row.get_by_label("Số người nhận (mỗi dòng một số)").fill("0912 000 111\n+84 913 000 222")
    row.get_by_role("button", name="Gửi khảo sát").click()
    expect(page.locator(".msg-success, [role=status]").first).to_contain_text("Đã gửi khảo sát tới 2 người nhận")
    expect(flag_row(page, SPAMMER)).to_contain_text("0 có / 0 không / 2 chờ")
    from sqlalchemy import select

    from ictgov.tipline.models import OutboxMessage

    with _session(live_server) as s:
        asked = set(s.scalars(select(OutboxMessage.recipient).where(OutboxMessage.subject == "survey")))
    assert {"0912000111", "0913000222"} <= asked

    # confirmed: off the flagged list, onto the blocklist
    flag_row(page, SPAMMER).get_by_role("button", name="Xác nhận rác, đưa vào danh sách chặn").click()
    expect(page.locator(".msg-success, [role=status]").first).to_contain_text(f"Số {SPAMMER} đã vào danh sách chặn")
    page.get_by_role("link", name="Danh sách chặn").click()
    expect(page.get_by_test_id("block-count")).to_have_text("2 số trong danh sách")
    expect(page.locator("table")).to_contain_text(SPAMMER)
    with page.expect_download() as download:
        page.get_by_test_id("download").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert {r["number"] for r in rows} == {SPAMMER, BLOCKED}
    assert {r["operator"] for r in rows} == {"VIETTEL"}
    assert next(r for r in rows if r["number"] == SPAMMER)["reasons"] == REASON

    # the operator has blocked the confirmed number: it shows as blocked among the flags
    page.get_by_role("button", name=re.compile(r"Đã chặn các số đã xác nhận \(1\)")).click()
    expect(page.locator(".msg-success, [role=status]").first).to_contain_text("1 số đã chuyển sang trạng thái đã chặn")
    page.goto("/nha-mang/so-nghi-van?status=blocked")
    expect(flag_row(page, SPAMMER)).to_contain_text("Đã chặn")


def test_citizen_dnc_and_appeal_staff_decides(page, browser, live_server, antispam_data):
    # do-not-call: the code sent to the phone proves the number
    page.goto("/chan-rac/dnc")
    page.get_by_label("Số điện thoại *").fill("+84 904 555 666")
    page.get_by_label("Đăng ký vào danh sách").check()
    page.get_by_role("button", name="Gửi mã xác thực").click()
    expect(page.get_by_test_id("otp-sent")).to_contain_text("090****66")
    page.get_by_label("Mã xác thực (OTP)").fill(sent_code(live_server, "0904555666"))
    page.get_by_role("button", name="Hoàn thành").click()
    expect(page.get_by_test_id("dnc-done")).to_contain_text("đã có trong danh sách không quảng cáo")
    from ictgov.antispam import dnc

    with _session(live_server) as s:
        assert "0904555666" in dnc.listed_numbers(s)

    # the blocked subscriber appeals
    page.goto("/chan-rac/khieu-nai")
    page.get_by_label("Số điện thoại bị chặn *").fill(BLOCKED)
    page.get_by_label("Lý do *").fill("Tôi là chủ cửa hàng, chỉ nhắn tin cho khách quen đã đặt hàng.")
    page.get_by_role("button", name="Gửi mã xác thực").click()
    page.get_by_label("Mã xác thực (OTP)").fill(sent_code(live_server, BLOCKED))
    page.get_by_role("button", name="Hoàn thành").click()
    receipt_el = page.get_by_test_id("receipt")
    expect(receipt_el).to_have_text(re.compile(r"KN-[0-9A-Z]{8}"))
    receipt = receipt_el.inner_text().strip()
    expect(page.get_by_test_id("state")).to_have_attribute("data-state", "pending")
    status_url = page.url

    # the operator of the number sees the appeal; ministry staff decide it
    op = browser.new_context(base_url=live_server.base_url, locale="vi-VN").new_page()
    log_in(op, VT)
    op.goto("/nha-mang/khieu-nai")
    expect(op.get_by_test_id("appeals")).to_contain_text(receipt)
    expect(op.get_by_test_id("appeals")).to_contain_text("chủ cửa hàng")
    expect(op.get_by_role("button", name="Chấp nhận, bỏ chặn")).to_have_count(0)  # staff decide
    op.context.close()

    staff = browser.new_context(base_url=live_server.base_url, locale="vi-VN").new_page()
    log_in(staff, live_server.username, live_server.password)
    staff.goto("/nha-mang/khieu-nai")
    row = staff.get_by_test_id("appeals").locator("tr", has_text=receipt)
    row.get_by_label("Lý do quyết định *").fill("Cửa hàng có hợp đồng với khách hàng")
    row.get_by_role("button", name="Chấp nhận, bỏ chặn").click()
    expect(staff.locator(".msg-success, [role=status]").first).to_contain_text(f"Đã quyết định khiếu nại {receipt}")
    staff.goto("/nha-mang/danh-sach-chan")
    expect(staff.locator("table")).not_to_contain_text(BLOCKED)
    staff.context.close()

    page.goto(status_url)
    expect(page.get_by_test_id("state")).to_have_attribute("data-state", "granted")
    expect(page.locator("dl")).to_contain_text("Cửa hàng có hợp đồng với khách hàng")


def test_ministry_figures_with_charts_and_ad_audit(page, live_server, antispam_data, tmp_path):
    log_in(page, live_server.username, live_server.password)
    page.goto("/chan-rac/quan-ly")
    assert int(page.get_by_test_id("reports-total").inner_text().replace(".", "")) >= 3
    expect(page.get_by_test_id("by-operator")).to_contain_text("Viettel")
    expect(page.get_by_test_id("daily")).to_contain_text(str(date.today() - timedelta(days=1)))
    # both Vega-Lite charts are drawn (vega-embed puts an svg or a canvas in each)
    for spec in ("#spec-reports-month", "#spec-traffic-day"):
        chart = page.locator(f'[data-vega-spec="{spec}"]')
        expect(chart.locator("svg, canvas").first).to_be_visible()
    expect(page.get_by_text("Không hiển thị được biểu đồ")).to_have_count(0)

    log = tmp_path / "nhat-ky-quang-cao.csv"
    log.write_text(
        "brandname,recipient,time,kind,content\n"
        "SHOPABC,0912000111,2026-06-01T09:00:00,sms,[QC] Giam gia 50%\n"
        "SHOPABC,0912000111,2026-06-01T23:30:00,sms,[QC] Flash sale dem khuya\n"
        "SHOPABC,0912000222,2026-06-01T10:00:00,sms,Giam gia 30% hom nay\n"
        "SHOPABC,0904777888,2026-06-01T10:00:00,call,Moi mua bao hiem\n", encoding="utf-8")
    page.get_by_role("link", name="Kiểm tra quảng cáo").click()
    page.get_by_label("Tệp nhật ký *").set_input_files(str(log))
    page.get_by_role("button", name="Kiểm tra").click()
    expect(page.get_by_test_id("ads-result")).to_contain_text("4 lượt gửi")
    violations = page.get_by_test_id("violations")
    expect(violations).to_contain_text("D91-SMS-HOURS")
    expect(violations).to_contain_text("D91-SMS-PREFIX")
    # each violation names the log's line, the recipient and the rule (the header is line 1)
    expect(violations.locator("tbody tr", has_text="D91-DNC")).to_contain_text("0904777888")
    expect(violations.locator("tbody tr", has_text="D91-SMS-HOURS")).to_contain_text("23:30")
    lines = [r.locator("td").first.inner_text() for r in violations.locator("tbody tr").all()]
    assert lines == ["3", "4", "5"]
    expect(violations.locator("tbody tr", has_text="D91-SMS-HOURS")).to_contain_text("SHOPABC")


def test_operator_uploads_records_scanned_in_the_background(page, live_server, antispam_data, tmp_path):
    """The scan leaves the request: the job's page shows the outcome, the flagged numbers are
    the operator's, and the survey form already holds the recipients the scan saw."""
    from ictgov.antispam.simulate import SimSpec, simulate

    simulate(SimSpec(subscribers=300, days=3, spammers=0.03, heavy=0.02, seed=5, fmt="csv"), tmp_path)
    log_in(page, MB)
    page.goto("/nha-mang")
    page.get_by_role("link", name="Quét dữ liệu cuộc gọi").first.click()
    page.get_by_label("Tệp dữ liệu *").set_input_files(str(tmp_path / "records.csv"))
    page.get_by_role("button", name="Tải lên và quét").click()
    expect(page).to_have_url(re.compile(r"/nha-mang/quet/[0-9a-f]+$"))
    done = page.get_by_test_id("scan-job")
    expect(done).to_have_attribute("data-state", "done", timeout=60_000)
    expect(page.get_by_test_id("scan-result")).to_contain_text("records.csv")
    page.get_by_role("link", name="Xem các số nghi vấn").click()
    known = page.get_by_test_id("survey-known").first
    expect(known).to_contain_text("người nhận lấy từ dữ liệu quét")
    row = page.get_by_test_id("flags").locator("tr", has=known)
    number = row.locator("td").first.inner_text().strip()
    row.get_by_text("Gửi khảo sát", exact=True).first.click()
    row.get_by_role("button", name="Gửi khảo sát").click()  # nothing typed
    expect(page.locator(".msg-success").first).to_contain_text("Đã gửi khảo sát tới")
    expect(page.get_by_test_id("flags").locator("tr", has_text=number)).to_contain_text(" chờ")
