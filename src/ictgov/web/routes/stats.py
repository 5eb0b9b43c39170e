"""Pages and API of the statistics service: dashboard, indicators, upload, review, open data.

Routes validate, call the domain (``ictgov.stats``), and render; nothing here computes a
figure.
"""

from __future__ import annotations

from typing import Annotated, Any

import polars as pl
from fastapi import APIRouter, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup
from sqlalchemy.orm import Session

from ictgov import jobs
from ictgov.auth import User
from ictgov.stats import charts, export
from ictgov.stats.figures import FigureError, Figures
from ictgov.stats import import_job, review_job
from ictgov.stats.ingest import ImportRejected
from ictgov.stats.periods import KINDS, PeriodError, parse_period
from ictgov.stats.report import build_review, format_number, render_body, review_config
from ictgov.stats.report import render as render_review
from ictgov.stats.units import unit_label
from ictgov.stats.validation import run_rules
from ictgov.web.deps import (LangDep, SessionDep, SettingsDep, accepted, get_lang, render, render_content,
                             render_shared, require, shared_page)
from ictgov.web.i18n import register

router = APIRouter(tags=["stats"])

register({
    "stats.dashboard": ("Tổng quan ngành Thông tin và Truyền thông", "ICT sector at a glance"),
    "stats.dashboard.intro": ("Các chỉ tiêu chính, số mới nhất và tăng trưởng so với cùng kỳ năm trước.",
                              "Headline indicators: latest figure and growth against the same period a year before."),
    "stats.indicators": ("Chỉ tiêu", "Indicators"),
    "stats.elements": ("Số liệu gốc", "Data elements"),
    "stats.computed": ("Chỉ tiêu tính toán", "Computed indicators"),
    "stats.code": ("Mã", "Code"),
    "stats.name": ("Tên", "Name"),
    "stats.unit": ("Đơn vị", "Unit"),
    "stats.formula": ("Công thức", "Formula"),
    "stats.aggregation": ("Cách tổng hợp", "Aggregation"),
    "stats.latest": ("Số mới nhất", "Latest"),
    "stats.period": ("Kỳ", "Period"),
    "stats.value": ("Giá trị", "Value"),
    "stats.growth": ("Tăng trưởng", "Growth"),
    "stats.growth_computed": ("Tăng trưởng (tính)", "Growth (computed)"),
    "stats.growth_published": ("Tăng trưởng (công bố)", "Growth (published)"),
    "stats.growth_differs": ("Khác với tăng trưởng tính từ số liệu đã công bố (Bộ tính trên số liệu đã điều chỉnh)",
                             "Differs from the growth computed from the published values (the ministry uses revised figures)"),
    "stats.yoy": ("so với cùng kỳ", "year on year"),
    "stats.series": ("Chuỗi số liệu", "Series"),
    "stats.by_province": ("Theo tỉnh, thành phố", "By province"),
    "stats.rank": ("Hạng", "Rank"),
    "stats.area": ("Địa bàn", "Area"),
    "stats.revisions": ("Lịch sử điều chỉnh", "Revisions"),
    "stats.revision": ("Lần", "Revision"),
    "stats.status": ("Tình trạng", "Status"),
    "stats.source": ("Nguồn", "Source"),
    "stats.note": ("Ghi chú", "Note"),
    "stats.recorded": ("Ghi nhận lúc", "Recorded"),
    "stats.aggregated_from": ("Tổng hợp ({agg}) từ {n} địa bàn", "Aggregated ({agg}) from {n} areas"),
    "stats.no_data": ("Chưa có số liệu.", "No data yet."),
    "stats.show": ("Xem", "Show"),
    "stats.search": ("Tìm chỉ tiêu", "Find an indicator"),
    "stats.status.final": ("chính thức", "final"),
    "stats.status.provisional": ("sơ bộ", "provisional"),
    "stats.status.estimate": ("ước tính", "estimate"),
    "stats.status.approximate": ("khoảng", "approx."),
    "stats.status.lower_bound": ("trên (cận dưới)", "over (lower bound)"),
    "stats.upload": ("Tải lên số liệu", "Upload figures"),
    "stats.upload.help": ("Tệp CSV, XLSX hoặc JSON dạng dài với các cột: indicator, area, period, value, unit, source (và tuỳ chọn status, note). Cả tệp là một giao dịch: một dòng lỗi thì không ghi dòng nào, và mọi lỗi đều được liệt kê.",
                          "A CSV, XLSX or JSON file in the long format with columns indicator, area, period, value, unit, source (and optionally status, note). The whole file is one transaction: any bad row rejects it, and every error is listed."),
    "stats.upload.file": ("Tệp số liệu", "Data file"),
    "stats.upload.number_format": ("Cách viết số", "Number notation"),
    "stats.upload.nf_auto": ("Theo tệp (mặc định: 1,234.5)", "As the file says (default 1,234.5)"),
    "stats.upload.nf_en": ("Tiếng Anh: 1,234.5", "English: 1,234.5"),
    "stats.upload.nf_vi": ("Tiếng Việt: 1.234,5", "Vietnamese: 1.234,5"),
    "stats.upload.strict": ("Không tạo chỉ tiêu mới (từ chối tên chưa định nghĩa)", "Strict: refuse indicator names not yet defined"),
    "stats.upload.submit": ("Tải lên", "Upload"),
    "stats.upload.rejected": ("Tệp {file} bị từ chối: {n} lỗi. Không có dòng nào được ghi.",
                              "{file} was rejected: {n} error(s). Nothing was written."),
    "stats.upload.row": ("Dòng", "Row"),
    "stats.upload.column": ("Cột", "Column"),
    "stats.upload.problem": ("Lỗi", "Problem"),
    "stats.review.render": ("Xuất báo cáo ra tệp", "Render the review to a file"),
    "stats.review.render_go": ("Xuất", "Render"),
    "stats.review.render_of": ("Báo cáo kỳ {period}, định dạng {fmt}, được dựng ở chế độ nền.",
                               "The review of {period}, as {fmt}, is rendered in the background."),
    "stats.review.rendered": ("Tệp đã sẵn sàng:", "The file is ready:"),
    "stats.review.job_missing": ("Không có lượt xuất báo cáo này.", "No such rendering."),
    "stats.upload.job_missing": ("Không có lượt nhập này.", "No such import."),
    "stats.upload.job_running": ("Tệp {file} lớn nên được nhập ở chế độ nền: {state}, {pct}%. Trang tự cập nhật.",
                                 "{file} is large, so it is imported in the background: {state}, {pct}%. "
                                 "This page refreshes itself."),
    "stats.upload.job_failed": ("Lượt nhập {file} gặp lỗi hệ thống và đã được ghi lại cho quản trị viên: {error}",
                                "The import of {file} failed and was recorded for the administrators: {error}"),
    "stats.upload.done": ("Đã nhập {file}: {created} mới, {revised} điều chỉnh, {unchanged} không đổi.",
                          "Imported {file}: {created} new, {revised} revised, {unchanged} unchanged."),
    "stats.upload.new_elements": ("Chỉ tiêu mới được tạo", "New data elements created"),
    "stats.upload.violations": ("Vi phạm quy tắc kiểm tra", "Validation rule violations"),
    "stats.upload.no_file": ("Chưa chọn tệp.", "No file chosen."),
    "stats.upload.too_big": ("Tệp lớn hơn {mb} MB.", "The file is larger than {mb} MB."),
    "stats.review": ("Báo cáo kỳ", "Period review"),
    "stats.review.choose": ("Chọn kỳ", "Choose a period"),
    "stats.review.download": ("Tải về", "Download"),
    "stats.open_data": ("Dữ liệu mở", "Open data"),
    "stats.kind.year": ("Năm", "Yearly"),
    "stats.kind.half": ("6 tháng", "Half-yearly"),
    "stats.kind.quarter": ("Quý", "Quarterly"),
    "stats.kind.month": ("Tháng", "Monthly"),
    "stats.kind.day": ("Ngày", "Daily"),
})

STATUS_KEYS = ("final", "provisional", "estimate", "approximate", "lower_bound")


def _figures(db: Session) -> Figures:
    return Figures.for_page(db)


def _bad(exc: Exception, status: int = 422) -> HTTPException:
    return HTTPException(status_code=status, detail=str(exc))


def _latest_period(fig: Figures, code: str, area_id: int, kinds=KINDS) -> str | None:
    periods = [p for p, _ in fig.results.series(code, area_id) if parse_period(p).kind in kinds]
    if not periods:
        return None
    # The latest end date; for periods ending together (2021, 2021H2, 2021-12) the longest.
    return max(periods, key=lambda p: (parse_period(p).end, parse_period(p).end - parse_period(p).start))


def _nation(fig: Figures):
    """The nation, or None on a database without reference areas yet (a fresh install)."""
    try:
        return fig.area("VN")
    except FigureError:
        return None


def _headline(fig: Figures, lang: str) -> list[dict[str, Any]]:
    vn = _nation(fig)
    if vn is None:
        return []
    cards = []
    for code in review_config().get("headline", []):
        if fig.catalog.get(code) is None:
            continue
        period = _latest_period(fig, code, vn.id)
        if period is None:
            continue
        kind = parse_period(period).kind
        series = [(p, v) for p, v in fig.results.series(code, vn.id) if parse_period(p).kind == kind]
        pub = fig.published_growth_element(code)
        cards.append({
            "code": code, "name": fig.catalog.name(code, lang),
            "unit": unit_label(fig.catalog.unit(code), lang),
            "period": period, "value": fig.value(code, vn.id, period),
            "display": format_number(fig.value(code, vn.id, period), lang),
            "status": fig.status(code, vn.id, period),
            "growth": fig.growth_pct(code, vn.id, period),
            "published_growth": fig.value(pub.code, vn.id, period) if pub else None,
            "spark": charts.sparkline(series[-8:], lang) if len(series) > 1 else None,
        })
    return cards


def _review_periods(fig: Figures) -> list[str]:
    """Years and halves with at least one headline figure for the nation, newest first."""
    vn = _nation(fig)
    if vn is None:
        return []
    found = set()
    for code in review_config().get("headline", []):
        for p, _ in fig.results.series(code, vn.id):
            if parse_period(p).kind in ("year", "half"):
                found.add(p)
    return sorted(found, key=lambda p: parse_period(p).sort_key(), reverse=True)


# -- pages ----------------------------------------------------------------------------------


# The pages of published figures are async: a visitor who is not signed in is served the page
# kept for the current figures without a thread (deps.shared_page); the work, when there is
# some, runs in the threadpool with a session of its own.


@router.get("/", include_in_schema=False)
async def dashboard(request: Request):
    return await shared_page(request, _dashboard)


def _dashboard(request: Request, db: Session):
    lang = get_lang(request)
    fig = _figures(db)

    def content() -> Markup:
        return render_content(request, "stats/dashboard.html", {
            "cards": _headline(fig, lang), "periods": _review_periods(fig)[:8],
            "period_label": lambda p: parse_period(p).label(lang)})

    return render_shared(request, "stats/dashboard.html",
                         lambda: {"prerendered": fig.memo(("dashboard", lang), content)}, fig.memo, {})


@router.get("/stats", include_in_schema=False)
async def indicator_list(request: Request, q: str = ""):
    return await shared_page(request, lambda request, db: _indicator_list(request, db, q))


def _indicator_list(request: Request, db: Session, q: str):
    from ictgov.text import fold

    fig = _figures(db)
    key = fold(q)

    def keep(item) -> bool:
        return not key or key in fold(f"{item.code} {item.name} {item.name_en}")

    def context() -> dict[str, Any]:
        elements = sorted((e for e in fig.catalog.elements.values() if keep(e)), key=lambda e: e.code)
        indicators = sorted((i for i in fig.catalog.indicators.values() if keep(i)), key=lambda i: i.code)
        return {"elements": elements, "indicators": indicators, "q": q}

    if key:  # a search: its own page
        return render(request, "stats/list.html", context())
    return render_shared(request, "stats/list.html", context, fig.memo, {})


@router.get("/stats/upload", include_in_schema=False)
def upload_form(request: Request, user: Annotated[User, require("stats.import")]):
    return render(request, "stats/upload.html", {"errors": None, "report": None})


@router.post("/stats/upload", include_in_schema=False)
def upload(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: Annotated[User, require("stats.import")],
    file: UploadFile | None = File(None),
    number_format: str = Form(""),
    strict: bool = Form(False),
):
    ctx: dict[str, Any] = {"errors": None, "report": None, "filename": file.filename if file else ""}
    if file is None or not file.filename:
        ctx["errors"] = [{"row": None, "column": "file", "message": "stats.upload.no_file", "i18n": True}]
        return render(request, "stats/upload.html", ctx, status_code=422)
    # a plain def route: reading and importing block, so they run in the threadpool, not the loop
    data = file.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        ctx["errors"] = [{"row": None, "column": "file", "message": "stats.upload.too_big", "i18n": True,
                          "kw": {"mb": settings.max_upload_bytes // (1024 * 1024)}}]
        return render(request, "stats/upload.html", ctx, status_code=413)
    if len(data) > settings.import_background_bytes:
        path = import_job.store_upload(settings.data_dir, data, file.filename)
        info = jobs.enqueue(import_job.JOB, idempotency_key=import_job.job_key(user, path), path=str(path),
                            filename=file.filename, user_id=user.id, strict=strict,
                            number_format=number_format or None, max_rows=settings.max_import_rows)
        return RedirectResponse(f"/stats/upload/jobs/{info.id}", status_code=303)
    try:
        report = import_job.run_import(db, data, file.filename, user, strict=strict,
                                       number_format=number_format or None, max_rows=settings.max_import_rows)
    except ImportRejected as exc:
        ctx["errors"] = [e.as_dict() for e in exc.errors]
        return render(request, "stats/upload.html", ctx, status_code=422)
    ctx["report"] = report
    return render(request, "stats/upload.html", ctx)


@router.get("/stats/upload/jobs/{job_id}", include_in_schema=False)
def upload_job(request: Request, job_id: str, user: Annotated[User, require("stats.import")]):
    """The progress of a large import and then its report or errors; only for who started it."""
    info = jobs.get(job_id)
    if info is None or info.name != import_job.JOB or info.kwargs.get("user_id") != user.id:
        raise HTTPException(404, "stats.upload.job_missing")
    ctx: dict[str, Any] = {"errors": None, "report": None, "job": info,
                           "filename": info.kwargs.get("filename", "")}
    result = info.result if info.status == "finished" and isinstance(info.result, dict) else None
    if result is not None and result.get("ok"):
        ctx["report"] = result
    elif result is not None:
        ctx["errors"] = result.get("errors", [])
    return render(request, "stats/upload.html", ctx, status_code=422 if ctx["errors"] else 200)


@router.get("/stats/{code}", include_in_schema=False)
async def indicator_page(request: Request, code: str, area: str = "VN", period: str | None = None,
                         kind: str | None = None):
    return await shared_page(request, lambda request, db: _indicator_page(request, db, code, area, period, kind))


def _indicator_page(request: Request, db: Session, code: str, area: str, period: str | None, kind: str | None):
    lang = get_lang(request)
    fig = _figures(db)
    try:
        fig.require(code)
        the_area = fig.area(area, period)
    except FigureError as exc:
        raise _bad(exc, 404) from exc
    selected = None
    if period:
        try:
            selected = parse_period(period).code
        except PeriodError as exc:
            raise _bad(exc) from exc
    kind = kind if kind in KINDS else None
    item = fig.catalog.get(code)
    ctx = {"item": item, "code": code, "is_indicator": code in fig.catalog.indicators, "area": the_area,
           "period_label": lambda p: parse_period(p).label(lang), "area_name": fig.area_label(the_area, lang),
           "name": item.name_en if lang == "en" and item.name_en else item.name}

    def content() -> Markup:
        page = _indicator_figures(fig, db, code, the_area, selected, kind, lang)
        return render_content(request, "stats/indicator.html", {**ctx, **page})

    key = ("indicator", code, the_area.id, selected, kind, lang)
    return render_shared(request, "stats/indicator.html", lambda: {**ctx, "prerendered": fig.memo(key, content)},
                         fig.memo, {"area": None if area == "VN" and "area" not in request.query_params
                                    else the_area.code, "period": period and selected, "kind": kind})


def _indicator_figures(fig: Figures, db: Session, code: str, the_area, selected: str | None,
                       kind: str | None, lang: str) -> dict[str, Any]:
    """What an indicator's page shows, as plain data (kept per revision by `Figures.memo`)."""
    item = fig.catalog.get(code)
    all_series = fig.results.series(code, the_area.id)
    kinds = sorted({parse_period(p).kind for p, _ in all_series},
                   key=KINDS.index)
    if kind not in kinds:
        latest = _latest_period(fig, code, the_area.id)
        kind = parse_period(latest).kind if latest else (kinds[0] if kinds else "year")
    series = [(p, v) for p, v in all_series if parse_period(p).kind == kind]
    pub = fig.published_growth_element(code)
    rows = []
    for p, v in series:
        rows.append({"period": p, "label": parse_period(p).label(lang), "value": v,
                     "status": fig.status(code, the_area.id, p),
                     "growth": fig.growth_pct(code, the_area.id, p),
                     "published_growth": fig.value(pub.code, the_area.id, p) if pub else None})
    if selected is None and series:
        selected = series[-1][0]
    shown = fig.show(db, code, the_area.code, selected) if selected else None
    province_period = _latest_province_period(fig, code, selected)
    ranking = fig.rank(code, province_period) if province_period else []
    return {
        "kind": kind, "kinds": kinds, "rows": rows[::-1],
        "chart": charts.series_chart(series, item.unit, lang) if len(series) > 1 else None,
        "shown": shown, "selected": selected, "ranking": ranking, "province_period": province_period,
    }


def _latest_province_period(fig: Figures, code: str, prefer: str | None) -> str | None:
    ids = [a.id for a in fig.areas.values() if a.level == "province"]
    df = fig.results.frame(code).filter(pl.col("area_id").is_in(ids))
    if df.height == 0:
        return None
    periods = set(df["period"].to_list())
    if prefer in periods:
        return prefer
    return max(periods, key=lambda p: parse_period(p).end)


@router.get("/review", include_in_schema=False)
async def review_page(request: Request, period: str | None = None):
    return await shared_page(request, lambda request, db: _review_page(request, db, period))


def _review_page(request: Request, db: Session, period: str | None):
    lang = get_lang(request)
    fig = _figures(db)
    periods = fig.memo("review_periods", lambda: _review_periods(fig))
    if period is None:
        if not periods:
            return render(request, "stats/review.html", {"review": None, "periods": [], "period": None,
                                                          "body": "", "period_label": lambda p: p})
        period = periods[0]
    try:
        code = parse_period(period).code
        page = fig.memo(("review", code, lang), lambda: _review_figures(fig, db, code, lang))
    except (FigureError, PeriodError) as exc:
        raise _bad(exc) from exc
    return render_shared(request, "stats/review.html", lambda: {
        **page, "periods": periods, "period_label": lambda p: parse_period(p).label(lang),
    }, fig.memo, {"period": code if "period" in request.query_params else None})


def _review_figures(fig: Figures, db: Session, period: str, lang: str) -> dict[str, Any]:
    """The review of a period as the page shows it (kept per revision by `Figures.memo`)."""
    review = build_review(db, period, lang, figures=fig)
    specs = {}
    for sec in review.sections:
        for it in sec["items"]:
            if len(it.series) > 1:
                specs[it.code] = charts.series_chart(it.series, it.unit, lang, height=160)
    scripts = Markup("\n").join(
        Markup('<script type="application/json" id="spec-{}">{}</script>').format(code, htmlsafe_json_dumps(spec))
        for code, spec in specs.items())
    return {"review": review, "period": review.period, "spec_scripts": scripts,
            "body": Markup(render_body(review, charts=set(specs)))}


@router.post("/review/render", include_in_schema=False)
def review_render(request: Request, user: Annotated[User, require("report.render")], period: str = Form(""),
                  lang: str = Form("vi"), fmt: str = Form("html")):
    """Render the review to a file in the background, then offer it for download."""
    try:
        period = parse_period(period).code
    except PeriodError as exc:
        raise HTTPException(422, f"period: {exc}") from None
    if lang not in ("vi", "en") or fmt not in review_job.FORMATS:
        raise HTTPException(422, "lang must be vi or en; fmt must be md or html")
    info = jobs.enqueue(review_job.JOB, idempotency_key=review_job.job_key(period, lang, fmt),
                        period=period, lang=lang, fmt=fmt, user_id=user.id)
    return RedirectResponse(f"/review/jobs/{info.id}", status_code=303)


@router.get("/review/jobs/{job_id}", include_in_schema=False)
def review_job_page(request: Request, job_id: str, user: Annotated[User, require("report.render")]):
    info = jobs.get(job_id)
    if info is None or info.name != review_job.JOB:
        raise HTTPException(404, "stats.review.job_missing")
    result = info.result if info.status == "finished" and isinstance(info.result, dict) else None
    return render(request, "stats/review_job.html", {"job": info, "result": result})


@router.get("/review/files/{name}", include_in_schema=False)
def review_file(name: str, settings: SettingsDep, user: Annotated[User, require("report.render")]):
    path = review_job.reports_dir(settings.data_dir) / name
    if not review_job.valid_name(name) or not path.is_file():
        raise HTTPException(404, "stats.review.job_missing")
    media = "text/markdown; charset=utf-8" if name.endswith(".md") else "text/html; charset=utf-8"
    return FileResponse(path, media_type=media, filename=name)


# -- API ------------------------------------------------------------------------------------


@router.get("/api/stats/indicators", dependencies=[require("stats.read")])
def api_indicators(db: SessionDep) -> list[dict[str, Any]]:
    """Data elements and computed indicators, with units and formulas."""
    fig = _figures(db)
    out = [{"code": e.code, "kind": "element", "name": e.name, "name_en": e.name_en, "unit": e.unit,
            "aggregation": e.aggregation} for e in fig.catalog.elements.values()]
    out += [{"code": i.code, "kind": "indicator", "name": i.name, "name_en": i.name_en, "unit": i.unit,
             "formula": i.formula} for i in fig.catalog.indicators.values()]
    return sorted(out, key=lambda x: x["code"])


@router.get("/api/stats/values/{code}", dependencies=[require("stats.read")])
def api_show(db: SessionDep, code: str, period: str, area: str = "VN",
             boundaries: str = "published") -> dict[str, Any]:
    """A value with the value a year before, computed and published growth, and its provenance."""
    try:
        return Figures.for_page(db, boundaries).show(db, code, area, period)
    except (FigureError, PeriodError) as exc:
        raise _bad(exc, 404 if "unknown" in str(exc) else 422) from exc


@router.get("/api/stats/rank/{code}", dependencies=[require("stats.read")])
def api_rank(db: SessionDep, code: str, period: str, level: str = "province",
             boundaries: str = "published") -> list[dict[str, Any]]:
    """Areas ranked by an indicator; ties share a rank (1, 2, 2, 4)."""
    if level not in ("province", "region"):
        raise HTTPException(422, "level: must be province or region")
    try:
        return Figures.for_page(db, boundaries).rank(code, period, level)
    except (FigureError, PeriodError) as exc:
        raise _bad(exc, 404 if "unknown" in str(exc) else 422) from exc


@router.get("/api/stats/export.{fmt}", dependencies=[require("stats.read")],
            response_class=PlainTextResponse)
def api_export(
    db: SessionDep,
    fmt: str,
    indicator: Annotated[list[str] | None, Query()] = None,
    period: Annotated[list[str] | None, Query()] = None,
    area: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """Open data: figures as csv, json or sdmx-csv (SDMX-CSV 2.0)."""
    if fmt not in export.FORMATS:
        raise HTTPException(404, f"format: {fmt!r} must be one of {', '.join(export.FORMATS)}")
    try:
        rows = export.rows(_figures(db), indicator or None, period or None, area or None)
    except (FigureError, PeriodError) as exc:
        raise _bad(exc) from exc
    return Response(export.render(rows, fmt), media_type=export.MEDIA_TYPES[fmt])


@router.post("/api/stats/import", responses={202: {"description": "a large file: imported by the job "
                                                   "stats.import; its state at the URL in `status_url`"}})
def api_import(
    request: Request,
    db: SessionDep,
    settings: SettingsDep,
    user: Annotated[User, require("stats.import")],
    file: UploadFile = File(...),
    number_format: str | None = Form(None),
    strict: bool = Form(False),
):
    """Import a file (multipart field `file`); 422 with every bad row and column, nothing written.

    A file larger than the background threshold (ICTGOV_IMPORT_BACKGROUND_BYTES) is imported by
    the job `stats.import`, as from the upload page: 202 with the job's id and `status_url`
    (GET it: state, progress, then the same report or every error as `result`)."""
    data = file.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise HTTPException(413, f"file: larger than {settings.max_upload_bytes} bytes")
    if len(data) > settings.import_background_bytes:
        name = file.filename or "upload.csv"
        path = import_job.store_upload(settings.data_dir, data, name)
        info = jobs.enqueue(import_job.JOB, idempotency_key=import_job.job_key(user, path), path=str(path),
                            filename=name, user_id=user.id, strict=strict, number_format=number_format,
                            max_rows=settings.max_import_rows)
        return accepted(info)
    try:
        report = import_job.run_import(db, data, file.filename or "upload.csv", user, strict=strict,
                                       number_format=number_format, max_rows=settings.max_import_rows)
    except ImportRejected as exc:
        request.state.rollback_only = True
        return JSONResponse({"ok": False, "errors": [e.as_dict() for e in exc.errors]}, status_code=422)
    return {"ok": True, **report}


@router.get("/api/stats/review/{period}", dependencies=[require("report.read")])
def api_review(db: SessionDep, period: str, lang: str = "vi", format: str = "md") -> Response:
    """The period review as Markdown or a standalone HTML page."""
    if lang not in ("vi", "en") or format not in ("md", "html"):
        raise HTTPException(422, "lang must be vi or en; format must be md or html")
    try:
        text = render_review(build_review(db, period, lang), format)
    except FigureError as exc:
        raise _bad(exc) from exc
    media = "text/markdown; charset=utf-8" if format == "md" else "text/html; charset=utf-8"
    return Response(text, media_type=media)


@router.get("/api/stats/validate", dependencies=[require("stats.read")])
def api_validate(db: SessionDep, period: Annotated[list[str] | None, Query()] = None) -> list[dict[str, Any]]:
    """Every validation-rule violation, optionally for some periods."""
    try:
        periods = {parse_period(p).code for p in period} if period else None
    except PeriodError as exc:
        raise _bad(exc) from exc
    return [v.as_dict() for v in run_rules(db, _figures(db), periods)]
