"""Anti-spam work that runs as background jobs (``ictgov.antispam.jobs``), with its pages:

- an operator uploads its call and SMS records (CSV or Parquet); the job ``antispam.scan``
  scans them and loads the flagged numbers as that operator's flags; the job's page shows
  its progress, then what was flagged (or every problem of the file). Ministry staff upload
  for an operator they choose. Only who started a job sees its page.
- ministry staff retrain the classifier from the reports they labelled (the job
  ``antispam.retrain``, as ``ictgov antispam retrain --from-reports``); its page shows the
  new model's id, training set and where it was written.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import UploadFile

from ictgov import jobs
from ictgov.antispam import jobs as ajobs
from ictgov.web.deps import FormDep, LangDep, SettingsDep, render
from ictgov.web.i18n import register, t
from ictgov.web.routes.antispam import Handler, Staff, _op_context, _scope

router = APIRouter(tags=["antispam"])

register({
    "antispam.op.nav.scan": ("Quét dữ liệu cuộc gọi", "Scan records"),
    "antispam.scan.title": ("Quét dữ liệu cuộc gọi, tin nhắn", "Scan call and SMS records"),
    "antispam.scan.intro": (
        ("Tải tệp dữ liệu cuộc gọi, tin nhắn (CSV hoặc Parquet, các cột a_number, b_number, start_time, "
         "kind, duration_s; tùy chọn content hoặc content_hash). Tệp được quét ở chế độ nền theo tiêu chí "
         "Thông tư 22/2021/TT-BTTTT; các số nghi phát tán rác được đưa vào danh sách số nghi vấn của nhà mạng, "
         "kèm người nhận để gửi khảo sát."),
        ("Upload call and SMS records (CSV or Parquet with a_number, b_number, start_time, kind, "
         "duration_s; optionally content or content_hash). The file is scanned in the background with the "
         "criteria of Circular 22/2021/TT-BTTTT; the numbers found go to the operator's flagged numbers, with "
         "their recipients for the survey.")),
    "antispam.scan.file": ("Tệp dữ liệu *", "Records file *"),
    "antispam.scan.operator": ("Nhà mạng của dữ liệu *", "Operator of the records *"),
    "antispam.scan.submit": ("Tải lên và quét", "Upload and scan"),
    "antispam.scan.err.file": ("Cần một tệp .csv hoặc .parquet.", "A .csv or .parquet file is required."),
    "antispam.scan.err.operator": ("Hãy chọn nhà mạng.", "Choose the operator."),
    "antispam.scan.err.too_big": ("Tệp lớn hơn {mb} MB.", "The file is larger than {mb} MB."),
    "antispam.scan.missing": ("Không có lượt quét này.", "No such scan."),
    "antispam.scan.running": ("Đang quét {file} ở chế độ nền: {state}, {pct}%. Trang tự cập nhật.",
                              "Scanning {file} in the background: {state}, {pct}%. This page refreshes itself."),
    "antispam.scan.failed": ("Lượt quét {file} gặp lỗi hệ thống và đã được ghi lại cho quản trị viên: {error}",
                             "The scan of {file} failed and was recorded for the administrators: {error}"),
    "antispam.scan.rejected": ("Tệp {file} không quét được; không có gì được nạp:",
                               "{file} could not be scanned; nothing was loaded:"),
    "antispam.scan.done": (
        "{file}: {records} bản ghi, {numbers} số gọi/nhắn, {flagged} số bị gắn cờ ({new} mới, {updated} cập nhật).",
        "{file}: {records} records, {numbers} callers and senders, {flagged} flagged ({new} new, {updated} updated)."),
    "antispam.scan.to_flags": ("Xem các số nghi vấn", "See the flagged numbers"),
    "antispam.retrain.title": ("Huấn luyện lại bộ phân loại tin rác", "Retrain the spam classifier"),
    "antispam.retrain.intro": (
        ("Huấn luyện lại trên dữ liệu gốc và các phản ánh đã được cán bộ xác nhận là rác hoặc không rác "
         "(như lệnh ictgov antispam retrain --from-reports), ở chế độ nền."),
        ("Retrain on the base data and the reports staff labelled spam or not spam (as "
         "ictgov antispam retrain --from-reports), in the background.")),
    "antispam.retrain.submit": ("Huấn luyện lại", "Retrain"),
    "antispam.retrain.running": ("Đang huấn luyện: {state}, {pct}%. Trang tự cập nhật.",
                                 "Training: {state}, {pct}%. This page refreshes itself."),
    "antispam.retrain.failed": ("Lượt huấn luyện gặp lỗi hệ thống: {error}", "Training failed: {error}"),
    "antispam.retrain.rejected": ("Không huấn luyện được:", "Could not train:"),
    "antispam.retrain.done": (
        "Mô hình {model} đã được ghi vào {path}: {n} tin nhắn (trong đó {confirmed} phản ánh đã xác nhận).",
        "Model {model} was written to {path}: {n} messages ({confirmed} confirmed reports)."),
})


def _scan_page(request: Request, user, values=None, error: str | None = None, job=None, status_code=200):
    return render(request, "antispam/op/scan.html", {
        **_op_context(user, _scope(user, None)), "values": values or {}, "error": error, "job": job,
        "result": job.result if job is not None and job.status == "finished" else None},
        status_code=status_code)


@router.get("/nha-mang/quet", include_in_schema=False)
def scan_form(request: Request, user: Handler):
    return _scan_page(request, user)


@router.post("/nha-mang/quet", include_in_schema=False)
def scan_upload(request: Request, user: Handler, form: FormDep, settings: SettingsDep, lang: LangDep):
    asked = form.get("operator") if isinstance(form.get("operator"), str) else ""
    operator = _scope(user, asked)
    values = {"operator": asked}
    if operator is None:
        return _scan_page(request, user, values, t("antispam.scan.err.operator", lang), status_code=422)
    upload = form.get("records")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _scan_page(request, user, values, t("antispam.scan.err.file", lang), status_code=422)
    data = upload.file.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        return _scan_page(request, user, values, t("antispam.scan.err.too_big", lang,
                          mb=settings.max_upload_bytes // (1024 * 1024)), status_code=413)
    try:
        path = ajobs.store_upload(settings.data_dir, data, upload.filename)
    except ValueError:
        return _scan_page(request, user, values, t("antispam.scan.err.file", lang), status_code=422)
    info = jobs.enqueue(ajobs.SCAN_JOB, idempotency_key=ajobs.scan_key(user.id, operator, path), path=str(path),
                        filename=upload.filename[:200], user_id=user.id, operator_code=operator)
    return RedirectResponse(f"/nha-mang/quet/{info.id}", status_code=303)


@router.get("/nha-mang/quet/{job_id}", include_in_schema=False)
def scan_job(request: Request, user: Handler, job_id: str):
    info = jobs.get(job_id)
    if info is None or info.name != ajobs.SCAN_JOB or info.kwargs.get("user_id") != user.id:
        raise HTTPException(404, "antispam.scan.missing")
    rejected = info.status == "finished" and isinstance(info.result, dict) and not info.result.get("ok")
    return _scan_page(request, user, job=info, status_code=422 if rejected else 200)


@router.post("/chan-rac/quan-ly/huan-luyen", include_in_schema=False)
def retrain_start(user: Staff, settings: SettingsDep):
    out = settings.data_dir / "antispam" / "models"
    info = jobs.enqueue(ajobs.RETRAIN_JOB, idempotency_key=ajobs.RETRAIN_JOB, user_id=user.id, out_dir=str(out))
    return RedirectResponse(f"/chan-rac/quan-ly/huan-luyen/{info.id}", status_code=303)


@router.get("/chan-rac/quan-ly/huan-luyen/{job_id}", include_in_schema=False)
def retrain_job(request: Request, user: Staff, job_id: str):
    info = jobs.get(job_id)  # one retraining at a time, whoever of the staff started it
    if info is None or info.name != ajobs.RETRAIN_JOB:
        raise HTTPException(404, "antispam.scan.missing")
    result: Any = info.result if info.status == "finished" else None
    rejected = isinstance(result, dict) and not result.get("ok")
    return render(request, "antispam/staff/retrain.html", {
        **_op_context(user, None), "job": info, "result": result}, status_code=422 if rejected else 200)

