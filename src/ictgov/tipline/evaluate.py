"""Evaluating claim grouping: pairwise precision/recall, and generated reworded variants.

The project makes its own labelled data: `generate_variants` rewrites a claim the way
reporters do (words dropped, added or swapped, no diacritics, teencode, "Có thật là ...",
a shared link with tracking parameters, other case and punctuation), so a test or a bench
knows which reports speak of the same claim without copying anyone's rows.

    python -m ictgov.tipline.evaluate FILE.tsv      # lines: group<TAB>text

prints the pairwise precision/recall of `ClaimMatcher.group` on that labelled file.
"""

from __future__ import annotations

import hashlib
import random
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["evaluate_grouping", "generate_variants", "pairwise_scores", "read_labelled"]


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_scores(gold: Mapping[Hashable, Hashable],
                    predicted: Mapping[Hashable, Hashable]) -> dict[str, Any]:
    """Pairwise clustering precision, recall and F1 of `predicted` (id -> case) against `gold`
    (id -> group), from contingency counts: O(n), never the O(n²) list of pairs.

    precision = pairs put together that belong together / pairs put together;
    recall = pairs put together that belong together / pairs that belong together.
    With no pair on one side the ratio is 1.0 (nothing claimed, nothing missed).
    """
    if set(gold) != set(predicted):
        missing = sorted(map(repr, set(gold) - set(predicted)))[:5]
        extra = sorted(map(repr, set(predicted) - set(gold)))[:5]
        raise ValueError(f"gold and predicted must label the same ids; missing from predicted: "
                         f"{missing}, not in gold: {extra}")
    both = Counter((gold[i], predicted[i]) for i in gold)
    tp = sum(_pairs(n) for n in both.values())
    gold_pairs = sum(_pairs(n) for n in Counter(gold.values()).values())
    pred_pairs = sum(_pairs(n) for n in Counter(predicted.values()).values())
    precision = tp / pred_pairs if pred_pairs else 1.0
    recall = tp / gold_pairs if gold_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pairs": gold_pairs,
            "predicted_pairs": pred_pairs, "true_pairs": tp, "items": len(gold)}


# -- variants -------------------------------------------------------------------------------

_TEENCODE = {
    "không": ["ko", "k", "hok", "khong"], "được": ["dc", "đc", "đươc"], "gì": ["j", "gi"],
    "vậy": ["v", "vay"], "biết": ["bít", "bik"], "rồi": ["r", "roi"], "với": ["vs", "voi"],
    "người": ["ng", "ngừoi"], "quá": ["wá", "qa"], "bạn": ["bn", "b"], "mình": ["mk", "mik"],
    "thôi": ["thoy"], "nhiều": ["nhìu"], "trước": ["trc"], "những": ["nhưng"], "chúng": ["chung"],
    "thì": ["thỳ"], "là": ["la"], "có": ["co"], "của": ["cua", "cũa"], "và": ["va", "&"],
    "đã": ["da"], "tiền": ["tìn"], "yêu": ["iu"], "chồng": ["ck"], "vợ": ["vk"], "em": ["e"],
    "anh": ["a"], "nhé": ["nha", "nhe"], "việt nam": ["vn"], "hà nội": ["hn"],
}
_PREFIXES = ["Có thật là", "Nghe nói", "Mọi người ơi,", "Cho hỏi", "Tin nóng:", "Chia sẻ gấp:",
             "Có phải", "Xác minh giúp:", "CẢNH BÁO:"]
_SUFFIXES = ["?", " không?", "!!!", " có đúng không?", " ạ", " nhé mọi người", " share ngay"]
_FILLERS = ["thì", "là", "nhé", "đó", "nha", "ạ", "này", "luôn", "thật", "nghe"]
_DOMAINS = ["facebook.com/share/p", "zalo.me/s", "tiktok.com/@tin/video", "youtube.com/watch",
            "tinnong24h.net/bai-viet"]
_TRACKING = ["utm_source=zalo", "utm_medium=social", "fbclid=IwAR{n}", "utm_campaign=share{n}",
             "zarsrc=30", "igshid={n}"]


def _strip_diacritics(s: str) -> str:
    s = unicodedata.normalize("NFD", s.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in s if not unicodedata.combining(c)))


def _claim_url(text: str) -> str:
    """A link that every variant of one claim shares (as reports of one rumour do)."""
    digest = hashlib.sha1(_strip_diacritics(text).lower().encode()).hexdigest()
    domain = _DOMAINS[int(digest[:2], 16) % len(_DOMAINS)]
    return f"{domain}/{digest[2:14]}"


def _op_drop(words: list[str], rng: random.Random) -> list[str]:
    if len(words) <= 4:
        return words
    i = rng.randrange(len(words))
    return words[:i] + words[i + 1:]


def _op_insert(words: list[str], rng: random.Random) -> list[str]:
    i = rng.randrange(len(words) + 1)
    return words[:i] + [rng.choice(_FILLERS)] + words[i:]


def _op_swap(words: list[str], rng: random.Random) -> list[str]:
    if len(words) < 2:
        return words
    i = rng.randrange(len(words) - 1)
    w = list(words)
    w[i], w[i + 1] = w[i + 1], w[i]
    return w


def _op_teencode(words: list[str], rng: random.Random) -> list[str]:
    out = []
    for w in words:
        key = w.lower().strip(".,!?:;\"'")
        if key in _TEENCODE and rng.random() < 0.7:
            out.append(rng.choice(_TEENCODE[key]))
        else:
            out.append(w)
    return out


_WORD_OPS = [_op_drop, _op_insert, _op_swap, _op_teencode]


def generate_variants(text: str, rng: random.Random | int | None = None, n: int = 5) -> list[str]:
    """`n` reworded variants of a claim, each made by 1–3 random rewrites.

    Rewrites: drop / insert / swap words, teencode abbreviations, remove diacritics, a prefix
    ("Có thật là ...") or a suffix, a link to the claim with tracking parameters, other case
    or punctuation. `rng` is a `random.Random` (or a seed) so runs are reproducible.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be a non-empty string")
    if n < 0:
        raise ValueError(f"n must be ≥ 0, not {n}")
    if not isinstance(rng, random.Random):
        rng = random.Random(rng)
    words0 = text.split()
    out = []
    for _ in range(n):
        words = list(words0)
        prefix = suffix = ""
        post = []
        for _op in range(rng.randint(1, 3)):
            kind = rng.random()
            if kind < 0.45:
                words = rng.choice(_WORD_OPS)(words, rng)
            elif kind < 0.55:
                post.append("nodiacritics")
            elif kind < 0.65:
                prefix = rng.choice(_PREFIXES)
            elif kind < 0.72:
                suffix = rng.choice(_SUFFIXES)
            elif kind < 0.82:
                params = rng.sample(_TRACKING, rng.randint(1, 3))
                query = "&".join(p.format(n=rng.randrange(10**6)) for p in params)
                host = rng.choice(["https://www.", "https://m.", "http://", "https://"])
                slash = rng.choice(["", "/"])
                suffix += f" {host}{_claim_url(text)}{slash}?{query}"
            else:
                post.append(rng.choice(["upper", "lower", "nopunct", "bang"]))
        s = " ".join(words)
        for p in post:
            if p == "nodiacritics":
                s = _strip_diacritics(s)
            elif p == "upper":
                s = s.upper()
            elif p == "lower":
                s = s.lower()
            elif p == "nopunct":
                s = re.sub(r"[.,!?:;\"“”]", "", s)
            else:
                s = s.rstrip(".") + "!!"
        s = (prefix + " " + s if prefix else s) + suffix
        out.append(re.sub(r"\s+", " ", s).strip())
    return out


# -- labelled files ----------------------------------------------------------------------------


def read_labelled(lines: Iterable[str]) -> list[tuple[str, str, str]]:
    """(id, group, text) from lines ``group<TAB>text``; ids are line numbers. Errors name the line."""
    out = []
    for no, line in enumerate(lines, start=1):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        if "\t" not in line:
            raise ValueError(f"line {no}: expected group<TAB>text")
        grp, txt = line.split("\t", 1)
        if not grp.strip() or not txt.strip():
            raise ValueError(f"line {no}: group and text must both be non-empty")
        out.append((str(no), grp.strip(), txt))
    return out


def evaluate_grouping(rows: Iterable[tuple[str, str, str]], **params: Any) -> dict[str, Any]:
    """Pairwise scores of `ClaimMatcher(**params).group` on (id, group, text) rows."""
    from ictgov.tipline.match import ClaimMatcher

    rows = list(rows)
    predicted = ClaimMatcher(**params).group([(i, t) for i, _, t in rows])
    return pairwise_scores({i: g for i, g, _ in rows}, predicted)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m ictgov.tipline.evaluate FILE.tsv  (lines: group<TAB>text)",
              file=sys.stderr)
        return 2
    try:
        rows = read_labelled(Path(argv[0]).read_text(encoding="utf-8").splitlines())
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    r = evaluate_grouping(rows)
    print(f"items {r['items']}  gold pairs {r['pairs']}  predicted pairs {r['predicted_pairs']}")
    print(f"precision {r['precision']:.4f}  recall {r['recall']:.4f}  f1 {r['f1']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
