"""The SME programme in chromium, end to end.

A provider makes its profile and submits a platform; staff try to reject it without a reason
(refused, the field named), then approve it; an enterprise gives its staff head count, finds
the platform from the gaps on its assessment's result page and starts the free period; the
provider sees the lead; the ministry's uptake page draws its charts.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PROVIDER, STAFF, ENTERPRISE, PASSWORD = "ncc_flow", "thamdinh_flow", "dn_smedx_flow", "flow-pass-123"
PROVIDER_TAX, ENTERPRISE_TAX = "0101248141", "0158073023"
PLATFORM = "Quản trị bán hàng Sen Vàng"
ENTERPRISE_NAME = "Công ty TNHH Minh Khang"


@pytest.fixture(scope="module")
def accounts(live_server):
    from fractions import Fraction

    from ictgov import db as dbmod
    from ictgov.auth import create_user
    from ictgov.dx import assessments as asm
    from ictgov.dx import enterprises
    from ictgov.dx.framework import get
    from ictgov.stats.areas import load_reference_areas

    with dbmod.session_scope(dbmod.get_engine(live_server.database_url)) as s:
        load_reference_areas(s)
        create_user(s, PROVIDER, PASSWORD, "provider", full_name="Sen Vàng", enterprise_ref=PROVIDER_TAX)
        create_user(s, STAFF, PASSWORD, "analyst", full_name="Trần Thẩm Định")
        user = create_user(s, ENTERPRISE, PASSWORD, "enterprise", full_name="Minh Khang",
                           enterprise_ref=ENTERPRISE_TAX)
        # The questionnaire itself is driven in test_dx_flow; here the enterprise has a
        # submitted assessment with everything at a fifth: every criterion is a gap.
        e = enterprises.register(s, {"name": ENTERPRISE_NAME, "sector": "trade", "size_class": "small",
                                     "province_code": "79"}, user, tax_code=ENTERPRISE_TAX)
        fw = get("dbi-sme-2021", "enterprise")
        answers = {code: min(fw.scale_of(c).options, key=lambda o: abs(o.share - Fraction(1, 5))).code
                   for code, (_, _, c) in fw.criteria.items()}
        a = asm.start(s, e, user)
        asm.save_answers(s, a, answers, user)
        asm.submit(s, a, user)
        return {"assessment": a.id}


def log_in(page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()


def test_provider_submits_staff_approve_enterprise_starts_free_period_provider_sees_lead(page, live_server, accounts):
    # the provider
    log_in(page, PROVIDER)
    page.get_by_role("link", name="Chuyển đổi số").click()
    page.get_by_role("link", name="Nhà cung cấp nền tảng").first.click()
    page.get_by_label("Tên nhà cung cấp").fill("Công ty Cổ phần Phần mềm Sen Vàng")
    page.get_by_label("Thư điện tử liên hệ").fill("lienhe@senvang.example.vn")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_text("Đã lưu hồ sơ nhà cung cấp.")).to_be_visible()
    page.get_by_test_id("new-platform").click()
    page.get_by_label("Tên nền tảng").fill(PLATFORM)
    page.get_by_label("Nhóm nền tảng").select_option("enterprise_management")
    page.get_by_label("Số tháng dùng miễn phí").fill("6")
    page.get_by_label("Miễn phí cho doanh nghiệp có ít hơn (lao động)").fill("50")
    page.get_by_label("Giá sau thời gian miễn phí (đồng/tháng)").fill("990000")
    page.locator("#f-criteria").select_option(["erp", "crm"])
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("status")).to_contain_text("Chờ thẩm định")

    # staff: a rejection needs reasons; then approve
    log_in(page, STAFF)
    page.goto("/chuyen-doi-so/smedx/tham-dinh")
    page.get_by_test_id("queue").get_by_role("row", name=PLATFORM).get_by_role("link").click()
    page.get_by_test_id("reject").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("reason")
    page.get_by_test_id("approve").click()
    expect(page.get_by_text("Đã duyệt nền tảng.")).to_be_visible()

    # the enterprise: head count, then the result page's suggestion
    log_in(page, ENTERPRISE)
    page.goto("/chuyen-doi-so/doanh-nghiep")
    page.get_by_label("Số lao động").fill("12")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_text("Đã lưu hồ sơ doanh nghiệp.")).to_be_visible()
    page.goto(f"/chuyen-doi-so/danh-gia/{accounts['assessment']}/ket-qua")
    card = page.get_by_test_id("solutions").locator("li", has_text=PLATFORM)
    expect(card).to_contain_text("Miễn phí 6 tháng cho doanh nghiệp dưới 50 lao động")
    card.get_by_test_id("trial").click()
    expect(page.get_by_text("Đã bắt đầu dùng thử miễn phí")).to_be_visible()
    card = page.get_by_test_id("solutions").locator("li", has_text=PLATFORM)
    expect(card.get_by_test_id("uptake-stage")).to_have_attribute("data-stage", "trial")
    page.get_by_role("link", name="Nền tảng của doanh nghiệp").first.click()
    expect(page.get_by_test_id("uptake")).to_contain_text(PLATFORM)

    # the provider sees the lead, with the gaps that led there
    log_in(page, PROVIDER)
    page.goto("/chuyen-doi-so/smedx/nha-cung-cap/khach-hang")
    lead = page.get_by_test_id("lead").filter(has_text=ENTERPRISE_NAME)
    expect(lead).to_contain_text("Đang dùng thử miễn phí")
    expect(lead).to_contain_text("Hồ Chí Minh")

    # the ministry's uptake page
    log_in(page, STAFF)
    page.goto("/chuyen-doi-so/smedx/thong-ke")
    expect(page.get_by_test_id("totals")).to_contain_text("1 doanh nghiệp đang dùng")
    expect(page.get_by_test_id("month-chart").locator("canvas, svg").first).to_be_visible()
    expect(page.get_by_test_id("group-chart").locator("canvas, svg").first).to_be_visible()
