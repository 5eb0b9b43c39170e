"""The press digital-maturity service in chromium, end to end.

A press agency describes itself, fills the self-assessment (saved as it goes), sends it; an
appraiser of the council adjusts one criterion with a reason and certifies; the agency sees
its level and opens its printable certificate; the public ranking lists the agency and the
certificate check finds the number.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

AGENCY, APPRAISER, PASSWORD = "bc_flow", "hd_flow", "flow-pass-123"
NAME = "Báo điện tử Thử Nghiệm Trúc Xanh"


@pytest.fixture(scope="module")
def accounts(live_server):
    from ictgov import db as dbmod
    from ictgov.auth import create_user
    from ictgov.stats.areas import load_reference_areas

    with dbmod.session_scope(dbmod.get_engine(live_server.database_url)) as s:
        load_reference_areas(s)
        create_user(s, AGENCY, PASSWORD, "press_agency", full_name="Ban biên tập Trúc Xanh", agency_ref="BC-7001")
        create_user(s, APPRAISER, PASSWORD, "appraiser", full_name="Lê Thẩm Định")


def log_in(page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()


def log_out(page) -> None:
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_test_id("current-user")).to_have_count(0)


def test_agency_sends_council_adjusts_and_certifies_public_sees_it(page, live_server, accounts):
    log_in(page, AGENCY)
    page.get_by_role("link", name="Báo chí số").click()
    page.get_by_label("Tên cơ quan báo chí").fill(NAME)
    page.get_by_label("Loại hình").select_option("online")
    page.get_by_label("Cơ quan chủ quản").fill("Hội Thử nghiệm minh hoạ")
    page.get_by_label("Trung ương hay địa phương").select_option("central")
    page.get_by_label("Tỉnh, thành phố (trụ sở)").select_option("01")
    page.get_by_role("button", name="Lưu", exact=True).click()
    expect(page.get_by_text("Đã lưu hồ sơ cơ quan báo chí.")).to_be_visible()
    page.get_by_test_id("start").click()

    criteria = page.locator("fieldset[data-criterion]")
    expect(criteria).to_have_count(42)
    codes = [criteria.nth(i).get_attribute("data-criterion") for i in range(42)]
    for code in codes:  # "Đáp ứng phần lớn": 3/4 of every criterion's points
        page.locator(f'fieldset[data-criterion="{code}"] input[type=radio]').nth(3).check()
    note = page.locator('fieldset[data-criterion="s1"] textarea')
    note.fill("Quyết định phê duyệt chiến lược số 01/QĐ")
    note.blur()
    expect(page.get_by_test_id("save-status")).to_have_attribute("data-answered", "42")  # autosaved
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("waiting")).to_contain_text("75/100")
    log_out(page)

    log_in(page, APPRAISER)
    page.get_by_role("link", name="Báo chí số").click()
    queue = page.get_by_test_id("queue")
    expect(queue).to_contain_text(NAME)
    queue.locator("tr", has_text=NAME).get_by_role("link").click()
    expect(page.get_by_test_id("totals")).to_have_attribute("data-total", "75")
    row = page.locator('tr[data-criterion="s1"]')
    expect(row).to_contain_text("Quyết định phê duyệt chiến lược số 01/QĐ")  # the agency's evidence
    form = page.get_by_test_id("adjust-s1")
    form.get_by_label("Điểm").fill("3")
    form.get_by_label("Lý do").fill("Đã xem quyết định phê duyệt: đạt đầy đủ")
    form.get_by_role("button", name="Điều chỉnh").click()
    expect(page.get_by_text("Đã điều chỉnh điểm tiêu chí s1.")).to_be_visible()
    row = page.locator('tr[data-criterion="s1"]')
    expect(row.get_by_test_id("own-s1")).to_have_text("2,25")
    expect(row.get_by_test_id("council-s1")).to_contain_text("Đã xem quyết định phê duyệt: đạt đầy đủ")
    expect(page.get_by_test_id("totals")).to_have_attribute("data-total", "75.75")
    page.get_by_test_id("certify").click()
    expect(page.get_by_text(re.compile(r"Đã cấp chứng nhận số PDT-\d{4}-\d{4}"))).to_be_visible()
    log_out(page)

    log_in(page, AGENCY)
    page.goto("/chuyen-doi-so/bao-chi/co-quan")
    page.get_by_test_id("assessments").get_by_role("link", name="Mở").first.click()
    level = page.get_by_test_id("level")
    expect(level).to_contain_text("Khá")
    expect(page.get_by_test_id("adjustments")).to_contain_text("Đã xem quyết định phê duyệt: đạt đầy đủ")
    expect(page.get_by_test_id("radar").locator("canvas, svg").first).to_be_visible()
    page.get_by_test_id("certificate-link").click()
    cert = page.get_by_test_id("certificate")
    expect(cert).to_contain_text(NAME)
    expect(page.get_by_test_id("cert-level")).to_have_text("Khá")
    number = page.get_by_test_id("cert-number").inner_text()
    assert re.fullmatch(r"PDT-\d{4}-\d{4}", number)
    expect(cert).to_contain_text("press-maturity@1")
    expect(page.get_by_role("button", name="In giấy chứng nhận")).to_be_visible()
    log_out(page)

    page.goto("/chuyen-doi-so/bao-chi/xep-hang")
    ranking = page.get_by_test_id("ranking")
    expect(ranking.locator('tr[data-agency="BC-7001"]')).to_contain_text(NAME)
    expect(ranking.locator('tr[data-agency="BC-7001"]')).to_contain_text(number)
    expect(page.get_by_test_id("ranking-chart").locator("canvas, svg").first).to_be_visible()
    expect(page.get_by_test_id("distribution").locator('tr[data-level="2"]')).to_contain_text("1")
    page.get_by_role("link", name="Tra cứu chứng nhận").click()
    page.get_by_label("Số chứng nhận").fill(number.lower())
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.get_by_test_id("check-result")).to_contain_text(NAME)
