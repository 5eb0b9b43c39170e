"""Anti-spam in chromium, end to end: a citizen reports a spam SMS with a screenshot and the
one-time code sent to their phone, gets a receipt; the operator of the spamming number sees
the report (with the reporter's number) and answers it; the citizen's status page shows the
answer. Another operator does not see the report, even by its address."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

OPERATOR, OTHER, PASSWORD = "viettel-cskh", "mobifone-cskh", "operator-pass-123"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
       b"\x00\x00\x00\x90wS\xde" + b"\x00" * 32)
SPAM = "Vay tien nhanh 50tr khong the chap, giai ngan 5 phut, truy cap vaynhanh.top"


@pytest.fixture(scope="module")
def operators(live_server):
    from ictgov import db as dbmod
    from ictgov.auth import User, hash_password

    with dbmod.session_scope(dbmod.get_engine(live_server.database_url)) as s:
        for name, code in ((OPERATOR, "VIETTEL"), (OTHER, "MOBIFONE")):
            s.add(User(username=name, password_hash=hash_password(PASSWORD), role="operator",
                       operator_code=code, full_name=f"CSKH {code}"))


def sent_code(live_server, number: str) -> str:
    """The code in the last SMS queued to `number` (the console sender prints it masked)."""
    from sqlalchemy import select

    from ictgov import db as dbmod
    from ictgov.tipline.models import OutboxMessage

    with dbmod.session_scope(dbmod.get_engine(live_server.database_url)) as s:
        body = s.scalars(select(OutboxMessage.body).where(OutboxMessage.recipient == number)
                         .order_by(OutboxMessage.id.desc())).first()
    return re.search(r"\b(\d{6})\b", body).group(1)


def log_in(page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()


def test_report_with_code_operator_answers_citizen_sees_it(page, browser, live_server, operators, tmp_path):
    shot = tmp_path / "tin-nhan-rac.png"
    shot.write_bytes(PNG)
    page.goto("/chan-rac/phan-anh")
    page.get_by_label("Loại phản ánh").select_option("sms")
    page.get_by_label("Số điện thoại nhận tin nhắn/cuộc gọi rác").fill("0912 345 678")
    page.get_by_label("Nguồn phát tán").fill("+84 987 654 321")
    page.get_by_label("Nội dung tin nhắn / cuộc gọi").fill(SPAM)
    page.locator("#f-evidence").set_input_files(str(shot))
    page.get_by_role("button", name="Phản ánh", exact=True).click()

    expect(page.get_by_test_id("otp-sent")).to_contain_text("091****78")
    page.get_by_label("Mã xác thực (OTP)").fill("000000" if sent_code(live_server, "0912345678") != "000000"
                                                else "111111")
    page.get_by_role("button", name="Hoàn thành").click()
    expect(page.get_by_test_id("otp-error")).to_contain_text("Còn 4 lần thử")
    page.get_by_label("Mã xác thực (OTP)").fill(sent_code(live_server, "0912345678"))
    page.get_by_role("button", name="Hoàn thành").click()

    receipt_el = page.get_by_test_id("receipt")
    expect(receipt_el).to_have_text(re.compile(r"TR-[0-9A-Z]{8}"))
    receipt = receipt_el.inner_text().strip()
    expect(page.get_by_test_id("state")).to_have_attribute("data-state", "routed")
    expect(page.get_by_test_id("operator")).to_have_text("Viettel")

    # the operator of 0987654321 finds the report and answers it
    op = browser.new_context(base_url=live_server.base_url, locale="vi-VN").new_page()
    log_in(op, OPERATOR)
    op.get_by_role("link", name="Nhà mạng").click()
    op.get_by_role("link", name=receipt).click()
    expect(op.get_by_test_id("content")).to_have_text(SPAM)
    expect(op.get_by_test_id("reporter")).to_have_text("0912345678")
    report_url = op.url
    form = op.get_by_test_id("form-answer")
    form.get_by_label("Biện pháp").select_option("blocked")
    form.get_by_label("Nội dung trả lời").fill("Đã chặn chiều nhắn tin của thuê bao 0987654321.")
    form.get_by_role("button", name="Gửi trả lời").click()
    expect(op.get_by_test_id("state")).to_have_attribute("data-state", "answered")
    op.context.close()

    # another operator cannot open it by its address
    other = browser.new_context(base_url=live_server.base_url, locale="vi-VN").new_page()
    log_in(other, OTHER)
    other.goto("/nha-mang/phan-anh")
    expect(other.get_by_test_id("reports")).not_to_contain_text(receipt)
    response = other.goto(report_url)
    assert response.status == 404
    other.context.close()

    # the citizen looks the report up by its receipt and reads the answer
    page.goto("/chan-rac/tra-cuu")
    page.get_by_label("Mã phản ánh").fill(receipt.lower())
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.get_by_test_id("state")).to_have_attribute("data-state", "answered")
    expect(page.get_by_test_id("answer")).to_contain_text("Đã chặn chiều nhắn tin")
    expect(page.get_by_test_id("answer")).to_contain_text("Đã chặn thuê bao")
