"""API of the fake-news centre (the pages come with the rest of issue 3)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ictgov.auth import User
from ictgov.tipline.intake import IntakeError, Submission, status_of
from ictgov.tipline.models import CATEGORIES, PARTNER_CHANNELS, PLATFORMS
from ictgov.tipline.publish import search_verdicts, verdict_dict
from ictgov.tipline.writer import NotStored, writer_for
from ictgov.web.body_limit import body_limited_route
from ictgov.web.deps import SessionDep, require, require_apart
from ictgov.web.errors import field_errors_response
from ictgov.web.i18n import register

# A report is at most 10,000 characters of text and 20 links: 64 KiB of JSON is plenty, and
# anything larger is refused from its Content-Length before a byte of it is read.
MAX_API_BODY = 64 * 1024

register({
    "tipline.err.not_stored": (
        "Chưa lưu được phản ánh (hệ thống đang bận), chưa có gì được ghi lại. Vui lòng gửi lại sau ít phút.",
        "Your report could not be stored just now (the system is busy); nothing was saved. "
        "Please send it again in a moment."),
    "tipline.err.body_too_large": (
        "Nội dung gửi lên quá lớn (tối đa 64 KB).", "The request body is too large (at most 64 KB)."),
})


def commit_report(db: Session) -> None:
    """Commit a report before its receipt is shown; if the database refuses (busy, disk full),
    answer 503 "nothing was saved, send it again" rather than a 500."""
    try:
        db.commit()
    except SQLAlchemyError:
        db.rollback()
        raise HTTPException(503, "tipline.err.not_stored", headers={"Retry-After": "5"}) from None


def _too_large() -> Response:
    return JSONResponse({"detail": [{"loc": ["body"], "field": "body", "location": "body",
                                     "msg": "larger than 64 KB", "type": "value_error"}],
                         "code": "tipline.err.body_too_large"}, status_code=413)


_LimitedRoute = body_limited_route(lambda: MAX_API_BODY, lambda _request: _too_large(),
                                   "tipline.err.body_too_large")
router = APIRouter(tags=["tipline"], route_class=_LimitedRoute)


class _IntakeRoute(_LimitedRoute):
    """The partner intake: the writer is told of the request as soon as its route starts, so
    that a batch being gathered waits for its report instead of leaving it to the next
    transaction (`IntakeWriter.expect`)."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def announced(request: Request) -> Response:
            arrival = request.state.intake_arrival = writer_for(request.app).expect()
            try:
                return await handler(request)
            finally:
                arrival.arrived()  # refused before its report was queued: not coming after all

        return announced


class ReportIn(BaseModel):
    text: str = Field(..., description="the suspect content, as seen", max_length=10_000)
    urls: list[str] = Field(default_factory=list, description="where it was seen", max_length=20)
    platform: str = Field("other", description=", ".join(PLATFORMS))
    category: str = Field("other", description=", ".join(CATEGORIES))
    reach: int | None = Field(None, ge=0, description="shares or views seen, if known; raises the case's priority")
    channel: str = Field("api", description="how the partner received it: " + ", ".join(PARTNER_CHANNELS)
                         + " (an e-mail gateway sends email, so the report counts as e-mail)")
    contact_phone: str | None = None
    contact_email: str | None = None
    consent: bool = False


class ReceiptOut(BaseModel):
    receipt: str
    case: int
    decision: str
    verdict: str | None = None
    status_url: str


async def api_submit(
    request: Request,
    body: ReportIn,
    user: Annotated[User, require_apart("tipline.partner")],
    idempotency_key: Annotated[str | None, Header(max_length=120)] = None,
) -> Any:
    """Submit a report for a partner channel; the same `Idempotency-Key` never creates two reports.

    The receipt is returned only after the report is committed.
    """
    fields = body.model_dump()
    channel = fields.pop("channel")
    if channel not in PARTNER_CHANNELS:
        return field_errors_response({"channel": f"must be one of {', '.join(PARTNER_CHANNELS)}"})
    try:
        result = await writer_for(request.app).submit(
            Submission(**fields), channel, user=user, idempotency_key=idempotency_key,
            arrival=getattr(request.state, "intake_arrival", None))
    except IntakeError as exc:
        return field_errors_response(exc.errors)
    except NotStored:
        raise HTTPException(503, "tipline.err.not_stored", headers={"Retry-After": "5"}) from None
    out = ReceiptOut(receipt=result.receipt, case=result.case_id, decision=result.decision,
                     verdict=result.verdict, status_url=f"/api/tipline/reports/{result.receipt}")
    return JSONResponse(out.model_dump(), status_code=201 if result.created else 200)


router.add_api_route("/api/tipline/reports", api_submit, methods=["POST"],
                     response_model=ReceiptOut, status_code=201, route_class_override=_IntakeRoute)


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
