"""Pages of the press digital-maturity service (Decision 951/QĐ-BTTTT): a press agency's
profile and self-assessment, the appraisal council's queue and review, the printable
certificate, the public ranking of certified agencies and the certificate check.

Routes validate, call ``ictgov.dx.press`` and render. Who may do what is in ``permissions``:
``dx.press_assess`` (a press agency, for itself only: every assessment is checked against the
user's ``agency_ref`` before it is read or written), ``dx.press_review`` (the council) and
``dx.press_ranking`` (public). Bad input answers 422 naming the field or criterion.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from ictgov.auth import User
from ictgov.dx import charts, press
from ictgov.dx.models import AGENCY_TYPES, PressAgency, PressAssessment
from ictgov.web.deps import LangDep, OptionalUser, SessionDep, ensure, flash, render, require
from ictgov.web.i18n import register, translator

router = APIRouter(tags=["dx"])

AgencyUser = Annotated[User, require("dx.press_assess")]
Council = Annotated[User, require("dx.press_review")]

BASE = "/chuyen-doi-so/bao-chi"
ANSWER_PREFIX = "q."
NOTE_PREFIX = "note."
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]

register({
    "nav.press": ("Báo chí số", "Press dx"),
    "press.title": ("Chuyển đổi số báo chí", "Press digital transformation"),
    "press.intro": ("Cơ quan báo chí tự đánh giá mức độ trưởng thành chuyển đổi số theo Bộ chỉ số của Quyết định "
                    "951/QĐ-BTTTT; Hội đồng thẩm định xem xét, điều chỉnh điểm và cấp chứng nhận.",
                    "Press agencies assess their digital maturity against the index of Decision 951/QĐ-BTTTT; "
                    "the appraisal council reviews, adjusts the scores and certifies."),
    "press.nav.agency": ("Cơ quan báo chí tự đánh giá", "Press agency self-assessment"),
    "press.nav.council": ("Hội đồng thẩm định", "Appraisal council"),
    "press.nav.ranking": ("Xếp hạng cơ quan báo chí", "Press agency ranking"),
    "press.nav.check": ("Tra cứu chứng nhận", "Check a certificate"),
    # profile
    "press.agency.title": ("Hồ sơ cơ quan báo chí", "Press agency profile"),
    "press.agency.register": ("Khai báo cơ quan báo chí", "Describe your press agency"),
    "press.agency.register_intro": ("Khai báo thông tin cơ quan trước khi tự đánh giá; mã cơ quan lấy từ tài khoản.",
                                    "Describe your agency before the assessment; its code comes from your account."),
    "press.agency.saved": ("Đã lưu hồ sơ cơ quan báo chí.", "Agency profile saved."),
    "press.field.code": ("Mã cơ quan (số giấy phép)", "Agency code (licence number)"),
    "press.field.name": ("Tên cơ quan báo chí", "Agency name"),
    "press.field.agency_type": ("Loại hình", "Agency type"),
    "press.field.governing_body": ("Cơ quan chủ quản", "Governing body"),
    "press.field.scope": ("Trung ương hay địa phương", "Central or local"),
    "press.field.province_code": ("Tỉnh, thành phố (trụ sở)", "Province (head office)"),
    "press.field.year": ("Năm đánh giá", "Year assessed"),
    "press.type.print": ("Báo in", "Print"),
    "press.type.online": ("Báo điện tử", "Online"),
    "press.type.radio": ("Phát thanh", "Radio"),
    "press.type.television": ("Truyền hình", "Television"),
    "press.scope.central": ("Trung ương", "Central"),
    "press.scope.local": ("Địa phương", "Local"),
    "press.all_types": ("Mọi loại hình", "Every type"),
    # assessments
    "press.assessments": ("Các năm đánh giá", "Assessments by year"),
    "press.assessments.none": ("Chưa có lần đánh giá nào.", "No assessment yet."),
    "press.start": ("Bắt đầu hoặc tiếp tục đánh giá năm", "Start or continue the assessment of"),
    "press.open": ("Mở", "Open"),
    "press.status.draft": ("Đang làm", "In progress"),
    "press.status.submitted": ("Chờ hội đồng thẩm định", "Waiting for the council"),
    "press.status.returned": ("Hội đồng trả lại", "Returned by the council"),
    "press.status.certified": ("Đã chứng nhận", "Certified"),
    "press.col.year": ("Năm", "Year"),
    "press.col.status": ("Trạng thái", "Status"),
    "press.col.self": ("Điểm tự đánh giá", "Self-assessed"),
    "press.col.total": ("Điểm thẩm định", "Appraised total"),
    "press.col.level": ("Mức", "Level"),
    "press.col.framework": ("Bộ chỉ số", "Framework"),
    "press.col.agency": ("Cơ quan báo chí", "Agency"),
    "press.col.type": ("Loại hình", "Type"),
    "press.col.sent": ("Gửi lúc", "Sent"),
    "press.col.rank": ("Hạng", "Rank"),
    "press.col.certificate": ("Số chứng nhận", "Certificate"),
    "press.col.criterion": ("Tiêu chí", "Criterion"),
    "press.col.answer": ("Câu trả lời của cơ quan", "Agency's answer"),
    "press.col.own_points": ("Điểm cơ quan tự chấm", "Agency's points"),
    "press.col.council_points": ("Điểm hội đồng", "Council's points"),
    "press.col.note": ("Minh chứng", "Evidence"),
    "press.col.max": ("Tối đa", "Maximum"),
    # questionnaire
    "press.q.title": ("Phiếu tự đánh giá năm {year}", "Self-assessment of {year}"),
    "press.q.intro": ("Câu trả lời và ghi chú minh chứng được lưu ngay khi bạn nhập; bạn có thể dừng và quay lại. "
                      "Phiếu chỉ gửi được khi đã trả lời đủ mọi tiêu chí.",
                      "Answers and evidence notes are saved as you enter them; you can stop and come back. "
                      "The questionnaire can be sent once every criterion is answered."),
    "press.q.note": ("Ghi chú minh chứng (không bắt buộc)", "Evidence note (optional)"),
    "press.q.submit": ("Gửi hội đồng thẩm định", "Send to the appraisal council"),
    "press.q.returned": ("Hội đồng thẩm định trả lại phiếu: {reason}", "The appraisal council returned it: {reason}"),
    "press.q.sent": ("Đã gửi phiếu tới hội đồng thẩm định.", "Sent to the appraisal council."),
    # result
    "press.r.title": ("Kết quả đánh giá năm {year}", "Assessment of {year}"),
    "press.r.waiting": ("Phiếu đã gửi lúc {date} và đang chờ hội đồng thẩm định. Điểm tự đánh giá: {total}/100.",
                        "Sent on {date}, waiting for the appraisal council. Self-assessed total: {total} of 100."),
    "press.r.level": ("Mức {name}", "Level: {name}"),
    "press.r.total": ("Tổng điểm {total}/{max} (tự đánh giá {own})", "Total {total} of {max} (self-assessed {own})"),
    "press.r.certificate": ("Xem và in giấy chứng nhận {number}", "See and print certificate {number}"),
    "press.r.adjusted": ("Điểm được hội đồng điều chỉnh", "Points adjusted by the council"),
    "press.r.none_adjusted": ("Hội đồng không điều chỉnh tiêu chí nào.", "The council adjusted no criterion."),
    "press.r.back": ("Về hồ sơ cơ quan", "Back to the agency profile"),
    "press.r.next": ("Cần thêm {short} điểm để đạt mức {name} (từ {at} điểm).",
                     "{short} more points reach level {name} (from {at} points)."),
    # council
    "press.c.title": ("Hội đồng thẩm định: phiếu chờ xem xét", "Appraisal council: assessments to review"),
    "press.c.none": ("Không có phiếu nào chờ thẩm định.", "No assessment is waiting."),
    "press.c.review": ("Thẩm định", "Review"),
    "press.c.review_title": ("Thẩm định: {name}, năm {year}", "Review: {name}, {year}"),
    "press.c.totals": ("Tự đánh giá {own} điểm; sau điều chỉnh {total} điểm, mức {level}.",
                       "Self-assessed {own} points; after adjustments {total} points, level {level}."),
    "press.c.adjust": ("Điều chỉnh", "Adjust"),
    "press.c.points": ("Điểm", "Points"),
    "press.c.reason": ("Lý do", "Reason"),
    "press.c.adjusted": ("Đã điều chỉnh điểm tiêu chí {criterion}.", "Points of criterion {criterion} adjusted."),
    "press.c.return": ("Trả lại cơ quan để bổ sung", "Return to the agency"),
    "press.c.returned": ("Đã trả lại phiếu cho cơ quan.", "Returned to the agency."),
    "press.c.certify": ("Chứng nhận kết quả", "Certify the result"),
    "press.c.certify_confirm": ("Chứng nhận và khoá kết quả này?", "Certify and freeze this result?"),
    "press.c.certified": ("Đã cấp chứng nhận số {number}.", "Certificate {number} issued."),
    "press.c.not_submitted": ("Phiếu này không ở trạng thái chờ thẩm định ({status}).",
                              "This assessment is not waiting for the council ({status})."),
    "press.c.recent": ("Đã chứng nhận gần đây", "Recently certified"),
    "press.c.by": ("{who}, {date}", "{who}, {date}"),
    # certificate
    "press.cert.title": ("Giấy chứng nhận mức độ trưởng thành chuyển đổi số báo chí",
                         "Certificate of press digital-transformation maturity"),
    "press.cert.certifies": ("Chứng nhận", "This certifies that"),
    "press.cert.reached": ("đạt mức", "reached the level"),
    "press.cert.year": ("Năm đánh giá {year}", "Assessment year {year}"),
    "press.cert.total": ("Tổng điểm {total}/100", "Total {total} of 100"),
    "press.cert.number": ("Số chứng nhận", "Certificate number"),
    "press.cert.date": ("Ngày chứng nhận", "Date certified"),
    "press.cert.framework": ("Theo {name}, phiên bản {version}", "Under {name}, version {version}"),
    "press.cert.print": ("In giấy chứng nhận", "Print the certificate"),
    "press.cert.not_found": ("Không có chứng nhận số này.", "No certificate has this number."),
    "press.cert.check": ("Tra cứu giấy chứng nhận", "Check a certificate"),
    "press.cert.check_intro": ("Nhập số chứng nhận (ví dụ PDT-2025-0001) để kiểm tra.",
                               "Type the certificate number (e.g. PDT-2025-0001) to check it."),
    "press.cert.number_field": ("Số chứng nhận", "Certificate number"),
    "press.cert.valid": ("Chứng nhận hợp lệ: {name}, mức {level}, năm {year}.",
                         "A valid certificate: {name}, level {level}, {year}."),
    "press.cert.search": ("Tra cứu", "Check"),
    # ranking
    "press.rk.title": ("Xếp hạng mức độ trưởng thành chuyển đổi số báo chí",
                       "Ranking of press agencies' digital maturity"),
    "press.rk.none": ("Chưa có cơ quan nào được chứng nhận.", "No agency has been certified yet."),
    "press.rk.tie": ("Các cơ quan bằng điểm có cùng hạng. Khi lọc theo loại hình, hạng tính trong loại hình đó.",
                     "Agencies with equal totals share a rank. Filtered by type, ranks are within that type."),
    "press.rk.distribution": ("Phân bố theo mức", "Distribution by level"),
    "press.rk.count": ("Số cơ quan", "Agencies"),
    "press.rk.share": ("Tỷ lệ", "Share"),
    "press.rk.chart": ("Tổng điểm của các cơ quan đã chứng nhận", "Totals of the certified agencies"),
    "press.rk.source": ("Nguồn: chứng nhận của hội đồng thẩm định trên nền tảng này, năm {year}. Số liệu công bố "
                        "chính thức các năm 2023–2025 có trong mục Thống kê.",
                        "Source: certificates issued by the appraisal council on this platform, {year}. The "
                        "published national figures for 2023–2025 are in Statistics."),
})


# -- helpers ----------------------------------------------------------------------------------


def _tr(request: Request):
    from ictgov.web.deps import get_lang

    return translator(get_lang(request))


def _provinces(db: Session) -> list[tuple[str, str]]:
    from datetime import date

    from ictgov.stats.areas import areas_in_force

    return [(a.code, a.name) for a in areas_in_force(db, date.today(), level="province")]


def _own(db: Session, user: User, assessment_id: int) -> PressAssessment:
    """The assessment if it is the user's agency's; 404 when it does not exist, 403 otherwise."""
    a = db.get(PressAssessment, assessment_id)
    if a is None:
        raise HTTPException(404)
    ensure(user, "dx.press_assess", agency_ref=a.agency.code)
    return a


def _assessment(db: Session, assessment_id: int) -> PressAssessment:
    a = db.get(PressAssessment, assessment_id)
    if a is None:
        raise HTTPException(404)
    return a


def _text(t: dict | Any, lang: str) -> str:
    if isinstance(t, dict):
        return t.get("en" if lang == "en" else "vi") or ""
    return t.get(lang)


def _agency_context(request: Request, db: Session, user: User, agency: PressAgency | None,
                    errors: dict | None = None, values: dict | None = None) -> dict[str, Any]:
    tr = _tr(request)
    return {
        "agency": agency, "errors": errors or {},
        "values": values or (press.public_dict(agency) if agency else {}),
        "code": agency.code if agency else (user.agency_ref or ""),
        "types": [(t, tr(f"press.type.{t}")) for t in AGENCY_TYPES],
        "scopes": [(s, tr(f"press.scope.{s}")) for s in ("central", "local")],
        "provinces": _provinces(db), "years": press.years_open(),
        "assessments": press.assessments_of(db, agency) if agency else [],
    }


def _pillars_for_chart(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [{**p, "level": None} for p in result["pillars"]]


# -- the agency ------------------------------------------------------------------------------------


@router.get(f"{BASE}/co-quan", include_in_schema=False)
def agency_page(request: Request, db: SessionDep, user: AgencyUser):
    return render(request, "dx/press/agency.html", _agency_context(request, db, user, press.of_user(db, user)))


@router.post(f"{BASE}/co-quan", include_in_schema=False)
def agency_save(request: Request, db: SessionDep, user: AgencyUser,
                name: str = Form(""), agency_type: str = Form(""), governing_body: str = Form(""),
                scope: str = Form(""), province_code: str = Form("")):
    data = {"name": name, "agency_type": agency_type, "governing_body": governing_body, "scope": scope,
            "province_code": province_code}
    agency = press.of_user(db, user)
    try:
        if agency is None:
            press.register(db, data, user, code=user.agency_ref)
        else:
            press.update(db, agency, data, user)
    except press.PressError as exc:
        return render(request, "dx/press/agency.html",
                      _agency_context(request, db, user, agency, exc.errors, data), status_code=422)
    flash(request, "press.agency.saved", "success")
    return RedirectResponse(f"{BASE}/co-quan", status_code=303)


@router.post(f"{BASE}/danh-gia", include_in_schema=False)
def assessment_start(request: Request, db: SessionDep, user: AgencyUser, year: str = Form("")):
    agency = press.of_user(db, user)
    if agency is None:
        return RedirectResponse(f"{BASE}/co-quan", status_code=303)
    try:
        a = press.start(db, agency, year, user)
    except press.PressError as exc:
        return render(request, "dx/press/agency.html",
                      _agency_context(request, db, user, agency, exc.errors), status_code=422)
    return RedirectResponse(f"{BASE}/danh-gia/{a.id}", status_code=303)


def _questionnaire(request: Request, a: PressAssessment, errors: dict | None = None,
                   answers: dict | None = None, notes: dict | None = None, missing: list[str] | None = None,
                   status_code: int = 200):
    fw = press.framework_of(a)
    answers = dict(a.answers or {}) if answers is None else answers
    per_pillar = [{"pillar": p, "answered": sum(c.code in answers for c in p.criteria),
                   "count": len(list(p.criteria))} for p in fw.pillars]
    return render(request, "dx/press/questionnaire.html", {
        "a": a, "fw": fw, "answers": answers, "notes": dict(a.notes or {}) if notes is None else notes,
        "errors": errors or {}, "missing": missing or [],
        "answered": sum(code in answers for code in fw.criteria), "total": len(fw.criteria),
        "per_pillar": per_pillar, "prefix": ANSWER_PREFIX, "note_prefix": NOTE_PREFIX,
    }, status_code=status_code)


@router.get(f"{BASE}/danh-gia/{{assessment_id}}", include_in_schema=False)
def assessment_page(request: Request, db: SessionDep, user: AgencyUser, assessment_id: Id):
    a = _own(db, user, assessment_id)
    if a.status not in press.EDITABLE:
        return RedirectResponse(f"{BASE}/danh-gia/{a.id}/ket-qua", status_code=303)
    return _questionnaire(request, a)


async def _entries_from(request: Request) -> tuple[dict[str, str], dict[str, str]]:
    form = await request.form()
    answers, notes = {}, {}
    for k, v in form.multi_items():
        if not isinstance(v, str):
            continue
        if k.startswith(ANSWER_PREFIX):
            answers[k[len(ANSWER_PREFIX):]] = v
        elif k.startswith(NOTE_PREFIX):
            notes[k[len(NOTE_PREFIX):]] = v
    return answers, notes


@router.post(f"{BASE}/danh-gia/{{assessment_id}}/luu", include_in_schema=False)
async def assessment_save(request: Request, db: SessionDep, user: AgencyUser, assessment_id: Id):
    a = _own(db, user, assessment_id)
    answers, notes = await _entries_from(request)
    htmx = bool(request.headers.get("hx-request"))
    if a.status not in press.EDITABLE:
        raise HTTPException(409, "dx.q.not_draft")
    try:
        saved = press.save(db, a, answers, notes, user)
    except press.PressError as exc:
        request.state.rollback_only = True
        if htmx:
            return render(request, "dx/_save_status.html", {"errors": exc.errors}, status_code=422)
        return _questionnaire(request, a, errors=exc.errors, answers={**(a.answers or {}), **answers},
                              notes={**(a.notes or {}), **notes}, status_code=422)
    total = len(press.framework_of(a).criteria)
    if htmx:
        return render(request, "dx/_save_status.html", {"n": len(saved), "total": total, "errors": {}})
    flash(request, "dx.q.saved", "success", n=len(saved), total=total)
    return RedirectResponse(f"{BASE}/danh-gia/{a.id}", status_code=303)


@router.post(f"{BASE}/danh-gia/{{assessment_id}}/gui", include_in_schema=False)
async def assessment_submit(request: Request, db: SessionDep, user: AgencyUser, assessment_id: Id):
    a = _own(db, user, assessment_id)
    if a.status not in press.EDITABLE:
        return RedirectResponse(f"{BASE}/danh-gia/{a.id}/ket-qua", status_code=303)
    answers, notes = await _entries_from(request)
    try:
        if answers or notes:
            press.save(db, a, answers, notes, user)
    except press.PressError as exc:
        request.state.rollback_only = True
        return _questionnaire(request, a, errors=exc.errors, answers={**(a.answers or {}), **answers},
                              notes={**(a.notes or {}), **notes}, status_code=422)
    try:
        press.submit(db, a, user)
    except press.PressError as exc:
        # The answers given are kept: commit them, show the page with what is missing.
        db.commit()
        return _questionnaire(request, a, missing=exc.missing, status_code=422)
    flash(request, "press.q.sent", "success")
    return RedirectResponse(f"{BASE}/danh-gia/{a.id}/ket-qua", status_code=303)


def _result_context(db: Session, a: PressAssessment, lang: str) -> dict[str, Any]:
    fw = press.framework_of(a)
    r = a.result if a.status == "certified" else press.current_score(a).as_dict()
    return {"a": a, "fw": fw, "r": r, "digest_ok": press.digest_matches(a),
            "radar": charts.radar(_pillars_for_chart(r), lang),
            "criterion": lambda code: fw.criteria[code][2] if code in fw.criteria else None,
            "txt": lambda t: _text(t, lang)}


@router.get(f"{BASE}/danh-gia/{{assessment_id}}/ket-qua", include_in_schema=False)
def assessment_result(request: Request, db: SessionDep, user: AgencyUser, lang: LangDep, assessment_id: Id):
    a = _own(db, user, assessment_id)
    if a.status in press.EDITABLE:
        return RedirectResponse(f"{BASE}/danh-gia/{a.id}", status_code=303)
    return render(request, "dx/press/result.html", _result_context(db, a, lang))


# -- the appraisal council -----------------------------------------------------------------------


@router.get(f"{BASE}/hoi-dong", include_in_schema=False)
def council_queue(request: Request, db: SessionDep, user: Council):
    recent = sorted(press.queue(db, ("certified",)), key=lambda a: a.certified_at, reverse=True)[:20]
    return render(request, "dx/press/council.html", {"waiting": press.queue(db), "recent": recent})


def _review(request: Request, db: Session, a: PressAssessment, lang: str, errors: dict | None = None,
            values: dict | None = None, status_code: int = 200):
    fw = press.framework_of(a)
    result = a.result if a.status == "certified" else press.current_score(a).as_dict()
    return render(request, "dx/press/review.html", {
        "a": a, "fw": fw, "r": result, "errors": errors or {}, "values": values or {},
        "adjustments": a.adjustments or {}, "answers": a.answers or {}, "notes": a.notes or {},
        "txt": lambda t: _text(t, lang),
    }, status_code=status_code)


@router.get(f"{BASE}/hoi-dong/{{assessment_id}}", include_in_schema=False)
def council_review(request: Request, db: SessionDep, user: Council, lang: LangDep, assessment_id: Id):
    a = _assessment(db, assessment_id)
    if a.status in press.EDITABLE and a.submitted_at is None:
        raise HTTPException(404)  # a draft never sent is the agency's own business
    return _review(request, db, a, lang)


@router.post(f"{BASE}/hoi-dong/{{assessment_id}}/dieu-chinh", include_in_schema=False)
def council_adjust(request: Request, db: SessionDep, user: Council, lang: LangDep, assessment_id: Id,
                   criterion: str = Form(""), points: str = Form(""), reason: str = Form("")):
    a = _assessment(db, assessment_id)
    try:
        press.adjust(db, a, criterion, points, reason, user)
    except press.PressError as exc:
        request.state.rollback_only = True
        return _review(request, db, a, lang, errors=exc.errors,
                       values={"criterion": criterion, "points": points, "reason": reason},
                       status_code=409 if "status" in exc.errors else 422)
    flash(request, "press.c.adjusted", "success", criterion=criterion)
    return RedirectResponse(f"{BASE}/hoi-dong/{a.id}#c-{criterion}", status_code=303)


@router.post(f"{BASE}/hoi-dong/{{assessment_id}}/tra-lai", include_in_schema=False)
def council_return(request: Request, db: SessionDep, user: Council, lang: LangDep, assessment_id: Id,
                   reason: str = Form("")):
    a = _assessment(db, assessment_id)
    try:
        press.return_to_agency(db, a, reason, user)
    except press.PressError as exc:
        request.state.rollback_only = True
        errors = {("return_reason" if k == "reason" else k): v for k, v in exc.errors.items()}
        return _review(request, db, a, lang, errors=errors, values={"return_reason": reason},
                       status_code=409 if "status" in exc.errors else 422)
    flash(request, "press.c.returned", "success")
    return RedirectResponse(f"{BASE}/hoi-dong", status_code=303)


@router.post(f"{BASE}/hoi-dong/{{assessment_id}}/chung-nhan", include_in_schema=False)
def council_certify(request: Request, db: SessionDep, user: Council, lang: LangDep, assessment_id: Id):
    a = _assessment(db, assessment_id)
    try:
        data = press.certify(db, a, user)
    except press.PressError as exc:
        request.state.rollback_only = True
        return _review(request, db, a, lang, errors=exc.errors, status_code=409)
    flash(request, "press.c.certified", "success", number=data["certificate"]["number"])
    return RedirectResponse(f"{BASE}/hoi-dong/{a.id}", status_code=303)


# -- public: certificate, check, ranking --------------------------------------------------------


@router.get(f"{BASE}/chung-nhan", include_in_schema=False, dependencies=[require("dx.press_ranking")])
def certificate_check(request: Request, db: SessionDep, so: str = ""):
    found = press.by_certificate(db, so) if so.strip() else None
    status = 404 if so.strip() and found is None else 200
    return render(request, "dx/press/check.html", {"number": so[:64], "found": found,
                                                   "asked": bool(so.strip())}, status_code=status)


@router.get(f"{BASE}/chung-nhan/{{number}}", include_in_schema=False, dependencies=[require("dx.press_ranking")])
def certificate_page(request: Request, db: SessionDep, lang: LangDep, number: Annotated[str, Path(max_length=64)]):
    a = press.by_certificate(db, number)
    if a is None:
        raise HTTPException(404, "press.cert.not_found")
    return render(request, "dx/press/certificate.html", {
        "a": a, "fw": press.framework_of(a), "cert": a.result["certificate"],
        "level_name": _text(a.result["level_name"], lang)})


@router.get(f"{BASE}/xep-hang", include_in_schema=False, dependencies=[require("dx.press_ranking")])
def ranking_page(request: Request, db: SessionDep, lang: LangDep, user: OptionalUser,
                 year: str = "", agency_type: str = ""):
    tr = _tr(request)
    years = press.certified_years(db)
    chosen = int(year) if year.isdigit() and int(year) in years else (years[0] if years else None)
    kind = agency_type if agency_type in AGENCY_TYPES else ""
    rows = press.ranking(db, chosen, kind or None) if chosen else []
    dist = press.distribution(rows)
    return render(request, "dx/press/ranking.html", {
        "years": years, "year": chosen, "agency_type": kind, "rows": rows, "dist": dist,
        "types": [(t, tr(f"press.type.{t}")) for t in AGENCY_TYPES],
        "bars": charts.press_ranking_bars(rows, lang) if rows else None,
        "levels_chart": charts.level_distribution(dist, lang) if rows else None,
    })


# -- API (open data) ------------------------------------------------------------------------------

Year = Annotated[int, Path(ge=1900, le=2200)]


def _api_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "certified_at": row["certified_at"].isoformat(timespec="seconds")}


@router.get("/api/dx/press/ranking/{year}", dependencies=[require("dx.press_ranking")])
def api_ranking(db: SessionDep, year: Year,
                agency_type: Annotated[str | None, Query(pattern="^(print|online|radio|television)$")] = None,
                ) -> dict[str, Any]:
    """The certified press agencies of a year by total (equal totals share a rank), with the
    distribution by level; `agency_type` ranks within one type. 404 when none is certified."""
    rows = press.ranking(db, year, agency_type)
    if not rows and year not in press.certified_years(db):
        raise HTTPException(404, "press.rk.none")
    return {"year": year, "agency_type": agency_type, "agencies": [_api_row(r) for r in rows],
            "distribution": press.distribution(rows)}


@router.get("/api/dx/press/certificates/{number}", dependencies=[require("dx.press_ranking")])
def api_certificate(db: SessionDep, number: Annotated[str, Path(max_length=64)]) -> dict[str, Any]:
    """Check a certificate: the agency, year, total, level, date and framework it was issued under."""
    a = press.by_certificate(db, number)
    if a is None:
        raise HTTPException(404, "press.cert.not_found")
    return {"number": a.certificate_no, "agency": {"code": a.agency.code, "name": a.agency.name,
                                                   "agency_type": a.agency.agency_type},
            "year": a.year, "total": a.result["total"], "level": a.level, "level_name": a.result["level_name"],
            "certified_at": a.certified_at.isoformat(timespec="seconds"), "framework": a.result["framework"]}
