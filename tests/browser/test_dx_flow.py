"""The digital-transformation service in chromium, end to end.

An enterprise registers, fills half of the questionnaire (saved as it goes, no save button
pressed), leaves, comes back to find its answers, finishes, submits, and sees its level, the
radar chart drawn and advice with a solution from the catalogue. An analyst uploads a
provincial DTI file, first with a bad line, then a good one, and sees the ranking.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ENTERPRISE, ANALYST, PASSWORD = "dn_flow", "analyst_flow", "flow-pass-123"
TAX_CODE = "0100233488"
HEADER = ("area,year,awareness,institutions,infrastructure,human_resources,cybersecurity,smart_city,"
          "digital_government,digital_economy,digital_society")


@pytest.fixture(scope="module")
def accounts(live_server):
    from ictgov import db as dbmod
    from ictgov.auth import create_user
    from ictgov.dx import catalogue
    from ictgov.stats.areas import load_reference_areas

    with dbmod.session_scope(dbmod.get_engine(live_server.database_url)) as s:
        load_reference_areas(s)
        create_user(s, ENTERPRISE, PASSWORD, "enterprise", full_name="Công ty Hoa Sen",
                    enterprise_ref=TAX_CODE)
        create_user(s, ANALYST, PASSWORD, "analyst", full_name="Phạm Phân Tích")
        catalogue.create(s, {"name": "Phần mềm ERP Hoa Mai", "provider": "Nhà cung cấp thử",
                             "category": "erp", "criteria": ["erp", "crm", "cloud"]})


def log_in(page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_test_id("current-user")).to_be_visible()


def answer(page, criteria: list[str], option_for) -> None:
    for code in criteria:
        box = page.locator(f'fieldset[data-criterion="{code}"]')
        box.locator("input[type=radio]").nth(option_for(box)).check()


def test_enterprise_fills_half_comes_back_finishes_and_sees_its_result(page, live_server, accounts):
    log_in(page, ENTERPRISE)
    page.get_by_role("link", name="Chuyển đổi số").click()
    page.get_by_role("link", name="Doanh nghiệp tự đánh giá").first.click()
    page.get_by_label("Tên doanh nghiệp").fill("Công ty TNHH Hoa Sen")
    page.get_by_label("Ngành").select_option("trade")
    page.get_by_label("Quy mô").select_option("small")
    page.get_by_label("Tỉnh, thành phố").select_option("01")
    page.get_by_role("button", name="Lưu").click()
    expect(page.get_by_text("Đã lưu hồ sơ doanh nghiệp.")).to_be_visible()
    page.get_by_test_id("start").click()

    criteria = page.locator("fieldset[data-criterion]")
    codes = [criteria.nth(i).get_attribute("data-criterion") for i in range(criteria.count())]
    assert len(codes) == 60
    half = codes[:30]
    # the last-but-one option of each (the highest on a yes/no question)
    answer(page, half, lambda box: max(box.locator("input").count() - 2, 1))
    # autosaved, no button pressed
    expect(page.get_by_test_id("save-status")).to_have_attribute("data-answered", "30")

    page.goto("/")  # leave
    page.goto("/chuyen-doi-so/doanh-nghiep")
    expect(page.get_by_test_id("resume")).to_contain_text("30/60")
    page.get_by_test_id("resume").click()
    for code in (half[0], half[-1]):
        expect(page.locator(f'fieldset[data-criterion="{code}"] input:checked')).to_have_count(1)
    expect(page.locator(f'fieldset[data-criterion="{codes[30]}"] input:checked')).to_have_count(0)

    # submitting now is refused, naming what is missing
    page.get_by_test_id("submit").click()
    expect(page.get_by_test_id("missing")).to_contain_text("còn 30 tiêu chí")

    answer(page, codes[30:], lambda box: max(box.locator("input").count() - 2, 1))
    page.get_by_test_id("submit").click()

    level = page.get_by_test_id("level")
    expect(level).to_contain_text("Mức")
    assert level.get_attribute("data-level") in {"3", "4", "5"}
    expect(page.get_by_test_id("radar").locator("canvas, svg").first).to_be_visible()
    expect(page.get_by_test_id("pillars").locator("tbody tr")).to_have_count(6)
    expect(page.get_by_test_id("advice").locator("ol li").first).to_be_visible()
    expect(page.get_by_test_id("solutions")).to_contain_text("Phần mềm ERP Hoa Mai")


def test_analyst_uploads_a_provincial_file_and_sees_the_ranking(page, live_server, accounts, tmp_path):
    bad = tmp_path / "dti_loi.csv"
    bad.write_text(HEADER + "\nĐà Nẵng,2022,0.8,0.8,0.8,0.8,1.8,0.5,0.8,0.8,0.8\n", encoding="utf-8")
    good = tmp_path / "dti_2022.csv"
    good.write_text("\n".join([HEADER,
                               "Đà Nẵng,2022,0.8,0.8,0.8,0.8,0.8,0.5,0.8,0.8,0.8",
                               "Hà Nội,2022,0.6,0.6,0.6,0.6,0.6,0.5,0.6,0.6,0.6",
                               "Bắc Ninh,2022,0.7,0.7,0.7,0.7,0.7,0.5,0.7,0.7,0.7"]) + "\n", encoding="utf-8")
    log_in(page, ANALYST)
    page.goto("/chuyen-doi-so/dti/tai-len")
    page.get_by_label("Tệp CSV").set_input_files(str(bad))
    page.get_by_role("button", name="Tải lên và xếp hạng").click()
    errors = page.get_by_test_id("import-errors")
    expect(errors).to_contain_text("cybersecurity")
    expect(errors.locator("tbody tr td").first).to_have_text("2")

    page.get_by_label("Tệp CSV").set_input_files(str(good))
    page.get_by_role("button", name="Tải lên và xếp hạng").click()
    page.get_by_test_id("upload-done").get_by_role("link").click()
    rows = page.get_by_test_id("ranking").locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("Đà Nẵng")
    expect(rows.nth(1)).to_contain_text("Bắc Ninh")
    expect(page.get_by_test_id("ranking-chart").locator("canvas, svg").first).to_be_visible()
