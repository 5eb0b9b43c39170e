"""Public pages of the fake-news centre: report form, receipt and status, verdicts, feed, figures.

Vietnamese first (``?lang=en`` for English); every page works without JavaScript (the
statistics charts are an addition to their tables). Nothing here shows a reporter's
contact: the receipt page shows only what ``intake.status_of`` returns.

Abuse limits on the report form (``POST /phan-anh``):

- a body over ``MAX_BODY`` bytes is refused with 413 before it is parsed (its
  Content-Length, or a count of the bytes as they arrive when it is sent chunked);
- per client address and per contact, a sliding window (``tipline.ratelimit``) -> 429;
- a honeypot field (see ``HONEYPOT``).

Behind a reverse proxy run uvicorn with ``--proxy-headers`` so the client address is the
caller's, not the proxy's.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from ictgov.tipline import figures as tfig
from ictgov.tipline.feed import MEDIA_TYPE as ATOM_MEDIA_TYPE
from ictgov.tipline.feed import build_feed, latest_published
from ictgov.tipline.intake import (
    MAX_FILE_BYTES,
    MAX_FILES,
    MAX_TEXT,
    MAX_URLS,
    RECEIPT_ALPHABET,
    IntakeError,
    Submission,
    Upload,
    check,
    parse_reach,
    status_of,
)
from ictgov.tipline.models import CATEGORIES, PLATFORMS, VERDICTS, Case
from ictgov.tipline.publish import claim_review, search_verdicts
from ictgov.tipline.ratelimit import ReportLimits
from ictgov.tipline.workflow import VERDICT_LABELS
from ictgov.tipline.writer import NotStored, writer_for
from ictgov.web import kept
from ictgov.web.body_limit import body_limited_route
from ictgov.web.deps import (LangDep, SessionDep, SettingsDep, ensure, get_lang, load_user, render, render_shared,
                             require, require_apart, shared_page)
from ictgov.web.i18n import register, t

# Five files of 5 MB each, plus the text fields and the multipart framing, with room to spare.
MAX_BODY = 30 * 1024 * 1024
# A field a person never sees nor fills (hidden off-screen, skipped by the keyboard and by
# screen readers, autocomplete off); simple bots fill every input. A filled honeypot gets
# the same answer as an accepted report (a redirect to a receipt page), so the bot learns
# nothing it could adapt to, but nothing is stored: no row, no file, no counted figure.
HONEYPOT = "website"
DECOY_KEY = "tipline_decoy"  # the decoy receipt, kept in the visitor's signed session only
JUST_SUBMITTED = "tipline_submitted"
VERDICT_LIST_LIMIT = 100

PUBLIC_STATE = {  # the case's state as the reporter sees it
    "new": "received", "triaged": "received",
    "assigned": "verifying", "verifying": "verifying", "decided": "verifying",
    "published": "published",
    "closed_duplicate": "verifying",  # its reports moved to the original case; not shown
    "closed_out_of_scope": "out_of_scope",
}
VERDICT_BADGE = {"fake": "badge-off", "false": "badge-off", "true": "badge-ok", "unverifiable": ""}


router = APIRouter(tags=["tipline"], route_class=body_limited_route(
    lambda: MAX_BODY, lambda request: _refused(request, 413), "tipline.public.too_large"))


def _pairs(prefix: str, labels: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    return {f"{prefix}.{code}": pair for code, pair in labels.items()}


register({
    **_pairs("tipline.public.category", tfig.CATEGORY_LABELS),
    **_pairs("tipline.public.platform", tfig.PLATFORM_LABELS),
    **_pairs("tipline.public.channel", tfig.CHANNEL_LABELS),
    **_pairs("tipline.public.verdict", VERDICT_LABELS),
    "tipline.public.centre": ("Trung tâm Xử lý tin giả", "Anti-Fake News Center"),
    "tipline.public.subnav": ("Trung tâm Xử lý tin giả", "Anti-Fake News Center"),
    "tipline.public.nav.report": ("Phản ánh tin giả", "Report fake news"),
    "tipline.public.nav.lookup": ("Tra cứu", "Look up"),
    "tipline.public.nav.verdicts": ("Tin giả đã xác minh", "Verified fake news"),
    "tipline.public.nav.stats": ("Thống kê", "Statistics"),
    # report form
    "tipline.public.form.title": ("Phản ánh tin giả, tin sai sự thật", "Report fake or false news"),
    "tipline.public.form.intro": (
        ("Gửi cho Trung tâm nội dung đáng ngờ bạn đã thấy. Mỗi phản ánh được ghi nhận, gộp với các "
        "phản ánh cùng nội dung và chuyển cơ quan có thẩm quyền xác minh. Bạn nhận một mã phản ánh "
        "để tra cứu kết quả. Có thể gọi tổng đài 18008108."),
        ("Send the centre suspect content you have seen. Every report is recorded, grouped with "
        "reports of the same claim, and passed to the competent agency to verify. You get a "
        "receipt code to look the outcome up. You can also call the hotline 18008108.")),
    "tipline.public.form.required_note": ("Các trường có dấu * là bắt buộc.", "Fields marked * are required."),
    "tipline.public.form.text": ("Nội dung bạn thấy *", "The content you saw *"),
    "tipline.public.form.text_hint": ("Chép lại hoặc mô tả nội dung (ít nhất 5 ký tự, tối đa {max}).",
                                      "Copy or describe the content (at least 5 characters, at most {max})."),
    "tipline.public.form.links": ("Đường link nơi bạn thấy", "Links where you saw it"),
    "tipline.public.form.links_hint": ("Mỗi dòng một đường link, tối đa {max}.", "One link per line, at most {max}."),
    "tipline.public.form.platform": ("Nền tảng", "Platform"),
    "tipline.public.form.category": ("Lĩnh vực", "Category"),
    "tipline.public.form.files": ("Tệp bằng chứng", "Evidence files"),
    "tipline.public.form.reach": ("Số lượt xem hoặc chia sẻ bạn thấy", "Views or shares you saw"),
    "tipline.public.form.reach_hint": ("Không bắt buộc; giúp xử lý trước nội dung lan rộng.",
                                       "Optional; helps handle widely spread content first."),
    "tipline.public.err.reach": ("hãy nhập một số nguyên, ví dụ 12000", "enter a whole number, such as 12000"),
    "tipline.public.form.files_hint": (
        "Tối đa {n} tệp ảnh chụp màn hình, PDF, video hoặc âm thanh (jpg, png, pdf, mp4, mp3), mỗi tệp tối đa {mb} MB.",
        "Up to {n} screenshots, PDFs, videos or recordings (jpg, png, pdf, mp4, mp3), {mb} MB each at most."),
    "tipline.public.form.contact": ("Liên hệ (không bắt buộc)", "Contact (optional)"),
    "tipline.public.form.contact_hint": (
        ("Để lại số điện thoại hoặc e-mail nếu bạn muốn được báo kết quả. Thông tin này chỉ cán bộ "
        "xử lý được xem và không bao giờ được công bố."),
        ("Leave a phone number or e-mail if you want to be told the outcome. Only the staff handling "
        "reports see it; it is never published.")),
    "tipline.public.form.phone": ("Số điện thoại", "Phone number"),
    "tipline.public.form.email": ("Thư điện tử", "E-mail"),
    "tipline.public.form.consent": (
        "Tôi đồng ý để Trung tâm lưu thông tin liên hệ này và báo kết quả xử lý cho tôi.",
        "I agree that the centre keeps these contact details and tells me the outcome."),
    "tipline.public.form.honeypot": ("Không điền vào ô này", "Leave this field empty"),
    "tipline.public.form.submit": ("Gửi phản ánh", "Send the report"),
    "tipline.public.form.errors": ("Phản ánh chưa được gửi. Hãy sửa các trường được đánh dấu.",
                                   "The report was not sent. Correct the fields marked below."),
    "tipline.public.form.files_again": ("Vì lý do an toàn, hãy chọn lại các tệp bằng chứng.",
                                        "For safety, choose your evidence files again."),
    # field errors
    "tipline.public.err.text_short": ("Bắt buộc: hãy mô tả nội dung bạn thấy (ít nhất 5 ký tự).",
                                      "Required: describe the content you saw (at least 5 characters)."),
    "tipline.public.err.text_long": ("Tối đa {max} ký tự.", "At most {max} characters."),
    "tipline.public.err.urls_many": ("Tối đa {max} đường link.", "At most {max} links."),
    "tipline.public.err.url_bad": ("{url} không phải là một đường link.", "{url} is not a link."),
    "tipline.public.err.choice": ("Hãy chọn một giá trị trong danh sách.", "Choose one of the listed values."),
    "tipline.public.err.phone": ("Không phải số điện thoại Việt Nam.", "Not a Vietnamese phone number."),
    "tipline.public.err.email": ("Không phải địa chỉ thư điện tử.", "Not an e-mail address."),
    "tipline.public.err.consent": (
        "Cần sự đồng ý của bạn để lưu thông tin liên hệ và báo kết quả (hoặc xoá thông tin liên hệ).",
        "Needed to keep your contact details and tell you the outcome (or remove the contact details)."),
    "tipline.public.err.files_many": ("Tối đa {max} tệp.", "At most {max} files."),
    "tipline.public.err.file_big": ("{name}: lớn hơn {mb} MB.", "{name}: larger than {mb} MB."),
    "tipline.public.err.file_type": (
        "{name}: không phải tệp jpg, png, pdf, mp4 hoặc mp3 (kiểm tra theo nội dung tệp, không theo tên).",
        "{name}: not a jpg, png, pdf, mp4 or mp3 file (checked from its content, not its name)."),
    # limits
    "tipline.public.too_large": ("Dữ liệu gửi lên quá lớn (tối đa {mb} MB cho cả phản ánh).",
                                 "What was sent is too large (at most {mb} MB for the whole report)."),
    "tipline.public.too_large.title": ("Phản ánh quá lớn", "Report too large"),
    "tipline.public.limited.title": ("Tạm thời chưa nhận thêm phản ánh", "No more reports for now"),
    "tipline.public.limited.ip": (
        ("Đã có quá nhiều phản ánh gửi từ địa chỉ mạng của bạn. Hãy thử lại sau {minutes} phút, "
        "hoặc gọi tổng đài 18008108."),
        ("Too many reports have been sent from your network address. Try again in {minutes} minutes, "
        "or call the hotline 18008108.")),
    "tipline.public.limited.contact": (
        ("Đã có quá nhiều phản ánh với thông tin liên hệ này. Hãy thử lại sau {minutes} phút, "
        "hoặc gọi tổng đài 18008108."),
        ("Too many reports have been sent with these contact details. Try again in {minutes} minutes, "
        "or call the hotline 18008108.")),
    "tipline.public.back_to_form": ("Quay lại biểu mẫu phản ánh", "Back to the report form"),
    # receipt and status
    "tipline.public.receipt.thanks": ("Đã nhận phản ánh của bạn", "Your report has been received"),
    "tipline.public.receipt.title": ("Phản ánh {receipt}", "Report {receipt}"),
    "tipline.public.receipt.code": ("Mã phản ánh", "Receipt code"),
    "tipline.public.receipt.keep": (
        "Hãy ghi lại mã này: dùng nó để tra cứu kết quả xử lý, trên trang này hoặc qua tổng đài 18008108.",
        "Write this code down: use it to look the outcome up, on this site or through the hotline 18008108."),
    "tipline.public.receipt.received_at": ("Thời điểm tiếp nhận", "Received"),
    "tipline.public.receipt.state": ("Tình trạng", "Status"),
    "tipline.public.state.received": ("Đã tiếp nhận, đang chờ phân loại", "Received, waiting to be sorted"),
    "tipline.public.state.verifying": ("Đang xác minh", "Being verified"),
    "tipline.public.state.published": ("Đã có kết luận", "Verdict published"),
    "tipline.public.state.out_of_scope": ("Không thuộc phạm vi xử lý của Trung tâm",
                                          "Outside the centre's remit"),
    "tipline.public.next.title": ("Các bước tiếp theo", "What happens next"),
    "tipline.public.next.1": ("Phản ánh được gộp với các phản ánh cùng nội dung và phân loại theo mức độ ưu tiên.",
                              "Your report is grouped with reports of the same claim and prioritised."),
    "tipline.public.next.2": ("Kiểm chứng viên cùng cơ quan có thẩm quyền xác minh nội dung.",
                              "A fact-checker verifies the claim with the competent agency."),
    "tipline.public.next.3": ("Kết luận được công bố trên trang Tin giả đã xác minh; nếu bạn để lại liên hệ, Trung tâm sẽ báo cho bạn.",
                              "The verdict is published under Verified fake news; if you left a contact, the centre tells you."),
    "tipline.public.matched": ("Nội dung này đã được Trung tâm xác minh:", "The centre has already verified this claim:"),
    "tipline.public.read_verdict": ("Xem kết luận đầy đủ", "Read the full verdict"),
    # lookup
    "tipline.public.lookup.title": ("Tra cứu phản ánh", "Look up a report"),
    "tipline.public.lookup.intro": ("Nhập mã phản ánh bạn nhận được khi gửi (dạng TG-XXXXXXXX).",
                                    "Enter the receipt code you got when you sent the report (like TG-XXXXXXXX)."),
    "tipline.public.lookup.receipt": ("Mã phản ánh", "Receipt code"),
    "tipline.public.lookup.submit": ("Tra cứu", "Look up"),
    "tipline.public.lookup.not_found": ("Không có phản ánh nào với mã {receipt}. Hãy kiểm tra lại mã.",
                                        "No report has the receipt code {receipt}. Check the code."),
    # verdicts
    "tipline.public.verdicts.title": ("Tin giả đã xác minh", "Verified fake news"),
    "tipline.public.verdicts.intro": (
        ("Kết luận của Trung tâm về các nội dung được phản ánh, sau khi xác minh với cơ quan có thẩm quyền. "
        "Tìm kiếm không phân biệt dấu."),
        ("The centre's verdicts on reported claims, verified with the competent agencies. "
        "Search ignores diacritics.")),
    "tipline.public.verdicts.q": ("Tìm kiếm", "Search"),
    "tipline.public.verdicts.all_categories": ("Mọi lĩnh vực", "All categories"),
    "tipline.public.verdicts.search": ("Tìm", "Search"),
    "tipline.public.verdicts.count": ("{n} kết luận", "{n} verdict(s)"),
    "tipline.public.verdicts.none": ("Không có kết luận nào phù hợp.", "No verdict matches."),
    "tipline.public.verdicts.feed": ("Nguồn tin Atom", "Atom feed"),
    "tipline.public.verdict.claim": ("Nội dung được phản ánh", "The claim"),
    "tipline.public.verdict.rating": ("Kết luận", "Verdict"),
    "tipline.public.verdict.summary": ("Thông tin xác minh", "What the centre found"),
    "tipline.public.verdict.sources": ("Nguồn", "Sources"),
    "tipline.public.verdict.category": ("Lĩnh vực", "Category"),
    "tipline.public.verdict.published": ("Ngày công bố", "Published"),
    "tipline.public.verdict.reports": ("Số phản ánh", "Reports received"),
    "tipline.public.verdict.not_found": ("Không có kết luận này.", "No such verdict."),
    # statistics
    "tipline.public.stats.title": ("Thống kê của Trung tâm Xử lý tin giả", "Anti-Fake News Center statistics"),
    "tipline.public.stats.intro": ("Số liệu tính trực tiếp từ các phản ánh và kết luận đã lưu; tháng theo giờ Việt Nam.",
                                   "Figures computed from the stored reports and verdicts; months in Vietnam time."),
    "tipline.public.stats.reports": ("Phản ánh đã nhận", "Reports received"),
    "tipline.public.stats.cases": ("Nội dung (vụ việc)", "Claims (cases)"),
    "tipline.public.stats.cases_open": ("Đang xử lý", "In progress"),
    "tipline.public.stats.verdicts": ("Kết luận đã công bố", "Verdicts published"),
    "tipline.public.stats.median": ("Thời gian trung vị đến khi có kết luận", "Median time to verdict"),
    "tipline.public.stats.days": ("{n} ngày", "{n} days"),
    "tipline.public.stats.median_note": ("Từ phản ánh đầu tiên về nội dung đến khi công bố kết luận ({n} kết luận).",
                                         "From a claim's first report to its published verdict ({n} verdicts)."),
    "tipline.public.stats.by_channel": ("Phản ánh theo kênh", "Reports by channel"),
    "tipline.public.stats.by_category": ("Theo lĩnh vực", "By category"),
    "tipline.public.stats.by_month": ("Theo tháng", "By month"),
    "tipline.public.stats.chart_reports": ("Phản ánh theo tháng", "Reports by month"),
    "tipline.public.stats.chart_verdicts_category": ("Kết luận theo lĩnh vực", "Verdicts by category"),
    "tipline.public.stats.chart_verdicts_month": ("Kết luận theo tháng", "Verdicts by month"),
    "tipline.public.stats.month": ("Tháng", "Month"),
    "tipline.public.stats.channel": ("Kênh", "Channel"),
    "tipline.public.stats.count": ("Số lượng", "Count"),
    "tipline.public.stats.total": ("Tổng", "Total"),
    "tipline.public.stats.json": ("Số liệu dạng JSON", "Figures as JSON"),
    "tipline.public.stats.no_data": ("Chưa có số liệu.", "No data yet."),
    "tipline.public.stats.chart_error": ("Không hiển thị được biểu đồ; số liệu có trong bảng.",
                                         "The chart could not be shown; the table has the figures."),
})


# --- helpers ---------------------------------------------------------------------------------


def _limits(request: Request) -> ReportLimits:
    limits = getattr(request.app.state, "tipline_limits", None)
    if limits is None:
        limits = request.app.state.tipline_limits = ReportLimits()
    return limits


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _options(prefix: str, codes: tuple[str, ...], lang: str) -> list[tuple[str, str]]:
    return [(c, t(f"{prefix}.{c}", lang)) for c in codes]


def _refused(request: Request, status: int, key: str | None = None, wait: float = 0.0) -> Response:
    """The 413 / 429 page: what was refused, and the way back."""
    lang = get_lang(request)
    minutes = max(1, int(wait // 60) + (1 if wait % 60 else 0))
    if status == 413:
        title = t("tipline.public.too_large.title", lang)
        text = t("tipline.public.too_large", lang, mb=MAX_BODY // (1024 * 1024))
        headers = {"Connection": "close"}
    else:
        title = t("tipline.public.limited.title", lang)
        text = t(key or "tipline.public.limited.ip", lang, minutes=minutes)
        headers = {"Retry-After": str(max(1, int(wait + 0.999)))}
    return render(request, "tipline/public/refused.html",
                  {"status": status, "title": title, "text": text}, status_code=status, headers=headers)


def _field_errors(errors: dict[str, str], lang: str) -> dict[str, str]:
    """The domain's field messages (English) in the page's language, where they are known."""
    out = {}
    for fieldname, msg in errors.items():
        text = msg
        if fieldname == "text":
            text = t("tipline.public.err.text_short" if msg.startswith("required") else "tipline.public.err.text_long",
                     lang, max=MAX_TEXT)
        elif fieldname == "urls" and msg.startswith("at most"):
            text = t("tipline.public.err.urls_many", lang, max=MAX_URLS)
        elif fieldname == "urls" and msg.endswith(" is not a link"):
            text = t("tipline.public.err.url_bad", lang, url=msg[: -len(" is not a link")])
        elif fieldname in ("platform", "category"):
            text = t("tipline.public.err.choice", lang)
        elif fieldname == "contact_phone":
            text = t("tipline.public.err.phone", lang)
        elif fieldname == "contact_email":
            text = t("tipline.public.err.email", lang)
        elif fieldname == "consent":
            text = t("tipline.public.err.consent", lang)
        elif fieldname == "reach":
            text = t("tipline.public.err.reach", lang)
        elif fieldname == "files":
            if msg.startswith("at most"):
                text = t("tipline.public.err.files_many", lang, max=MAX_FILES)
            elif msg.endswith(": larger than 5 MB"):
                text = t("tipline.public.err.file_big", lang, name=msg[: -len(": larger than 5 MB")],
                         mb=MAX_FILE_BYTES // (1024 * 1024))
            elif msg.endswith(" (checked from its content)") and ": not a " in msg:
                text = t("tipline.public.err.file_type", lang, name=msg.rsplit(": not a ", 1)[0])
        out[fieldname] = text
    return out


def _form_page(request: Request, values: dict[str, Any] | None = None, errors: dict[str, str] | None = None,
               status_code: int = 200, files_again: bool = False) -> Response:
    lang = get_lang(request)
    return render(request, "tipline/public/report.html", {
        "values": values or {"platform": "facebook", "category": "other"},
        "errors": errors or {},
        "files_again": files_again,
        "platforms": _options("tipline.public.platform", PLATFORMS, lang),
        "categories": _options("tipline.public.category", CATEGORIES, lang),
        "honeypot": HONEYPOT,
        "limits": {"text": MAX_TEXT, "urls": MAX_URLS, "files": MAX_FILES, "mb": MAX_FILE_BYTES // (1024 * 1024)},
    }, status_code=status_code)


def _decoy_receipt() -> str:
    return "TG-" + "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(8))


def _verdict_view(case: Case, lang: str) -> dict[str, Any]:
    i = 0 if lang == "vi" else 1
    return {
        "case": case,
        "label": VERDICT_LABELS[case.verdict][i],
        "badge": VERDICT_BADGE.get(case.verdict, ""),
        "summary": case.summary_en if lang == "en" and case.summary_en else case.summary,
        "category": t(f"tipline.public.category.{case.category}", lang)
        if case.category in CATEGORIES else case.category,
    }


def _published(db, slug: str) -> Case | None:
    return db.scalar(select(Case).where(Case.slug == slug, Case.state == "published"))


# --- report form -----------------------------------------------------------------------------


@router.get("/phan-anh", include_in_schema=False, dependencies=[require("tipline.report")])
def report_form(request: Request):
    return _form_page(request)


@router.post("/phan-anh", include_in_schema=False, dependencies=[require_apart("tipline.report")])
async def report_submit(request: Request, settings: SettingsDep, lang: LangDep):
    limits = _limits(request)
    # Every attempt counts (a form sent again after errors too): 10 per 10 minutes is
    # plenty for a person and stops a script.
    wait = limits.by_ip.allow(_client_ip(request))
    if wait:
        return _refused(request, 429, "tipline.public.limited.ip", wait)
    form = await request.form()  # already read (and size-limited) by the CSRF check

    def text_of(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    if text_of(HONEYPOT).strip():
        # A bot: looks accepted (same redirect to a receipt page), but nothing is stored.
        receipt = _decoy_receipt()
        request.session[DECOY_KEY] = receipt
        return RedirectResponse(f"/phan-anh/{receipt}", status_code=303)

    values = {
        "text": text_of("text"), "links": text_of("links"),
        "platform": text_of("platform") or "other", "category": text_of("category") or "other",
        "contact_phone": text_of("contact_phone").strip(), "contact_email": text_of("contact_email").strip(),
        "consent": text_of("consent") in ("1", "on", "true", "yes"),
        "reach": text_of("reach").strip(),
    }
    contact = ReportLimits.contact_keys(values["contact_phone"], values["contact_email"])
    wait = limits.contact_wait(contact)
    if wait:
        return _refused(request, 429, "tipline.public.limited.contact", wait)

    uploads = []
    for item in form.getlist("files"):
        if not isinstance(item, UploadFile) or not item.filename:
            continue  # an empty file input sends a part without a name
        data = await item.read(MAX_FILE_BYTES + 1)  # more than that is refused by the intake anyway
        uploads.append(Upload(filename=item.filename, data=data))

    reach, reach_error = parse_reach(values["reach"])
    sub = Submission(
        text=values["text"], urls=values["links"].split(), platform=values["platform"],
        category=values["category"], reach=reach, contact_phone=values["contact_phone"] or None,
        contact_email=values["contact_email"] or None, consent=values["consent"], files=uploads,
    )
    try:
        if reach_error:
            raise IntakeError({**check(sub, "web"), "reach": reach_error})
        # the receipt is shown only once the report is durably stored
        result = await writer_for(request.app).submit(sub, "web", evidence_dir=settings.data_dir / "evidence")
    except IntakeError as exc:
        return _form_page(request, values, _field_errors(exc.errors, lang), status_code=422,
                          files_again=bool(uploads))
    except NotStored:
        raise HTTPException(503, "tipline.err.not_stored", headers={"Retry-After": "5"}) from None
    limits.contact_hit(contact)
    receipt = result.receipt
    request.session[JUST_SUBMITTED] = receipt
    return RedirectResponse(f"/phan-anh/{receipt}", status_code=303)


# --- status ----------------------------------------------------------------------------------


@router.get("/phan-anh/tra-cuu", include_in_schema=False, dependencies=[require("tipline.report")])
def lookup(request: Request, receipt: str = ""):
    code = receipt.strip().upper()
    if code:
        return RedirectResponse(f"/phan-anh/{quote(code, safe='')}", status_code=303)
    return render(request, "tipline/public/lookup.html", {"receipt": "", "error": None})


@router.get("/phan-anh/{receipt}", include_in_schema=False, dependencies=[require("tipline.report")])
def receipt_page(request: Request, db: SessionDep, lang: LangDep, receipt: str):
    code = receipt.strip().upper()[:40]
    just = request.session.get(JUST_SUBMITTED) == code
    if just:
        request.session.pop(JUST_SUBMITTED, None)
    headers = {"Cache-Control": "no-store"}
    if code and request.session.get(DECOY_KEY) == code:
        status = {"receipt": code, "received_at": None, "state": "new", "verdict": None, "verdict_url": None}
        return render(request, "tipline/public/receipt.html",
                      {"status": status, "public_state": "received", "just": True, "verdict": None},
                      headers=headers)
    status = status_of(db, code) if code else None
    if status is None:
        return render(request, "tipline/public/lookup.html", {
            "receipt": code, "error": t("tipline.public.lookup.not_found", lang, receipt=code),
        }, status_code=404, headers=headers)
    status = {**status, "received_at_dt": datetime.fromisoformat(status["received_at"])}
    verdict = None
    if status["verdict_url"]:
        case = _published(db, status["verdict_url"].rsplit("/", 1)[-1])
        if case is not None:
            verdict = _verdict_view(case, lang)
    return render(request, "tipline/public/receipt.html", {
        "status": status, "public_state": PUBLIC_STATE.get(status["state"], "verifying"),
        "just": just, "verdict": verdict,
    }, headers=headers)


# --- verdicts --------------------------------------------------------------------------------


# The public pages of verdicts and figures are async: a visitor who is not signed in gets the
# page kept since the last change (web.kept.TIPLINE) without a thread; the work, when there is
# some, runs in the threadpool (deps.shared_page), where the permission is checked as before.


def _public(request: Request, db: Session) -> str:
    ensure(load_user(request, db), "tipline.report")
    return get_lang(request)


@router.get("/tin-gia", include_in_schema=False)
async def verdict_list(request: Request, q: str = "", category: str = ""):
    return await shared_page(request, lambda request, db: _verdict_list(request, db, q, category),
                             kept=kept.TIPLINE.get, perm="tipline.report")


def _verdict_list(request: Request, db: Session, q: str, category: str):
    lang = _public(request, db)
    q = q.strip()[:200]
    category = category if category in CATEGORIES else ""
    found = search_verdicts(db, q, limit=VERDICT_LIST_LIMIT * (4 if category else 1))
    if category:
        found = [c for c in found if c.category == category]
    found = found[:VERDICT_LIST_LIMIT]
    context = {
        "q": q, "category": category,
        "categories": _options("tipline.public.category", CATEGORIES, lang),
        "verdicts": [_verdict_view(c, lang) for c in found],
    }
    if q:  # a search: its own page
        return render(request, "tipline/public/verdicts.html", context)
    return render_shared(request, "tipline/public/verdicts.html", lambda: context, kept.TIPLINE.keep,
                         {"category": category or None})


@router.get("/tin-gia/feed.atom", include_in_schema=False, dependencies=[require("tipline.report")])
def verdict_feed(request: Request, db: SessionDep, lang: LangDep):
    body = build_feed(latest_published(db), str(request.base_url), lang)
    return Response(body, media_type=ATOM_MEDIA_TYPE)


@router.get("/tin-gia/thong-ke", include_in_schema=False)
async def stats_page(request: Request):
    return await shared_page(request, _stats_page, kept=kept.TIPLINE.get, perm="tipline.report")


def _stats_page(request: Request, db: Session):
    lang = _public(request, db)
    fig = tfig.public_figures(db)
    return render_shared(request, "tipline/public/stats.html", lambda: {
        "fig": fig, "specs": tfig.charts(fig, lang),
        "by_category": tfig.category_table(fig), "by_month": tfig.month_table(fig),
        "channels": list(fig["reports"]["by_channel"].items()),
        "verdicts": VERDICTS,
        "month_label": (lambda m: f"{m[5:]}/{m[:4]}") if lang == "vi" else (lambda m: m),
    }, kept.TIPLINE.keep, {})


@router.get("/api/tipline/stats", dependencies=[require("tipline.report")])
def api_stats(db: SessionDep) -> dict[str, Any]:
    """The centre's public figures: reports by channel, category and month; cases; verdicts by
    verdict, category and month; median days from a claim's first report to its verdict."""
    return tfig.public_figures(db)


@router.get("/tin-gia/{slug}", include_in_schema=False)
async def verdict_page(request: Request, slug: str):
    return await shared_page(request, lambda request, db: _verdict_page(request, db, slug),
                             kept=kept.TIPLINE.get, perm="tipline.report")


def _verdict_page(request: Request, db: Session, slug: str):
    lang = _public(request, db)
    case = _published(db, slug)
    if case is None:
        raise HTTPException(404, "tipline.public.verdict.not_found")
    sources = [{"text": s, "link": s if str(s).lower().startswith(("http://", "https://")) else None}
               for s in (case.sources or [])]
    context = {
        **_verdict_view(case, lang),
        "sources": sources,
        "claim_review": claim_review(case, base_url=str(request.base_url), lang=lang),
        "list_url": "/tin-gia?" + urlencode({"category": case.category}),
    }
    return render_shared(request, "tipline/public/verdict.html", lambda: context, kept.TIPLINE.keep, {})
