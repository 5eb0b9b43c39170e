"""A DTI upload whose uncertainty run is large, computed by a background job.

The rank intervals come from `draws` re-weightings of every area-year: with many draws and
many rows the run takes longer than a request should. The upload page and the API check
the file first (every bad line reported at once, with no draws), and when draws × rows is
over ``Settings.background_draw_areas`` they keep the file under data_dir/dti and start the
job ``dx.dti``; the page then shows its progress and the API answers 202 with the job's URL.
The job is idempotent: an upload replaces its framework's years whole, so a second run
leaves the same ranking.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ictgov.jobs import job, progress

JOB = "dx.dti"


def rows_in(data: bytes) -> int:
    """Lines of data in a CSV (an estimate good enough to decide where the run goes)."""
    return max(0, data.count(b"\n") - 1 + (0 if data.endswith(b"\n") else 1))


def is_large(draws: int, data: bytes, limit: int) -> bool:
    return draws * rows_in(data) > limit


def store_upload(data_dir: Path, data: bytes, filename: str) -> Path:
    folder = data_dir / "dti"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (hashlib.sha256(data).hexdigest() + ".csv")
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def job_key(user_id: int, path: Path, framework: str, draws: int, perturb: float, seed: int, store: bool) -> str:
    return f"{JOB}:{user_id}:{path.name}:{framework}:{draws}:{perturb}:{seed}:{int(store)}"


@job(JOB, retries=1, backoff=(30,))
def run_in_background(path: str, filename: str, framework: str, user_id: int, draws: int = 1000,
                      perturb: float = 0.2, seed: int = 0, store: bool = True) -> dict[str, Any]:
    """Compute (and, store=True, publish) a DTI file; the result is the API's answer, or every
    bad line ({"ok": false, "errors": [...]}), which is an answer, not a failure."""
    from ictgov.auth import User
    from ictgov.db import session_scope
    from ictgov.dx import rankings
    from ictgov.dx.dti import DtiInputError

    progress(0.05, "reading the file")
    data = Path(path).read_bytes()
    fw = rankings.index_framework(framework)
    with session_scope() as db:
        user = db.get(User, user_id)
        if user is None or not user.is_active:
            raise PermissionError(f"user {user_id}: no active account to upload as")
        progress(0.1, f"{draws} draws")
        try:
            if store:
                batch, result = rankings.upload(db, data, fw, filename, user, draws=draws, perturb=perturb,
                                                seed=seed)
            else:
                batch, result = None, rankings.compute(db, data, fw, filename, draws=draws, perturb=perturb,
                                                       seed=seed)
        except DtiInputError as exc:
            db.rollback()
            return {"ok": False, "errors": [e.as_dict() for e in exc.errors[:500]], "count": len(exc.errors)}
        out = {"ok": True, "stored": batch is not None, "upload": batch.id if batch else None,
               "framework_id": fw.id, "years": result.years, **result.as_dict()}
    Path(path).unlink(missing_ok=True)
    progress(1.0, "done")
    return out
