"""Anti-spam pages and API: citizens (report, one-time code, status, do-not-call, appeal),
operators (reports on their numbers, flagged numbers, blocklist, appeals), the ministry
(figures and charts, advertisers' audit), and the JSON API (SMS gateway, do-not-call check).

Routes validate, call the domain (``ictgov.antispam.reports / dnc / otp / flags``), commit,
and redirect or render. An operator sees only its own network: a report, flag or appeal of
another operator answers 404, whatever id is typed. Reporters' numbers are shown only on a
report's page, to the operator it was routed to and to ministry staff, and never logged.

Web forms that act for a number (report, do-not-call, appeal) first send a one-time code to
that number; the request waits in the code's row until the code is entered. The forms are
rate limited per client address and per number (``tipline.ratelimit``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from ictgov import notify, permissions
from ictgov.antispam import dnc, flags, otp, reports
from ictgov.antispam import figures as afig
from ictgov.antispam.models import (
    ANSWER_ACTIONS,
    FLAG_STATES,
    REPORT_STATES,
    Appeal,
    FlaggedNumber,
    SpamReport,
    Survey,
)
from ictgov.antispam.operators import OPERATOR_NAMES, operators
from ictgov.auth import User
from ictgov.notify import mask
from ictgov.text import normalize_phone
from ictgov.tipline.ratelimit import SlidingWindowLimiter
from ictgov.web.deps import (
    FormDep,
    LangDep,
    OptionalUser,
    SessionDep,
    SettingsDep,
    ensure,
    flash,
    get_lang,
    render,
    require,
)
from ictgov.web.errors import field_errors_response
from ictgov.web.i18n import register, t

router = APIRouter(tags=["antispam"])

Staff = Annotated[User, require("antispam.staff")]
MAX_BODY = 6 * 1024 * 1024  # one 5 MB file and the fields
PENDING_KEY = "antispam_pending"  # refs of the visitor's waiting requests (signed session)
JUST_KEY = "antispam_submitted"


def _pairs(prefix: str, labels: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    return {f"{prefix}.{k}": v for k, v in labels.items()}


register({
    "nav.antispam": ("Phản ánh tin rác", "Report spam"),
    "nav.antispam_operator": ("Nhà mạng", "Operator"),
    "nav.antispam_staff": ("Chống rác", "Anti-spam"),
    "antispam.subnav": ("Chống tin nhắn rác, cuộc gọi rác", "Against spam SMS and calls"),
    "antispam.nav.report": ("Phản ánh", "Report"),
    "antispam.nav.lookup": ("Tra cứu", "Look up"),
    "antispam.nav.dnc": ("Danh sách không quảng cáo (DNC)", "Do-not-call list"),
    "antispam.nav.appeal": ("Khiếu nại chặn thuê bao", "Appeal a block"),
    **_pairs("antispam.kind", afig.KIND_LABELS),
    # report form
    "antispam.form.title": ("Phản ánh tin nhắn rác, cuộc gọi rác", "Report a spam SMS or call"),
    "antispam.form.intro": (
        ("Phản ánh được chuyển tới nhà mạng quản lý số đã gửi. Bạn nhận mã phản ánh để theo dõi "
         "kết quả. Có thể soạn tin gửi 5656 (miễn phí): S [nguồn][nội dung], V [số][nội dung], "
         "LD [số][nội dung]."),
        ("The report goes to the operator of the number that sent it. You get a receipt code to "
         "follow the outcome. You can also text 5656 (free): S [source][content], "
         "V [number][content], LD [number][content].")),
    "antispam.form.required_note": ("Các trường có dấu * là bắt buộc.", "Fields marked * are required."),
    "antispam.form.kind": ("Loại phản ánh *", "What you report *"),
    "antispam.form.reporter_number": ("Số điện thoại nhận tin nhắn/cuộc gọi rác *",
                                      "Phone number that received the spam *"),
    "antispam.form.reporter_hint": ("Mã xác thực (OTP) sẽ được gửi tới số này.",
                                    "A one-time code (OTP) is sent to this number."),
    "antispam.form.source": ("Nguồn phát tán: số điện thoại, đầu số hoặc tên thương hiệu *",
                             "Source: phone number, short code or brandname *"),
    "antispam.form.content": ("Nội dung tin nhắn / cuộc gọi *", "Content of the message or call *"),
    "antispam.form.evidence": ("Bằng chứng (ảnh chụp, ghi âm)", "Evidence (screenshot, recording)"),
    "antispam.form.evidence_hint": ("Một tệp jpg, png, jpeg, amr, mp3, mp4 hoặc pdf, tối đa 5 MB.",
                                    "One jpg, png, jpeg, amr, mp3, mp4 or pdf file, at most 5 MB."),
    "antispam.form.submit": ("Phản ánh", "Report"),
    "antispam.form.errors": ("Chưa gửi được. Hãy sửa các trường được đánh dấu.",
                             "Not sent. Correct the fields marked below."),
    "antispam.form.file_again": ("Hãy chọn lại tệp bằng chứng.", "Choose the evidence file again."),
    # field errors
    "antispam.err.kind": ("Hãy chọn một loại trong danh sách.", "Choose one of the listed kinds."),
    "antispam.err.reporter_number": ("Cần số di động Việt Nam đã nhận tin nhắn hoặc cuộc gọi rác.",
                                     "A Vietnamese mobile number that received the spam is required."),
    "antispam.err.source": ("Cần số điện thoại, đầu số hoặc tên thương hiệu đã gửi.",
                            "The number, short code or brandname that sent it is required."),
    "antispam.err.source_scam": ("Phản ánh cuộc gọi lừa đảo cần số điện thoại đã gọi.",
                                 "A scam call report needs the caller's phone number."),
    "antispam.err.content": ("Cần nội dung tin nhắn hoặc cuộc gọi (ít nhất 5 ký tự, tối đa {max}).",
                             "The content of the message or call is required (5 to {max} characters)."),
    "antispam.err.evidence_big": ("{name}: lớn hơn 5 MB.", "{name}: larger than 5 MB."),
    "antispam.err.evidence_type": (
        "{name}: không phải tệp jpg, png, amr, mp3, mp4 hoặc pdf (kiểm tra theo nội dung tệp).",
        "{name}: not a jpg, png, amr, mp3, mp4 or pdf file (checked from its content)."),
    "antispam.err.number": ("Cần số di động Việt Nam.", "A Vietnamese mobile number is required."),
    "antispam.err.not_blocked": ("Số này không có trong danh sách chặn nào.", "This number is on no blocklist."),
    "antispam.err.appeal_waiting": ("Đã có khiếu nại đang chờ quyết định cho số này.",
                                    "An appeal of this number is already waiting for a decision."),
    "antispam.err.reason": ("Cần lý do (ít nhất 10 ký tự, tối đa 2000).",
                            "A reason is required (10 to 2000 characters)."),
    "antispam.err.dnc_action": ("Hãy chọn đăng ký hoặc hủy đăng ký.", "Choose join or leave."),
    # one-time code
    "antispam.otp.title": ("Nhập mã xác thực", "Enter the one-time code"),
    "antispam.otp.sent": ("Mã gồm 6 chữ số đã được gửi bằng tin nhắn tới số {number}. Mã có hiệu lực 5 phút.",
                          "A 6-digit code was sent by SMS to {number}. It is valid for 5 minutes."),
    "antispam.otp.code": ("Mã xác thực (OTP) *", "One-time code (OTP) *"),
    "antispam.otp.submit": ("Hoàn thành", "Done"),
    "antispam.otp.wrong": ("Mã không đúng. Còn {n} lần thử.", "Wrong code. {n} tries left."),
    "antispam.otp.gone": ("Mã đã hết hạn, đã dùng hoặc bị khóa do nhập sai nhiều lần. Hãy gửi lại yêu cầu.",
                          "The code expired, was used, or is locked after too many wrong tries. Send the request again."),
    "antispam.otp.not_found": ("Không có yêu cầu đang chờ xác thực này.", "No request is waiting for this code."),
    # status
    "antispam.status.thanks": ("Đã nhận phản ánh của bạn", "Your report has been received"),
    "antispam.status.title": ("Phản ánh {receipt}", "Report {receipt}"),
    "antispam.status.receipt": ("Mã phản ánh", "Receipt code"),
    "antispam.status.keep": ("Hãy ghi lại mã này để tra cứu kết quả xử lý.",
                             "Write this code down to look the outcome up."),
    "antispam.status.received_at": ("Thời điểm tiếp nhận", "Received"),
    "antispam.status.kind": ("Loại", "Kind"),
    "antispam.status.state": ("Tình trạng", "Status"),
    "antispam.status.operator": ("Chuyển tới", "Passed to"),
    "antispam.status.answer": ("Trả lời của nhà mạng", "The operator's answer"),
    "antispam.state.received": ("Đã tiếp nhận, Cục An toàn thông tin đang xử lý",
                                "Received, being handled by the Authority of Information Security"),
    "antispam.state.routed": ("Đã chuyển nhà mạng, đang chờ xử lý", "Passed to the operator, waiting for its answer"),
    "antispam.state.answered": ("Nhà mạng đã trả lời", "The operator has answered"),
    **_pairs("antispam.action", {
        "blocked": ("Đã chặn thuê bao", "Number blocked"), "warned": ("Đã cảnh báo chủ thuê bao", "Subscriber warned"),
        "investigating": ("Đang xác minh", "Being investigated"), "not_spam": ("Không phải rác", "Not spam"),
        "not_ours": ("Không thuộc mạng này", "Not on this network")}),
    "antispam.lookup.title": ("Tra cứu phản ánh hoặc khiếu nại", "Look up a report or an appeal"),
    "antispam.lookup.intro": ("Nhập mã bạn nhận được (TR-XXXXXXXX hoặc KN-XXXXXXXX).",
                              "Enter the code you got (TR-XXXXXXXX or KN-XXXXXXXX)."),
    "antispam.lookup.receipt": ("Mã phản ánh", "Receipt code"),
    "antispam.lookup.submit": ("Tra cứu", "Look up"),
    "antispam.lookup.not_found": ("Không có phản ánh nào với mã {receipt}.", "No report has the code {receipt}."),
    # do-not-call
    "antispam.dnc.title": ("Danh sách không quảng cáo (DNC)", "Do-not-call list (DNC)"),
    "antispam.dnc.intro": (
        ("Số trong danh sách không được nhận tin nhắn, cuộc gọi quảng cáo (Nghị định 91/2020/NĐ-CP). "
         "Cũng có thể soạn DK DNC hoặc HUY DNC gửi 5656."),
        ("Numbers on the list may receive no advertising SMS or calls (Decree 91/2020/ND-CP). "
         "You can also text DK DNC or HUY DNC to 5656.")),
    "antispam.dnc.number": ("Số điện thoại *", "Phone number *"),
    "antispam.dnc.action": ("Yêu cầu *", "Request *"),
    "antispam.dnc.join": ("Đăng ký vào danh sách", "Join the list"),
    "antispam.dnc.leave": ("Hủy đăng ký", "Leave the list"),
    "antispam.dnc.submit": ("Gửi mã xác thực", "Send the code"),
    "antispam.dnc.joined": ("Số {number} đã có trong danh sách không quảng cáo.",
                            "{number} is on the do-not-call list."),
    "antispam.dnc.left": ("Số {number} đã được hủy khỏi danh sách không quảng cáo.",
                          "{number} has left the do-not-call list."),
    # appeal
    "antispam.appeal.title": ("Khiếu nại việc chặn thuê bao", "Appeal the block of your number"),
    "antispam.appeal.intro": ("Nếu số của bạn bị chặn nhầm vì nghi phát tán rác, hãy cho biết lý do. Cán bộ của Bộ sẽ xem xét.",
                              "If your number was blocked as a spam source by mistake, tell us why. Ministry staff will decide."),
    "antispam.appeal.number": ("Số điện thoại bị chặn *", "The blocked number *"),
    "antispam.appeal.reason": ("Lý do *", "Reason *"),
    "antispam.appeal.submit": ("Gửi mã xác thực", "Send the code"),
    "antispam.appeal.status_title": ("Khiếu nại {receipt}", "Appeal {receipt}"),
    "antispam.appeal.state.pending": ("Đang chờ quyết định", "Waiting for a decision"),
    "antispam.appeal.state.granted": ("Chấp nhận: đã bỏ chặn", "Granted: the block was lifted"),
    "antispam.appeal.state.rejected": ("Không chấp nhận", "Rejected"),
    "antispam.appeal.decision": ("Lý do quyết định", "Reason for the decision"),
    # limits
    "antispam.limited.title": ("Tạm thời chưa nhận thêm yêu cầu", "No more requests for now"),
    "antispam.limited.text": ("Đã có quá nhiều yêu cầu. Hãy thử lại sau {minutes} phút.",
                              "Too many requests. Try again in {minutes} minutes."),
    "antispam.too_large": ("Dữ liệu gửi lên quá lớn (tối đa 5 MB cho tệp).", "What was sent is too large (5 MB for the file)."),
    # operator pages
    "antispam.op.title": ("Phản ánh về thuê bao của mạng", "Reports on your network's numbers"),
    "antispam.op.title_all": ("Phản ánh tin rác", "Spam reports"),
    "antispam.op.nav.reports": ("Phản ánh", "Reports"),
    "antispam.op.nav.flags": ("Số nghi phát tán rác", "Flagged numbers"),
    "antispam.op.nav.blocklist": ("Danh sách chặn", "Blocklist"),
    "antispam.op.nav.appeals": ("Khiếu nại", "Appeals"),
    "antispam.op.nav.figures": ("Số liệu", "Figures"),
    "antispam.op.nav.ads": ("Kiểm tra quảng cáo", "Ad audit"),
    "antispam.op.operator": ("Nhà mạng", "Operator"),
    "antispam.op.all": ("Tất cả", "All"),
    "antispam.op.none_operator": ("(chưa xác định)", "(none)"),
    "antispam.op.filter": ("Lọc", "Filter"),
    "antispam.op.status": ("Tình trạng", "Status"),
    "antispam.op.received_at": ("Tiếp nhận", "Received"),
    "antispam.op.source": ("Nguồn", "Source"),
    "antispam.op.content": ("Nội dung", "Content"),
    "antispam.op.score": ("Điểm rác", "Spam score"),
    "antispam.op.reporter": ("Số của người phản ánh", "Reporter's number"),
    "antispam.op.channel": ("Kênh", "Channel"),
    "antispam.op.none": ("Không có mục nào.", "Nothing here."),
    "antispam.op.evidence": ("Tệp bằng chứng", "Evidence file"),
    "antispam.op.answer": ("Trả lời người phản ánh", "Answer the reporter"),
    "antispam.op.action": ("Biện pháp", "Action"),
    "antispam.op.answer_text": ("Nội dung trả lời *", "Answer *"),
    "antispam.op.answer_submit": ("Gửi trả lời", "Send the answer"),
    "antispam.op.answered": ("Đã gửi trả lời cho phản ánh {receipt}.", "Answer sent for report {receipt}."),
    "antispam.op.label": ("Xác nhận của cán bộ (dữ liệu huấn luyện)", "Staff confirmation (training data)"),
    "antispam.op.label.spam": ("Là tin rác", "Is spam"),
    "antispam.op.label.ham": ("Không phải tin rác", "Not spam"),
    "antispam.op.label.none": ("Chưa xác nhận", "Not confirmed"),
    "antispam.op.label_submit": ("Lưu xác nhận", "Save"),
    "antispam.op.labelled": ("Đã lưu xác nhận.", "Saved."),
    "antispam.op.err.answer": ("Cần nội dung trả lời (ít nhất 5 ký tự).", "An answer is required (at least 5 characters)."),
    "antispam.op.err.action": ("Hãy chọn một biện pháp.", "Choose an action."),
    "antispam.op.not_found": ("Không có mục này.", "No such item."),
    "antispam.flags.title": ("Số nghi phát tán rác", "Numbers flagged as spam sources"),
    "antispam.flags.intro": ("Từ quét dữ liệu cuộc gọi, tin nhắn theo tiêu chí Thông tư 22/2021/TT-BTTTT; mỗi số kèm lý do.",
                             "From scans of call and SMS records with the criteria of Circular 22/2021/TT-BTTTT; each with its reasons."),
    "antispam.flags.number": ("Số", "Number"),
    "antispam.flags.reasons": ("Lý do", "Reasons"),
    "antispam.flags.survey": ("Khảo sát người nhận", "Recipients' survey"),
    "antispam.flags.tally": ("{yes} có / {no} không / {waiting} chờ", "{yes} yes / {no} no / {waiting} waiting"),
    "antispam.flags.recipients": ("Số người nhận (mỗi dòng một số)", "Recipients (one number a line)"),
    "antispam.flags.recipients_known": ("{n} người nhận lấy từ dữ liệu quét; sửa nếu cần.",
                                        "{n} recipients from the scan; edit if needed."),
    "antispam.flags.send_survey": ("Gửi khảo sát", "Send the survey"),
    "antispam.flags.confirm": ("Xác nhận rác, đưa vào danh sách chặn", "Confirm: put on the blocklist"),
    "antispam.flags.clear": ("Không phải rác", "Not spam"),
    "antispam.flags.note": ("Ghi chú", "Note"),
    "antispam.flags.done.confirmed": ("Số {number} đã vào danh sách chặn.", "{number} is on the blocklist."),
    "antispam.flags.done.cleared": ("Số {number} đã được bỏ cờ.", "{number} was cleared."),
    "antispam.flags.done.survey": ("Đã gửi khảo sát tới {n} người nhận.", "Survey sent to {n} recipients."),
    **_pairs("antispam.flag_state", {
        "flagged": ("Nghi vấn", "Flagged"), "confirmed": ("Đã xác nhận", "Confirmed"),
        "blocked": ("Đã chặn", "Blocked"), "cleared": ("Đã bỏ cờ", "Cleared")}),
    "antispam.block.title": ("Danh sách chặn", "Blocklist"),
    "antispam.block.intro": ("Các số đã xác nhận phát tán rác, cần chặn. Sau khi chặn, bấm \"Đã chặn\".",
                             "Numbers confirmed as spam sources, to block. Once blocked, press \"Blocked\"."),
    "antispam.block.count": ("{n} số trong danh sách", "{n} numbers on the list"),
    "antispam.block.download": ("Tải danh sách (CSV)", "Download the list (CSV)"),
    "antispam.block.mark": ("Đã chặn các số đã xác nhận", "The confirmed numbers are blocked"),
    "antispam.block.marked": ("{n} số đã chuyển sang trạng thái đã chặn.", "{n} numbers are now blocked."),
    "antispam.block.choose_operator": ("Chọn một nhà mạng để tải hoặc đánh dấu.", "Choose an operator to download or mark."),
    "antispam.appeals.title": ("Khiếu nại của thuê bao bị chặn", "Appeals of blocked subscribers"),
    "antispam.appeals.reason": ("Lý do", "Reason"),
    "antispam.appeals.grant": ("Chấp nhận, bỏ chặn", "Grant: lift the block"),
    "antispam.appeals.reject": ("Không chấp nhận", "Reject"),
    "antispam.appeals.note": ("Lý do quyết định *", "Reason for the decision *"),
    "antispam.appeals.decided": ("Đã quyết định khiếu nại {receipt}.", "Appeal {receipt} decided."),
    "antispam.appeals.staff_only": ("Cán bộ của Bộ quyết định khiếu nại.", "Ministry staff decide appeals."),
    # ministry
    "antispam.fig.title": ("Số liệu chống tin rác, cuộc gọi rác", "Anti-spam figures"),
    "antispam.fig.intro": ("Tính từ các phản ánh, số bị gắn cờ và danh sách chặn đã lưu; tháng theo giờ Việt Nam.",
                           "Computed from the stored reports, flags and blocklists; months in Vietnam time."),
    "antispam.fig.reports": ("Phản ánh đã nhận", "Reports received"),
    "antispam.fig.dnc": ("Số trong danh sách DNC", "Numbers on the do-not-call list"),
    "antispam.fig.by_month": ("Phản ánh theo tháng", "Reports by month"),
    "antispam.fig.by_operator": ("Theo nhà mạng", "By operator"),
    "antispam.fig.daily": ("Rác phát hiện theo ngày", "Spam detected per day"),
    "antispam.fig.month": ("Tháng", "Month"),
    "antispam.fig.total": ("Tổng", "Total"),
    "antispam.fig.answered": ("Đã trả lời", "Answered"),
    "antispam.fig.flagged": ("Bị gắn cờ", "Flagged"),
    "antispam.fig.on_blocklist": ("Đang bị chặn", "On the blocklist"),
    "antispam.fig.day": ("Ngày", "Day"),
    "antispam.fig.spam_calls": ("Cuộc gọi rác", "Spam calls"),
    "antispam.fig.spam_sms": ("Tin nhắn rác", "Spam SMS"),
    "antispam.fig.numbers": ("Số phát tán", "Numbers"),
    "antispam.fig.chart_error": ("Không hiển thị được biểu đồ; số liệu có trong bảng.",
                                 "The chart could not be shown; the table has the figures."),
    "antispam.fig.none": ("Chưa có số liệu.", "No data yet."),
    "antispam.ads.title": ("Kiểm tra tuân thủ Nghị định 91/2020 của nhà quảng cáo", "Advertiser audit (Decree 91/2020)"),
    "antispam.ads.intro": (
        ("Tải nhật ký gửi quảng cáo (CSV: brandname, recipient, time, kind, content). Mỗi vi phạm được "
         "liệt kê cùng quy định; danh sách DNC hiện hành được dùng để đối chiếu."),
        ("Upload an advertiser's send log (CSV: brandname, recipient, time, kind, content). Each "
         "violation is listed with its rule; the current do-not-call list is checked.")),
    "antispam.ads.file": ("Tệp nhật ký *", "Send log file *"),
    "antispam.ads.submit": ("Kiểm tra", "Audit"),
    "antispam.ads.result": ("{sends} lượt gửi, {n} vi phạm", "{sends} sends, {n} violations"),
    "antispam.ads.err.file": ("Cần một tệp CSV.", "A CSV file is required."),
    "antispam.ads.line": ("Dòng", "Line"),
    "antispam.ads.rule": ("Quy định", "Rule"),
    "antispam.ads.recipient": ("Người nhận", "Recipient"),
    "antispam.ads.time": ("Thời điểm", "Time"),
    "antispam.ads.detail": ("Chi tiết", "Detail"),
})


# --- helpers ---------------------------------------------------------------------------------


class _Limits:
    """Per client address and per number: 10 in 10 minutes, 5 codes an hour to one number."""

    def __init__(self) -> None:
        self.by_ip = SlidingWindowLimiter(10, 10 * 60)
        self.by_number = SlidingWindowLimiter(5, 60 * 60)


def _limits(request: Request) -> _Limits:
    limits = getattr(request.app.state, "antispam_limits", None)
    if limits is None:
        limits = request.app.state.antispam_limits = _Limits()
    return limits


def _ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _limited(request: Request, wait: float) -> Response:
    lang = get_lang(request)
    minutes = max(1, int(wait // 60) + (1 if wait % 60 else 0))
    return render(request, "antispam/message.html", {
        "title": t("antispam.limited.title", lang), "text": t("antispam.limited.text", lang, minutes=minutes),
        "level": "error"}, status_code=429, headers={"Retry-After": str(max(1, int(wait + 0.999)))})


def _check_limits(request: Request, number: str | None) -> Response | None:
    limits = _limits(request)
    wait = limits.by_ip.allow(_ip(request))
    if not wait and number:
        wait = limits.by_number.allow("tel:" + (normalize_phone(number) or number.strip()))
    return _limited(request, wait) if wait else None


def _too_large(request: Request) -> bool:
    try:
        return int(request.headers.get("content-length") or 0) > MAX_BODY
    except ValueError:
        return True


def _texts(form) -> Any:
    def text_of(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""
    return text_of


def _messages(errors: dict[str, str], lang: str) -> dict[str, str]:
    """The domain's field messages (English) in the page's language."""
    out = {}
    for field, msg in errors.items():
        if field == "source" and "scam" in msg:
            key = "antispam.err.source_scam"
        elif field == "evidence":
            name = msg.split(": ", 1)[0]
            out[field] = t("antispam.err.evidence_big" if "larger" in msg else "antispam.err.evidence_type",
                           lang, name=name)
            continue
        elif field == "number" and "not on any blocklist" in msg:
            key = "antispam.err.not_blocked"
        elif field == "number" and "already waiting" in msg:
            key = "antispam.err.appeal_waiting"
        else:
            key = f"antispam.err.{field}"
        out[field] = t(key, lang, max=reports.MAX_CONTENT) if key == "antispam.err.content" else (
            t(key, lang) if key in _KNOWN else msg)
    return out


_KNOWN = {"antispam.err.kind", "antispam.err.reporter_number", "antispam.err.source", "antispam.err.source_scam",
          "antispam.err.content", "antispam.err.number", "antispam.err.not_blocked", "antispam.err.appeal_waiting",
          "antispam.err.reason", "antispam.err.dnc_action"}


def _remember(request: Request, ref: str) -> None:
    refs = [r for r in request.session.get(PENDING_KEY, []) if r != ref][-4:]
    request.session[PENDING_KEY] = refs + [ref]


def _issue(request: Request, db, number: str, purpose: str, payload: dict) -> Response:
    """Send a code for a checked request, commit, and go to the page where it is entered."""
    row = otp.issue(db, number, purpose, payload)
    db.commit()
    _remember(request, row.ref)
    notify.schedule_drain()
    return RedirectResponse(f"/chan-rac/xac-nhan/{row.ref}", status_code=303)


# --- citizens: report ------------------------------------------------------------------------


def _report_form(request: Request, values=None, errors=None, status_code: int = 200, file_again=False):
    lang = get_lang(request)
    return render(request, "antispam/report.html", {
        "values": values or {"kind": "sms"}, "errors": errors or {}, "file_again": file_again,
        "kinds": [(k, t(f"antispam.kind.{k}", lang)) for k in reports.WEB_KINDS],
    }, status_code=status_code)


@router.get("/chan-rac", include_in_schema=False, dependencies=[require("antispam.report")])
def home():
    return RedirectResponse("/chan-rac/phan-anh", status_code=303)


@router.get("/chan-rac/phan-anh", include_in_schema=False, dependencies=[require("antispam.report")])
def report_form(request: Request):
    return _report_form(request)


@router.post("/chan-rac/phan-anh", include_in_schema=False, dependencies=[require("antispam.report")])
def report_submit(request: Request, form: FormDep, db: SessionDep, settings: SettingsDep, lang: LangDep):
    if _too_large(request):
        return render(request, "antispam/message.html", {"title": t("antispam.too_large", lang),
                      "text": t("antispam.too_large", lang), "level": "error"}, status_code=413)
    text_of = _texts(form)
    values = {k: text_of(k).strip() for k in ("kind", "reporter_number", "source")}
    values["content"] = text_of("content")
    limited = _check_limits(request, values["reporter_number"])
    if limited is not None:
        return limited
    upload = form.get("evidence")
    evidence = None
    if isinstance(upload, UploadFile) and upload.filename:
        evidence = reports.Evidence(upload.filename, upload.file.read(reports.MAX_FILE_BYTES + 1))
    inp = reports.ReportInput(values["kind"], values["reporter_number"], values["source"], values["content"],
                              evidence)
    errors = reports.check(inp, "web")
    if errors:
        return _report_form(request, values, _messages(errors, lang), 422, file_again=evidence is not None)
    payload = {"kind": inp.kind, "source": inp.source, "content": inp.content}
    if evidence is not None:
        digest, path = reports.store_evidence(settings.data_dir / "evidence" / "antispam", evidence.data)
        payload["evidence"] = {"filename": Path(evidence.filename).name[:255], "path": path, "sha256": digest}
    return _issue(request, db, reports.subscriber_number(inp.reporter_number), "report", payload)


# --- citizens: the one-time code ---------------------------------------------------------------


def _otp_page(request: Request, row, error: str | None = None, status_code: int = 200):
    return render(request, "antispam/otp.html", {"row": row, "masked": mask(row.number), "error": error},
                  status_code=status_code)


@router.get("/chan-rac/xac-nhan/{ref}", include_in_schema=False, dependencies=[require("antispam.report")])
def otp_form(request: Request, db: SessionDep, ref: str):
    row = otp.pending(db, ref[:40])
    if row is None or ref not in request.session.get(PENDING_KEY, []):
        raise HTTPException(404, "antispam.otp.gone")
    return _otp_page(request, row)


@router.post("/chan-rac/xac-nhan/{ref}", include_in_schema=False, dependencies=[require("antispam.report")])
def otp_submit(request: Request, form: FormDep, db: SessionDep, settings: SettingsDep, lang: LangDep, ref: str):
    if ref not in request.session.get(PENDING_KEY, []):
        raise HTTPException(404, "antispam.otp.not_found")
    wait = _limits(request).by_ip.allow(_ip(request))
    if wait:
        return _limited(request, wait)
    code = _texts(form)("code")
    try:
        row = otp.verify(db, ref[:40], code)
    except otp.OtpError as exc:
        db.commit()  # the wrong attempt counts even though the request is refused
        if exc.reason == "wrong":
            pending = otp.pending(db, ref)
            return _otp_page(request, pending, t("antispam.otp.wrong", lang, n=exc.attempts_left), 422)
        raise HTTPException(410 if exc.reason != "unknown" else 404, "antispam.otp.gone") from None
    request.session[PENDING_KEY] = [r for r in request.session.get(PENDING_KEY, []) if r != ref]
    p = row.payload
    if row.purpose == "report":
        ev = p.get("evidence")
        evidence = reports.Evidence(ev["filename"], Path(ev["path"]).read_bytes()) if ev else None
        inp = reports.ReportInput(p["kind"], row.number, p.get("source"), p.get("content", ""), evidence)
        report = reports.submit(db, inp, "web", evidence_dir=settings.data_dir / "evidence" / "antispam")
        db.commit()  # the receipt is shown only once the report is stored
        request.session[JUST_KEY] = report.receipt
        return RedirectResponse(f"/chan-rac/phan-anh/{report.receipt}", status_code=303)
    if row.purpose in ("dnc_join", "dnc_leave"):
        (dnc.join if row.purpose == "dnc_join" else dnc.leave)(db, row.number, "web")
        db.commit()
        key = "antispam.dnc.joined" if row.purpose == "dnc_join" else "antispam.dnc.left"
        return render(request, "antispam/message.html", {
            "title": t("antispam.dnc.title", lang), "text": t(key, lang, number=mask(row.number)),
            "level": "success", "testid": "dnc-done"})
    try:
        appeal = flags.submit_appeal(db, row.number, p.get("reason", ""))
    except flags.FlagError as exc:  # the block was lifted, or another appeal came in, meanwhile
        return render(request, "antispam/message.html", {
            "title": t("antispam.appeal.title", lang), "text": "; ".join(_messages(exc.errors, lang).values()),
            "level": "error"}, status_code=409)
    db.commit()
    return RedirectResponse(f"/chan-rac/khieu-nai/{appeal.receipt}", status_code=303)


# --- citizens: status -------------------------------------------------------------------------


@router.get("/chan-rac/tra-cuu", include_in_schema=False, dependencies=[require("antispam.report")])
def lookup(request: Request, receipt: str = ""):
    code = receipt.strip().upper()[:20]
    if code:
        target = "khieu-nai" if code.startswith("KN-") else "phan-anh"
        return RedirectResponse(f"/chan-rac/{target}/{code}", status_code=303)
    return render(request, "antispam/lookup.html", {"receipt": "", "error": None})


@router.get("/chan-rac/phan-anh/{receipt}", include_in_schema=False, dependencies=[require("antispam.report")])
def status_page(request: Request, db: SessionDep, lang: LangDep, receipt: str):
    code = receipt.strip().upper()[:20]
    status = reports.status_of(db, code)
    headers = {"Cache-Control": "no-store"}
    if status is None:
        return render(request, "antispam/lookup.html", {
            "receipt": code, "error": t("antispam.lookup.not_found", lang, receipt=code)},
            status_code=404, headers=headers)
    just = request.session.pop(JUST_KEY, None) == code
    report = reports.find(db, code)
    return render(request, "antispam/status.html", {
        "status": status, "report": report, "just": just,
        "operator_name": OPERATOR_NAMES.get(status["operator"] or "", "")}, headers=headers)


@router.get("/api/antispam/reports/{receipt}", dependencies=[require("antispam.report")])
def api_status(db: SessionDep, receipt: str) -> dict[str, Any]:
    """A spam report's status by its receipt: received, routed to an operator, or answered."""
    found = reports.status_of(db, receipt)
    if found is None:
        raise HTTPException(404, "receipt: no report with this receipt")
    return found


# --- citizens: do-not-call and appeals --------------------------------------------------------


def _dnc_form(request: Request, values=None, errors=None, status_code: int = 200):
    return render(request, "antispam/dnc.html", {"values": values or {"action": "join"}, "errors": errors or {}},
                  status_code=status_code)


@router.get("/chan-rac/dnc", include_in_schema=False, dependencies=[require("antispam.report")])
def dnc_form(request: Request):
    return _dnc_form(request)


@router.post("/chan-rac/dnc", include_in_schema=False, dependencies=[require("antispam.report")])
def dnc_submit(request: Request, form: FormDep, db: SessionDep, lang: LangDep):
    text_of = _texts(form)
    values = {"number": text_of("number").strip(), "action": text_of("action")}
    limited = _check_limits(request, values["number"])
    if limited is not None:
        return limited
    errors = {}
    number = normalize_phone(values["number"])
    if number is None or reports.subscriber_number(number) is None:
        errors["number"] = t("antispam.err.number", lang)
    if values["action"] not in ("join", "leave"):
        errors["action"] = t("antispam.err.dnc_action", lang)
    if errors:
        return _dnc_form(request, values, errors, 422)
    return _issue(request, db, number, f"dnc_{values['action']}", {})


def _appeal_form(request: Request, values=None, errors=None, status_code: int = 200):
    return render(request, "antispam/appeal.html", {"values": values or {}, "errors": errors or {}},
                  status_code=status_code)


@router.get("/chan-rac/khieu-nai", include_in_schema=False, dependencies=[require("antispam.report")])
def appeal_form(request: Request):
    return _appeal_form(request)


@router.post("/chan-rac/khieu-nai", include_in_schema=False, dependencies=[require("antispam.report")])
def appeal_submit(request: Request, form: FormDep, db: SessionDep, lang: LangDep):
    text_of = _texts(form)
    values = {"number": text_of("number").strip(), "reason": text_of("reason")}
    limited = _check_limits(request, values["number"])
    if limited is not None:
        return limited
    errors = flags.check_appeal(db, values["number"], values["reason"])
    if errors:
        return _appeal_form(request, values, _messages(errors, lang), 422)
    return _issue(request, db, normalize_phone(values["number"]), "appeal", {"reason": values["reason"]})


@router.get("/chan-rac/khieu-nai/{receipt}", include_in_schema=False, dependencies=[require("antispam.report")])
def appeal_status_page(request: Request, db: SessionDep, lang: LangDep, receipt: str):
    code = receipt.strip().upper()[:20]
    status = flags.appeal_status(db, code)
    if status is None:
        return render(request, "antispam/lookup.html", {
            "receipt": code, "error": t("antispam.lookup.not_found", lang, receipt=code)}, status_code=404)
    return render(request, "antispam/appeal_status.html", {"status": status},
                  headers={"Cache-Control": "no-store"})


# --- API: SMS gateway, do-not-call check, survey answers -----------------------------------------


class InboundIn(BaseModel):
    sender: str = Field(..., alias="from", description="the citizen's number, any usual form", max_length=40)
    text: str = Field(..., description="the SMS as received on 5656", max_length=2000)
    id: str | None = Field(None, description="the gateway's message id: a repeat makes no second report",
                           max_length=120)


class InboundOut(BaseModel):
    kind: str
    source: str | None
    content: str
    reply: str
    receipt: str | None = None
    operator: str | None = None


@router.post("/api/antispam/sms-inbound", response_model=InboundOut)
def api_sms_inbound(request: Request, db: SessionDep, body: InboundIn,
                    user: Annotated[User, require("antispam.gateway")]) -> Any:
    """An SMS sent to 5656: what it asks for (kind, source, content), the reply to send back, and the
    receipt of the report it made. `DK DNC` / `HUY DNC` change the do-not-call list."""
    try:
        inbound = reports.receive_sms(db, body.text, body.sender, gateway_id=body.id, user=user)
    except (reports.ReportError, dnc.DncError) as exc:
        request.state.rollback_only = True
        errors = {("from" if k in ("sender", "number", "reporter_number") else k): v
                  for k, v in exc.errors.items()}
        return field_errors_response(errors)
    db.commit()
    return inbound.as_dict()


class DncCheckIn(BaseModel):
    numbers: list[str] = Field(..., description="numbers to check, any usual form", max_length=dnc.MAX_CHECK)


class DncCheckOut(BaseModel):
    checked: int
    do_not_contact: list[str] = Field(description="the numbers (as sent) that may not be contacted")


@router.post("/api/antispam/dnc/check", response_model=DncCheckOut)
def api_dnc_check(request: Request, db: SessionDep, body: DncCheckIn,
                  user: Annotated[User, require("antispam.dnc_check")]) -> Any:
    """Which of these numbers are on the do-not-call list; nothing else about any number."""
    try:
        listed = dnc.check(db, body.numbers)
    except dnc.DncError as exc:
        return field_errors_response(exc.errors)
    return {"checked": len(body.numbers), "do_not_contact": listed}


class SurveyAnswerIn(BaseModel):
    spam: bool = Field(..., description="the recipient's answer: C (yes, spam) is true, K (no) false")


@router.post("/api/antispam/surveys/{survey_id}/answer")
def api_survey_answer(request: Request, db: SessionDep, survey_id: int, body: SurveyAnswerIn,
                      user: Annotated[User, require("antispam.operator")]) -> dict[str, Any]:
    """Record a recipient's answer to a confirmation survey (from the operator's USSD/SMS platform)."""
    survey = db.get(Survey, survey_id)
    if survey is None or not flags.may_act(user, survey.flag.operator_code):
        raise HTTPException(404, "survey_id: no such survey on your network")
    try:
        flags.answer_survey(db, survey, body.spam, user)
    except flags.FlagError as exc:
        return field_errors_response(exc.errors)
    db.commit()
    return {"survey": survey.id, "flag": survey.flag_id, **flags.tally(survey.flag)}


# --- operators and ministry staff ----------------------------------------------------------------


def _handler(request: Request, user: OptionalUser) -> User:
    """An operator (its own network) or ministry staff (every network)."""
    if permissions.can(user, "antispam.staff"):
        return user
    return ensure(user, "antispam.operator")


Handler = Annotated[User, Depends(_handler)]


def _scope(user: User, asked: str | None) -> str | None:
    """The operator a page shows: an operator's own; for staff the one asked for (None: all)."""
    if permissions.can(user, "antispam.staff"):
        return asked if asked in operators() else None
    return user.operator_code


def _op_context(user: User, operator: str | None) -> dict[str, Any]:
    return {"is_staff": permissions.can(user, "antispam.staff"), "operator": operator,
            "operators": operators(), "operator_names": OPERATOR_NAMES}


def _own_report(db, user: User, report_id: int) -> SpamReport:
    report = db.get(SpamReport, report_id)
    if report is None or not reports.may_handle(user, report):
        raise HTTPException(404, "antispam.op.not_found")  # the same answer whether it exists or not
    return report


@router.get("/nha-mang", include_in_schema=False)
def operator_home(user: Handler):
    return RedirectResponse("/nha-mang/phan-anh", status_code=303)


@router.get("/nha-mang/phan-anh", include_in_schema=False)
def operator_reports(request: Request, db: SessionDep, user: Handler, status: str = "", operator: str = ""):
    scope = _scope(user, operator)
    status = status if status in REPORT_STATES else ""
    rows = reports.visible(db, user, operator_code=scope, status=status or None)
    return render(request, "antispam/op/reports.html", {
        **_op_context(user, scope), "rows": rows, "status": status, "states": REPORT_STATES})


def _report_page(request: Request, user: User, report: SpamReport, errors=None, values=None, status_code=200):
    lang = get_lang(request)
    return render(request, "antispam/op/report.html", {
        **_op_context(user, report.operator_code), "r": report, "errors": errors or {},
        "values": values or {"action": report.answer_action or "blocked", "answer": report.answer},
        "actions": [(a, t(f"antispam.action.{a}", lang)) for a in ANSWER_ACTIONS],
        "may_answer": report.operator_code is not None or permissions.can(user, "antispam.staff"),
    }, status_code=status_code)


@router.get("/nha-mang/phan-anh/{report_id}", include_in_schema=False)
def operator_report(request: Request, db: SessionDep, user: Handler, report_id: int):
    return _report_page(request, user, _own_report(db, user, report_id))


@router.post("/nha-mang/phan-anh/{report_id}/tra-loi", include_in_schema=False)
def operator_answer(request: Request, form: FormDep, db: SessionDep, user: Handler, lang: LangDep, report_id: int):
    report = _own_report(db, user, report_id)
    text_of = _texts(form)
    values = {"action": text_of("action"), "answer": text_of("answer")}
    try:
        reports.answer(db, report, user, values["action"], values["answer"])
    except reports.ReportError as exc:
        errors = {k: t(f"antispam.op.err.{k}", lang) for k in exc.errors}
        return _report_page(request, user, report, errors, values, 422)
    db.commit()
    flash(request, "antispam.op.answered", "success", receipt=report.receipt)
    return RedirectResponse(f"/nha-mang/phan-anh/{report.id}", status_code=303)


@router.post("/nha-mang/phan-anh/{report_id}/nhan", include_in_schema=False)
def staff_label(request: Request, form: FormDep, db: SessionDep, user: Staff, report_id: int):
    report = _own_report(db, user, report_id)
    label = _texts(form)("label")
    try:
        reports.set_label(db, report, user, label or None)
    except reports.ReportError as exc:
        raise HTTPException(422, f"label: {exc.errors['label']}") from None
    db.commit()
    flash(request, "antispam.op.labelled", "success")
    return RedirectResponse(f"/nha-mang/phan-anh/{report.id}", status_code=303)


@router.get("/nha-mang/phan-anh/{report_id}/bang-chung", include_in_schema=False)
def operator_evidence(db: SessionDep, user: Handler, report_id: int):
    report = _own_report(db, user, report_id)
    if not report.evidence_path or not Path(report.evidence_path).is_file():
        raise HTTPException(404, "antispam.op.not_found")
    return FileResponse(report.evidence_path, media_type=report.evidence_media_type,
                        filename=report.evidence_filename or "evidence",
                        headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
                        content_disposition_type="attachment")


@router.get("/nha-mang/so-nghi-van", include_in_schema=False)
def operator_flags(request: Request, db: SessionDep, user: Handler, status: str = "flagged", operator: str = ""):
    scope = _scope(user, operator)
    status = status if status in FLAG_STATES else ""
    rows = flags.visible(db, user, operator_code=scope, status=status or None)
    return render(request, "antispam/op/flags.html", {
        **_op_context(user, scope), "rows": rows, "status": status, "states": FLAG_STATES,
        "tallies": {f.id: flags.tally(f) for f in rows},
        "candidates": {f.id: flags.survey_candidates(f) for f in rows if f.status == "flagged"}})


@router.post("/nha-mang/so-nghi-van/{flag_id}/{action}", include_in_schema=False)
def operator_flag_action(request: Request, form: FormDep, db: SessionDep, user: Handler, lang: LangDep,
                               flag_id: int, action: str):
    flag = db.get(FlaggedNumber, flag_id)
    if flag is None or not flags.may_act(user, flag.operator_code):
        raise HTTPException(404, "antispam.op.not_found")
    if action not in ("confirm", "clear", "survey"):
        raise HTTPException(404, "antispam.op.not_found")
    text_of = _texts(form)
    try:
        if action == "confirm":
            flags.confirm(db, flag, user, text_of("note"))
            flash(request, "antispam.flags.done.confirmed", "success", number=flag.number)
        elif action == "clear":
            flags.clear(db, flag, user, text_of("note"))
            flash(request, "antispam.flags.done.cleared", "success", number=flag.number)
        else:
            made = flags.send_survey(db, flag, user, flags.split_recipients(text_of("recipients")))
            flash(request, "antispam.flags.done.survey", "success", n=len(made))
    except flags.FlagError as exc:
        field, msg = next(iter(exc.errors.items()))
        raise HTTPException(422, f"{field}: {msg}") from None
    db.commit()
    if action == "survey":
        notify.schedule_drain()
    return RedirectResponse(f"/nha-mang/so-nghi-van?status={flag.status}", status_code=303)


@router.get("/nha-mang/danh-sach-chan", include_in_schema=False)
def operator_blocklist(request: Request, db: SessionDep, user: Handler, operator: str = ""):
    scope = _scope(user, operator)
    return render(request, "antispam/op/blocklist.html", {
        **_op_context(user, scope), "entries": flags.blocklist(db, scope),
        "confirmed": len(flags.visible(db, user, operator_code=scope, status="confirmed"))})


@router.get("/nha-mang/danh-sach-chan.csv", include_in_schema=False)
def operator_blocklist_csv(db: SessionDep, user: Handler, operator: str = ""):
    scope = _scope(user, operator)
    name = f"blocklist-{(scope or 'all').lower()}.csv"
    return Response(flags.blocklist_csv(db, scope), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.post("/nha-mang/danh-sach-chan/da-chan", include_in_schema=False)
def operator_mark_blocked(request: Request, form: FormDep, db: SessionDep, user: Handler):
    scope = _scope(user, _texts(form)("operator"))
    if scope is None:
        raise HTTPException(422, "operator: choose an operator")
    n = flags.mark_blocked(db, user, scope)
    db.commit()
    flash(request, "antispam.block.marked", "success", n=n)
    suffix = f"?operator={scope}" if permissions.can(user, "antispam.staff") else ""
    return RedirectResponse(f"/nha-mang/danh-sach-chan{suffix}", status_code=303)


@router.get("/nha-mang/khieu-nai", include_in_schema=False)
def operator_appeals(request: Request, db: SessionDep, user: Handler, status: str = "pending"):
    status = status if status in ("pending", "granted", "rejected") else ""
    return render(request, "antispam/op/appeals.html", {
        **_op_context(user, _scope(user, None)), "rows": flags.appeals_visible(db, user, status=status or None),
        "status": status})


@router.post("/nha-mang/khieu-nai/{appeal_id}", include_in_schema=False)
def staff_decide_appeal(request: Request, form: FormDep, db: SessionDep, user: Staff, appeal_id: int):
    appeal = db.get(Appeal, appeal_id)
    if appeal is None:
        raise HTTPException(404, "antispam.op.not_found")
    text_of = _texts(form)
    decision = text_of("decision")
    if decision not in ("grant", "reject"):
        raise HTTPException(422, "decision: must be grant or reject")
    try:
        flags.decide_appeal(db, appeal, user, decision == "grant", text_of("note"))
    except flags.FlagError as exc:
        field, msg = next(iter(exc.errors.items()))
        raise HTTPException(422, f"{field}: {msg}") from None
    db.commit()
    flash(request, "antispam.appeals.decided", "success", receipt=appeal.receipt)
    return RedirectResponse("/nha-mang/khieu-nai", status_code=303)


# --- ministry: figures and the advertisers' audit ------------------------------------------------


@router.get("/chan-rac/quan-ly", include_in_schema=False)
def staff_figures(request: Request, db: SessionDep, user: Staff, lang: LangDep):
    fig = afig.figures(db)
    return render(request, "antispam/staff/figures.html", {
        **_op_context(user, None), "fig": fig, "specs": afig.charts(fig, lang), "kinds": afig.KIND_LABELS})


@router.get("/api/antispam/figures", dependencies=[require("antispam.staff")])
def api_figures(db: SessionDep) -> dict[str, Any]:
    """Reports by kind and month, reports and numbers by operator, spam detected per day."""
    return afig.figures(db)


@router.get("/chan-rac/quan-ly/quang-cao", include_in_schema=False)
def staff_ads_form(request: Request, user: Staff):
    return render(request, "antispam/staff/ads.html", {**_op_context(user, None), "result": None, "error": None})


@router.post("/chan-rac/quan-ly/quang-cao", include_in_schema=False)
def staff_ads_audit(request: Request, form: FormDep, db: SessionDep, user: Staff, lang: LangDep):
    import tempfile

    from ictgov.antispam.advertisers import audit_send_log
    from ictgov.antispam.records import InputError

    if _too_large(request):
        raise HTTPException(413, "antispam.too_large")
    upload = form.get("log")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(request, "antispam/staff/ads.html", {**_op_context(user, None), "result": None,
                      "error": t("antispam.ads.err.file", lang)}, status_code=422)
    data = upload.file.read(MAX_BODY + 1)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "log.csv"
        path.write_bytes(data)
        try:
            result = audit_send_log(path, dnc.listed_numbers(db))
        except (InputError, ValueError) as exc:
            message = str(exc).replace(str(path), upload.filename[:100])
            return render(request, "antispam/staff/ads.html", {**_op_context(user, None), "result": None,
                          "error": message}, status_code=422)
    return render(request, "antispam/staff/ads.html", {
        **_op_context(user, None), "error": None,
        "result": {"sends": result.sends, "counts": result.counts,
                   "rows": result.violations.head(500).to_dicts(), "total": result.violations.height}})
