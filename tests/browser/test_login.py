"""Logging in through the real form in chromium, switching language, logging out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def log_in(page, live_server) -> None:
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(live_server.username)
    page.get_by_label("Mật khẩu").fill(live_server.password)
    page.get_by_role("button", name="Đăng nhập").click()


def test_login_switch_language_and_logout(page, live_server):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("link", name="Đăng nhập")).to_be_visible()

    # A wrong password: the form says so and nothing breaks.
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(live_server.username)
    page.get_by_label("Mật khẩu").fill("not-the-password")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("alert")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")

    log_in(page, live_server)
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.get_by_test_id("current-user")).to_contain_text(live_server.full_name)
    expect(page.get_by_role("link", name="Quản trị")).to_be_visible()

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("link", name="Dashboard")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/\?lang=en$"))

    page.get_by_role("link", name="Tiếng Việt").click()
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.get_by_role("link", name="Tổng quan")).to_be_visible()

    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_text("Bạn đã đăng xuất.")).to_be_visible()
    expect(page.get_by_role("link", name="Đăng nhập")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_have_count(0)


def test_protected_page_sends_to_login_and_back(page, live_server):
    page.goto("/admin/audit")
    expect(page).to_have_url(re.compile(r"/login\?next=/admin/audit$"))
    page.get_by_label("Tên đăng nhập").fill(live_server.username)
    page.get_by_label("Mật khẩu").fill(live_server.password)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page).to_have_url(re.compile(r"/admin/audit$"))
    expect(page.get_by_role("heading", name="Nhật ký thay đổi")).to_be_visible()


def test_admin_creates_an_account_in_the_browser(page, live_server):
    log_in(page, live_server)
    page.goto("/admin/users")
    form = page.locator("form[action='/admin/users']")
    form.get_by_label("Tên đăng nhập").fill("nv_phan_tich")
    form.get_by_label("Họ và tên").fill("Phạm Thu Hà")
    form.get_by_label("Mật khẩu").fill("short")
    form.get_by_label("Vai trò").select_option("analyst")
    # The browser's own minimum-length check is not set, so the server answers.
    form.get_by_role("button", name="Tạo tài khoản").click()
    expect(page.locator("#e-password")).to_contain_text("Mật khẩu cần ít nhất 8 ký tự.")
    form = page.locator("form[action='/admin/users']")
    form.get_by_label("Mật khẩu").fill("a-long-enough-password")
    form.get_by_role("button", name="Tạo tài khoản").click()
    expect(page.get_by_text("Đã tạo tài khoản nv_phan_tich.")).to_be_visible()
    expect(page.get_by_role("cell", name="Phạm Thu Hà")).to_be_visible()
