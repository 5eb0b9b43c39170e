"""An import checked, written and validated, in the request or as a background job.

`run_import` is what the upload page, the API and the job all do with a file: import it in
the caller's transaction (ImportRejected lists every error, nothing written), then run the
validation rules over the figures it changed. A file larger than
``Settings.import_background_bytes`` leaves the request: the page stores it under
``data_dir/imports`` and starts the job ``stats.import``, whose page shows its progress and
then the same report or error list. The job is idempotent: importing a file again changes
nothing (ingest keeps revisions, not duplicates), and an upload of the same file by the same
user while its job is queued or running returns that job.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from ictgov.auth import Role, User
from ictgov.jobs import job, progress
from ictgov.stats.figures import Figures
from ictgov.stats.ingest import ImportRejected, import_observations
from ictgov.stats.validation import run_rules

JOB = "stats.import"


def run_import(db: Session, data: bytes, filename: str, user: User, *, strict: bool = False,
               number_format: str | None = None, max_rows: int | None = None) -> dict[str, Any]:
    """Import in the caller's transaction and list the rule violations; the caller commits."""
    scope = {user.province_code} if user.role == Role.province_officer.value else None
    report = import_observations(db, data, filename, user=user, strict=strict, number_format=number_format,
                                 scope_area_codes=scope, max_rows=max_rows)
    db.flush()
    progress(0.8, "validation rules")
    report.violations = [v.as_dict() for v in run_rules(db, Figures.load(db))][:200]
    return report.as_dict()


def store_upload(data_dir: Path, data: bytes, filename: str) -> Path:
    """Keep an uploaded file for its job, under a name from its content (same file, same path)."""
    folder = data_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (hashlib.sha256(data).hexdigest() + Path(filename).suffix.lower()[:8])
    if not path.exists():
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def job_key(user: User, path: Path) -> str:
    return f"{JOB}:{user.id}:{path.name}"


@job(JOB, retries=1, backoff=(30,))
def import_in_background(path: str, filename: str, user_id: int, strict: bool = False,
                         number_format: str | None = None, max_rows: int | None = None) -> dict[str, Any]:
    """Import an uploaded file that was too large for the request; the result is its report
    ({"ok": true, ...}) or every error ({"ok": false, "errors": [...]}): a rejected file is an
    answer, not a failure, so it is not retried."""
    from ictgov.db import session_scope

    progress(0.05, "reading the file")
    data = Path(path).read_bytes()
    with session_scope() as db:
        user = db.get(User, user_id)
        if user is None or not user.is_active:
            raise PermissionError(f"user {user_id}: no active account to import as")
        progress(0.1, "checking every row")
        try:
            report = run_import(db, data, filename, user, strict=strict, number_format=number_format,
                                max_rows=max_rows)
        except ImportRejected as exc:
            db.rollback()
            Path(path).unlink(missing_ok=True)
            return {"ok": False, "filename": filename, "errors": [e.as_dict() for e in exc.errors]}
    Path(path).unlink(missing_ok=True)
    progress(1.0, "done")
    return {"ok": True, "filename": filename, **report}
