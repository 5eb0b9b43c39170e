"""Text normalisation shared by the whole platform.

Vietnamese text reaches the platform in many shapes: composed or decomposed Unicode,
tone marks placed on different vowels ("Khánh Hoà" / "Khánh Hòa"), stray non-breaking
spaces from spreadsheets, names with and without diacritics ("Bắc Ninh" / "Bac Ninh").
Anything that is *compared* (area names, indicator names, reported messages, spam texts)
goes through one of these functions first, so two spellings of the same thing meet.

- `normalize` keeps the text readable (diacritics kept) and canonical: store and display it.
- `fold` throws away what spellings disagree on (case, diacritics, punctuation): use it as
  a lookup key, never as something to show.
- `slugify` makes a code from a name.

Tone-mark placement
-------------------
Only three open rhymes are written two ways in real sources: ``oa``, ``oe`` and ``uy``
without a final consonant ("hòa"/"hoà", "khỏe"/"khoẻ", "thủy"/"thuỷ"). The canonical
placement chosen here puts the mark on the FIRST vowel of those rhymes ("hòa", "khỏe",
"thủy"). It is the placement of the official unit names in the National Assembly's
Resolution 202/2025/QH15 and in the vietnam-provinces package's current (2025+) list
("Thanh Hóa", "Khánh Hòa"), of the GSO/NSO names and of most news text, so stored names
match what users type and read. Input methods (UniKey, vi-rs) call this the "old style"
and call the other placement ("hoà", the 1984 school rule) the "new style";
`normalize_tone_marks(s, style="new")` produces that one where it is ever needed.

Misplaced marks that no orthography allows ("họat", "đọan", "ủê") are moved to the vowel
that carries them in both styles ("hoạt", "đoạn", "uể"). A word is only touched when its
vowel cluster is one where Vietnamese spellings actually vary (it contains ``oa``, ``oe``,
``uy`` or a vowel with a breve, circumflex or horn), so foreign names such as "Raúl" or
"Noël" pass through unchanged.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "TONE_STYLE",
    "fold",
    "nfc",
    "normalize",
    "normalize_tone_marks",
    "slugify",
]

# The placement `normalize` produces; see the module docstring for why.
TONE_STYLE = "old"

# Combining marks that carry a Vietnamese tone (sắc, huyền, hỏi, ngã, nặng).
_TONES = {"\u0301", "\u0300", "\u0309", "\u0303", "\u0323"}
# Vowel letters once the tone is removed; the ones with a quality mark attract the tone.
_PLAIN_VOWELS = set("aeiouy")
_QUALITY_VOWELS = set("ăâêôơư")
_VOWELS = _PLAIN_VOWELS | _QUALITY_VOWELS
_VARIANT_PAIRS = ("oa", "oe", "uy")
_WORD = re.compile(r"[^\W\d_]+")
_SPACES = re.compile(r"\s+")
# Invisible characters that spreadsheets and web pages leave inside names.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\ufeff\u00ad"), None)
# Letters that Unicode decomposition does not reduce to ASCII.
_ASCII_LETTERS = str.maketrans({"đ": "d", "ð": "d", "ø": "o", "ł": "l", "æ": "ae", "œ": "oe",
                                "þ": "th", "ı": "i", "ħ": "h", "ŧ": "t"})
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def nfc(s: str) -> str:
    """Unicode NFC: the composed form, so "ệ" is one code point whatever the keyboard sent."""
    return unicodedata.normalize("NFC", s)


# -- tone marks ----------------------------------------------------------------------------


def _split_tone(ch: str) -> tuple[str, str | None]:
    """A letter without its tone mark, and the mark (or None)."""
    decomposed = unicodedata.normalize("NFD", ch)
    tones = [c for c in decomposed if c in _TONES]
    if not tones:
        return ch, None
    base = "".join(c for c in decomposed if c not in _TONES)
    return unicodedata.normalize("NFC", base), tones[0]


def _with_tone(base: str, tone: str) -> str:
    return unicodedata.normalize("NFC", base + tone)


def _nucleus(lower: str) -> tuple[int, int] | None:
    """Start and end of the vowel nucleus of one syllable, or None when it is not one.

    The ``u`` of ``qu`` and the ``i`` of ``gi`` (before another vowel) belong to the
    initial consonant, so "quả" and "già" carry the mark on the ``a``.
    """
    i = 0
    while i < len(lower) and lower[i] not in _VOWELS:
        i += 1
    if i == len(lower):
        return None
    initial = lower[:i]
    if (initial, lower[i]) in (("q", "u"), ("g", "i")) and lower[i + 1:i + 2] in _VOWELS:
        i += 1
    start = i
    while i < len(lower) and lower[i] in _VOWELS:
        i += 1
    if any(c in _VOWELS for c in lower[i:]):
        return None  # two vowel groups: not a single Vietnamese syllable
    return start, i


def _tone_index(nucleus: str, closed: bool, style: str) -> int | None:
    """Where the tone goes inside the nucleus, or None for clusters left as written."""
    quality = [k for k, c in enumerate(nucleus) if c in _QUALITY_VOWELS]
    if quality:
        return quality[-1]  # "ươ" -> ơ, "uyê" -> ê, "ưa" -> ư
    if not any(p in nucleus for p in _VARIANT_PAIRS):
        return None
    if closed:
        return len(nucleus) - 1  # "hoàng", "hoạt", "quyết" ... always on the last vowel
    if len(nucleus) == 3:
        return 1  # "ngoài", "xoáy", "khuỷu", "ngoẹo"
    if len(nucleus) == 2:
        return 0 if style == "old" else 1
    return None


def _place_tone(word: str, style: str) -> str:
    letters = [_split_tone(c) for c in word]
    marked = [k for k, (_, tone) in enumerate(letters) if tone is not None]
    if len(marked) != 1:
        return word
    lower = "".join(base.lower() for base, _ in letters)
    span = _nucleus(lower)
    if span is None:
        return word
    start, end = span
    current = marked[0]
    if not start <= current < end:
        return word
    target = _tone_index(lower[start:end], closed=end < len(lower), style=style)
    if target is None or start + target == current:
        return word
    tone = letters[current][1]
    out = [base if k != start + target else _with_tone(base, tone) for k, (base, _) in enumerate(letters)]
    out = [out[k] if k != current else letters[k][0] for k in range(len(out))]
    return "".join(out)


def normalize_tone_marks(s: str, style: str = TONE_STYLE) -> str:
    """NFC text with every word's tone mark on the vowel the chosen style puts it on.

    `style` "old" (the default, see the module docstring) gives "hòa", "thủy", "khỏe";
    "new" gives "hoà", "thuỷ", "khoẻ". Both styles agree on every other rhyme.
    """
    if style not in ("old", "new"):
        raise ValueError(f"style must be 'old' or 'new', not {style!r}")
    # NFC again: a stray combining mark after a word may compose once the tone has moved.
    return nfc(_WORD.sub(lambda m: _place_tone(m.group(0), style), nfc(s)))


# -- normalise, fold, slugify ------------------------------------------------------------------


def normalize(s: str) -> str:
    """The canonical readable form: NFC, one tone placement, single spaces, no invisible characters."""
    s = normalize_tone_marks(s.translate(_INVISIBLE))
    return _SPACES.sub(" ", s).strip()


def fold(s: str) -> str:
    """A lookup key: lowercase ASCII letters and digits separated by single spaces.

    "TP. Hồ Chí Minh" -> "tp ho chi minh", "Thừa Thiên-Huế" -> "thua thien hue". Letters
    of scripts without an ASCII reading are dropped, so fold only Vietnamese/Latin text.
    """
    s = normalize(s).casefold().translate(_ASCII_LETTERS)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).translate(_ASCII_LETTERS)
    return _NOT_ALNUM.sub(" ", s.lower()).strip()


def slugify(s: str, max_length: int = 64) -> str:
    """A code of ``[a-z0-9_]`` made from a name: "Doanh thu CNTT (tỷ USD)" -> "doanh_thu_cntt_ty_usd".

    Cut to `max_length` without a trailing underscore. Returns "" when the name has no
    letters or digits, and may start with a digit ("5G" -> "5g"): callers that need an
    identifier starting with a letter add their own prefix.
    """
    if max_length < 1:
        raise ValueError("max_length must be at least 1")
    slug = fold(s).replace(" ", "_")
    return slug[:max_length].rstrip("_")
