"""Under the Content-Security-Policy (no inline script, no eval) every page still works.

The `page` fixture fails a test on any console error, and chromium reports every script or
style the policy refuses as one, so these pages are checked against the policy itself.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_api_docs_render_under_the_policy(page):
    response = page.goto("/docs")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.locator("#swagger-ui")).to_contain_text("/api/tipline/reports")


def test_an_inline_script_is_refused(browser, live_server):
    """The policy is really enforced: a script injected into the page does not run."""
    context = browser.new_context(base_url=live_server.base_url)
    try:
        page = context.new_page()
        refused = []
        page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto("/tin-gia")
        page.evaluate("""() => { const s = document.createElement('script');
                                  s.textContent = 'window.__injected = 1'; document.body.appendChild(s); }""")
        assert page.evaluate("() => window.__injected") is None
        assert refused, "chromium did not report the refusal"
    finally:
        context.close()
