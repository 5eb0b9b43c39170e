"""Staff pages of the fake-news centre: the queue, a case, suggestions, thresholds, the hotline.

Routes validate the form, call the domain (``ictgov.tipline.workflow`` / ``intake``), which
checks the transition and writes the audit entry, commit, and redirect (303) with a flash
message. A refused transition (``WorkflowError``) or a bad submission (``IntakeError``)
re-renders the page with the message and a 4xx status; nothing is half-written (the session
is rolled back before the page is shown again).

The in-memory claim index (``service.matcher_for``) follows the moves of reports and the
publications by itself: the workflow records them (the table of moves, ``mark_published``)
and every process's index applies them before it matches the next report.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from ictgov import jobs, notify
from ictgov.audit import AuditEntry, record
from ictgov.auth import Role, User
from ictgov.tipline import match, workflow
from ictgov.tipline.intake import (
    MAX_FILE_BYTES,
    MAX_FILES,
    IntakeError,
    Submission,
    Upload,
    check,
    evidence_file,
    parse_reach,
    submit,
)
from ictgov.tipline.models import (
    CASE_STATES,
    CATEGORIES,
    PLATFORMS,
    VERDICTS,
    Case,
    Evidence,
    Report,
    Suggestion,
)
from ictgov.tipline.service import THRESHOLDS_ACTION, THRESHOLDS_ENTITY, backend_name, matcher_for
from ictgov.web import i18n
from ictgov.web.deps import SessionDep, SettingsDep, flash, get_lang, render, require
from ictgov.web.i18n import register
from ictgov.web.routes.tipline import commit_report

router = APIRouter(tags=["tipline-staff"])

Checker = Annotated[User, require("tipline.triage")]
Admin = Annotated[User, require("users.manage")]

OPEN_STATES = ("new", "triaged", "assigned", "verifying")
FINAL_STATES = ("decided", "published", "closed_duplicate", "closed_out_of_scope")
ACTIONS = ("triage", "assign", "refer", "start", "decide", "publish", "close_duplicate",
           "close_out_of_scope")
MIN_DECISIONS = 20  # decisions needed before match.calibrate suggests thresholds

register({
    # navigation
    "tstaff.nav": ("Kiểm chứng", "Fact-checking"),
    "tstaff.nav.queue": ("Hàng đợi vụ việc", "Case queue"),
    "tstaff.nav.suggestions": ("Gợi ý ghép ({n})", "Suggestions ({n})"),
    "tstaff.nav.thresholds": ("Ngưỡng ghép", "Match thresholds"),
    "tstaff.nav.hotline": ("Tổng đài", "Hotline"),
    # states, categories, platforms, channels
    "tstaff.state.new": ("Mới", "New"),
    "tstaff.state.triaged": ("Đã phân loại", "Triaged"),
    "tstaff.state.assigned": ("Đã giao", "Assigned"),
    "tstaff.state.verifying": ("Đang xác minh", "Verifying"),
    "tstaff.state.decided": ("Đã kết luận", "Decided"),
    "tstaff.state.published": ("Đã công bố", "Published"),
    "tstaff.state.closed_duplicate": ("Đóng (trùng lặp)", "Closed (duplicate)"),
    "tstaff.state.closed_out_of_scope": ("Đóng (ngoài phạm vi)", "Closed (out of scope)"),
    "tstaff.state.open": ("Đang mở", "Open"),
    "tstaff.state.all": ("Tất cả", "All"),
    "tstaff.cat.policy_law": ("Chính sách, pháp luật", "Policy and law"),
    "tstaff.cat.economy_finance": ("Kinh tế, tài chính", "Economy and finance"),
    "tstaff.cat.health": ("Y tế, sản phẩm y tế", "Health and medical products"),
    "tstaff.cat.disasters_epidemics": ("Thiên tai, dịch bệnh", "Natural disasters and epidemics"),
    "tstaff.cat.security_order": ("An ninh quốc gia, trật tự xã hội", "National security and social order"),
    "tstaff.cat.fake_accounts": ("Tài khoản giả mạo", "Fake accounts"),
    "tstaff.cat.scam_links": ("Đường dẫn lừa đảo", "Scam or phishing links"),
    "tstaff.cat.other": ("Khác", "Other"),
    "tstaff.platform.facebook": ("Facebook", "Facebook"),
    "tstaff.platform.zalo": ("Zalo", "Zalo"),
    "tstaff.platform.tiktok": ("TikTok", "TikTok"),
    "tstaff.platform.youtube": ("YouTube", "YouTube"),
    "tstaff.platform.website": ("Trang web", "Website"),
    "tstaff.platform.sms": ("Tin nhắn SMS", "SMS"),
    "tstaff.platform.other": ("Khác", "Other"),
    "tstaff.channel.web": ("Cổng thông tin", "Web portal"),
    "tstaff.channel.hotline": ("Tổng đài", "Hotline"),
    "tstaff.channel.api": ("Kênh đối tác (API)", "Partner channel (API)"),
    "tstaff.channel.email": ("Thư điện tử", "E-mail"),
    "tstaff.channel.chatbot": ("Chatbot", "Chatbot"),
    # queue
    "tstaff.queue.title": ("Hàng đợi vụ việc", "Case queue"),
    "tstaff.queue.intro": ("Các vụ việc sắp theo mức ưu tiên (số phản ánh, tốc độ, lĩnh vực, mức lan truyền).",
                           "Cases by priority (number of reports, velocity, category, reach)."),
    "tstaff.queue.filter": ("Trạng thái", "State"),
    "tstaff.queue.none": ("Không có vụ việc nào.", "No cases."),
    "tstaff.queue.pending": ("{n} gợi ý ghép đang chờ quyết định.", "{n} match suggestions await a decision."),
    "tstaff.queue.review": ("Xem gợi ý", "Review them"),
    "tstaff.col.case": ("Vụ việc", "Case"),
    "tstaff.col.claim": ("Nội dung", "Claim"),
    "tstaff.col.state": ("Trạng thái", "State"),
    "tstaff.col.category": ("Lĩnh vực", "Category"),
    "tstaff.col.reports": ("Phản ánh", "Reports"),
    "tstaff.col.priority": ("Ưu tiên", "Priority"),
    "tstaff.col.assignee": ("Người xử lý", "Assignee"),
    "tstaff.col.due": ("Hạn", "Due"),
    "tstaff.overdue": ("Quá hạn", "Overdue"),
    "tstaff.unassigned": ("Chưa giao", "Unassigned"),
    # case page
    "tstaff.case.title": ("Vụ việc #{id}", "Case #{id}"),
    "tstaff.case.claim": ("Nội dung cần kiểm chứng", "Claim"),
    "tstaff.case.agency": ("Cơ quan xác minh", "Verifying agency"),
    "tstaff.case.verdict": ("Kết luận", "Verdict"),
    "tstaff.case.summary": ("Tóm tắt", "Summary"),
    "tstaff.case.duplicate_of": ("Trùng với vụ việc", "Duplicate of case"),
    "tstaff.case.public_page": ("Trang công bố", "Public page"),
    "tstaff.case.created": ("Tạo lúc", "Created"),
    "tstaff.case.reports": ("Các phản ánh ({n})", "Reports ({n})"),
    "tstaff.case.no_reports": ("Không còn phản ánh nào trong vụ việc này.", "No reports in this case."),
    "tstaff.report.receipt": ("Mã tiếp nhận", "Receipt"),
    "tstaff.report.channel": ("Kênh", "Channel"),
    "tstaff.report.platform": ("Nền tảng", "Platform"),
    "tstaff.report.links": ("Đường dẫn", "Links"),
    "tstaff.report.created": ("Tiếp nhận lúc", "Received"),
    "tstaff.report.match": ("Ghép", "Match"),
    "tstaff.report.evidence": ("Tệp chứng cứ", "Evidence files"),
    "tstaff.report.no_evidence": ("Không có tệp.", "No files."),
    "tstaff.err.no_evidence": ("Không tìm thấy tệp chứng cứ.", "No such evidence file."),
    "tstaff.pii.title": ("Dữ liệu cá nhân — chỉ dùng để xác minh và báo kết quả, không sao chép ra ngoài",
                         "Personal data — for verification and notifying the outcome only; do not copy out"),
    "tstaff.pii.phone": ("Điện thoại", "Phone"),
    "tstaff.pii.email": ("Thư điện tử", "E-mail"),
    "tstaff.pii.consent": ("Đồng ý nhận kết quả", "Consented to be told the outcome"),
    "tstaff.pii.caller": ("Số người gọi", "Caller number"),
    "tstaff.pii.call_time": ("Thời điểm gọi", "Call time"),
    "tstaff.pii.none": ("Không để lại liên hệ.", "No contact given."),
    "tstaff.yes": ("Có", "Yes"),
    "tstaff.no": ("Không", "No"),
    "tstaff.history": ("Lịch sử xử lý", "History"),
    "tstaff.history.none": ("Chưa có thao tác nào.", "Nothing recorded yet."),
    "tstaff.history.at": ("Thời điểm", "When"),
    "tstaff.history.actor": ("Người thực hiện", "Actor"),
    "tstaff.history.action": ("Thao tác", "Action"),
    "tstaff.history.before": ("Trước", "Before"),
    "tstaff.history.after": ("Sau", "After"),
    "tstaff.actions": ("Thao tác tiếp theo", "Next actions"),
    "tstaff.actions.none": ("Vụ việc đã kết thúc: không còn thao tác nào.",
                            "The case is closed: no further actions."),
    "tstaff.refused": ("Không thực hiện được: {message}", "Not done: {message}"),
    # actions
    "tstaff.act.triage": ("Phân loại", "Triage"),
    "tstaff.act.assign": ("Giao xử lý", "Assign"),
    "tstaff.act.refer": ("Chuyển cơ quan chức năng", "Refer to an agency"),
    "tstaff.act.start": ("Bắt đầu xác minh", "Start verifying"),
    "tstaff.act.decide": ("Kết luận", "Record the verdict"),
    "tstaff.act.publish": ("Công bố", "Publish"),
    "tstaff.act.close_duplicate": ("Đóng vì trùng lặp", "Close as a duplicate"),
    "tstaff.act.close_out_of_scope": ("Đóng vì ngoài phạm vi", "Close as out of scope"),
    "tstaff.done.triage": ("Đã phân loại vụ việc #{id}.", "Case #{id} triaged."),
    "tstaff.done.assign": ("Đã giao vụ việc #{id}.", "Case #{id} assigned."),
    "tstaff.done.refer": ("Đã chuyển vụ việc #{id} tới cơ quan chức năng.", "Case #{id} referred."),
    "tstaff.done.start": ("Đã bắt đầu xác minh vụ việc #{id}.", "Verification of case #{id} started."),
    "tstaff.done.decide": ("Đã ghi kết luận cho vụ việc #{id}.", "Verdict recorded for case #{id}."),
    "tstaff.done.publish": ("Đã công bố vụ việc #{id}; {n} thông báo được xếp hàng gửi.",
                            "Case #{id} published; {n} notices queued."),
    "tstaff.done.close_duplicate": ("Đã đóng vụ việc #{id} (trùng lặp).", "Case #{id} closed as a duplicate."),
    "tstaff.done.close_out_of_scope": ("Đã đóng vụ việc #{id} (ngoài phạm vi).",
                                       "Case #{id} closed as out of scope."),
    "tstaff.f.category": ("Lĩnh vực", "Category"),
    "tstaff.f.assignee": ("Kiểm chứng viên", "Fact-checker"),
    "tstaff.f.no_checkers": ("Chưa có tài khoản kiểm chứng viên nào đang hoạt động.",
                             "There is no active fact-checker account."),
    "tstaff.f.agency": ("Cơ quan (Bộ, Sở, Công an…)", "Agency (ministry, department, police…)"),
    "tstaff.f.due": ("Hạn trả lời", "Due date"),
    "tstaff.f.verdict": ("Kết luận", "Verdict"),
    "tstaff.f.summary": ("Tóm tắt cho công chúng (tiếng Việt)", "Summary for the public (Vietnamese)"),
    "tstaff.f.summary_en": ("Tóm tắt (tiếng Anh)", "Summary (English)"),
    "tstaff.f.evidence_notes": ("Ghi chú chứng cứ", "Evidence notes"),
    "tstaff.f.sources": ("Nguồn (mỗi dòng một nguồn)", "Sources (one per line)"),
    "tstaff.f.duplicate_of": ("Mã vụ việc gốc", "Original case id"),
    "tstaff.err.assignee": ("assignee: hãy chọn một kiểm chứng viên", "assignee: choose a fact-checker"),
    "tstaff.err.due": ("due_date: ngày không hợp lệ (YYYY-MM-DD)", "due_date: not a date (YYYY-MM-DD)"),
    "tstaff.err.duplicate_of": ("duplicate_of: không có vụ việc này", "duplicate_of: no such case"),
    "tstaff.err.no_case": ("Không có vụ việc này.", "No such case."),
    "tstaff.err.no_suggestion": ("Không có gợi ý này.", "No such suggestion."),
    "tstaff.err.no_report": ("Không có phản ánh này.", "No such report."),
    "tstaff.err.target_case": ("target_case: không có vụ việc này", "target_case: no such case"),
    "tstaff.move.title": ("Tách khỏi vụ việc này", "Take out of this case"),
    "tstaff.move.target": ("Chuyển sang vụ việc số (để trống: mở vụ việc mới)",
                           "Move to case no. (blank: open a new case)"),
    "tstaff.move.reason": ("Lý do", "Reason"),
    "tstaff.move.submit": ("Tách phản ánh", "Move the report"),
    "tstaff.move.done": ("Đã chuyển phản ánh {receipt} sang vụ việc #{id}.", "Report {receipt} moved to case #{id}."),
    "tstaff.err.bad_state": ("Trạng thái lọc không hợp lệ.", "Unknown state to filter by."),
    "tstaff.err.decision": ("decision: chọn xác nhận hoặc từ chối", "decision: confirm or reject"),
    # suggestions
    "tstaff.sug.title": ("Gợi ý ghép phản ánh", "Match suggestions"),
    "tstaff.sug.intro": ("Điểm tương đồng nằm giữa hai ngưỡng: hãy xác nhận (phản ánh nhập vào vụ việc gợi ý) hoặc từ chối. Các quyết định này dùng để hiệu chỉnh ngưỡng.",
                         "The similarity fell between the two thresholds: confirm (the report joins the suggested case) or reject. These decisions calibrate the thresholds."),
    "tstaff.sug.none": ("Không có gợi ý nào đang chờ.", "No suggestions waiting."),
    "tstaff.sug.report": ("Phản ánh mới", "New report"),
    "tstaff.sug.case": ("Vụ việc gợi ý", "Suggested case"),
    "tstaff.sug.score": ("Điểm", "Score"),
    "tstaff.sug.method": ("Cách ghép", "Method"),
    "tstaff.sug.confirm": ("Xác nhận cùng nội dung", "Confirm: same claim"),
    "tstaff.sug.reject": ("Từ chối", "Reject"),
    "tstaff.sug.confirmed": ("Đã xác nhận: phản ánh {receipt} nhập vào vụ việc #{id}.",
                             "Confirmed: report {receipt} joined case #{id}."),
    "tstaff.sug.rejected": ("Đã từ chối gợi ý cho phản ánh {receipt}.", "Rejected the suggestion for report {receipt}."),
    # thresholds
    "tstaff.th.title": ("Ngưỡng ghép phản ánh", "Match thresholds"),
    "tstaff.th.intro": ("Điểm ≥ ngưỡng tự động: phản ánh tự nhập vào vụ việc; giữa hai ngưỡng: gợi ý cho kiểm chứng viên; thấp hơn: vụ việc mới.",
                        "Score ≥ the automatic threshold: the report joins the case; between the two: suggested to a fact-checker; below: a new case."),
    "tstaff.th.current": ("Ngưỡng đang dùng", "Current thresholds"),
    "tstaff.th.backend": ("Cách so khớp", "Matching backend"),
    "tstaff.th.backend_hint": (
        "Ngưỡng được lưu cho cách so khớp này; khi đổi cách so khớp, ngưỡng trở về mặc định của cách mới "
        "(hoặc ngưỡng đã lưu trước đây cho nó). Tách một phản ánh khỏi vụ việc nó tự nhập vào được tính "
        "là một lần ghép tự động sai.",
        "Thresholds are saved for this backend; after a switch of backend they return to the new "
        "backend's defaults (or what was saved for it before). Taking a report out of a case it joined "
        "automatically counts as a wrong automatic match."),
    "tstaff.th.auto": ("Ngưỡng tự động ghép", "Automatic join threshold"),
    "tstaff.th.suggest": ("Ngưỡng gợi ý", "Suggestion threshold"),
    "tstaff.th.decisions": ("{n} quyết định của kiểm chứng viên ({c} xác nhận).",
                            "{n} fact-checker decisions ({c} confirmed)."),
    "tstaff.th.no_decisions": ("Chưa có quyết định nào về gợi ý: chưa thể đo độ chính xác.",
                               "No suggestion has been decided yet: precision cannot be measured."),
    "tstaff.th.quality": ("Độ chính xác và độ phủ ở ngưỡng hiện tại", "Precision and recall at the current thresholds"),
    "tstaff.th.band": ("Khoảng điểm", "Score band"),
    "tstaff.th.band.auto": ("≥ ngưỡng tự động", "≥ automatic"),
    "tstaff.th.band.suggest": ("giữa hai ngưỡng", "between the two"),
    "tstaff.th.band.at_or_above_suggest": ("≥ ngưỡng gợi ý", "≥ suggestion"),
    "tstaff.th.band.below_suggest": ("< ngưỡng gợi ý", "< suggestion"),
    "tstaff.th.count": ("Số quyết định", "Decisions"),
    "tstaff.th.confirmed": ("Xác nhận", "Confirmed"),
    "tstaff.th.rejected": ("Từ chối", "Rejected"),
    "tstaff.th.precision": ("Độ chính xác", "Precision"),
    "tstaff.th.recall": ("Độ phủ", "Recall"),
    "tstaff.th.calibrate": ("Ngưỡng đề xuất", "Suggested thresholds"),
    "tstaff.th.target": ("Độ chính xác mục tiêu", "Target precision"),
    "tstaff.th.recompute": ("Tính lại", "Recompute"),
    "tstaff.th.too_few": ("Cần ít nhất {min} quyết định để đề xuất ngưỡng, hiện có {n}.",
                          "At least {min} decisions are needed to suggest thresholds; there are {n}."),
    "tstaff.th.cannot": ("Chưa thể đề xuất ngưỡng: {message}", "Cannot suggest thresholds yet: {message}"),
    "tstaff.th.apply": ("Áp dụng ngưỡng", "Apply thresholds"),
    "tstaff.th.apply_note": ("Áp dụng cho bộ ghép đang chạy của tiến trình này và được ghi vào nhật ký.",
                             "Applies to this process's running matcher and is written to the audit log."),
    "tstaff.th.applied": ("Đã áp dụng ngưỡng: tự động {auto}, gợi ý {suggest}.",
                          "Thresholds applied: automatic {auto}, suggestion {suggest}."),
    "tstaff.th.bad_number": ("{field}: không phải số từ 0 đến 1", "{field}: not a number between 0 and 1"),
    # hotline
    "tstaff.hl.title": ("Tiếp nhận phản ánh qua tổng đài 18008108", "Hotline report (18008108)"),
    "tstaff.hl.intro": ("Nhập phản ánh thay người gọi. Đọc mã tiếp nhận cho người gọi sau khi lưu.",
                        "Type in the report for the caller. Read the receipt code to the caller once it is saved."),
    "tstaff.hl.text": ("Nội dung nghi là tin giả", "Suspect content"),
    "tstaff.hl.urls": ("Đường dẫn nơi thấy (mỗi dòng một đường dẫn)", "Links where it was seen (one per line)"),
    "tstaff.hl.platform": ("Nền tảng", "Platform"),
    "tstaff.hl.category": ("Lĩnh vực", "Category"),
    "tstaff.hl.reach": ("Số lượt xem hoặc chia sẻ người gọi thấy", "Views or shares the caller saw"),
    "tstaff.hl.files": ("Tệp bằng chứng người gọi gửi", "Evidence files sent by the caller"),
    "tstaff.hl.files_hint": ("Tối đa {n} tệp jpg, png, pdf, mp4, mp3; mỗi tệp tối đa {mb} MB.",
                             "Up to {n} jpg, png, pdf, mp4, mp3 files; {mb} MB each at most."),
    "tstaff.hl.contact_phone": ("Điện thoại liên hệ", "Contact phone"),
    "tstaff.hl.contact_email": ("Thư điện tử liên hệ", "Contact e-mail"),
    "tstaff.hl.consent": ("Người gọi đồng ý để lưu liên hệ và nhận thông báo kết quả",
                          "The caller agrees to their contact being kept and to be told the outcome"),
    "tstaff.hl.caller_number": ("Số điện thoại người gọi", "Caller number"),
    "tstaff.hl.call_time": ("Thời điểm cuộc gọi (giờ Việt Nam)", "Call time (Vietnam time)"),
    "tstaff.hl.submit": ("Lưu phản ánh", "Save the report"),
    "tstaff.hl.receipt": ("Mã tiếp nhận (đọc cho người gọi):", "Receipt code (read it to the caller):"),
    "tstaff.hl.case": ("Phản ánh thuộc vụ việc #{id}.", "The report belongs to case #{id}."),
    "tstaff.hl.verdict": ("Nội dung này đã có kết luận: {label}. Có thể báo ngay cho người gọi.",
                          "This content already has a verdict: {label}. You may tell the caller now."),
    "tstaff.hl.next": ("Phản ánh tiếp theo", "Next report"),
    "tstaff.hl.bad_time": ("thời điểm không hợp lệ", "not a valid date and time"),
})


# --- helpers ------------------------------------------------------------------------------


HotlineAgent = Annotated[User, require("tipline.hotline")]


def _today_vn() -> date:
    return datetime.now(i18n.VN_TZ).date()


def _pending_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(Suggestion).where(Suggestion.decision.is_(None))) or 0


def _case_or_404(db: Session, case_id: int) -> Case:
    case = db.get(Case, case_id)
    if case is None:
        raise HTTPException(404, "tstaff.err.no_case")
    return case


def _allowed_actions(case: Case) -> list[str]:
    acts = [a for a in ACTIONS if a in workflow.TRANSITIONS and case.state in workflow.TRANSITIONS[a][0]]
    if case.state not in FINAL_STATES:
        acts.append("refer")
    return [a for a in ACTIONS if a in acts]


def _fact_checkers(db: Session) -> list[User]:
    return list(db.scalars(select(User).where(User.role == Role.fact_checker.value, User.is_active.is_(True))
                           .order_by(User.username)))


def _history(db: Session, case: Case, receipts: list[str]) -> list[AuditEntry]:
    cond = and_(AuditEntry.entity == "tipline_case", AuditEntry.entity_id == str(case.id))
    if receipts:
        cond = or_(cond, and_(AuditEntry.entity == "tipline_report", AuditEntry.entity_id.in_(receipts)))
    return list(db.scalars(select(AuditEntry).where(cond).order_by(AuditEntry.at, AuditEntry.id)))


def _verdict_options(lang: str) -> list[tuple[str, str]]:
    return [(v, workflow.VERDICT_LABELS[v][0 if lang == "vi" else 1]) for v in VERDICTS]


# --- queue --------------------------------------------------------------------------------


@router.get("/kiem-chung")
def queue_page(request: Request, db: SessionDep, _: Checker,
               state: Annotated[str, Query(max_length=40)] = "open") -> Response:
    if state in ("", "open"):
        states: tuple[str, ...] = OPEN_STATES
    elif state == "all":
        states = CASE_STATES
    elif state in CASE_STATES:
        states = (state,)
    else:
        raise HTTPException(422, "tstaff.err.bad_state")
    cases = workflow.queue(db, states=states)
    ids = {c.assigned_to_id for c in cases if c.assigned_to_id}
    users = {u.id: u for u in db.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    return render(request, "tipline/staff/queue.html", {
        "cases": cases, "users": users, "state": state or "open",
        "filters": ["open", *CASE_STATES, "all"], "today": _today_vn(),
        "pending": _pending_count(db), "final_states": FINAL_STATES,
    })


# --- one case -----------------------------------------------------------------------------


def _case_page(request: Request, db: Session, case: Case, *, error: str | None = None,
               error_action: str | None = None, values: dict[str, Any] | None = None,
               status_code: int = 200) -> Response:
    reports = list(db.scalars(select(Report).where(Report.case_id == case.id)
                              .options(selectinload(Report.evidence)).order_by(Report.created_at, Report.id)))
    lang = get_lang(request)
    assignee = db.get(User, case.assigned_to_id) if case.assigned_to_id else None
    return render(request, "tipline/staff/case.html", {
        "case": case, "reports": reports, "assignee": assignee,
        "history": _history(db, case, [r.receipt for r in reports]),
        "actions": _allowed_actions(case), "checkers": _fact_checkers(db),
        "categories": CATEGORIES, "verdicts": _verdict_options(lang),
        "verdict_labels": workflow.VERDICT_LABELS,
        "error": error, "error_action": error_action, "values": values or {},
        "today": _today_vn(), "final_states": FINAL_STATES, "pending": _pending_count(db),
    }, status_code=status_code)


@router.get("/kiem-chung/vu-viec/{case_id}")
def case_page(request: Request, db: SessionDep, _: Checker, case_id: int) -> Response:
    return _case_page(request, db, _case_or_404(db, case_id))


@router.post("/kiem-chung/vu-viec/{case_id}/{action}")
def case_action(
    request: Request,
    db: SessionDep,
    user: Checker,
    case_id: int,
    action: str,
    category: Annotated[str, Form(max_length=40)] = "",
    assignee_id: Annotated[str, Form(max_length=20)] = "",
    agency: Annotated[str, Form(max_length=500)] = "",
    due_date: Annotated[str, Form(max_length=20)] = "",
    verdict: Annotated[str, Form(max_length=20)] = "",
    summary: Annotated[str, Form(max_length=20_000)] = "",
    summary_en: Annotated[str, Form(max_length=20_000)] = "",
    evidence_notes: Annotated[str, Form(max_length=50_000)] = "",
    sources: Annotated[str, Form(max_length=20_000)] = "",
    duplicate_of: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    if action not in ACTIONS:
        raise HTTPException(404)
    case = _case_or_404(db, case_id)
    lang = get_lang(request)
    values = {"category": category, "assignee_id": assignee_id, "agency": agency, "due_date": due_date,
              "verdict": verdict, "summary": summary, "summary_en": summary_en,
              "evidence_notes": evidence_notes, "sources": sources, "duplicate_of": duplicate_of}
    kw: dict[str, Any] = {"id": case.id}
    try:
        if action == "triage":
            workflow.triage(db, case, user, category=category.strip() or None)
        elif action == "assign":
            assignee = db.get(User, int(assignee_id)) if assignee_id.strip().isdigit() else None
            if assignee is None:
                raise workflow.WorkflowError(i18n.t("tstaff.err.assignee", lang))
            workflow.assign(db, case, user, assignee)
        elif action == "refer":
            try:
                due = date.fromisoformat(due_date.strip())
            except ValueError:
                raise workflow.WorkflowError(i18n.t("tstaff.err.due", lang)) from None
            workflow.refer(db, case, user, agency, due)
        elif action == "start":
            workflow.start(db, case, user)
        elif action == "decide":
            lines = [s.strip() for s in sources.splitlines() if s.strip()]
            workflow.decide(db, case, user, verdict.strip(), summary, summary_en=summary_en,
                            evidence_notes=evidence_notes, sources=lines)
        elif action == "publish":
            kw["n"] = len(workflow.publish(db, case, user))
        elif action == "close_duplicate":
            original = db.get(Case, int(duplicate_of)) if duplicate_of.strip().isdigit() else None
            if original is None:
                raise workflow.WorkflowError(i18n.t("tstaff.err.duplicate_of", lang))
            workflow.close_duplicate(db, case, user, original)
        elif action == "close_out_of_scope":
            workflow.close_out_of_scope(db, case, user)
        db.flush()
    except workflow.WorkflowError as exc:
        # The domain may have changed the case before refusing: show it as stored.
        db.rollback()
        case = _case_or_404(db, case_id)
        return _case_page(request, db, case, error=str(exc), error_action=action, values=values,
                          status_code=422)
    db.commit()
    if action == "publish" and kw.get("n"):
        # the notices are in the outbox (committed with the verdict); sending is a job
        notify.schedule_drain()
    if action == "publish":
        # the period review counts the verdict from today, not from the next sync-stats
        from ictgov.tipline.observations import SYNC_JOB

        jobs.enqueue(SYNC_JOB)
    flash(request, f"tstaff.done.{action}", "success", **kw)
    return RedirectResponse(f"/kiem-chung/vu-viec/{case_id}", status_code=303)


@router.post("/kiem-chung/bao-cao/{report_id}/tach")
def report_move(
    request: Request,
    db: SessionDep,
    user: Checker,
    report_id: int,
    target_case: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Take a report that joined the wrong case out of it: into another case, or a new one."""
    report = db.get(Report, report_id)
    if report is None:
        raise HTTPException(404, "tstaff.err.no_report")
    lang = get_lang(request)
    case_id, receipt = report.case_id, report.receipt
    try:
        target = None
        if target_case.strip():
            target = db.get(Case, int(target_case)) if target_case.strip().isdigit() else None
            if target is None:
                raise workflow.WorkflowError(i18n.t("tstaff.err.target_case", lang))
        target = workflow.move_report(db, report, user, target, reason)
        db.flush()
    except workflow.WorkflowError as exc:
        db.rollback()
        return _case_page(request, db, _case_or_404(db, case_id), error=str(exc), error_action="move",
                          status_code=422)
    target_id = target.id
    db.commit()
    flash(request, "tstaff.move.done", "success", receipt=receipt, id=target_id)
    return RedirectResponse(f"/kiem-chung/vu-viec/{case_id}", status_code=303)


# --- suggestions --------------------------------------------------------------------------


def _suggestions_page(request: Request, db: Session, *, error: str | None = None,
                      status_code: int = 200) -> Response:
    rows = db.execute(
        select(Suggestion, Report, Case)
        .join(Report, Report.id == Suggestion.report_id)
        .join(Case, Case.id == Suggestion.case_id)
        .where(Suggestion.decision.is_(None))
        .order_by(Suggestion.score.desc(), Suggestion.id)
        .limit(200)
    ).all()
    return render(request, "tipline/staff/suggestions.html",
                  {"rows": rows, "error": error, "pending": len(rows)}, status_code=status_code)


@router.get("/kiem-chung/bang-chung/{evidence_id}")
def evidence_download(request: Request, db: SessionDep, _: Checker, evidence_id: int) -> Response:
    """An evidence file, as an attachment: never rendered inline, whatever it claims to be."""
    ev = db.get(Evidence, evidence_id)
    path = evidence_file(ev, request.app.state.settings.data_dir) if ev is not None else None
    if path is None:
        raise HTTPException(404, "tstaff.err.no_evidence")
    return FileResponse(path, media_type=ev.media_type, filename=ev.filename,
                        content_disposition_type="attachment",
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})


@router.get("/kiem-chung/goi-y")
def suggestions_page(request: Request, db: SessionDep, _: Checker) -> Response:
    return _suggestions_page(request, db)


@router.post("/kiem-chung/goi-y/{suggestion_id}")
def suggestion_resolve(request: Request, db: SessionDep, user: Checker, suggestion_id: int,
                       decision: Annotated[str, Form(max_length=20)] = "") -> Response:
    suggestion = db.get(Suggestion, suggestion_id)
    if suggestion is None:
        raise HTTPException(404, "tstaff.err.no_suggestion")
    lang = get_lang(request)
    try:
        if decision not in ("confirm", "reject"):
            raise workflow.WorkflowError(i18n.t("tstaff.err.decision", lang))
        workflow.resolve_suggestion(db, suggestion, user, decision == "confirm")
        db.flush()
    except workflow.WorkflowError as exc:
        db.rollback()
        return _suggestions_page(request, db, error=str(exc), status_code=422)
    report = db.get(Report, suggestion.report_id)
    receipt, case_id = report.receipt, suggestion.case_id
    db.commit()
    if decision == "confirm":
        flash(request, "tstaff.sug.confirmed", "success", receipt=receipt, id=case_id)
    else:
        flash(request, "tstaff.sug.rejected", "success", receipt=receipt)
    return RedirectResponse("/kiem-chung/goi-y", status_code=303)


# --- thresholds ---------------------------------------------------------------------------


def _thresholds_page(request: Request, db: Session, *, target: float = 0.95, error: str | None = None,
                     values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    lang = get_lang(request)
    matcher = matcher_for(db)
    auto, suggest = matcher.auto_threshold, matcher.suggest_threshold
    decisions = workflow.calibration_decisions(db)
    report, suggested, calib_error = None, None, None
    if decisions:
        try:
            report = match.threshold_report(decisions, auto, suggest)
        except (ValueError, TypeError) as exc:
            calib_error = str(exc)
    if len(decisions) < MIN_DECISIONS:
        calib_error = i18n.t("tstaff.th.too_few", lang, min=MIN_DECISIONS, n=len(decisions))
    elif calib_error is None:
        try:
            suggested = match.calibrate(decisions, target_precision=target, min_decisions=MIN_DECISIONS)
        except (ValueError, TypeError) as exc:
            calib_error = i18n.t("tstaff.th.cannot", lang, message=str(exc))
    if values is None:
        a, s = suggested if suggested else (auto, suggest)
        values = {"auto_threshold": f"{a:.4g}", "suggest_threshold": f"{s:.4g}"}
    return render(request, "tipline/staff/thresholds.html", {
        "auto": auto, "suggest": suggest, "decisions": len(decisions), "backend": backend_name(),
        "confirmed": sum(1 for _, ok in decisions if ok), "report": report,
        "bands": ("auto", "suggest", "at_or_above_suggest", "below_suggest"),
        "suggested": suggested, "calib_error": calib_error, "target": target,
        "error": error, "values": values, "pending": _pending_count(db),
    }, status_code=status_code)


@router.get("/kiem-chung/nguong")
def thresholds_page(request: Request, db: SessionDep, _: Admin,
                    target: Annotated[float, Query(gt=0.0, le=1.0)] = 0.95) -> Response:
    return _thresholds_page(request, db, target=target)


def _parse_unit(value: str) -> float | None:
    try:
        x = float(value.strip().replace(",", "."))
    except ValueError:
        return None
    return x if 0.0 <= x <= 1.0 else None


@router.post("/kiem-chung/nguong")
def thresholds_apply(
    request: Request,
    db: SessionDep,
    admin: Admin,
    auto_threshold: Annotated[str, Form(max_length=20)] = "",
    suggest_threshold: Annotated[str, Form(max_length=20)] = "",
    target: Annotated[str, Form(max_length=20)] = "0.95",
) -> Response:
    lang = get_lang(request)
    values = {"auto_threshold": auto_threshold, "suggest_threshold": suggest_threshold}
    tgt = _parse_unit(target) or 0.95
    auto, suggest = _parse_unit(auto_threshold), _parse_unit(suggest_threshold)
    problems = [i18n.t("tstaff.th.bad_number", lang, field=name)
                for name, v in (("auto_threshold", auto), ("suggest_threshold", suggest)) if v is None]
    if problems:
        return _thresholds_page(request, db, target=tgt, error="; ".join(problems), values=values,
                                status_code=422)
    matcher = matcher_for(db)
    before = {"auto_threshold": matcher.auto_threshold, "suggest_threshold": matcher.suggest_threshold}
    try:
        matcher.set_thresholds(auto, suggest)
    except ValueError as exc:
        return _thresholds_page(request, db, target=tgt, error=str(exc), values=values, status_code=422)
    # tied to the backend they were set for: another backend scores on another scale
    record(db, admin, THRESHOLDS_ACTION, THRESHOLDS_ENTITY, "thresholds", before=before,
           after={"auto_threshold": auto, "suggest_threshold": suggest, "backend": backend_name()})
    try:
        db.commit()
    except Exception:
        matcher.set_thresholds(before["auto_threshold"], before["suggest_threshold"])
        raise
    flash(request, "tstaff.th.applied", "success", auto=auto, suggest=suggest)
    return RedirectResponse("/kiem-chung/nguong", status_code=303)


# --- hotline ------------------------------------------------------------------------------

HOTLINE_FIELDS = ("text", "urls", "platform", "category", "reach", "files", "contact_phone", "contact_email",
                  "consent", "caller_number", "call_time")


def _hotline_page(request: Request, *, values: dict[str, Any] | None = None,
                  errors: dict[str, str] | None = None, result: Any = None,
                  status_code: int = 200) -> Response:
    lang = get_lang(request)
    verdict_label = None
    if result is not None and result.verdict:
        verdict_label = workflow.VERDICT_LABELS[result.verdict][0 if lang == "vi" else 1]
    return render(request, "tipline/staff/hotline.html", {
        "values": values or {"platform": "other", "category": "other"}, "errors": errors or {},
        "result": result, "verdict_label": verdict_label, "fields": HOTLINE_FIELDS,
        "platforms": PLATFORMS, "categories": CATEGORIES,
        "now": datetime.now(i18n.VN_TZ).strftime("%Y-%m-%dT%H:%M"),
        "max_files": MAX_FILES, "max_mb": MAX_FILE_BYTES // (1024 * 1024),
    }, status_code=status_code)


@router.get("/tong-dai")
def hotline_form(request: Request, _: HotlineAgent) -> Response:
    return _hotline_page(request)


@router.post("/tong-dai")
def hotline_submit(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: HotlineAgent,
    text: Annotated[str, Form(max_length=20_000)] = "",
    urls: Annotated[str, Form(max_length=20_000)] = "",
    platform: Annotated[str, Form(max_length=20)] = "other",
    category: Annotated[str, Form(max_length=40)] = "other",
    reach: Annotated[str, Form(max_length=20)] = "",
    contact_phone: Annotated[str, Form(max_length=40)] = "",
    contact_email: Annotated[str, Form(max_length=200)] = "",
    consent: Annotated[str, Form(max_length=10)] = "",
    caller_number: Annotated[str, Form(max_length=40)] = "",
    call_time: Annotated[str, Form(max_length=40)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """The public form's fields (evidence files and reach too), typed by an agent for a caller."""
    lang = get_lang(request)
    values = {"text": text, "urls": urls, "platform": platform, "category": category, "reach": reach,
              "contact_phone": contact_phone, "contact_email": contact_email, "consent": bool(consent),
              "caller_number": caller_number, "call_time": call_time}
    errors: dict[str, str] = {}
    when = None
    if call_time.strip():
        try:
            local = datetime.fromisoformat(call_time.strip())
            if local.tzinfo is None:
                local = local.replace(tzinfo=i18n.VN_TZ)
            when = local.astimezone(UTC).replace(tzinfo=None)
        except ValueError:
            errors["call_time"] = i18n.t("tstaff.hl.bad_time", lang)
    reach_value, reach_error = parse_reach(reach)
    if reach_error:
        errors["reach"] = reach_error
    # An empty file input sends a part without a name; more than the limit is refused by the intake.
    uploads = [Upload(f.filename, f.file.read(MAX_FILE_BYTES + 1)) for f in files or () if f.filename]
    sub = Submission(
        text=text, urls=[u.strip() for u in urls.splitlines() if u.strip()], platform=platform.strip(),
        category=category.strip(), reach=reach_value, contact_phone=contact_phone.strip() or None,
        contact_email=contact_email.strip() or None, consent=bool(consent),
        caller_number=caller_number.strip() or None, call_time=when, files=uploads,
    )
    if errors:
        errors = {**check(sub, "hotline"), **errors}
        return _hotline_page(request, values=values, errors=errors, status_code=422)
    try:
        result = submit(db, sub, "hotline", matcher=matcher_for(db), user=user,
                        evidence_dir=settings.data_dir / "evidence")
    except IntakeError as exc:
        db.rollback()
        return _hotline_page(request, values=values, errors=exc.errors, status_code=422)
    commit_report(db)  # the receipt is shown only once the report is stored
    return _hotline_page(request, result=result)
