"""Atom feed (RFC 4287) of the latest published verdicts, built with the standard library.

Each entry: id (the verdict page's URL, stable once published), title (the claim and its
verdict label), updated and published (publication time, UTC), a link to the page, and
the summary in the feed's language.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.tipline.models import Case
from ictgov.tipline.publish import CENTRE
from ictgov.tipline.workflow import VERDICT_LABELS

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
FEED_SIZE = 50
TITLE = {"vi": "Tin giả đã xác minh", "en": "Verified fake news"}


def latest_published(session: Session, limit: int = FEED_SIZE) -> list[Case]:
    return list(session.scalars(
        select(Case).where(Case.state == "published", Case.slug.is_not(None))
        .order_by(Case.published_at.desc(), Case.id.desc()).limit(limit)))


def _rfc3339(value: datetime | None) -> str:
    value = value or datetime(1970, 1, 1)
    if value.tzinfo is None:  # stored as naive UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_feed(cases: Sequence[Case], base_url: str, lang: str = "vi") -> bytes:
    """The feed document (UTF-8 bytes with its XML declaration)."""
    base = base_url.rstrip("/")
    i = 0 if lang == "vi" else 1
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": lang})
    sub(feed, "id", f"{base}/tin-gia/feed.atom")
    sub(feed, "title", f"{TITLE[lang]} — {CENTRE[lang]}")
    sub(feed, "updated", _rfc3339(max((c.published_at for c in cases if c.published_at), default=None)))
    sub(feed, "link", rel="self", type="application/atom+xml", href=f"{base}/tin-gia/feed.atom")
    sub(feed, "link", rel="alternate", type="text/html", href=f"{base}/tin-gia")
    author = sub(feed, "author")
    sub(author, "name", CENTRE[lang])
    sub(author, "uri", f"{base}/")
    for case in cases:
        url = f"{base}/tin-gia/{case.slug}"
        verdict = VERDICT_LABELS.get(case.verdict or "", (case.verdict or "",) * 2)[i]
        entry = sub(feed, "entry")
        sub(entry, "id", url)
        sub(entry, "title", f"[{verdict}] {case.title}")
        sub(entry, "updated", _rfc3339(case.updated_at if case.updated_at and case.published_at
                                       and case.updated_at > case.published_at else case.published_at))
        sub(entry, "published", _rfc3339(case.published_at))
        sub(entry, "link", rel="alternate", type="text/html", href=url)
        summary = case.summary_en if lang == "en" and case.summary_en else case.summary
        sub(entry, "summary", summary or "", type="text")
        sub(entry, "category", term=case.category)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
