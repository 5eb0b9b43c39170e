"""Pages of the SME digital-transformation programme (SMEdx), under /chuyen-doi-so/smedx.

- the public list of approved platforms, by group and criterion (``dx.smedx_catalogue``);
- a provider's profile, its platforms (submit, change, send again) and its leads
  (``dx.smedx_submit``: its own only; another provider's platform is a 404);
- the staff's review (approve, reject with reasons) and the uptake page with charts
  (``dx.smedx_review``);
- an enterprise's interest, free period and platforms (``dx.smedx_use``: its own only).

Routes validate, call ``ictgov.dx.smedx`` / ``smedx_uptake`` and render.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from ictgov.auth import User
from ictgov.dx import enterprises, smedx, smedx_charts, smedx_uptake
from ictgov.dx.catalogue import known_criteria
from ictgov.dx.framework import EnterpriseFramework, available
from ictgov.dx.models import PLATFORM_GROUPS, Assessment, Solution, Uptake
from ictgov.permissions import can
from ictgov.web.deps import LangDep, OptionalUser, SessionDep, flash, render, require
from ictgov.web.i18n import register, t

router = APIRouter(tags=["dx"])

ProviderUser = Annotated[User, require("dx.smedx_submit")]
Reviewer = Annotated[User, require("dx.smedx_review")]
EnterpriseUser = Annotated[User, require("dx.smedx_use")]
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]

BASE = "/chuyen-doi-so/smedx"
PROVIDER = f"{BASE}/nha-cung-cap"
REVIEW = f"{BASE}/tham-dinh"
MINE = f"{BASE}/cua-toi"

register({
    "smedx.title": ("Chương trình hỗ trợ doanh nghiệp nhỏ và vừa chuyển đổi số (SMEdx)",
                    "SME digital-transformation programme (SMEdx)"),
    "smedx.nav": ("Nền tảng SMEdx", "SMEdx platforms"),
    "smedx.nav.provider": ("Nhà cung cấp nền tảng", "Platform provider"),
    "smedx.nav.review": ("Thẩm định nền tảng", "Platform review"),
    "smedx.nav.uptake": ("Kết quả chương trình", "Programme uptake"),
    "smedx.nav.mine": ("Nền tảng của doanh nghiệp", "Our platforms"),
    "smedx.intro": ("Các nền tảng số Make in Vietnam được Bộ đánh giá, lựa chọn cho doanh nghiệp nhỏ và vừa: "
                    "miễn phí trong thời gian đầu cho doanh nghiệp dưới số lao động quy định, sau đó trả phí "
                    "theo tháng.",
                    "Make-in-Vietnam platforms assessed and selected by the ministry for small and medium "
                    "enterprises: free for a first period for firms under a staff limit, then a monthly fee."),
    "smedx.filter": ("Lọc", "Filter"),
    "smedx.filter.group": ("Nhóm nền tảng", "Platform group"),
    "smedx.filter.criterion": ("Tiêu chí cần cải thiện", "Criterion to improve"),
    "smedx.filter.all": ("Tất cả", "All"),
    "smedx.none": ("Chưa có nền tảng nào phù hợp.", "No platform matches."),
    "smedx.count": ("{n} nền tảng", "{n} platforms"),
    "smedx.group.none": ("Chưa phân nhóm", "No group"),
    "smedx.group.enterprise_management": ("Quản trị doanh nghiệp", "Enterprise management"),
    "smedx.group.hr": ("Quản lý nhân sự", "Human resources"),
    "smedx.group.tourism_hotel": ("Du lịch, khách sạn", "Tourism and hotels"),
    "smedx.group.tech_infrastructure": ("Hạ tầng công nghệ", "Technology infrastructure"),
    "smedx.group.accounting": ("Kế toán", "Accounting"),
    "smedx.group.e_invoice": ("Hoá đơn điện tử", "E-invoicing"),
    "smedx.group.ads_crm": ("Quảng cáo, quản lý khách hàng", "Advertising and CRM"),
    "smedx.group.e_learning": ("Đào tạo trực tuyến", "E-learning"),
    "smedx.group.logistics": ("Logistics", "Logistics"),
    "smedx.group.security": ("An toàn thông tin", "Security"),
    "smedx.group.social_network": ("Mạng xã hội", "Social network"),
    "smedx.offer.free": ("Miễn phí {months} tháng cho doanh nghiệp dưới {limit} lao động",
                         "{months} months free for firms with fewer than {limit} staff"),
    "smedx.offer.no_free": ("Không có thời gian miễn phí", "No free period"),
    "smedx.offer.after": ("sau đó {price} đồng/tháng", "then {price} VND a month"),
    "smedx.offer.cost_support": ("Đủ điều kiện hỗ trợ chi phí", "Eligible for cost support"),
    "smedx.provider_by": ("Nhà cung cấp: {name}", "Provider: {name}"),
    "smedx.helps": ("Giúp cải thiện: {criteria}", "Helps with: {criteria}"),
    # fields
    "smedx.field.name": ("Tên nền tảng", "Platform name"),
    "smedx.field.name_en": ("Tên tiếng Anh", "Name in English"),
    "smedx.field.platform_group": ("Nhóm nền tảng", "Platform group"),
    "smedx.field.criteria": ("Tiêu chí của Bộ chỉ số doanh nghiệp mà nền tảng giúp cải thiện",
                             "Criteria of the enterprise index it helps"),
    "smedx.field.free_months": ("Số tháng dùng miễn phí", "Free months"),
    "smedx.field.free_months.hint": ("Chương trình: thường 3–6 tháng.", "The programme: usually 3–6 months."),
    "smedx.field.free_max_staff": ("Miễn phí cho doanh nghiệp có ít hơn (lao động)",
                                   "Free for firms with fewer staff than"),
    "smedx.field.free_max_staff.hint": ("Chương trình: doanh nghiệp dưới 50 lao động.",
                                        "The programme: firms under 50 staff."),
    "smedx.field.price_after": ("Giá sau thời gian miễn phí (đồng/tháng)", "Price after the free period (VND a month)"),
    "smedx.field.cost_support": ("Đề nghị xét hỗ trợ chi phí (Nghị định 80/2021/NĐ-CP)",
                                 "Claims eligibility for cost support (Decree 80/2021)"),
    "smedx.field.description": ("Mô tả", "Description"),
    "smedx.field.description_en": ("Mô tả tiếng Anh", "Description in English"),
    "smedx.field.url": ("Địa chỉ web", "Web address"),
    "smedx.field.tax_code": ("Mã số thuế", "Tax code"),
    "smedx.field.provider_name": ("Tên nhà cung cấp", "Provider name"),
    "smedx.field.website": ("Trang web", "Website"),
    "smedx.field.contact_email": ("Thư điện tử liên hệ", "Contact e-mail"),
    "smedx.field.reason": ("Lý do", "Reasons"),
    # states and stages
    "smedx.status.submitted": ("Chờ thẩm định", "Awaiting review"),
    "smedx.status.approved": ("Đã duyệt", "Approved"),
    "smedx.status.rejected": ("Bị từ chối", "Rejected"),
    "smedx.stage.interested": ("Đã đăng ký quan tâm", "Interest registered"),
    "smedx.stage.trial": ("Đang dùng thử miễn phí", "Free period running"),
    "smedx.stage.using": ("Đang sử dụng", "Using"),
    "smedx.stage.stopped": ("Đã ngừng", "Stopped"),
    "smedx.trial_dates": ("từ {start} đến {end}", "from {start} to {end}"),
    # provider
    "smedx.p.title": ("Nhà cung cấp nền tảng", "Platform provider"),
    "smedx.p.register": ("Hồ sơ nhà cung cấp", "Provider profile"),
    "smedx.p.register_intro": ("Khai báo nhà cung cấp trước khi gửi nền tảng. Mã số thuế lấy từ tài khoản.",
                               "Describe your company before submitting a platform. The tax code comes from "
                               "your account."),
    "smedx.p.saved": ("Đã lưu hồ sơ nhà cung cấp.", "Provider profile saved."),
    "smedx.p.platforms": ("Nền tảng đã gửi", "Platforms submitted"),
    "smedx.p.none": ("Chưa gửi nền tảng nào.", "No platform submitted yet."),
    "smedx.p.new": ("Gửi nền tảng mới", "Submit a new platform"),
    "smedx.p.edit": ("Sửa và gửi lại", "Change and send again"),
    "smedx.p.send": ("Gửi thẩm định", "Send for review"),
    "smedx.p.submitted": ("Đã gửi nền tảng để thẩm định.", "Platform sent for review."),
    "smedx.p.resend_note": ("Lưu thay đổi sẽ gửi nền tảng đi thẩm định lại; nền tảng đã duyệt tạm rời danh "
                            "sách cho tới khi được duyệt lại.",
                            "Saving sends the platform for review again; an approved platform leaves the list "
                            "until it is approved again."),
    "smedx.p.rejected_because": ("Bị từ chối: {reason}", "Rejected: {reason}"),
    "smedx.p.leads": ("Khách hàng tiềm năng", "Leads"),
    "smedx.p.leads_none": ("Chưa có doanh nghiệp nào quan tâm.", "No enterprise has shown interest yet."),
    "smedx.p.no_profile": ("Hãy khai báo hồ sơ nhà cung cấp trước.", "Make your provider profile first."),
    "smedx.col.platform": ("Nền tảng", "Platform"),
    "smedx.col.status": ("Trạng thái", "Status"),
    "smedx.col.submitted": ("Gửi lúc", "Sent"),
    "smedx.col.enterprise": ("Doanh nghiệp", "Enterprise"),
    "smedx.col.province": ("Tỉnh, thành phố", "Province"),
    "smedx.col.sector": ("Ngành", "Sector"),
    "smedx.col.size": ("Quy mô", "Size"),
    "smedx.col.stage": ("Giai đoạn", "Stage"),
    "smedx.col.dates": ("Thời gian", "Dates"),
    "smedx.col.gaps": ("Điểm yếu dẫn tới", "Gaps that led here"),
    "smedx.col.provider": ("Nhà cung cấp", "Provider"),
    "smedx.col.group": ("Nhóm", "Group"),
    "smedx.col.platforms": ("Nền tảng", "Platforms"),
    "smedx.col.reached": ("Doanh nghiệp tiếp cận", "Enterprises reached"),
    "smedx.col.using": ("Doanh nghiệp đang dùng", "Enterprises using"),
    "smedx.col.month": ("Tháng", "Month"),
    "smedx.col.providers": ("Nhà cung cấp", "Providers"),
    "smedx.interested_on": ("quan tâm {date}", "interested {date}"),
    "smedx.using_since": ("dùng từ {date}", "using since {date}"),
    "smedx.stopped_on": ("ngừng {date}", "stopped {date}"),
    # review
    "smedx.r.title": ("Thẩm định nền tảng SMEdx", "Review of SMEdx platforms"),
    "smedx.r.queue": ("Chờ thẩm định", "Waiting for a decision"),
    "smedx.r.queue_none": ("Không có nền tảng nào chờ thẩm định.", "No platform is waiting."),
    "smedx.r.recent": ("Quyết định gần đây", "Recent decisions"),
    "smedx.r.open": ("Thẩm định", "Review"),
    "smedx.r.approve": ("Duyệt", "Approve"),
    "smedx.r.reject": ("Từ chối", "Reject"),
    "smedx.r.reason_hint": ("Bắt buộc khi từ chối: nhà cung cấp sẽ đọc để sửa.",
                            "Required to reject: the provider reads it to fix the platform."),
    "smedx.r.approved": ("Đã duyệt nền tảng.", "Platform approved."),
    "smedx.r.rejected": ("Đã từ chối nền tảng.", "Platform rejected."),
    "smedx.r.decided": ("Nền tảng này đã được quyết định: {status}.", "This platform was decided: {status}."),
    "smedx.r.contact": ("Liên hệ: {email}", "Contact: {email}"),
    # enterprise
    "smedx.e.interest": ("Đăng ký quan tâm", "Register interest"),
    "smedx.e.trial": ("Dùng thử miễn phí {months} tháng", "Start the {months}-month free period"),
    "smedx.e.interest_done": ("Đã đăng ký quan tâm; nhà cung cấp sẽ liên hệ.",
                              "Interest registered; the provider will contact you."),
    "smedx.e.trial_done": ("Đã bắt đầu dùng thử miễn phí đến {end}.", "Free period started, until {end}."),
    "smedx.e.using": ("Đang sử dụng", "Now using"),
    "smedx.e.stop": ("Ngừng sử dụng", "Stopped"),
    "smedx.e.moved": ("Đã cập nhật.", "Updated."),
    "smedx.e.none": ("Doanh nghiệp chưa đăng ký nền tảng nào. Hãy xem gợi ý trên trang kết quả tự đánh giá "
                     "hoặc danh sách nền tảng.",
                     "No platform yet. See the suggestions on your assessment's result page or the list of "
                     "platforms."),
    "smedx.e.programme": ("Chương trình SMEdx", "SMEdx programme"),
    "smedx.why.eligible": ("Đủ điều kiện dùng thử miễn phí {months} tháng.", "Eligible for {months} months free."),
    "smedx.why.no_free_period": ("Nền tảng không có thời gian dùng miễn phí.", "The platform offers no free period."),
    "smedx.why.already_had": ("Doanh nghiệp đã dùng thời gian miễn phí của nền tảng này.",
                              "The enterprise has already had this platform's free period."),
    "smedx.why.stage_using": ("Doanh nghiệp đang sử dụng nền tảng này.", "The enterprise already uses this platform."),
    "smedx.why.stage_stopped": ("Doanh nghiệp đã ngừng nền tảng này.", "The enterprise stopped this platform."),
    "smedx.why.no_head_count": ("Chưa dùng thử miễn phí được: hãy khai số lao động trong hồ sơ doanh nghiệp "
                                "(ưu đãi dành cho doanh nghiệp dưới {limit} lao động).",
                                "No free period yet: give your staff head count in the enterprise profile "
                                "(the offer is for firms with fewer than {limit} staff)."),
    "smedx.why.too_many_staff": ("Không đủ điều kiện dùng thử miễn phí: doanh nghiệp có {employees} lao động, "
                                 "ưu đãi dành cho doanh nghiệp dưới {limit} lao động.",
                                 "Not eligible for the free period: the enterprise has {employees} staff, the "
                                 "offer is for firms with fewer than {limit}."),
    "smedx.why.not_listed": ("Nền tảng này không có trong danh sách của chương trình.",
                             "This platform is not listed in the programme."),
    "smedx.already.interested": ("Doanh nghiệp đã đăng ký quan tâm nền tảng này.",
                                 "The enterprise already registered interest in this platform."),
    "smedx.already.trial": ("Doanh nghiệp đang dùng thử nền tảng này.", "The enterprise is on this platform's free period."),
    "smedx.already.using": ("Doanh nghiệp đang sử dụng nền tảng này.", "The enterprise already uses this platform."),
    "smedx.already.stopped": ("Doanh nghiệp đã ngừng nền tảng này.", "The enterprise stopped this platform."),
    "smedx.not_found": ("Không có nền tảng này.", "No such platform."),
    # uptake
    "smedx.u.title": ("Kết quả Chương trình SMEdx", "SMEdx programme uptake"),
    "smedx.u.totals": ("{platforms} nền tảng của {providers} nhà cung cấp; {reached} doanh nghiệp đã tiếp cận, "
                       "{using} doanh nghiệp đang dùng.",
                       "{platforms} platforms from {providers} providers; {reached} enterprises reached, "
                       "{using} using."),
    "smedx.u.waiting": ("{n} nền tảng chờ thẩm định.", "{n} platforms waiting for review."),
    "smedx.u.by_group": ("Theo nhóm nền tảng", "By platform group"),
    "smedx.u.by_month": ("Theo tháng (cuối mỗi tháng)", "By month (at each month's end)"),
    "smedx.u.none": ("Chưa có số liệu.", "No figures yet."),
    "smedx.u.definitions": ("Tiếp cận: doanh nghiệp đã quan tâm, dùng thử hoặc dùng ít nhất một nền tảng. Đang "
                            "dùng: đang trong thời gian miễn phí hoặc đang sử dụng. Mỗi doanh nghiệp được tính "
                            "một lần trên toàn quốc và một lần trong mỗi nhóm.",
                            "Reached: an enterprise that registered interest in, tried or used a platform. "
                            "Using: in a free period or using. Each enterprise counts once nationally and once "
                            "in each group."),
})


# -- helpers ----------------------------------------------------------------------------------


def _criteria_choices(lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    out = []
    for fw in available("enterprise"):
        assert isinstance(fw, EnterpriseFramework)
        for p in fw.pillars:
            out.append((p.name.get(lang), [(c.code, c.text.get(lang)) for c in p.criteria]))
    return out


def _criterion_text(lang: str):
    known = known_criteria()
    return lambda code: known[code].text.get(lang) if code in known else code


def _criteria_text(lang: str):
    """Criteria codes as one plain string (escaped once, where the page prints it)."""
    one = _criterion_text(lang)
    return lambda codes: "; ".join(one(c) for c in codes or [])


def _groups(lang: str) -> list[tuple[str, str]]:
    return [(g, t(f"smedx.group.{g}", lang)) for g in PLATFORM_GROUPS]


def _province_names(db: Session) -> dict[str, str]:
    from datetime import date

    from ictgov.stats.areas import areas_in_force

    return {a.code: a.name for a in areas_in_force(db, date.today(), level="province")}


def _back(value: str, default: str) -> str:
    return value if value.startswith("/chuyen-doi-so/") and not value.startswith("//") else default


# -- public list --------------------------------------------------------------------------------


@router.get(BASE, include_in_schema=False, dependencies=[require("dx.smedx_catalogue")])
def catalogue_page(request: Request, db: SessionDep, lang: LangDep, user: OptionalUser, nhom: str = "",
                   tieu_chi: str = ""):
    group = nhom if nhom in PLATFORM_GROUPS else ""
    known = known_criteria()
    criterion = tieu_chi if tieu_chi in known else ""
    platforms = smedx.listed(db, group=group or None, criterion=criterion or None)
    # An enterprise may register interest or start a free period from the list too.
    e = enterprises.of_user(db, user) if can(user, "dx.smedx_use") else None
    return render(request, "dx/smedx/catalogue.html", {
        "offers": smedx_uptake.offers(db, e, platforms) if e else {},
        "grouped": smedx.by_group(platforms), "count": len(platforms), "group": group, "criterion": criterion,
        "groups": _groups(lang), "criteria_groups": _criteria_choices(lang), "criteria_text": _criteria_text(lang),
    })


# -- provider -------------------------------------------------------------------------------------


def _provider_page(request: Request, db: Session, user: User, lang: str, errors: dict | None = None,
                   values: dict | None = None, status_code: int = 200):
    p = smedx.provider_of(db, user)
    return render(request, "dx/smedx/provider.html", {
        "provider": p, "errors": errors or {}, "values": values or (smedx.provider_dict(p) if p else {}),
        "tax_code": p.tax_code if p else (user.enterprise_ref or ""),
        "platforms": smedx.platforms_of(db, p) if p else [],
        "lead_count": len(smedx_uptake.leads(db, p)) if p else 0,
    }, status_code=status_code)


@router.get(PROVIDER, include_in_schema=False)
def provider_page(request: Request, db: SessionDep, user: ProviderUser, lang: LangDep):
    return _provider_page(request, db, user, lang)


@router.post(PROVIDER, include_in_schema=False)
def provider_save(request: Request, db: SessionDep, user: ProviderUser, lang: LangDep,
                  name: str = Form("", max_length=1000), website: str = Form("", max_length=1000),
                  contact_email: str = Form("", max_length=1000)):
    data = {"name": name, "website": website, "contact_email": contact_email}
    try:
        smedx.save_profile(db, user, data)
    except smedx.SmedxError as exc:
        return _provider_page(request, db, user, lang, exc.errors, data, status_code=422)
    flash(request, "smedx.p.saved", "success")
    return RedirectResponse(PROVIDER, status_code=303)


def _own_provider(db: Session, user: User):
    p = smedx.provider_of(db, user)
    if p is None:
        raise HTTPException(404, "smedx.p.no_profile")
    return p


def _platform_page(request: Request, db: Session, lang: str, provider, solution: Solution | None,
                   errors: dict | None = None, values: dict | None = None, status_code: int = 200):
    if values is None:
        values = ({k: getattr(solution, k) for k in smedx.SUBMISSION_FIELDS} if solution
                  else {"criteria": [], "free_months": 3, "free_max_staff": 50})
    leads = smedx_uptake.leads(db, provider, solution) if solution else []
    return render(request, "dx/smedx/platform_form.html", {
        "provider": provider, "solution": solution, "errors": errors or {}, "values": values,
        "groups": _groups(lang), "criteria_groups": _criteria_choices(lang),
        "leads": leads, "gaps": {u.id: smedx_uptake.gaps_of(db, u) for u in leads},
        "provinces": _province_names(db) if leads else {}, "criterion_text": _criterion_text(lang),
    }, status_code=status_code)


def _platform_form(form) -> dict[str, Any]:
    data = {k: str(form.get(k, "") or "") for k in smedx.SUBMISSION_FIELDS if k not in ("criteria", "cost_support")}
    data["criteria"] = [c for c in form.getlist("criteria") if isinstance(c, str)]
    data["cost_support"] = form.get("cost_support") == "true"
    return data


@router.get(f"{PROVIDER}/nen-tang", include_in_schema=False)
def platform_new(request: Request, db: SessionDep, user: ProviderUser, lang: LangDep):
    p = smedx.provider_of(db, user)
    if p is None:
        flash(request, "smedx.p.no_profile", "warning")
        return RedirectResponse(PROVIDER, status_code=303)
    return _platform_page(request, db, lang, p, None)


@router.post(f"{PROVIDER}/nen-tang", include_in_schema=False)
async def platform_submit(request: Request, db: SessionDep, user: ProviderUser, lang: LangDep):
    p = _own_provider(db, user)
    data = _platform_form(await request.form())
    try:
        s = smedx.submit(db, p, data, user)
    except smedx.SmedxError as exc:
        return _platform_page(request, db, lang, p, None, exc.errors, data, status_code=422)
    flash(request, "smedx.p.submitted", "success")
    return RedirectResponse(f"{PROVIDER}/nen-tang/{s.id}", status_code=303)


def _own_platform(db: Session, user: User, solution_id: int):
    p = smedx.provider_of(db, user)
    s = smedx.own_platform(db, p, solution_id)
    if s is None:  # another provider's platform is "not found", not "forbidden": ids say nothing
        raise HTTPException(404, "smedx.not_found")
    return p, s


@router.get(f"{PROVIDER}/nen-tang/{{solution_id}}", include_in_schema=False)
def platform_page(request: Request, db: SessionDep, user: ProviderUser, lang: LangDep, solution_id: Id):
    p, s = _own_platform(db, user, solution_id)
    return _platform_page(request, db, lang, p, s)


@router.post(f"{PROVIDER}/nen-tang/{{solution_id}}", include_in_schema=False)
async def platform_change(request: Request, db: SessionDep, user: ProviderUser, lang: LangDep, solution_id: Id):
    p, s = _own_platform(db, user, solution_id)
    data = _platform_form(await request.form())
    try:
        smedx.change(db, p, s, data, user)
    except smedx.SmedxError as exc:
        return _platform_page(request, db, lang, p, s, exc.errors, data, status_code=422)
    flash(request, "smedx.p.submitted", "success")
    return RedirectResponse(f"{PROVIDER}/nen-tang/{s.id}", status_code=303)


@router.get(f"{PROVIDER}/khach-hang", include_in_schema=False)
def provider_leads(request: Request, db: SessionDep, user: ProviderUser, lang: LangDep):
    p = smedx.provider_of(db, user)
    leads = smedx_uptake.leads(db, p) if p else []
    return render(request, "dx/smedx/leads.html", {
        "provider": p, "solution": None, "leads": leads, "gaps": {u.id: smedx_uptake.gaps_of(db, u) for u in leads},
        "provinces": _province_names(db) if leads else {}, "criterion_text": _criterion_text(lang),
    })


# -- staff review and uptake -----------------------------------------------------------------------


@router.get(REVIEW, include_in_schema=False)
def review_list(request: Request, db: SessionDep, user: Reviewer):
    return render(request, "dx/smedx/review_list.html", {
        "queue": smedx.review_queue(db), "recent": smedx.recent_decisions(db)})


def _solution(db: Session, solution_id: int) -> Solution:
    s = db.get(Solution, solution_id)
    if s is None:
        raise HTTPException(404, "smedx.not_found")
    return s


def _review_page(request: Request, db: Session, lang: str, s: Solution, errors: dict | None = None,
                 values: dict | None = None, status_code: int = 200):
    return render(request, "dx/smedx/review.html", {
        "s": s, "errors": errors or {}, "values": values or {}, "criteria_text": _criteria_text(lang),
    }, status_code=status_code)


@router.get(f"{REVIEW}/{{solution_id}}", include_in_schema=False)
def review_page(request: Request, db: SessionDep, user: Reviewer, lang: LangDep, solution_id: Id):
    return _review_page(request, db, lang, _solution(db, solution_id))


@router.post(f"{REVIEW}/{{solution_id}}", include_in_schema=False)
def review_decide(request: Request, db: SessionDep, user: Reviewer, lang: LangDep, solution_id: Id,
                  decision: str = Form("", max_length=20), reason: str = Form("", max_length=8000)):
    s = _solution(db, solution_id)
    try:
        smedx.decide(db, s, decision, reason, user)
    except smedx.SmedxError as exc:
        return _review_page(request, db, lang, s, exc.errors, {"decision": decision, "reason": reason},
                            status_code=409 if set(exc.errors) == {"status"} else 422)
    flash(request, "smedx.r.approved" if decision == "approve" else "smedx.r.rejected", "success")
    return RedirectResponse(REVIEW, status_code=303)


@router.get(f"{BASE}/thong-ke", include_in_schema=False)
def uptake_page(request: Request, db: SessionDep, user: Reviewer, lang: LangDep):
    data = smedx_uptake.summary(db)
    now = data["now"]
    rows = [{"code": g, "group": t(f"smedx.group.{g}", lang), **now["groups"].get(g, {"platforms": 0, "reached": 0,
                                                                                       "using": 0})}
            for g in PLATFORM_GROUPS]
    return render(request, "dx/smedx/uptake.html", {
        **data, "rows": rows,
        "month_chart": smedx_charts.by_month(data["series"], lang) if data["series"] else None,
        "group_chart": smedx_charts.by_group(rows, lang) if data["series"] else None,
    })


# -- enterprises ------------------------------------------------------------------------------------


def _enterprise(db: Session, user: User):
    e = enterprises.of_user(db, user)
    if e is None:
        raise HTTPException(404, "dx.enterprise.no_binding")
    return e


def _assessment(db: Session, e, value: str) -> Assessment | None:
    if not value.strip().isdigit():
        return None
    a = db.get(Assessment, int(value))
    return a if a is not None and a.enterprise_id == e.id else None


def _listed(db: Session, solution_id: int) -> Solution:
    s = db.get(Solution, solution_id)
    if s is None or s.status != "approved":
        raise HTTPException(404, "smedx.not_found")
    return s


@router.post(f"{BASE}/nen-tang/{{solution_id}}/quan-tam", include_in_schema=False)
def enterprise_interest(request: Request, db: SessionDep, user: EnterpriseUser, lang: LangDep, solution_id: Id,
                        assessment_id: str = Form("", max_length=12), back: str = Form("", max_length=500)):
    e = _enterprise(db, user)
    s = _listed(db, solution_id)
    try:
        smedx_uptake.register_interest(db, e, s, _assessment(db, e, assessment_id), user)
    except smedx_uptake.UptakeError as exc:
        raise HTTPException(409, t(exc.key, lang, **exc.params) if exc.key else str(exc)) from None
    flash(request, "smedx.e.interest_done", "success")
    return RedirectResponse(_back(back, MINE), status_code=303)


@router.post(f"{BASE}/nen-tang/{{solution_id}}/dung-thu", include_in_schema=False)
def enterprise_trial(request: Request, db: SessionDep, user: EnterpriseUser, lang: LangDep, solution_id: Id,
                     assessment_id: str = Form("", max_length=12), back: str = Form("", max_length=500)):
    e = _enterprise(db, user)
    s = _listed(db, solution_id)
    try:
        u = smedx_uptake.start_trial(db, e, s, _assessment(db, e, assessment_id), user)
    except smedx_uptake.UptakeError as exc:
        raise HTTPException(409, t(exc.key, lang, **exc.params) if exc.key else str(exc)) from None
    from ictgov.web.i18n import format_datetime

    flash(request, "smedx.e.trial_done", "success", end=format_datetime(u.trial_end, lang))
    return RedirectResponse(_back(back, MINE), status_code=303)


@router.get(MINE, include_in_schema=False)
def enterprise_platforms(request: Request, db: SessionDep, user: EnterpriseUser):
    e = enterprises.of_user(db, user)
    if e is None:
        return RedirectResponse("/chuyen-doi-so/doanh-nghiep", status_code=303)
    return render(request, "dx/smedx/mine.html", {"enterprise": e, "uptakes": smedx_uptake.uptakes_of(db, e)})


def _own_uptake(db: Session, user: User, uptake_id: int) -> Uptake:
    e = enterprises.of_user(db, user)
    u = db.get(Uptake, uptake_id)
    if e is None or u is None or u.enterprise_id != e.id:
        raise HTTPException(404)
    return u


def _move(request: Request, db: Session, user: User, lang: str, uptake_id: int, stage: str):
    u = _own_uptake(db, user, uptake_id)
    try:
        smedx_uptake.move(db, u, stage, user)
    except smedx_uptake.UptakeError as exc:
        raise HTTPException(409, t(exc.key, lang, **exc.params) if exc.key else str(exc)) from None
    flash(request, "smedx.e.moved", "success")
    return RedirectResponse(MINE, status_code=303)


@router.post(f"{MINE}/{{uptake_id}}/dang-dung", include_in_schema=False)
def enterprise_using(request: Request, db: SessionDep, user: EnterpriseUser, lang: LangDep, uptake_id: Id):
    return _move(request, db, user, lang, uptake_id, "using")


@router.post(f"{MINE}/{{uptake_id}}/ngung", include_in_schema=False)
def enterprise_stopped(request: Request, db: SessionDep, user: EnterpriseUser, lang: LangDep, uptake_id: Id):
    return _move(request, db, user, lang, uptake_id, "stopped")



# -- API ------------------------------------------------------------------------------------------


def platform_dict(s: Solution) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, "name_en": s.name_en, "provider": s.provider,
            "platform_group": s.platform_group, "criteria": list(s.criteria or []),
            "free_months": s.free_months, "free_max_staff": s.free_max_staff, "price_after": s.price_after,
            "cost_support": s.cost_support, "description": s.description, "description_en": s.description_en,
            "url": s.url, "approved_at": s.reviewed_at.isoformat() if s.reviewed_at else None}


@router.get("/api/dx/smedx/platforms", dependencies=[require("dx.smedx_catalogue")])
def api_platforms(db: SessionDep, group: str | None = None, criterion: str | None = None) -> list[dict[str, Any]]:
    """The programme's approved platforms with their offer, optionally of one `group` or helping one
    `criterion` (a code of the enterprise index); 422 naming the parameter when it is unknown."""
    if group and group not in PLATFORM_GROUPS:
        raise HTTPException(422, f"group: one of {', '.join(PLATFORM_GROUPS)}")
    if criterion and criterion not in known_criteria():
        raise HTTPException(422, f"criterion: no criterion {criterion!r} in the enterprise index")
    return [platform_dict(s) for s in smedx.listed(db, group=group or None, criterion=criterion or None)]


@router.get("/api/dx/smedx/uptake")
def api_uptake(db: SessionDep, user: Reviewer) -> dict[str, Any]:
    """Platforms listed, providers, enterprises reached and using: today, by group, and at each
    month's end (the same figures as the uptake page and `ictgov dx sync-stats`)."""
    data = smedx_uptake.summary(db)

    def point(p: dict[str, Any]) -> dict[str, Any]:
        return {k: (v.isoformat() if k == "end" else v) for k, v in p.items()}

    return {"now": point(data["now"]) if data["series"] else data["now"], "waiting": data["waiting"],
            "stages": data["stages"], "months": [point(p) for p in data["series"]]}
