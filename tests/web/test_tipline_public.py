"""The fake-news centre's public pages: report form, receipt, status, verdicts, feed, figures."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import func, select

from ictgov.auth import User
from ictgov.db import session_scope
from ictgov.tipline import workflow
from ictgov.tipline.models import Case, Evidence, Report
from ictgov.tipline.publish import missing_fields
from ictgov.tipline.ratelimit import ReportLimits, SlidingWindowLimiter
from ictgov.web.routes import tipline_public

from .conftest import csrf_token

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
CLAIM = "Bộ Y tế khuyến cáo uống nước chanh nóng mỗi sáng để chữa khỏi bệnh ung thư trong 10 ngày"
FOLDED_QUERY = "nuoc chanh nong ung thu"
LINK = "https://www.facebook.com/share/p/abc123?fbclid=xyz"
PHONE = "0912345678"
RECEIPT_RE = re.compile(r"^/phan-anh/(TG-[0-9A-Z]{8})$")


def n_rows(engine, model) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(model))


def post_report(client, lang: str | None = None, files=None, **fields):
    data = {"text": CLAIM, "links": LINK, "platform": "facebook", "category": "health", **fields}
    data["csrf_token"] = csrf_token(client, "/phan-anh")
    url = "/phan-anh" + (f"?lang={lang}" if lang else "")
    return client.post(url, data=data, files=files or [])


def test_report_with_png_evidence_gets_a_receipt_after_it_is_stored(client, engine):
    form = client.get("/phan-anh")
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.text
    assert "Phản ánh tin giả" in form.text and 'name="website"' in form.text
    assert "Đường link lừa đảo" in client.get("/phan-anh").text
    assert "Report fake news" in client.get("/phan-anh?lang=en").text
    r = post_report(client, "vi", files=[("files", ("man-hinh.png", PNG, "image/png"))],
                    contact_phone=PHONE, consent="1")
    assert r.status_code == 303, r.text
    receipt = RECEIPT_RE.match(r.headers["location"]).group(1)
    with session_scope(engine) as s:
        report = s.scalar(select(Report))
        assert report.receipt == receipt and report.channel == "web" and report.category == "health"
        assert report.contact_phone == PHONE and report.consent
        assert [(e.filename, e.media_type, e.size) for e in report.evidence] == [("man-hinh.png", "image/png", len(PNG))]
    page = client.get(r.headers["location"])
    assert page.status_code == 200
    assert f'data-testid="receipt">{receipt}<' in page.text and "Đã nhận phản ánh" in page.text
    assert PHONE not in page.text and "no-store" in page.headers["cache-control"]


def test_bad_fields_are_shown_by_the_field_and_nothing_is_stored(client, engine):
    r = post_report(client, text="x", category="gossip", contact_email="not-an-email", contact_phone=PHONE)
    assert r.status_code == 422
    page = r.text
    for name in ("text", "category", "contact_email", "consent"):
        assert f'class="error" id="e-{name}"' in page
    assert "ít nhất 5 ký tự" in page and "Không phải địa chỉ thư điện tử" in page
    assert "not-an-email" in page  # what was typed is kept
    # A program renamed to .jpg is refused from its bytes, in English when asked.
    r = post_report(client, "en", files=[("files", ("photo.jpg", EXE, "image/jpeg"))])
    assert r.status_code == 422 and 'id="e-files"' in r.text
    assert "photo.jpg: not a jpg, png, pdf, mp4 or mp3 file" in r.text
    assert n_rows(engine, Report) == 0 and n_rows(engine, Case) == 0 and n_rows(engine, Evidence) == 0


def test_honeypot_looks_accepted_but_stores_nothing(client, engine):
    r = post_report(client, website="http://spam.example")
    assert r.status_code == 303 and RECEIPT_RE.match(r.headers["location"])
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and 'data-testid="receipt"' in page.text
    assert n_rows(engine, Report) == 0 and n_rows(engine, Case) == 0


def test_rate_limits_per_address_and_per_contact(client, app, engine, monkeypatch):
    for _ in range(10):  # every attempt counts, a rejected one too
        assert post_report(client, text="").status_code == 422
    r = post_report(client)
    assert r.status_code == 429 and "Retry-After" in r.headers and 'data-testid="refused"' in r.text
    assert n_rows(engine, Report) == 0
    app.state.tipline_limits = ReportLimits(per_ip=100, per_contact=2)
    for i in range(2):
        assert post_report(client, text=f"{CLAIM} {i}", contact_email="A@x.vn", consent="1").status_code == 303
    r = post_report(client, text=CLAIM + " 3", contact_email="a@x.vn", consent="1", lang="en")
    assert r.status_code == 429 and "contact details" in r.text
    assert n_rows(engine, Report) == 2
    # Bodies over the limit are refused before they are parsed, with or without a length.
    monkeypatch.setattr(tipline_public, "MAX_BODY", 4000)
    r = post_report(client, contact_email="b@x.vn", consent="1",
                    files=[("files", ("big.png", PNG + b"\x00" * 5000, "image/png"))])
    assert r.status_code == 413 and 'data-testid="refused"' in r.text
    r = client.post("/phan-anh", content=iter([b"x" * 3000, b"y" * 3000]),
                    headers={"content-type": "multipart/form-data; boundary=zzz"})
    assert r.status_code == 413
    assert n_rows(engine, Report) == 2


def test_sliding_window_limiter():
    lim = SlidingWindowLimiter(2, 60)
    assert lim.allow("k", now=0) == 0 and lim.allow("k", now=1) == 0
    assert lim.allow("k", now=2) == pytest.approx(58)
    assert lim.allow("k", now=60.5) == 0  # the first event left the window


def test_status_lookup_shows_the_state_never_the_contact(client, engine):
    r = post_report(client, contact_phone=PHONE, contact_email="nguoi.bao@example.vn", consent="1")
    receipt = RECEIPT_RE.match(r.headers["location"]).group(1)
    assert "TG-XXXXXXXX" in client.get("/phan-anh/tra-cuu").text
    r = client.get(f"/phan-anh/tra-cuu?receipt={receipt.lower()}%20")
    assert r.status_code == 303 and r.headers["location"] == f"/phan-anh/{receipt}"
    page = client.get(f"/phan-anh/{receipt}?lang=en").text
    assert 'data-state="received"' in page and "Received, waiting to be sorted" in page
    for secret in (PHONE, "nguoi.bao", "+84"):
        assert secret not in page
    missing = client.get("/phan-anh/TG-ZZZZZZZZ")
    assert missing.status_code == 404 and 'action="/phan-anh/tra-cuu"' in missing.text
    assert "TG-ZZZZZZZZ" in missing.text


def _publish_the_case(engine, make_user) -> str:
    fc_id = make_user("kiemchung", "fact_checker")
    with session_scope(engine) as s:
        fc = s.get(User, fc_id)
        case = s.scalar(select(Case))
        workflow.triage(s, case, fc)
        workflow.assign(s, case, fc, fc)
        workflow.start(s, case, fc)
        workflow.decide(s, case, fc, "fake", "Bộ Y tế không đưa ra khuyến cáo này; nước chanh không chữa ung thư.",
                        summary_en="The Ministry of Health issued no such advice; lemon water does not cure cancer.",
                        sources=["https://moh.gov.vn/thong-cao", "Công văn số 12/BYT"])
        workflow.publish(s, case, fc)
        s.flush()
        return case.slug


def test_published_verdict_page_search_feed_and_answer_to_a_second_report(client, engine, make_user):
    first = post_report(client)
    assert first.status_code == 303
    slug = _publish_the_case(engine, make_user)

    listing = client.get("/tin-gia").text
    assert f'href="/tin-gia/{slug}"' in listing and "Tin giả" in listing
    found = client.get("/tin-gia", params={"q": FOLDED_QUERY}).text
    assert f'href="/tin-gia/{slug}"' in found
    assert f'href="/tin-gia/{slug}"' not in client.get("/tin-gia", params={"q": "xe may SH"}).text
    assert f'href="/tin-gia/{slug}"' in client.get("/tin-gia", params={"category": "health"}).text
    assert f'href="/tin-gia/{slug}"' not in client.get("/tin-gia", params={"category": "scam_links"}).text

    page = client.get(f"/tin-gia/{slug}")
    assert page.status_code == 200
    assert 'href="https://moh.gov.vn/thong-cao"' in page.text and "Công văn số 12/BYT" in page.text
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', page.text, re.DOTALL)
    review = json.loads(ld.group(1))
    assert review["@type"] == "ClaimReview" and missing_fields(review) == []
    assert review["reviewRating"]["alternateName"] == "Tin giả"
    assert review["url"].endswith(f"/tin-gia/{slug}")
    en = client.get(f"/tin-gia/{slug}?lang=en").text
    assert "Fake news" in en and "lemon water does not cure cancer" in en
    assert client.get("/tin-gia/999-khong-co").status_code == 404

    feed = client.get("/tin-gia/feed.atom?lang=vi")  # the cookie says en since the page above
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = root.findall("a:entry", ns)
    assert len(entries) == 1
    assert entries[0].find("a:link", ns).get("href").endswith(f"/tin-gia/{slug}")
    assert entries[0].find("a:updated", ns).text.endswith("Z")
    assert entries[0].find("a:summary", ns).text.startswith("Bộ Y tế không")

    second = post_report(client, links="")
    assert second.status_code == 303
    page = client.get(second.headers["location"]).text
    assert 'data-testid="verdict"' in page and f'href="/tin-gia/{slug}"' in page and 'data-state="published"' in page
    receipt = RECEIPT_RE.match(first.headers["location"]).group(1)
    assert 'data-state="published"' in client.get(f"/phan-anh/{receipt}").text

    stats = client.get("/api/tipline/stats").json()
    assert stats["reports"]["total"] == 2 and stats["reports"]["by_channel"]["web"] == 2
    assert stats["reports"]["by_category"]["health"] == 2
    assert stats["cases"] == {"total": 1, "open": 0, "published": 1, "closed_out_of_scope": 0}
    assert stats["verdicts"]["by_verdict"]["fake"] == 1
    assert stats["verdicts"]["by_category"] == [{"category": "health", "verdict": "fake", "count": 1}]
    assert len(stats["verdicts"]["by_month"]) == 1 and stats["median_days_to_verdict"] >= 0
    page = client.get("/tin-gia/thong-ke")
    assert page.status_code == 200
    assert 'data-testid="reports-total">2<' in page.text and 'data-testid="verdicts-total">1<' in page.text
    assert page.text.count("data-vega-spec=") == 3 and "/static/vendor/vega-embed.min.js" in page.text
    for spec in re.findall(r'<script type="application/json" id="spec-[^"]+">(.*?)</script>', page.text, re.DOTALL):
        assert json.loads(spec)["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
    assert "Verdicts by category" in client.get("/tin-gia/thong-ke?lang=en").text


def test_unpublished_case_has_no_public_page_and_empty_stats_render(client, engine):
    post_report(client)
    with session_scope(engine) as s:
        case = s.scalar(select(Case))
        case.slug = "1-chua-cong-bo"
    assert client.get("/tin-gia/1-chua-cong-bo").status_code == 404
    assert client.get("/tin-gia").status_code == 200
    page = client.get("/tin-gia/thong-ke")
    assert page.status_code == 200 and "data-vega-spec=\"#spec-verdicts" not in page.text
    ET.fromstring(client.get("/tin-gia/feed.atom").content)


def test_reach_figure_is_stored_and_raises_the_case_priority(client, engine, make_user):
    from ictgov.tipline.workflow import queue

    bad = post_report(client, "en", reach="lots")
    assert bad.status_code == 422 and 'id="e-reach"' in bad.text and n_rows(engine, Report) == 0
    r = post_report(client, "vi", reach="25.000")
    assert r.status_code == 303, r.text
    quiet = post_report(client, "vi", text="Bão số 9 sẽ đổ bộ vào Hà Nội tối nay với sức gió giật cấp 17",
                        category="health", links="")
    assert quiet.status_code == 303
    with session_scope(engine) as s:
        reaches = sorted((r.reach or 0) for r in s.scalars(select(Report)))
        assert reaches == [0, 25000]
        cases = queue(s)
        # same category, one report each: the one seen 25,000 times comes first
        assert cases[0].reports[0].reach == 25000 and cases[0].priority > cases[1].priority


def test_public_verdict_pages_are_kept_until_the_centre_changes(client, engine, make_user):
    # A verdict that spreads sends many visitors to one page: they get it without a query,
    # and a new publication or correction shows on the next one.
    from ictgov.web import kept

    assert post_report(client).status_code == 303
    slug = _publish_the_case(engine, make_user)
    kept.TIPLINE.clear()
    first = client.get(f"/tin-gia/{slug}")
    assert first.status_code == 200
    assert any(k[1] == f"/tin-gia/{slug}" for k in kept.TIPLINE._pages)
    assert kept.TIPLINE.get(next(k for k in kept.TIPLINE._pages if k[1] == f"/tin-gia/{slug}"),
                            recheck_s=3600) == first.content
    with session_scope(engine) as s:
        case = s.scalar(select(Case).where(Case.slug == slug))
        case.summary = "Nội dung đính chính mới của trung tâm"
    again = client.get(f"/tin-gia/{slug}")
    assert "Nội dung đính chính mới của trung tâm" in again.text  # this process wrote: not kept
    assert client.get("/tin-gia/thong-ke").status_code == 200 and client.get("/tin-gia").status_code == 200
    assert client.get("/tin-gia", params={"category": "nonsense"}).status_code == 200
    paths = {(k[1], k[2]) for k in kept.TIPLINE._pages}
    assert ("/tin-gia", ()) in paths and ("/tin-gia/thong-ke", ()) in paths
    assert not any(p == "/tin-gia" and params for p, params in paths)  # junk category: not kept
