"""The period review rendered to a file by a background job, then downloaded.

Building the review reads every figure of the period and of the year before, and rendering
it to a standalone HTML or Markdown file takes seconds on a full store: the review page
starts the job ``stats.review`` and shows its progress, then a link to the file. The job is
idempotent: the file's name is made from the period, language and format, and a run again
writes the same file over it (written whole, then renamed, so a download never sees half).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ictgov.jobs import job, progress

JOB = "stats.review"
FORMATS = ("md", "html")
_NAME = re.compile(r"^review-[0-9A-Za-z-]{1,20}-(vi|en)\.(md|html)$")


def reports_dir(data_dir: Path) -> Path:
    return data_dir / "reports"


def file_name(period: str, lang: str, fmt: str) -> str:
    return f"review-{period}-{lang}.{fmt}"


def valid_name(name: str) -> bool:
    """Only names this job writes may be downloaded (no path, no other file of data_dir)."""
    return bool(_NAME.match(name))


def job_key(period: str, lang: str, fmt: str) -> str:
    return f"{JOB}:{file_name(period, lang, fmt)}"


@job(JOB, retries=2, backoff=(10, 60))
def render_review_file(period: str, lang: str = "vi", fmt: str = "html", user_id: int | None = None) -> dict[str, Any]:
    """Build the review of `period` and write it as a file under data_dir/reports."""
    from ictgov.config import get_settings
    from ictgov.db import session_scope
    from ictgov.stats.report import build_review, render

    progress(0.1, "reading the figures")
    with session_scope() as db:
        review = build_review(db, period, lang)
    progress(0.7, "rendering")
    text = render(review, fmt)
    folder = reports_dir(get_settings().data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    name = file_name(review.period, lang, fmt)
    tmp = folder / (name + ".part")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(folder / name)
    progress(1.0, "done")
    return {"file": name, "period": review.period, "lang": lang, "format": fmt, "bytes": len(text.encode())}
