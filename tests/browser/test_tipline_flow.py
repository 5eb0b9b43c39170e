"""The fake-news centre in chromium, end to end.

A citizen reports with a screenshot and gets a receipt; a second citizen's rewording joins
the same case by itself; a third, looser one is suggested and a fact-checker confirms it;
the fact-checker takes the case to a published verdict; the public page carries a complete
ClaimReview, and the first citizen's receipt shows the outcome.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

CLAIM = ("Bộ Y tế thông báo uống nước tỏi ngâm mật ong mỗi sáng chữa khỏi hoàn toàn "
         "bệnh cúm A trong ba ngày")
# No diacritics, a word added, digits for a number: the same claim, typed differently.
REWORDED = ("Bo Y te vua thong bao: uong nuoc toi ngam mat ong moi buoi sang chua khoi "
            "hoan toan benh cum A trong 3 ngay")
# Looser: close enough to be suggested, not to be joined without a person deciding.
LOOSER = ("Nghe nói Bộ Y tế thông báo: uống nước tỏi ngâm mật ong mỗi sáng là khỏi hẳn "
          "bệnh cúm A sau ba ngày")
CHECKER, CHECKER_PASSWORD = "kiemchung", "checker-pass-123"
# A real PNG header and IHDR chunk: the type is checked from the bytes.
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"
       b"\x00\x00\x00\x90wS\xde" + b"\x00" * 32)


@pytest.fixture(scope="module")
def fact_checker(live_server):
    from ictgov import db as dbmod
    from ictgov.auth import create_user

    with dbmod.session_scope(dbmod.get_engine(live_server.database_url)) as s:
        create_user(s, CHECKER, CHECKER_PASSWORD, "fact_checker", full_name="Lê Kiểm Chứng")
    return CHECKER


def report(page, text: str, *, link: str = "", file=None, email: str = "") -> str:
    page.goto("/phan-anh")
    page.get_by_label("Nội dung bạn thấy").fill(text)
    if link:
        page.get_by_label("Đường link nơi bạn thấy").fill(link)
    page.get_by_label("Nền tảng").select_option("facebook")
    page.get_by_label("Lĩnh vực").select_option("health")
    if file is not None:
        page.locator("#f-files").set_input_files(str(file))
    if email:
        page.get_by_label("Thư điện tử").fill(email)
        page.locator("#f-consent").check()
    page.get_by_role("button", name="Gửi phản ánh").click()
    receipt = page.get_by_test_id("receipt")
    expect(receipt).to_have_text(re.compile(r"TG-[0-9A-Z]{8}"))
    return receipt.inner_text().strip()


def case_action(page, action: str, fill=None) -> None:
    form = page.get_by_test_id(f"form-{action}")
    if fill is not None:
        fill(form)
    form.get_by_role("button").click()


def test_report_group_confirm_verify_publish_and_look_up(page, browser, live_server, fact_checker,
                                                         tmp_path):
    shot = tmp_path / "anh-chup-man-hinh.png"
    shot.write_bytes(PNG)
    first = report(page, CLAIM, link="https://m.facebook.com/story.php?id=42&fbclid=abc",
                   file=shot, email="nguoidan@example.vn")
    page.goto(f"/phan-anh/tra-cuu?receipt={first}")
    expect(page.get_by_test_id("state")).to_have_attribute("data-state", "received")

    second = report(page, REWORDED)
    third = report(page, LOOSER)
    assert len({first, second, third}) == 3

    # The fact-checker, in a browser context of their own.
    staff = browser.new_context(base_url=live_server.base_url, locale="vi-VN")
    staff.set_default_timeout(10_000)
    sp = staff.new_page()
    sp.goto("/login")
    sp.get_by_label("Tên đăng nhập").fill(CHECKER)
    sp.get_by_label("Mật khẩu").fill(CHECKER_PASSWORD)
    sp.get_by_role("button", name="Đăng nhập").click()
    expect(sp.get_by_role("link", name="Kiểm chứng").first).to_be_visible()

    sp.goto("/kiem-chung/goi-y")
    suggestion = sp.get_by_test_id("suggestion").filter(has_text=third)
    expect(suggestion).to_have_count(1)
    suggestion.get_by_role("button", name="Xác nhận cùng nội dung").click()
    expect(sp.get_by_role("status").or_(sp.locator(".msg-success")).first).to_contain_text(third)
    expect(sp.get_by_test_id("suggestion").filter(has_text=third)).to_have_count(0)

    # The queue holds one case for the three reports.
    sp.goto("/kiem-chung")
    row = sp.get_by_test_id("queue").locator("tbody tr").filter(has_text="tỏi ngâm mật ong")
    expect(row).to_have_count(1)
    row.get_by_role("link").first.click()
    reports = sp.get_by_test_id("report")
    expect(reports).to_have_count(3)
    for receipt in (first, second, third):
        expect(sp.locator("main")).to_contain_text(receipt)
    # The screenshot came through whole, and only staff may fetch it.
    link = sp.get_by_test_id("evidence-link")
    expect(link).to_have_text("anh-chup-man-hinh.png")
    evidence = sp.request.get(link.get_attribute("href"))
    assert evidence.ok and evidence.body() == PNG
    anonymous = page.request.get(link.get_attribute("href"), max_redirects=0)
    assert anonymous.status in (303, 401, 403) and anonymous.body() != PNG

    case_action(sp, "triage")
    case_action(sp, "assign")
    case_action(sp, "start")
    expect(sp.get_by_test_id("case-state")).to_have_text("Đang xác minh")

    def verdict(form):
        form.locator("select[name=verdict]").select_option("fake")
        form.locator("textarea[name=summary]").fill(
            "Bộ Y tế không ra thông báo nào như vậy; tỏi và mật ong không chữa khỏi cúm A.")
        form.locator("textarea[name=summary_en]").fill(
            "The Ministry of Health issued no such notice; garlic and honey do not cure influenza A.")
        form.locator("textarea[name=sources]").fill("https://moh.gov.vn/")

    case_action(sp, "decide", verdict)
    expect(sp.get_by_test_id("verdict")).to_have_text("Tin giả")
    case_action(sp, "publish")
    expect(sp.get_by_test_id("case-state")).to_have_text(re.compile("Đã công bố"))
    public_url = sp.get_by_role("link", name="Trang công bố").get_attribute("href")
    staff.close()

    # The public page: the verdict, and a ClaimReview with every required field.
    page.goto(public_url)
    expect(page.locator("main")).to_contain_text("Tin giả")
    expect(page.locator("main")).to_contain_text("Bộ Y tế không ra thông báo nào như vậy")
    review = json.loads(page.locator('script[type="application/ld+json"]').first.text_content())
    from ictgov.tipline.publish import missing_fields

    assert review["@type"] == "ClaimReview" and missing_fields(review) == []
    assert review["reviewRating"]["alternateName"] == "Tin giả"
    assert review["url"].endswith(public_url)
    # The link was canonicalised: mobile host and tracking parameter gone.
    assert review["itemReviewed"]["appearance"]["url"] == "https://facebook.com/story.php?id=42"

    # The public search finds it without diacritics.
    page.goto("/tin-gia?q=toi+ngam+mat+ong")
    expect(page.locator(f'a[href="{public_url}"]').first).to_be_visible()

    # The first reporter looks the receipt up and reads the outcome.
    page.goto("/phan-anh/tra-cuu")
    page.get_by_label("Mã phản ánh").fill(first.lower())
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.get_by_test_id("state")).to_have_attribute("data-state", "published")
    verdict_box = page.get_by_test_id("verdict")
    expect(verdict_box).to_contain_text("Tin giả")
    expect(verdict_box.locator(f'a[href="{public_url}"]')).to_be_visible()
