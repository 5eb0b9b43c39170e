"""Anti-spam work that leaves the request: scanning an operator's uploaded records, and
retraining the classifier from confirmed reports.

- ``antispam.scan``: an operator (or ministry staff for an operator) uploads call and SMS
  records (CSV or Parquet); the job scans them with the DuckDB engine and loads the flagged
  numbers as flags of that operator, each with the recipients it called or texted on its
  flagged days (so the confirmation survey needs no typing), and the flagged days as that
  operator's daily spam traffic. A bad file is an answer (`{"ok": false, "errors": [...]}`,
  nothing loaded), not a failure, so it is not retried. Loading is idempotent: a number
  already open is updated, not flagged twice.
- ``antispam.retrain``: what ``ictgov antispam retrain --from-reports`` does, started by
  staff: the base training files plus the reports staff labelled; the model and its card
  go to ``data_dir/antispam/models/<model id>`` (the shipped model is not replaced: an
  administrator deploys a new one after reading its card).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ictgov.jobs import job, progress

SCAN_JOB = "antispam.scan"
RETRAIN_JOB = "antispam.retrain"
SUFFIXES = (".csv", ".parquet")


def store_upload(data_dir: Path, data: bytes, filename: str) -> Path:
    """Keep uploaded records for their job, named by their content (same file, same path)."""
    suffix = Path(filename).suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{filename}: records must be a .csv or .parquet file")
    folder = data_dir / "antispam" / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (hashlib.sha256(data).hexdigest() + suffix)
    if not path.exists():
        tmp = path.with_suffix(suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def scan_key(user_id: int, operator_code: str, path: Path) -> str:
    """The same file uploaded again by the same user for the same operator while its scan is
    queued or running is that scan (its page is only its uploader's)."""
    return f"{SCAN_JOB}:{user_id}:{operator_code}:{path.name}"


@job(SCAN_JOB, retries=1, backoff=(30,))
def scan_upload(path: str, filename: str, user_id: int, operator_code: str) -> dict[str, Any]:
    """Scan an operator's uploaded records and load the flagged numbers as its flags."""
    from ictgov.antispam import flags
    from ictgov.antispam.cdr import scan
    from ictgov.antispam.records import InputError
    from ictgov.antispam.rules import ConfigError
    from ictgov.auth import User
    from ictgov.db import session_scope

    progress(0.05, "scanning the records")
    try:
        result = scan(path, recipients=flags.MAX_SURVEY)
    except (InputError, ConfigError) as exc:
        Path(path).unlink(missing_ok=True)
        return {"ok": False, "filename": filename,
                "errors": [str(exc).replace(str(path), filename)]}
    progress(0.7, "loading the flagged numbers")
    with session_scope() as db:
        user = db.get(User, user_id)
        if user is None or not user.is_active:
            raise PermissionError(f"user {user_id}: no active account to load the scan as")
        if not flags.may_act(user, operator_code):
            raise PermissionError(f"user {user_id} does not act for {operator_code}")
        counts = flags.load_scan(db, result.numbers, scan=f"upload {filename}"[:120], days=result.days,
                                 user=user, recipients=result.recipients, operator_code=operator_code)
    Path(path).unlink(missing_ok=True)
    progress(1.0, "done")
    return {"ok": True, "filename": filename, "operator": operator_code, "records": result.rows,
            "numbers": result.numbers.height, "flagged": result.flagged.height,
            "first_day": str(result.first_day), "last_day": str(result.last_day),
            "seconds": round(result.seconds, 2), "new": counts["flagged"], "updated": counts["updated"],
            "days": counts["days"]}


@job(RETRAIN_JOB, retries=0)
def retrain_from_reports(user_id: int, out_dir: str, base: list[str] | None = None,
                         evaluate_folds: int = 0) -> dict[str, Any]:
    """Retrain the classifier on the base files plus the reports staff labelled spam or ham."""
    from ictgov import permissions
    from ictgov.antispam.classifier import DEFAULT_BASE, DataError, retrain
    from ictgov.antispam.reports import confirmed_pairs
    from ictgov.auth import User
    from ictgov.db import session_scope

    with session_scope() as db:
        user = db.get(User, user_id)
        if user is None or not user.is_active or not permissions.can(user, "antispam.staff"):
            raise PermissionError(f"user {user_id}: not ministry staff")
        pairs = confirmed_pairs(db)
    files = [Path(p) for p in (base or DEFAULT_BASE)]
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        return {"ok": False, "errors": [f"the base training files are not here: {', '.join(missing)}"]}
    if not pairs:
        return {"ok": False, "errors": ["no report has been labelled spam or ham by staff yet"]}
    progress(0.1, f"training on the base files and {len(pairs)} confirmed reports")
    import shutil
    import tempfile

    Path(out_dir).mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="training-", dir=out_dir))
    try:
        model = retrain(files, pairs, tmp, evaluate_folds=evaluate_folds,
                        progress=lambda message: progress(0.5, message))
    except (DataError, ValueError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        return {"ok": False, "errors": [str(exc)]}
    final = Path(out_dir) / model.card_["model_id"]
    if final.exists():  # the same data gave the same model before: keep that one
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        tmp.replace(final)
    card = model.card_
    return {"ok": True, "model_id": card["model_id"], "path": str(final),
            "confirmed_reports": card["confirmed_reports"],
            "training_set": card["training_set"], "metrics": card.get("metrics", [])}
