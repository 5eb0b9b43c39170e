"""Pages and API of the dx service: the enterprise self-assessment, the solutions catalogue,
the provincial index (DTI) upload, ranking and detail.

Routes validate, call the domain (``ictgov.dx``), and render. Who may do what is in
``permissions``: ``dx.assess`` (an enterprise, for itself only: every assessment is checked
against the user's ``enterprise_ref`` before it is read or written), ``dx.catalogue``,
``dx.dti_upload``, ``dx.ranking`` (public) and ``dx.dti_detail`` (a province officer for
its own province only). Bad input answers 4xx naming the field, criterion or line.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Path, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from ictgov import jobs
from ictgov.auth import User
from ictgov.dx import assessments as asm
from ictgov.dx import catalogue, charts, dti, dti_job, enterprises, rankings, smedx_uptake
from ictgov.dx.dti import DtiInputError, LineError
from ictgov.dx.enterprises import EnterpriseError
from ictgov.dx.framework import EnterpriseFramework, available
from ictgov.dx.models import (
    PLATFORM_GROUPS,
    SECTORS,
    SIZE_CLASSES,
    SOLUTION_CATEGORIES,
    Assessment,
    Enterprise,
    Solution,
)
from ictgov.stats.areas import normalize_code
from ictgov.web.deps import (
    LangDep,
    OptionalUser,
    SessionDep,
    SettingsDep,
    accepted,
    ensure,
    flash,
    render,
    require,
)
from ictgov.web.i18n import register

router = APIRouter(tags=["dx"])

EnterpriseUser = Annotated[User, require("dx.assess")]
CatalogueAdmin = Annotated[User, require("dx.catalogue")]
Uploader = Annotated[User, require("dx.dti_upload")]

BASE = "/chuyen-doi-so"
ANSWER_PREFIX = "q."
MAX_DRAWS = 5000
# Ids and years as the database's 32-bit integers hold them: a larger one is a 422, not a 500.
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Year = Annotated[int, Path(ge=1900, le=2200)]

register({
    "dx.title": ("Chuyển đổi số", "Digital transformation"),
    "dx.intro": ("Doanh nghiệp tự đánh giá mức độ chuyển đổi số theo Bộ chỉ số của Bộ Thông tin và Truyền thông; "
                 "các tỉnh, thành phố được xếp hạng theo Chỉ số chuyển đổi số (DTI).",
                 "Enterprises assess their digital transformation against the ministry's index; provinces are "
                 "ranked by the digital-transformation index (DTI)."),
    "dx.nav.enterprise": ("Doanh nghiệp tự đánh giá", "Enterprise self-assessment"),
    "dx.nav.ranking": ("Xếp hạng DTI cấp tỉnh", "Provincial DTI ranking"),
    "dx.nav.upload": ("Tải lên DTI", "Upload DTI"),
    "dx.nav.catalogue": ("Danh mục giải pháp", "Solutions catalogue"),
    # enterprise
    "dx.enterprise.title": ("Hồ sơ doanh nghiệp", "Enterprise profile"),
    "dx.enterprise.register": ("Đăng ký doanh nghiệp", "Register your enterprise"),
    "dx.enterprise.register_intro": ("Hãy khai báo thông tin doanh nghiệp trước khi tự đánh giá. "
                                     "Ngành, quy mô và tỉnh dùng để so sánh với doanh nghiệp cùng nhóm.",
                                     "Describe your enterprise before the assessment. Sector, size and province "
                                     "choose the peers you are compared with."),
    "dx.enterprise.registered": ("Đã lưu hồ sơ doanh nghiệp.", "Enterprise profile saved."),
    "dx.enterprise.no_binding": ("Tài khoản này chưa gắn với mã số thuế doanh nghiệp.",
                                 "This account is not bound to an enterprise tax code."),
    "dx.field.tax_code": ("Mã số thuế", "Tax code"),
    "dx.field.name": ("Tên doanh nghiệp", "Enterprise name"),
    "dx.field.sector": ("Ngành", "Sector"),
    "dx.field.size_class": ("Quy mô", "Size"),
    "dx.field.province_code": ("Tỉnh, thành phố", "Province"),
    "dx.field.employees": ("Số lao động", "Staff head count"),
    "dx.field.employees.hint": ("Dùng để xét ưu đãi dùng thử miễn phí của chương trình SMEdx.",
                                "Used to check eligibility for the SME programme's free periods."),
    "dx.sector.agriculture": ("Nông, lâm nghiệp và thủy sản", "Agriculture, forestry and fishing"),
    "dx.sector.manufacturing": ("Công nghiệp chế biến, chế tạo", "Manufacturing"),
    "dx.sector.construction": ("Xây dựng", "Construction"),
    "dx.sector.trade": ("Thương mại bán buôn, bán lẻ", "Wholesale and retail trade"),
    "dx.sector.logistics": ("Vận tải, kho bãi", "Transport and storage"),
    "dx.sector.ict": ("Thông tin và truyền thông", "Information and communication"),
    "dx.sector.services": ("Dịch vụ khác", "Other services"),
    "dx.size.micro": ("Siêu nhỏ", "Micro"),
    "dx.size.small": ("Nhỏ", "Small"),
    "dx.size.medium": ("Vừa", "Medium"),
    "dx.assessments": ("Các lần đánh giá", "Assessments"),
    "dx.assessments.none": ("Chưa có lần đánh giá nào.", "No assessment yet."),
    "dx.start": ("Bắt đầu tự đánh giá", "Start the self-assessment"),
    "dx.resume": ("Tiếp tục đánh giá ({n}/{total} tiêu chí)", "Continue the assessment ({n}/{total} criteria)"),
    "dx.reassess": ("Đánh giá lại", "Assess again"),
    "dx.status.draft": ("Đang làm", "In progress"),
    "dx.status.submitted": ("Đã nộp", "Submitted"),
    "dx.col.date": ("Ngày", "Date"),
    "dx.col.status": ("Trạng thái", "Status"),
    "dx.col.total": ("Tổng điểm", "Total"),
    "dx.col.level": ("Mức", "Level"),
    "dx.col.change": ("Thay đổi", "Change"),
    "dx.col.framework": ("Bộ chỉ số", "Framework"),
    "dx.open": ("Xem", "Open"),
    # questionnaire
    "dx.q.title": ("Phiếu tự đánh giá", "Self-assessment questionnaire"),
    "dx.q.intro": ("Câu trả lời được lưu ngay khi bạn chọn; bạn có thể dừng và quay lại bất cứ lúc nào. "
                   "Phiếu chỉ nộp được khi đã trả lời đủ mọi tiêu chí.",
                   "Answers are saved as you choose them; you can stop and come back at any time. "
                   "The questionnaire can be submitted once every criterion is answered."),
    "dx.q.answered": ("Đã trả lời {n}/{total} tiêu chí", "{n} of {total} criteria answered"),
    "dx.q.saved": ("Đã lưu. Đã trả lời {n}/{total} tiêu chí.", "Saved. {n} of {total} criteria answered."),
    "dx.q.save": ("Lưu và làm tiếp sau", "Save and continue later"),
    "dx.q.submit": ("Nộp phiếu", "Submit"),
    "dx.q.points": ("{points} điểm", "{points} points"),
    "dx.q.incomplete": ("Chưa nộp được: còn {n} tiêu chí chưa trả lời.",
                        "Not submitted: {n} criteria are not answered."),
    "dx.q.bad_answer": ("Có câu trả lời không hợp lệ; không có gì được lưu.",
                        "Some answers are not valid; nothing was saved."),
    "dx.q.not_draft": ("Phiếu này đã nộp.", "This assessment is already submitted."),
    # result
    "dx.r.title": ("Kết quả tự đánh giá", "Self-assessment result"),
    "dx.r.level": ("Mức {level}: {name}", "Level {level}: {name}"),
    "dx.r.total": ("Tổng điểm {total}/{max}", "Total {total} of {max}"),
    "dx.r.framework": ("Theo {name} (phiên bản {version}), nộp lúc {date}",
                       "Under {name} (version {version}), submitted {date}"),
    "dx.r.digest_changed": ("Tệp bộ chỉ số đã bị sửa sau khi đánh giá; kết quả lưu vẫn giữ nguyên.",
                            "The framework file was edited after this assessment; the stored result is kept."),
    "dx.r.pillars": ("Các trụ cột", "Pillars"),
    "dx.r.pillar": ("Trụ cột", "Pillar"),
    "dx.r.score": ("Điểm", "Score"),
    "dx.r.max": ("Tối đa", "Maximum"),
    "dx.r.share": ("Tỷ lệ", "Share"),
    "dx.r.radar": ("Biểu đồ radar các trụ cột (tỷ lệ so với điểm tối đa)",
                   "Radar of the pillars (share of each maximum)"),
    "dx.r.chart_error": ("Không hiển thị được biểu đồ.", "The chart could not be shown."),
    "dx.r.next": ("Để lên mức {level} ({name})", "To reach level {level} ({name})"),
    "dx.r.top": ("Doanh nghiệp đã ở mức cao nhất.", "The enterprise is at the top level."),
    "dx.r.total_met": ("Tổng điểm trên {above}: đã đạt.", "A total above {above}: met."),
    "dx.r.total_short": ("Tổng điểm trên {above}: còn thiếu hơn {short} điểm.",
                         "A total above {above}: more than {short} points short."),
    "dx.r.pillars_need": ("Cần ít nhất {required} trụ cột ở mức {level} trở lên; hiện có {have}.",
                          "At least {required} pillars at level {level} or above are needed; {have} are."),
    "dx.r.pillar_short": ("{name}: mức {level}, cần thêm hơn {short} điểm",
                          "{name}: level {level}, needs more than {short} points"),
    "dx.r.must_lift": ("cần nâng để lên mức", "must be lifted"),
    "dx.r.peers": ("So sánh với doanh nghiệp cùng nhóm", "Compared with peers"),
    "dx.r.peers_group": ("Cùng ngành {sector}, quy mô {size}, tỉnh {province}.",
                         "Same sector ({sector}), size ({size}) and province ({province})."),
    "dx.r.peers_none": ("Chưa có doanh nghiệp cùng nhóm đã nộp đánh giá.",
                        "No peer has submitted an assessment yet."),
    "dx.r.peers_result": ("Cao hơn {percentile}% doanh nghiệp cùng nhóm ({n} doanh nghiệp); trung vị {median} điểm.",
                          "Ahead of {percentile}% of {n} peers; their median is {median} points."),
    "dx.r.advice": ("Nên làm tiếp", "What to do next"),
    "dx.r.advice_gain": ("thêm tối đa {gain} điểm", "up to {gain} more points"),
    "dx.r.advice_unlocks": ("giúp lên mức", "unlocks the next level"),
    "dx.r.solutions": ("Giải pháp gợi ý từ danh mục", "Suggested solutions from the catalogue"),
    "dx.r.solutions_none": ("Danh mục chưa có giải pháp cho các tiêu chí này.",
                            "The catalogue has no solution for these criteria yet."),
    "dx.r.solution_for": ("Cho tiêu chí: {criteria}", "For: {criteria}"),
    "dx.r.adopt": ("Đã áp dụng", "We adopted it"),
    "dx.r.adopted": ("Đã ghi nhận áp dụng giải pháp.", "Adoption recorded."),
    "dx.r.adopted_on": ("áp dụng từ {date}", "adopted {date}"),
    "dx.r.effects": ("Hiệu quả của giải pháp đã áp dụng", "Effect of the solutions adopted"),
    "dx.r.effect_line": ("{criterion}: {before} → {after} điểm", "{criterion}: {before} → {after} points"),
    "dx.r.progress": ("Tiến bộ qua các lần đánh giá", "Progress across assessments"),
    "dx.r.print": ("In báo cáo", "Print the report"),
    "dx.r.back": ("Về hồ sơ doanh nghiệp", "Back to the enterprise profile"),
    "dx.price": ("Giá", "Price"),
    "dx.price.range": ("{low}–{high} đồng/tháng", "{low}–{high} VND a month"),
    "dx.price.from": ("từ {low} đồng/tháng", "from {low} VND a month"),
    "dx.price.upto": ("đến {high} đồng/tháng", "up to {high} VND a month"),
    "dx.price.unknown": ("liên hệ nhà cung cấp", "ask the provider"),
    # catalogue admin
    "dx.cat.title": ("Danh mục giải pháp chuyển đổi số", "Catalogue of digital solutions"),
    "dx.cat.new": ("Thêm giải pháp", "Add a solution"),
    "dx.cat.edit": ("Sửa giải pháp", "Edit the solution"),
    "dx.cat.none": ("Danh mục trống.", "The catalogue is empty."),
    "dx.cat.saved": ("Đã lưu giải pháp.", "Solution saved."),
    "dx.cat.deleted": ("Đã xoá giải pháp.", "Solution deleted."),
    "dx.cat.withdrawn": ("Giải pháp đã có doanh nghiệp áp dụng nên được ngừng giới thiệu thay vì xoá.",
                         "Enterprises adopted this solution: it was withdrawn, not deleted."),
    "dx.cat.delete": ("Xoá", "Delete"),
    "dx.cat.delete_confirm": ("Xoá giải pháp này?", "Delete this solution?"),
    "dx.cat.not_found": ("Không có giải pháp này.", "No such solution."),
    "dx.cat.active": ("Đang giới thiệu", "Offered"),
    "dx.cat.inactive": ("Ngừng giới thiệu", "Withdrawn"),
    "dx.cat.field.name": ("Tên giải pháp", "Name"),
    "dx.cat.field.name_en": ("Tên tiếng Anh", "Name in English"),
    "dx.cat.field.provider": ("Nhà cung cấp", "Provider"),
    "dx.cat.field.category": ("Nhóm", "Category"),
    "dx.cat.field.criteria": ("Tiêu chí giải pháp đáp ứng", "Criteria it addresses"),
    "dx.cat.field.price_min": ("Giá thấp nhất (đồng/tháng)", "Lowest price (VND a month)"),
    "dx.cat.field.price_max": ("Giá cao nhất (đồng/tháng)", "Highest price (VND a month)"),
    "dx.cat.field.description": ("Mô tả", "Description"),
    "dx.cat.field.description_en": ("Mô tả tiếng Anh", "Description in English"),
    "dx.cat.field.url": ("Địa chỉ web", "Web address"),
    "dx.cat.field.active": ("Đang giới thiệu cho doanh nghiệp", "Offered to enterprises"),
    "dx.cat.cat.website_ecommerce": ("Website, thương mại điện tử", "Website and e-commerce"),
    "dx.cat.cat.marketing": ("Tiếp thị số", "Digital marketing"),
    "dx.cat.cat.finance_invoicing": ("Tài chính, hoá đơn điện tử", "Finance and e-invoicing"),
    "dx.cat.cat.erp": ("Quản trị doanh nghiệp (ERP)", "Enterprise resource planning (ERP)"),
    "dx.cat.cat.crm": ("Quản lý khách hàng (CRM)", "Customer relationship management (CRM)"),
    "dx.cat.cat.cloud": ("Điện toán đám mây", "Cloud computing"),
    "dx.cat.cat.security": ("An toàn thông tin", "Information security"),
    "dx.cat.cat.collaboration": ("Làm việc cộng tác, từ xa", "Collaboration and remote work"),
    "dx.cat.cat.data_analytics": ("Dữ liệu và phân tích", "Data and analytics"),
    "dx.cat.cat.training": ("Đào tạo kỹ năng số", "Digital-skills training"),
    "dx.cat.cat.other": ("Khác", "Other"),
    # DTI
    "dx.dti.title": ("Xếp hạng Chỉ số chuyển đổi số cấp tỉnh (DTI)",
                     "Provincial digital-transformation index (DTI) ranking"),
    "dx.dti.none": ("Chưa có kết quả DTI nào được công bố.", "No DTI results have been published yet."),
    "dx.dti.framework": ("Bộ chỉ số", "Framework"),
    "dx.dti.year": ("Năm", "Year"),
    "dx.dti.rank": ("Hạng", "Rank"),
    "dx.dti.area": ("Tỉnh, thành phố", "Province"),
    "dx.dti.group.public_services": ("Bộ, ngành có cung cấp dịch vụ công", "Ministries and agencies providing public services"),
    "dx.dti.group.no_public_services": ("Bộ, ngành không cung cấp dịch vụ công",
                                        "Ministries and agencies without public services"),
    "dx.dti.group.": ("Chưa xác định nhóm", "Group not stated"),
    "dx.dti.index": ("Chỉ số DTI", "DTI index"),
    "dx.dti.interval": ("Khoảng hạng", "Rank interval"),
    "dx.dti.interval_help": ("Khoảng hạng: hạng từ phân vị 5 đến 95 khi trọng số các chỉ số chính thay đổi ngẫu "
                             "nhiên ±{perturb}% qua {draws} lần thử. Hai tỉnh có khoảng hạng chồng nhau không "
                             "chắc chắn hơn kém nhau.",
                             "Rank interval: the 5th to 95th percentile of the rank when the main indicators' "
                             "weights vary at random by ±{perturb}% over {draws} draws. Two provinces whose "
                             "intervals overlap are not reliably apart."),
    "dx.dti.change": ("So với năm trước", "Change on the year before"),
    "dx.dti.rank_change": ("Thay đổi hạng", "Rank change"),
    "dx.dti.detail": ("Chi tiết", "Detail"),
    "dx.dti.source": ("Nguồn: tệp {file} do {who} tải lên lúc {date} (sha256 {sha}).",
                      "Source: file {file} uploaded by {who} on {date} (sha256 {sha})."),
    "dx.dti.upload": ("Tải lên kết quả DTI", "Upload DTI results"),
    "dx.dti.upload_help": ("Tệp CSV với cột area, year và một cột cho mỗi chỉ số chính của bộ chỉ số (giá trị "
                           "từ 0 đến 1). Cả tệp được kiểm tra trước; có lỗi thì không ghi gì và mọi dòng lỗi "
                           "đều được liệt kê. Tệp mới của cùng bộ chỉ số và năm thay thế bảng xếp hạng cũ.",
                           "A CSV with columns area, year and one column per main indicator of the framework "
                           "(values from 0 to 1). The whole file is checked first; on any error nothing is "
                           "written and every bad line is listed. A new file for a framework and year replaces "
                           "that year's ranking."),
    "dx.dti.file": ("Tệp CSV", "CSV file"),
    "dx.dti.draws": ("Số lần thử (khoảng hạng)", "Draws (rank interval)"),
    "dx.dti.perturb": ("Biên độ thay đổi trọng số (0–0,9)", "Weight perturbation (0–0.9)"),
    "dx.dti.submit": ("Tải lên và xếp hạng", "Upload and rank"),
    "dx.dti.no_file": ("Chưa chọn tệp.", "No file chosen."),
    "dx.dti.job_missing": ("Không có lượt tính này.", "No such run."),
    "dx.dti.too_big": ("Tệp lớn hơn {mb} MB.", "The file is larger than {mb} MB."),
    "dx.dti.rejected": ("Tệp {file} bị từ chối: {n} lỗi. Không có gì được ghi.",
                        "{file} was rejected: {n} error(s). Nothing was written."),
    "dx.dti.unknown_areas": ("Tên không khớp tỉnh nào: {names}", "Names that match no province: {names}"),
    "dx.dti.done": ("Đã xếp hạng {n} tỉnh, thành phố năm {years}.", "{n} provinces ranked for {years}."),
    "dx.dti.see": ("Xem bảng xếp hạng", "See the ranking"),
    "dx.dti.line": ("Dòng", "Line"),
    "dx.dti.column": ("Cột", "Column"),
    "dx.dti.problem": ("Lỗi", "Problem"),
    "dx.dti.bad_number": ("phải là số nguyên từ 0 đến {max}", "must be a whole number from 0 to {max}"),
    "dx.dti.bad_perturb": ("phải là số từ 0 đến 0,9", "must be a number from 0 to 0.9"),
    "dx.dti.bad_framework": ("không có bộ chỉ số DTI này", "no such index framework"),
    "dx.dti.area_title": ("DTI của {name}", "DTI of {name}"),
    "dx.dti.groups": ("Nhóm trụ cột", "Pillar groups"),
    "dx.dti.values": ("Chỉ số chính", "Main indicators"),
    "dx.dti.not_found": ("Không có kết quả DTI của địa bàn này.", "No DTI result for this area."),
    "dx.dti.published_differs": ("khác số công bố {value}", "differs from the published {value}"),
})


# -- helpers ----------------------------------------------------------------------------------


def _enterprise_of(db: Session, user: User) -> Enterprise | None:
    return enterprises.of_user(db, user)


def _own_assessment(db: Session, user: User, assessment_id: int) -> Assessment:
    """The assessment if it is the user's enterprise's; 404 when it does not exist, 403 otherwise."""
    a = db.get(Assessment, assessment_id)
    if a is None:
        raise HTTPException(404)
    ensure(user, "dx.assess", enterprise_ref=a.enterprise.tax_code)
    return a


def _fw_text(t: dict | Any, lang: str) -> str:
    if isinstance(t, dict):
        return t.get("en" if lang == "en" else "vi") or ""
    return t.get(lang)


def _choices(prefix: str, codes: tuple[str, ...], tr) -> list[tuple[str, str]]:
    return [(c, tr(f"{prefix}.{c}")) for c in codes]


def _provinces(db: Session) -> list[tuple[str, str]]:
    from ictgov.stats.areas import areas_in_force

    return [(a.code, a.name) for a in areas_in_force(db, date.today(), level="province")]


def _enterprise_context(request: Request, db: Session, user: User, e: Enterprise | None,
                        errors: dict | None = None, values: dict | None = None) -> dict[str, Any]:
    from ictgov.web.deps import get_lang
    from ictgov.web.i18n import translator

    tr = translator(get_lang(request))
    ctx: dict[str, Any] = {
        "enterprise": e, "errors": errors or {}, "values": values or (enterprises.public_dict(e) if e else {}),
        "tax_code": e.tax_code if e else (user.enterprise_ref or ""),
        "sectors": _choices("dx.sector", SECTORS, tr), "sizes": _choices("dx.size", SIZE_CLASSES, tr),
        "provinces": _provinces(db), "draft": None, "history": [], "progress_chart": None, "total": 0,
    }
    if e is not None:
        ctx["draft"] = asm.draft_of(db, e)
        ctx["history"] = asm.progress(db, e)
        if ctx["draft"] is not None:
            ctx["total"] = len(asm.framework_of(ctx["draft"]).criteria)
    return ctx


# -- landing ----------------------------------------------------------------------------------


@router.get(BASE, include_in_schema=False)
def home(request: Request):
    return render(request, "dx/home.html", {})


# -- enterprise: registration, profile, assessments --------------------------------------------


@router.get(f"{BASE}/doanh-nghiep", include_in_schema=False)
def enterprise_page(request: Request, db: SessionDep, user: EnterpriseUser, lang: LangDep):
    e = _enterprise_of(db, user)
    ctx = _enterprise_context(request, db, user, e)
    if ctx["history"] and len(ctx["history"]) > 1:
        ctx["progress_chart"] = charts.progress(ctx["history"], lang)
    return render(request, "dx/enterprise.html", ctx)


@router.post(f"{BASE}/doanh-nghiep", include_in_schema=False)
def enterprise_save(request: Request, db: SessionDep, user: EnterpriseUser,
                    name: str = Form(""), sector: str = Form(""), size_class: str = Form(""),
                    province_code: str = Form(""), employees: str = Form("", max_length=20)):
    data = {"name": name, "sector": sector, "size_class": size_class, "province_code": province_code,
            "employees": employees}
    e = _enterprise_of(db, user)
    try:
        if e is None:
            enterprises.register(db, data, user, tax_code=user.enterprise_ref or "")
        else:
            enterprises.update(db, e, data, user)
    except EnterpriseError as exc:
        return render(request, "dx/enterprise.html",
                      _enterprise_context(request, db, user, e, exc.errors, data), status_code=422)
    flash(request, "dx.enterprise.registered", "success")
    return RedirectResponse(f"{BASE}/doanh-nghiep", status_code=303)


@router.post(f"{BASE}/danh-gia", include_in_schema=False)
def assessment_start(request: Request, db: SessionDep, user: EnterpriseUser):
    e = _enterprise_of(db, user)
    if e is None:
        return RedirectResponse(f"{BASE}/doanh-nghiep", status_code=303)
    a = asm.start(db, e, user)
    return RedirectResponse(f"{BASE}/danh-gia/{a.id}", status_code=303)


def _questionnaire(request: Request, a: Assessment, lang: str, errors: dict | None = None,
                   answers: dict | None = None, missing: list[str] | None = None, status_code: int = 200):
    fw = asm.framework_of(a)
    answers = dict(a.answers or {}) if answers is None else answers
    per_pillar = [{"pillar": p, "answered": sum(c.code in answers for c in p.criteria),
                   "count": len(list(p.criteria))} for p in fw.pillars]
    return render(request, "dx/questionnaire.html", {
        "a": a, "fw": fw, "answers": answers, "errors": errors or {}, "missing": missing or [],
        "answered": sum(code in answers for code in fw.criteria), "total": len(fw.criteria),
        "per_pillar": per_pillar, "prefix": ANSWER_PREFIX,
    }, status_code=status_code)


@router.get(f"{BASE}/danh-gia/{{assessment_id}}", include_in_schema=False)
def assessment_page(request: Request, db: SessionDep, user: EnterpriseUser, lang: LangDep, assessment_id: Id):
    a = _own_assessment(db, user, assessment_id)
    if a.status == "submitted":
        return RedirectResponse(f"{BASE}/danh-gia/{a.id}/ket-qua", status_code=303)
    return _questionnaire(request, a, lang)


async def _answers_from(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k[len(ANSWER_PREFIX):]: str(v) for k, v in form.multi_items()
            if k.startswith(ANSWER_PREFIX) and isinstance(v, str)}


def _problem_map(problems: list[str]) -> dict[str, str]:
    out = {}
    for p in problems:
        field, _, msg = p.partition(": ")
        out[field] = msg
    return out


@router.post(f"{BASE}/danh-gia/{{assessment_id}}/luu", include_in_schema=False)
async def assessment_save(request: Request, db: SessionDep, user: EnterpriseUser, lang: LangDep,
                          assessment_id: Id):
    a = _own_assessment(db, user, assessment_id)
    answers = await _answers_from(request)
    htmx = bool(request.headers.get("hx-request"))
    if a.status != "draft":
        raise HTTPException(409, "dx.q.not_draft")
    try:
        saved = asm.save_answers(db, a, answers, user)
    except asm.AssessmentError as exc:
        if htmx:
            return render(request, "dx/_save_status.html", {"errors": _problem_map(exc.problems)},
                          status_code=422)
        return _questionnaire(request, a, lang, errors=_problem_map(exc.problems),
                              answers={**(a.answers or {}), **answers}, status_code=422)
    total = len(asm.framework_of(a).criteria)
    if htmx:
        return render(request, "dx/_save_status.html", {"n": len(saved), "total": total, "errors": {}})
    flash(request, "dx.q.saved", "success", n=len(saved), total=total)
    return RedirectResponse(f"{BASE}/danh-gia/{a.id}", status_code=303)


@router.post(f"{BASE}/danh-gia/{{assessment_id}}/nop", include_in_schema=False)
async def assessment_submit(request: Request, db: SessionDep, user: EnterpriseUser, lang: LangDep,
                            assessment_id: Id):
    a = _own_assessment(db, user, assessment_id)
    if a.status != "draft":
        return RedirectResponse(f"{BASE}/danh-gia/{a.id}/ket-qua", status_code=303)
    answers = await _answers_from(request)
    try:
        if answers:
            asm.save_answers(db, a, answers, user)
        asm.submit(db, a, user)
    except asm.AssessmentError as exc:
        if exc.missing:
            # The answers given are kept: commit them, show the page with what is missing.
            db.commit()
            return _questionnaire(request, a, lang, missing=exc.missing, status_code=422)
        return _questionnaire(request, a, lang, errors=_problem_map(exc.problems),
                              answers={**(a.answers or {}), **answers}, status_code=422)
    return RedirectResponse(f"{BASE}/danh-gia/{a.id}/ket-qua", status_code=303)


@router.get(f"{BASE}/danh-gia/{{assessment_id}}/ket-qua", include_in_schema=False)
def assessment_result(request: Request, db: SessionDep, user: EnterpriseUser, lang: LangDep, assessment_id: Id):
    a = _own_assessment(db, user, assessment_id)
    if a.status != "submitted":
        return RedirectResponse(f"{BASE}/danh-gia/{a.id}", status_code=303)
    result = a.result
    fw = asm.framework_of(a)
    bench, group = asm.peers(db, a)
    previous = asm.previous_of(db, a)
    history = asm.progress(db, a.enterprise)
    adopted = {ad.solution_id: ad for ad in catalogue.adoptions(db, a.enterprise)}
    solutions = catalogue.recommend(db, result, limit=6)
    return render(request, "dx/result.html", {
        "a": a, "r": result, "fw": fw, "digest_ok": asm.digest_matches(a),
        "radar": charts.radar(result["pillars"], lang),
        "bench": bench, "group": group, "advice": result["advice"][:10],
        "solutions": solutions, "adopted": adopted,
        "offers": smedx_uptake.offers(db, a.enterprise, [r["solution"] for r in solutions]),
        "effects": catalogue.effects(db, a, previous), "history": history,
        "progress_chart": charts.progress(history, lang) if len(history) > 1 else None,
        "province_name": dict(_provinces(db)).get(a.enterprise.province_code, a.enterprise.province_code),
        "criterion_text": lambda code: fw.criteria[code][2].text.get(lang) if code in fw.criteria else code,
        "txt": lambda t: _fw_text(t, lang),
    })


@router.post(f"{BASE}/giai-phap/{{solution_id}}/ap-dung", include_in_schema=False)
def solution_adopt(request: Request, db: SessionDep, user: EnterpriseUser, solution_id: Id,
                   back: str = Form("")):
    e = _enterprise_of(db, user)
    s = db.get(Solution, solution_id)
    if e is None or s is None:
        raise HTTPException(404, "dx.cat.not_found")
    try:
        catalogue.adopt(db, e, s, actor=user)
    except catalogue.CatalogueError as exc:
        raise HTTPException(409, "; ".join(f"{k}: {v}" for k, v in exc.errors.items())) from None
    flash(request, "dx.r.adopted", "success")
    target = back if back.startswith(f"{BASE}/") else f"{BASE}/doanh-nghiep"
    return RedirectResponse(target, status_code=303)


# -- catalogue (administrators) ---------------------------------------------------------------


def _criteria_choices(lang: str) -> list[tuple[str, list[tuple[str, str]]]]:
    out = []
    for fw in available("enterprise"):
        assert isinstance(fw, EnterpriseFramework)
        for p in fw.pillars:
            out.append((p.name.get(lang), [(c.code, c.text.get(lang)) for c in p.criteria]))
    return out


def _catalogue_page(request: Request, db: Session, lang: str, solution: Solution | None = None,
                    errors: dict | None = None, values: dict | None = None, status_code: int = 200):
    from ictgov.web.i18n import translator

    tr = translator(lang)
    return render(request, "dx/catalogue.html", {
        "solutions": catalogue.listing(db), "solution": solution, "errors": errors or {},
        "values": values or (catalogue.as_dict(solution) if solution else {"active": True, "criteria": []}),
        "categories": _choices("dx.cat.cat", SOLUTION_CATEGORIES, tr), "criteria_groups": _criteria_choices(lang),
        "platform_groups": _choices("smedx.group", PLATFORM_GROUPS, tr),
    }, status_code=status_code)


def _solution_form(form) -> dict[str, Any]:
    data = {k: form.get(k, "") for k in ("name", "name_en", "provider", "category", "price_min", "price_max",
                                         "description", "description_en", "url",
                                         "platform_group", "free_months", "free_max_staff", "price_after")}
    data["criteria"] = [c for c in form.getlist("criteria") if isinstance(c, str)]
    data["active"] = form.get("active") == "true"
    data["cost_support"] = form.get("cost_support") == "true"
    return data


@router.get(f"{BASE}/quan-tri/giai-phap", include_in_schema=False)
def catalogue_page(request: Request, db: SessionDep, user: CatalogueAdmin, lang: LangDep):
    return _catalogue_page(request, db, lang)


@router.post(f"{BASE}/quan-tri/giai-phap", include_in_schema=False)
async def catalogue_create(request: Request, db: SessionDep, user: CatalogueAdmin, lang: LangDep):
    data = _solution_form(await request.form())
    try:
        catalogue.create(db, data, user)
    except catalogue.CatalogueError as exc:
        return _catalogue_page(request, db, lang, errors=exc.errors, values=data, status_code=422)
    flash(request, "dx.cat.saved", "success")
    return RedirectResponse(f"{BASE}/quan-tri/giai-phap", status_code=303)


def _solution(db: Session, solution_id: int) -> Solution:
    s = db.get(Solution, solution_id)
    if s is None:
        raise HTTPException(404, "dx.cat.not_found")
    return s


@router.get(f"{BASE}/quan-tri/giai-phap/{{solution_id}}", include_in_schema=False)
def solution_page(request: Request, db: SessionDep, user: CatalogueAdmin, lang: LangDep, solution_id: Id):
    return _catalogue_page(request, db, lang, solution=_solution(db, solution_id))


@router.post(f"{BASE}/quan-tri/giai-phap/{{solution_id}}", include_in_schema=False)
async def solution_update(request: Request, db: SessionDep, user: CatalogueAdmin, lang: LangDep,
                          solution_id: Id):
    s = _solution(db, solution_id)
    data = _solution_form(await request.form())
    try:
        catalogue.update(db, s, data, user)
    except catalogue.CatalogueError as exc:
        return _catalogue_page(request, db, lang, solution=s, errors=exc.errors, values=data, status_code=422)
    flash(request, "dx.cat.saved", "success")
    return RedirectResponse(f"{BASE}/quan-tri/giai-phap", status_code=303)


@router.post(f"{BASE}/quan-tri/giai-phap/{{solution_id}}/xoa", include_in_schema=False)
def solution_delete(request: Request, db: SessionDep, user: CatalogueAdmin, solution_id: Id):
    deleted = catalogue.delete(db, _solution(db, solution_id), user)
    flash(request, "dx.cat.deleted" if deleted else "dx.cat.withdrawn", "success" if deleted else "warning")
    return RedirectResponse(f"{BASE}/quan-tri/giai-phap", status_code=303)


# -- DTI: upload, ranking, detail -------------------------------------------------------------


def _index_frameworks() -> list[tuple[str, str, str]]:
    return [(fw.ref, fw.name.vi, fw.name.en) for fw in available("index")]


def _upload_options(framework: str, draws: str, perturb: str) -> tuple[Any, dict[str, Any], dict[str, str]]:
    errors: dict[str, str] = {}
    fw = None
    try:
        fw = rankings.index_framework(framework or rankings.DEFAULT_FRAMEWORK)
    except (KeyError, TypeError, AssertionError):
        errors["framework"] = "dx.dti.bad_framework"
    options: dict[str, Any] = {}
    try:
        options["draws"] = int(draws) if str(draws).strip() else 1000
        if not 0 <= options["draws"] <= MAX_DRAWS:
            raise ValueError
    except ValueError:
        errors["draws"] = "dx.dti.bad_number"
    try:
        options["perturb"] = float(str(perturb).replace(",", ".")) if str(perturb).strip() else 0.2
        if not 0 <= options["perturb"] <= 0.9:
            raise ValueError
    except ValueError:
        errors["perturb"] = "dx.dti.bad_perturb"
    return fw, options, errors


def _upload_ctx(**kw) -> dict[str, Any]:
    ctx: dict[str, Any] = {"errors": None, "field_errors": {}, "done": None, "filename": "",
                           "frameworks": _index_frameworks(), "framework": rankings.DEFAULT_FRAMEWORK,
                           "draws": "1000", "perturb": "0.2", "unknown_areas": [], "max_draws": MAX_DRAWS,
                           "max_mb": 0, "job": None}
    ctx.update(kw)
    return ctx


@router.get(f"{BASE}/dti/tai-len", include_in_schema=False)
def dti_upload_form(request: Request, user: Uploader):
    return render(request, "dx/dti_upload.html", _upload_ctx())


@router.post(f"{BASE}/dti/tai-len", include_in_schema=False)
def dti_upload(request: Request, db: SessionDep, settings: SettingsDep, user: Uploader,
               file: UploadFile | None = File(None), framework: str = Form(""),
               draws: str = Form(""), perturb: str = Form("")):
    ctx = _upload_ctx(framework=framework or rankings.DEFAULT_FRAMEWORK, draws=draws or "1000",
                      perturb=perturb or "0.2", filename=file.filename if file else "")
    fw, options, field_errors = _upload_options(framework, draws, perturb)
    if file is None or not file.filename:
        field_errors["file"] = "dx.dti.no_file"
    if field_errors:
        ctx["field_errors"] = field_errors
        return render(request, "dx/dti_upload.html", ctx, status_code=422)
    # a plain def route: reading and the uncertainty run block, so they run in the threadpool
    data = file.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        ctx["field_errors"] = {"file": "dx.dti.too_big"}
        ctx["max_mb"] = settings.max_upload_bytes // (1024 * 1024)
        return render(request, "dx/dti_upload.html", ctx, status_code=413)
    large = dti_job.is_large(options["draws"], data, settings.background_draw_areas)
    try:
        if large:  # every bad line at once, before the long run leaves the request
            rankings.compute(db, data, fw, file.filename, draws=0, perturb=options["perturb"])
            info = _start_dti_job(settings, user, data, file.filename, fw.ref, options["draws"],
                                  options["perturb"], 0, True)
            return RedirectResponse(f"{BASE}/dti/tai-len/jobs/{info.id}", status_code=303)
        batch, result = rankings.upload(db, data, fw, file.filename, user, **options)
    except DtiInputError as exc:
        request.state.rollback_only = True
        ctx["errors"] = [e.as_dict() for e in exc.errors[:500]]
        ctx["error_count"] = len(exc.errors)
        ctx["unknown_areas"] = exc.unknown_areas
        return render(request, "dx/dti_upload.html", ctx, status_code=422)
    ctx["done"] = {"n": len(result.areas), "years": result.years, "framework": fw.id,
                   "year": result.years[-1]}
    return render(request, "dx/dti_upload.html", ctx)


def _start_dti_job(settings, user: User, data: bytes, filename: str, framework: str, draws: int,
                   perturb: float, seed: int, store: bool):
    path = dti_job.store_upload(settings.data_dir, data, filename)
    return jobs.enqueue(dti_job.JOB, idempotency_key=dti_job.job_key(user.id, path, framework, draws, perturb,
                                                                       seed, store),
                        path=str(path), filename=filename, framework=framework, user_id=user.id,
                        draws=draws, perturb=perturb, seed=seed, store=store)


@router.get(f"{BASE}/dti/tai-len/jobs/{{job_id}}", include_in_schema=False)
def dti_upload_job(request: Request, user: Uploader, job_id: str):
    """The progress of a large DTI run, then the same answer as the upload page; only for who started it."""
    info = jobs.get(job_id)
    if info is None or info.name != dti_job.JOB or info.kwargs.get("user_id") != user.id:
        raise HTTPException(404, "dx.dti.job_missing")
    ctx = _upload_ctx(filename=info.kwargs.get("filename", ""), job=info)
    result = info.result if info.status == "finished" and isinstance(info.result, dict) else None
    if result is not None and result.get("ok"):
        years = result["years"]
        ctx["done"] = {"n": len(result["areas"]), "years": years, "framework": result["framework_id"],
                       "year": years[-1]}
    elif result is not None:
        ctx["errors"], ctx["error_count"] = result["errors"], result["count"]
    return render(request, "dx/dti_upload.html", ctx, status_code=422 if ctx["errors"] else 200)


def _ranking_data(db: Session, framework: str | None, year: int | None) -> dict[str, Any]:
    fws = rankings.frameworks_with_results(db)
    fw_id = framework if framework in fws else (rankings.DEFAULT_FRAMEWORK if rankings.DEFAULT_FRAMEWORK in fws
                                                else (fws[0] if fws else None))
    if fw_id is None:
        return {"frameworks": [], "framework": None, "years": [], "year": None, "rows": [], "upload": None}
    years = rankings.years(db, fw_id)
    year = year if year in years else (years[0] if years else None)
    rows = rankings.ranking(db, fw_id, year) if year is not None else []
    return {"frameworks": fws, "framework": fw_id, "years": years, "year": year, "rows": rows,
            "upload": rows[0].upload if rows else None}


@router.get(f"{BASE}/dti", include_in_schema=False, dependencies=[require("dx.ranking")])
def dti_ranking(request: Request, db: SessionDep, lang: LangDep, user: OptionalUser,
                framework: str | None = None, year: int | None = None):
    data = _ranking_data(db, framework, year)
    public = [rankings.public_row(r) for r in data["rows"]]
    # ministries are ranked in the groups the ministry publishes (with and without public
    # services): one table each, ranks taken within it
    present = {r["group"] for r in public}
    sections = [(g, [r for r in public if r["group"] == g])
                for g in sorted(present, key=dti.group_order)]
    uploader = db.get(User, data["upload"].created_by_id) if data["upload"] and data["upload"].created_by_id else None
    return render(request, "dx/ranking.html", {
        **data, "public": public, "sections": sections,
        "chart": charts.ranking_bars(public, lang) if public else None,
        "uploader": uploader.full_name or uploader.username if uploader else "—",
    })


@router.get(f"{BASE}/dti/{{framework}}/{{area_code}}", include_in_schema=False)
def dti_area(request: Request, db: SessionDep, lang: LangDep, user: OptionalUser, framework: str, area_code: str):
    area_code = normalize_code(area_code)  # "1" is Hà Nội's "01"
    ensure(user, "dx.dti_detail", province_code=area_code)
    rows = rankings.detail(db, framework, area_code)
    if not rows:
        raise HTTPException(404, "dx.dti.not_found")
    fw = rankings.index_framework(f"{rows[0].framework_id}@{rows[0].framework_version}")
    return render(request, "dx/area.html", {"rows": rows, "fw": fw, "framework": framework,
                                            "name": rows[0].area_name})


# -- API ----------------------------------------------------------------------------------------


@router.get("/api/dx/frameworks", dependencies=[require("dx.ranking")])
def api_frameworks() -> list[dict[str, Any]]:
    """Every bundled framework: id, version, kind, name and the digest results record."""
    return [{"id": fw.id, "version": fw.version, "ref": fw.ref, "kind": fw.kind,
             "name": {"vi": fw.name.vi, "en": fw.name.en}, "digest": fw.digest} for fw in available()]


def _line_errors(errors: list[LineError]) -> JSONResponse:
    return JSONResponse({"ok": False, "errors": [e.as_dict() for e in errors[:500]], "count": len(errors)},
                        status_code=422)


@router.post("/api/dx/dti", responses={202: {"description": "draws × rows over the background threshold: "
                                           "computed by the job dx.dti; follow `status_url`"}})
def api_dti(
    request: Request, db: SessionDep, settings: SettingsDep, user: Uploader,
    file: UploadFile = File(..., description="CSV: area, year and one column per main indicator"),
    framework: str = Form(rankings.DEFAULT_FRAMEWORK, description="id or id@version"),
    draws: int = Form(1000, ge=0, le=MAX_DRAWS), perturb: float = Form(0.2, ge=0, le=0.9),
    seed: int = Form(0, ge=0), store: bool = Form(False, description="also publish it as the year's ranking"),
):
    """As `ictgov dx dti FILE --json`: each area's index, rank, rank interval, groups and change.

    422 with every bad line (`line`, `column`, `message`, `value`) and nothing written. With
    `store=true` the result replaces the ranking of its framework and years. When draws × rows
    is over ICTGOV_BACKGROUND_DRAW_AREAS the file is checked (422 as above), then computed by the
    job `dx.dti`: 202 with `status_url`, whose `result` is this same answer once finished.
    """
    try:
        fw = rankings.index_framework(framework)
    except (KeyError, TypeError, AssertionError):
        raise HTTPException(422, f"framework: no index framework {framework!r}") from None
    data = file.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise HTTPException(413, f"file: larger than {settings.max_upload_bytes} bytes")
    name = file.filename or "upload.csv"
    try:
        if dti_job.is_large(draws, data, settings.background_draw_areas):
            rankings.compute(db, data, fw, name, draws=0, perturb=perturb, seed=seed)  # bad lines: 422 now
            return accepted(_start_dti_job(settings, user, data, name, fw.ref, draws, perturb, seed, store))
        if store:
            batch, result = rankings.upload(db, data, fw, name, user, draws=draws, perturb=perturb, seed=seed)
        else:
            batch, result = None, rankings.compute(db, data, fw, name, draws=draws, perturb=perturb, seed=seed)
    except DtiInputError as exc:
        request.state.rollback_only = True
        return _line_errors(exc.errors)
    return {"ok": True, "stored": batch is not None, "upload": batch.id if batch else None, **result.as_dict()}


@router.get("/api/dx/dti/{framework}/{year}", dependencies=[require("dx.ranking")])
def api_ranking(db: SessionDep, framework: str, year: Year) -> dict[str, Any]:
    """The published ranking of a year: rank, index, rank interval and change of every area."""
    rows = rankings.ranking(db, framework, year)
    if not rows:
        raise HTTPException(404, "dx.dti.not_found")
    up = rows[0].upload
    return {"framework": f"{up.framework_id}@{up.framework_version}", "digest": up.framework_digest,
            "year": year, "uncertainty": up.uncertainty, "source": {"file": up.filename, "sha256": up.content_sha256},
            "areas": [rankings.public_row(r) for r in rows]}


@router.get("/api/dx/dti/{framework}/areas/{area_code}")
def api_area(db: SessionDep, user: OptionalUser, framework: str, area_code: str) -> dict[str, Any]:
    """One area's detail for every stored year (indicator values, groups); a province officer: own only."""
    area_code = normalize_code(area_code)
    ensure(user, "dx.dti_detail", province_code=area_code)
    rows = rankings.detail(db, framework, area_code)
    if not rows:
        raise HTTPException(404, "dx.dti.not_found")
    return {"area": area_code, "years": [rankings.detail_row(r) for r in rows]}
