"""Background jobs for admins: what ran, what runs, what failed and why; re-run a failure.

GET /api/jobs/{id} gives one job's state and progress as JSON, for a page that started a
long job and shows its progress (htmx polling) and for scripts.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from ictgov import jobs, permissions
from ictgov.audit import record
from ictgov.auth import User
from ictgov.web.deps import CurrentUser, SessionDep, flash, render, require
from ictgov.web.i18n import register

router = APIRouter(tags=["jobs"])
Manager = Annotated[User, require("jobs.manage")]

register({
    "jobs.title": ("Tác vụ nền", "Background jobs"),
    "jobs.intro": (("Các việc chạy ngoài yêu cầu web: notify.drain (gửi thông báo trong hộp thư đi), "
                    "stats.import (nhập tệp lớn), stats.review (xuất báo cáo kỳ ra tệp), dx.dti (tính DTI "
                    "với nhiều lần rút thăm), antispam.scan (quét CDR), antispam.retrain (huấn luyện lại bộ "
                    "phân loại), tipline.sync_stats (ghi số liệu của Trung tâm xử lý tin giả). Việc lỗi được thử lại theo lịch; việc vẫn lỗi có thể chạy lại."),
                   ("Work done outside web requests: notify.drain (sending the outbox's notices), "
                    "stats.import (large imports), stats.review (rendering the period review to a file), "
                    "dx.dti (DTI runs with many draws), antispam.scan (CDR scans), antispam.retrain "
                    "(retraining the classifier), tipline.sync_stats (the fake-news centre's figures). Failures are retried on a schedule; a job that still "
                    "fails can be run again.")),
    "jobs.backend.rq": ("Hàng đợi Redis (RQ)", "Redis queue (RQ)"),
    "jobs.backend.inline": ("Trong tiến trình web (chưa cấu hình Redis)",
                            "In the web process (no Redis configured)"),
    "jobs.col.name": ("Tác vụ", "Job"),
    "jobs.col.status": ("Trạng thái", "Status"),
    "jobs.col.progress": ("Tiến độ", "Progress"),
    "jobs.col.enqueued": ("Đưa vào hàng đợi", "Queued at"),
    "jobs.col.error": ("Lỗi", "Error"),
    "jobs.status.queued": ("Đang chờ", "Queued"),
    "jobs.status.started": ("Đang chạy", "Running"),
    "jobs.status.finished": ("Xong", "Finished"),
    "jobs.status.failed": ("Lỗi", "Failed"),
    "jobs.rerun": ("Chạy lại", "Run again"),
    "jobs.rerun.done": ("Đã đưa tác vụ {name} vào hàng đợi lại.", "Job {name} queued again."),
    "jobs.none": ("Chưa có tác vụ nào.", "No jobs yet."),
    "jobs.err.none": ("Không có tác vụ này.", "No such job."),
})


def _as_dict(j: jobs.JobInfo) -> dict:
    return {"id": j.id, "name": j.name, "status": j.status, "progress": j.progress,
            "message": j.message, "error": jobs.summary(j.error),
            "attempts": j.attempts, "enqueued_at": j.enqueued_at.isoformat(timespec="seconds") if j.enqueued_at else None,
            "ended_at": j.ended_at.isoformat(timespec="seconds") if j.ended_at else None}


@router.get("/admin/jobs", include_in_schema=False)
def jobs_page(request: Request, _: Manager) -> Response:
    b = jobs.backend()
    return render(request, "admin_jobs.html", {
        "rows": jobs.recent(200), "summary": jobs.summary, "kind": "rq" if isinstance(b, jobs.RQBackend) else "inline"})


@router.post("/admin/jobs/{job_id}/rerun", include_in_schema=False)
def jobs_rerun(request: Request, db: SessionDep, user: Manager, job_id: str) -> Response:
    try:
        j = jobs.rerun(job_id)
    except KeyError:
        raise HTTPException(404, "jobs.err.none") from None
    record(db, user, "rerun", "job", job_id, after={"name": j.name, "new_id": j.id})
    db.commit()
    flash(request, "jobs.rerun.done", "success", name=j.name)
    return RedirectResponse("/admin/jobs", status_code=303)


@router.get("/api/jobs/{job_id}")
def job_status(user: CurrentUser, job_id: str) -> dict:
    """One job's state and progress (0..1), for an admin or for whoever started it (an API
    call answered 202 points here); once finished, its `result`."""
    j = jobs.get(job_id)
    if j is None or not (permissions.can(user, "jobs.manage") or j.kwargs.get("user_id") == user.id):
        raise HTTPException(404, "jobs.err.none")  # another's job is not found, not forbidden
    return {**_as_dict(j), "result": j.result if j.status == "finished" else None}
