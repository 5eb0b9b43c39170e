"""Units of measure: the scale words that ministry tables put before a currency or a count.

"3,462,170 billion VND", "3,462 trillion VND" and "3,462 thousand billion VND" are one
figure; an import converts a value written in another scale of the element's unit, and
refuses a unit that is not a rescaling of it (USD into a VND element).
"""

from __future__ import annotations

from ictgov.text import fold

# Longest first, so "thousand billion" is read before "thousand".
SCALES = [
    ("thousand billion", 1e12),
    ("nghin ty", 1e12),
    ("ngan ty", 1e12),
    ("quadrillion", 1e15),
    ("trillion", 1e12),
    ("billion", 1e9),
    ("million", 1e6),
    ("thousand", 1e3),
    ("trieu", 1e6),
    ("nghin", 1e3),
    ("ngan", 1e3),
    ("ty", 1e9),
    ("bn", 1e9),
]
BASE_ALIASES = {"dong": "vnd", "vnd": "vnd", "usd": "usd", "us": "usd", "$": "usd"}


def split_unit(unit: str) -> tuple[float, str]:
    """(scale, base) of a unit: "thousand billion VND" -> (1e12, "vnd"); "%" -> (1, "%")."""
    folded = fold(unit) if unit.strip() not in ("%", "$") else unit.strip()
    for word, scale in SCALES:
        if folded == word or folded.startswith(word + " "):
            base = folded[len(word):].strip()
            return scale, BASE_ALIASES.get(base, base)
    return 1.0, BASE_ALIASES.get(folded, folded)


def conversion_factor(from_unit: str, to_unit: str) -> float | None:
    """Multiply a value in `from_unit` by this to get `to_unit`; None when they do not convert."""
    if (from_unit or "").strip() == (to_unit or "").strip():
        return 1.0
    f_scale, f_base = split_unit(from_unit)
    t_scale, t_base = split_unit(to_unit)
    if f_base != t_base:
        return None
    return f_scale / t_scale


# How a unit reads in a Vietnamese sentence; units not listed read the same in both languages.
UNIT_VI = {
    "billion USD": "tỷ USD",
    "million USD": "triệu USD",
    "trillion VND": "nghìn tỷ đồng",
    "billion VND": "tỷ đồng",
    "million VND": "triệu đồng",
    "enterprises": "doanh nghiệp",
    "persons": "người",
    "thousand persons": "nghìn người",
    "million persons": "triệu người",
    "million": "triệu",
    "million items": "triệu bưu gửi",
    "domains": "tên miền",
    "per 100 people": "trên 100 dân",
    "per 1,000 people": "trên 1.000 dân",
    "index 0-1": "điểm (0–1)",
    "index points": "điểm chỉ số",
    "score of 20": "điểm / 20",
    "score of 100": "điểm / 100",
    "rank": "hạng",
}


def unit_label(unit: str, lang: str = "vi") -> str:
    return UNIT_VI.get(unit, unit) if lang == "vi" else unit


def is_level_unit(unit: str) -> bool:
    """Percentages, indexes, scores and ranks change by points, not by a growth rate."""
    u = (unit or "").strip().lower()
    return u.startswith("%") or u.startswith("index") or u.startswith("score") or u.startswith("rank") \
        or u.startswith("per ")
