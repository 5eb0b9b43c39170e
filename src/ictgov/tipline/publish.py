"""What the public sees of a verdict: schema.org ClaimReview, search, and the feed.

ClaimReview carries the fields schema.org and the fact-check tools require: claimReviewed
(kept under 75 characters, never holding the rating), reviewRating with alternateName (the
verdict in words), url (on the platform's own domain), author (the centre), and
itemReviewed — a Claim with its appearance and datePublished.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.text import fold, teencode_folded
from ictgov.tipline.models import Case
from ictgov.tipline.workflow import VERDICT_LABELS

CENTRE = {"vi": "Trung tâm Xử lý tin giả Việt Nam", "en": "Vietnam Anti-Fake News Center"}
# 1 = worst; ratings as fact-checkers publish them (fake lowest, verified true highest).
RATING = {"fake": 1, "false": 2, "unverifiable": 3, "true": 5}
REQUIRED = ("claimReviewed", "reviewRating", "url", "author", "itemReviewed")


def claim_review(case: Case, base_url: str, lang: str = "vi") -> dict[str, Any]:
    if case.state != "published" or not case.slug:
        raise ValueError("claim_review: only a published verdict has a ClaimReview")
    label_vi, label_en = VERDICT_LABELS[case.verdict]
    claim = case.title if len(case.title) <= 72 else case.title[:71].rstrip() + "…"
    item = _item_reviewed(case, lang)
    return {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": f"{base_url.rstrip('/')}/tin-gia/{case.slug}",
        "claimReviewed": claim,
        "datePublished": case.published_at.date().isoformat() if case.published_at else None,
        "inLanguage": lang,
        "author": {"@type": "Organization", "name": CENTRE[lang], "url": base_url.rstrip("/") + "/"},
        "reviewRating": {
            "@type": "Rating", "ratingValue": RATING[case.verdict], "bestRating": 5, "worstRating": 1,
            "alternateName": label_vi if lang == "vi" else label_en,
        },
        "itemReviewed": item,
    }


# Where a claim was seen, named for a text-only report (no link to point at).
PLATFORM_NAMES = {
    "facebook": ("Bài đăng trên Facebook", "A Facebook post"),
    "zalo": ("Tin nhắn, bài đăng trên Zalo", "A Zalo message or post"),
    "tiktok": ("Video trên TikTok", "A TikTok video"),
    "youtube": ("Video trên YouTube", "A YouTube video"),
    "website": ("Bài viết trên trang web", "A web page"),
    "sms": ("Tin nhắn SMS", "An SMS message"),
    "other": ("Nội dung lan truyền trên mạng", "Content shared online"),
}


def _item_reviewed(case: Case, lang: str) -> dict[str, Any]:
    """The Claim reviewed: where it appeared and when it was first seen.

    The appearance is the earliest report's link; a claim reported only as text (typed
    from a screenshot, read out to the hotline) still gets an appearance, a CreativeWork
    naming the platform where it was seen, so every published review carries the field.
    """
    reports = sorted(case.reports, key=lambda r: r.created_at)
    first_seen = (reports[0].created_at if reports else case.created_at).date().isoformat()
    with_link = next((r for r in reports if r.urls), None)
    if with_link is not None:
        appearance = {"@type": "CreativeWork", "url": with_link.urls[0],
                      "datePublished": with_link.created_at.date().isoformat()}
    else:
        platform = reports[0].platform if reports else "other"
        vi, en = PLATFORM_NAMES.get(platform, PLATFORM_NAMES["other"])
        appearance = {"@type": "CreativeWork", "name": vi if lang == "vi" else en,
                      "datePublished": first_seen}
    return {"@type": "Claim", "datePublished": first_seen, "appearance": appearance}


def missing_fields(review: dict[str, Any]) -> list[str]:
    """The required ClaimReview fields that are absent or empty (for tests and a publish check)."""
    missing = [f for f in REQUIRED if not review.get(f)]
    if review.get("reviewRating") and not review["reviewRating"].get("alternateName"):
        missing.append("reviewRating.alternateName")
    item = review.get("itemReviewed") or {}
    if not (item.get("appearance") or item.get("firstAppearance")):
        missing.append("itemReviewed.appearance")
    if not item.get("datePublished"):
        missing.append("itemReviewed.datePublished")
    return missing


def search_verdicts(session: Session, q: str = "", limit: int = 50) -> list[Case]:
    """Published verdicts whose claim or summary holds every word of the query as a word,
    diacritics ignored and teencode spelled out: "ung" finds "ung thư", never "người dùng";
    "ko" finds "không"."""
    words = set(teencode_folded(fold(q)))
    cases = session.scalars(select(Case).where(Case.state == "published").order_by(Case.published_at.desc()))
    out = []
    for case in cases:
        haystack = set(teencode_folded(fold(f"{case.title} {case.summary} {case.summary_en}")))
        if words <= haystack:
            out.append(case)
            if len(out) >= limit:
                break
    return out


def verdict_dict(case: Case, lang: str = "vi") -> dict[str, Any]:
    label_vi, label_en = VERDICT_LABELS[case.verdict]
    return {"id": case.id, "slug": case.slug, "claim": case.title, "verdict": case.verdict,
            "label": label_vi if lang == "vi" else label_en,
            "summary": case.summary if lang == "vi" or not case.summary_en else case.summary_en,
            "category": case.category, "sources": case.sources,
            "published_at": case.published_at.isoformat(timespec="seconds") if case.published_at else None,
            "reports": case.report_count, "url": f"/tin-gia/{case.slug}"}



