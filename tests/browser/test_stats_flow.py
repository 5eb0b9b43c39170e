"""An analyst in chromium: upload a file with errors, see them all, fix it, see the figures, read the review."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .test_login import log_in

pytestmark = pytest.mark.browser

BAD = (
    "indicator,area,period,value,unit,source\n"
    "mobile_money_users,VN,2021,1.2,million,MIC press release\n"
    "mobile_money_users,Atlantis,2021,1,million,MIC\n"
    "mobile_money_users,VN,2021H3,1,million,MIC\n"
)
GOOD = (
    "indicator,area,period,value,unit,source\n"
    "mobile_money_users,VN,2021,1.2,million,MIC press release\n"
    "mobile_money_users,VN,2022,3.5,million,MIC press release 2022\n"
)


@pytest.fixture(scope="module")
def sample(live_server):
    from ictgov import db as dbmod
    from ictgov.stats.sample import load_sample

    with dbmod.session_scope(dbmod.get_engine(live_server.database_url)) as s:
        load_sample(s)


def test_upload_errors_fix_figures_and_review(page, live_server, sample, tmp_path):
    log_in(page, live_server)
    expect(page.locator('[data-code="ict_revenue_usd"]')).to_be_visible()
    # the headline sparklines are drawn by vega-embed
    expect(page.locator('[data-code="ict_revenue_usd"] .chart svg, [data-code="ict_revenue_usd"] .chart canvas').first).to_be_visible()

    bad = tmp_path / "bad.csv"
    bad.write_text(BAD)
    page.get_by_role("link", name="Tải lên").click()
    page.get_by_label("Tệp số liệu").set_input_files(str(bad))
    page.get_by_role("button", name="Tải lên").click()
    errors = page.get_by_test_id("import-errors")
    expect(errors).to_contain_text("bad.csv")
    expect(errors).to_contain_text("Atlantis")
    expect(errors).to_contain_text("2021H3")
    expect(errors.locator("tbody tr")).to_have_count(2)

    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    page.get_by_label("Tệp số liệu").set_input_files(str(good))
    page.get_by_role("button", name="Tải lên").click()
    report = page.get_by_test_id("import-report")
    expect(report).to_contain_text("2 mới")
    report.get_by_role("link", name="mobile_money_users").click()
    expect(page).to_have_url(re.compile(r"/stats/mobile_money_users"))
    expect(page.locator("table.series")).to_contain_text("3,5")
    expect(page.locator("table.series")).to_contain_text("191,7 %")  # 3.5 / 1.2 - 1

    page.get_by_role("link", name="Báo cáo").click()
    page.get_by_label("Chọn kỳ").select_option("2021H1")
    page.get_by_role("button", name="Xem").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Báo cáo sơ kết 6 tháng đầu năm 2021")
    expect(page.locator('li[data-code="ict_revenue_usd"]')).to_contain_text("tăng 22,0% so với cùng kỳ năm trước")
    expect(page.locator('li[data-code="ict_revenue_usd"] .chart svg, li[data-code="ict_revenue_usd"] .chart canvas').first).to_be_visible()
