"""API of the fake-news centre (the pages come with the rest of issue 3)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ictgov.auth import User
from ictgov.tipline.intake import IntakeError, Submission, status_of, submit
from ictgov.tipline.models import CATEGORIES, PLATFORMS
from ictgov.tipline.publish import search_verdicts, verdict_dict
from ictgov.tipline.service import matcher_for
from ictgov.web.deps import SessionDep, require
from ictgov.web.errors import field_errors_response

router = APIRouter(tags=["tipline"])


class ReportIn(BaseModel):
    text: str = Field(..., description="the suspect content, as seen", max_length=10_000)
    urls: list[str] = Field(default_factory=list, description="where it was seen", max_length=20)
    platform: str = Field("other", description=", ".join(PLATFORMS))
    category: str = Field("other", description=", ".join(CATEGORIES))
    reach: int | None = Field(None, description="shares or views seen, if known")
    contact_phone: str | None = None
    contact_email: str | None = None
    consent: bool = False


class ReceiptOut(BaseModel):
    receipt: str
    case: int
    decision: str
    verdict: str | None = None
    status_url: str


@router.post("/api/tipline/reports", response_model=ReceiptOut, status_code=201)
def api_submit(
    request: Request,
    db: SessionDep,
    body: ReportIn,
    user: Annotated[User, require("tipline.partner")],
    idempotency_key: Annotated[str | None, Header(max_length=120)] = None,
) -> Any:
    """Submit a report for a partner channel; the same `Idempotency-Key` never creates two reports.

    The receipt is returned only after the report is committed.
    """
    try:
        result = submit(db, Submission(**body.model_dump()), "api", matcher=matcher_for(db), user=user,
                        idempotency_key=idempotency_key)
    except IntakeError as exc:
        request.state.rollback_only = True
        return field_errors_response(exc.errors)
    db.commit()
    out = ReceiptOut(receipt=result.report.receipt, case=result.case.id, decision=result.decision,
                     verdict=result.verdict, status_url=f"/api/tipline/reports/{result.report.receipt}")
    return JSONResponse(out.model_dump(), status_code=201 if result.created else 200)


@router.get("/api/tipline/reports/{receipt}", dependencies=[require("tipline.report")])
def api_status(db: SessionDep, receipt: str) -> dict[str, Any]:
    """A report's status by its receipt: received, in verification, or the published verdict."""
    found = status_of(db, receipt)
    if found is None:
        raise HTTPException(404, "receipt: no report with this receipt")
    return found


@router.get("/api/tipline/verdicts", dependencies=[require("tipline.report")])
def api_verdicts(db: SessionDep, q: str = "", lang: str = "vi", limit: int = 50) -> list[dict[str, Any]]:
    """Published verdicts matching every word of `q` (diacritics ignored), newest first."""
    if lang not in ("vi", "en"):
        raise HTTPException(422, "lang: must be vi or en")
    return [verdict_dict(c, lang) for c in search_verdicts(db, q, max(1, min(limit, 200)))]
