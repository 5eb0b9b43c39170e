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
- `canonical_url` / `extract_urls`, `normalize_phone` / `extract_phones`: one key per link and
  per phone number, so reports about the same link or number meet.
- `teencode_tokens`: folded tokens tolerant of teencode and obfuscation ("ko dc", "v.a.y",
  "kh0ng"), for matching and spam classification; `shingles` / `word_shingles` for MinHash.

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

import functools

import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Iterator
from urllib.parse import parse_qsl, quote, unquote, urlsplit

__all__ = [
    "TEENCODE",
    "TONE_STYLE",
    "TRACKING_PARAMS",
    "canonical_url",
    "extract_phones",
    "extract_urls",
    "fold",
    "nfc",
    "normalize",
    "normalize_phone",
    "normalize_tone_marks",
    "phone_kind",
    "shingles",
    "slugify",
    "teencode_folded",
    "teencode_tokens",
    "word_shingles",
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


class _CombiningMarks(dict):
    """str.translate table that drops combining marks, filled as characters are met (a
    translate in C instead of a Python test per character: `fold` runs on every report)."""

    def __missing__(self, code: int) -> int | None:
        value = None if unicodedata.combining(chr(code)) else code
        self[code] = value
        return value


_DROP_COMBINING = _CombiningMarks()


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


@functools.lru_cache(maxsize=65536)
def _place_tone(word: str, style: str) -> str:
    # Cached: the language has a few thousand syllables, and every text repeats them.
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
    # Tone placement (in `normalize`) only moves marks that are stripped here: skipped.
    s = s.translate(_INVISIBLE).casefold().translate(_ASCII_LETTERS)
    s = unicodedata.normalize("NFKD", s).translate(_DROP_COMBINING).translate(_ASCII_LETTERS)
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


# -- URLs --------------------------------------------------------------------------------------

# Query parameters that say how a link travelled, never what it points to: dropped by
# `canonical_url` so that the same post shared from Facebook, Zalo or a newsletter meets.
# Compared case-insensitively, after removing an array suffix ("__cft__[0]" -> "__cft__").
# Any parameter starting with "utm_" is dropped as well.
TRACKING_PARAMS = frozenset({
    # click identifiers of ad networks and platforms
    "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ttclid", "twclid",
    # share identifiers: Instagram, YouTube/Spotify, Facebook's mobile share sheet
    "igshid", "igsh", "si", "mibextid",
    # referrers (Twitter's ref_src, Facebook's fref/hc_ref, generic ref)
    "ref", "ref_src", "ref_url", "fref", "hc_ref",
    # Facebook's click-tracking blobs, Google's zx cache buster, Google Analytics linkers
    "__cft__", "__tn__", "__xts__", "zx", "_ga", "_gl",
    # mailing tools (Mailchimp, HubSpot) and Zalo's share source
    "mc_cid", "mc_eid", "_hsenc", "_hsmi", "zarsrc",
})

# Host prefixes that name a mobile or "www" edition of the same site ("m.facebook.com",
# "mbasic.facebook.com"); removed only while the rest keeps two labels, so "m.me" stays.
_HOST_PREFIXES = ("www.", "m.", "mobile.", "mbasic.", "touch.")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")
_HAS_AUTHORITY = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")
_ESCAPE_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# Characters kept percent-encoded when the input encoded them (RFC 3986 reserved
# characters are not equivalent to their encoded form), and the ones allowed literally.
_RESERVED = frozenset(":/?#[]@!$&'()*+,;=%")
_PATH_SAFE = "/:@!$&'()*+,;=~%"
_QUERY_SAFE = "/:@!$'()*,;?~"
_LABEL = re.compile(r"^(?!-)[a-z0-9_\-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9\-]{1,59})$")


def _url_error(url: str, why: str) -> ValueError:
    shown = url if len(url) <= 80 else url[:77] + "..."
    return ValueError(f"not a web address: {shown!r} ({why})")


def _normalize_escapes(s: str, safe: str) -> str:
    """Percent-encoding in one canonical shape: unreserved characters decoded, the rest
    encoded as upper-case UTF-8 escapes, text in NFC."""
    s = _STRAY_PERCENT.sub("%25", s)

    def decode(m: re.Match[str]) -> str:
        text = bytes.fromhex(m.group(0).replace("%", "")).decode("utf-8", "surrogateescape")
        out = []
        for ch in text:
            if "\udc80" <= ch <= "\udcff":  # a byte that is not UTF-8: keep it encoded
                out.append(f"%{ord(ch) - 0xDC00:02X}")
            elif ch in _RESERVED:
                out.append(f"%{ord(ch):02X}")
            else:
                out.append(ch)
        return "".join(out)

    s = nfc(_ESCAPE_RUN.sub(decode, s))
    return quote(s, safe=safe, errors="surrogateescape")


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    for segment in path.split("/"):
        if segment == ".":
            continue
        if segment == "..":
            if len(out) > 1:
                out.pop()
            continue
        out.append(segment)
    return "/".join(out)


def _canonical_host(url: str, host: str) -> str:
    host = nfc(unquote(host)).rstrip(".")
    if not host:
        raise _url_error(url, "no host name")
    if ":" in host:  # an IPv6 literal (urlsplit removed the brackets)
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            raise _url_error(url, "bad IPv6 address") from None
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise _url_error(url, "bad host name") from None
    labels = host.split(".")
    valid = all(_LABEL.match(label) for label in labels) and _TLD.match(labels[-1])
    if len(labels) < 2 or not valid:
        raise _url_error(url, "the host must be a domain such as example.vn or an IP address")
    changed = True
    while changed:
        changed = False
        for prefix in _HOST_PREFIXES:
            if host.startswith(prefix) and host.count(".") >= 2:
                host = host[len(prefix):]
                changed = True
    return host


def _is_tracking(key: str) -> bool:
    key = re.sub(r"\[[^\]]*\]$", "", key.strip().lower())
    return key.startswith("utm_") or key in TRACKING_PARAMS


def canonical_url(url: str) -> str:
    """One key for every spelling of the same web address, for matching reports about a link.

    - scheme: ``http`` and ``https`` compare equal and come out as ``https``; a missing
      scheme is allowed ("facebook.com/x", "//x.vn/y"); other schemes are refused;
    - host: lower-case, IDNA hosts in their ASCII (punycode) form, no trailing dot, no user
      name or password, the prefixes ``www.``, ``m.``, ``mobile.``, ``mbasic.``, ``touch.``
      removed (never below two labels: "m.me" stays); default ports 80 and 443 removed;
    - path: percent-encoding normalised (unreserved characters decoded, everything else as
      upper-case UTF-8 escapes, NFC text), "." and ".." segments resolved, trailing
      slashes removed;
    - query: `TRACKING_PARAMS` and ``utm_*`` removed, the rest decoded, re-encoded and
      sorted; an empty query is dropped; the fragment is dropped.

    "HTTP://M.Facebook.com:443/groups/1/?utm_source=zalo&b=2&a=1#top" ->
    "https://facebook.com/groups/1?a=1&b=2". Raises ValueError naming the problem when
    `url` is not a web address. Idempotent.
    """
    original = url
    url = url.strip()
    if not url:
        raise _url_error(original, "empty")
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        raise _url_error(original, "not valid Unicode text") from None
    if any(c.isspace() for c in url):
        raise _url_error(original, "contains spaces")
    if url.startswith("//"):
        url = "https:" + url
    elif not _HAS_AUTHORITY.match(url):
        scheme = _SCHEME.match(url)
        after = url[scheme.end():scheme.end() + 1] if scheme else ""
        if scheme and "." not in scheme.group(1) and not (after.isdigit() or after in ("", "/")):
            # "mailto:", "javascript:", "tel:" ... (but "x.vn:8080/a" is a host and port)
            raise _url_error(original, f"scheme {scheme.group(1)!r} is not http or https")
        url = "https://" + url
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _url_error(original, str(exc)) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise _url_error(original, f"scheme {parts.scheme!r} is not http or https")
    host = _canonical_host(original, parts.hostname or "")
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    path = _remove_dot_segments(_normalize_escapes(parts.path, _PATH_SAFE)).rstrip("/")
    pairs = parse_qsl(parts.query, keep_blank_values=True, errors="surrogateescape")
    query = "&".join(sorted(
        quote(nfc(k), safe=_QUERY_SAFE, errors="surrogateescape") + "="
        + quote(nfc(v), safe=_QUERY_SAFE, errors="surrogateescape")
        for k, v in pairs if not _is_tracking(k)
    ))
    return f"https://{host}{path}" + (f"?{query}" if query else "")


# Top-level domains that mark "word.tld" as a link when there is no scheme and no "www."
# ("bit.ly/abc", "x.vn"). A closed list, so that "v.a.y" or "Tp.HCM" are not links. The
# short ones that are also words ("me", "to", "in" ...) only count when a path follows
# ("t.me/abc", "m.me/page").
_BARE_TLDS = frozenset({
    "vn", "com", "net", "org", "info", "biz", "edu", "gov", "io", "co", "ly", "cc", "tv", "xyz",
    "top", "online", "site", "shop", "store", "club", "app", "dev", "link", "live", "asia", "tk",
    "ml", "ga", "cf", "gq", "ws", "gl", "gd", "su", "ru", "cn", "uk", "de", "fr", "jp", "kr", "sg",
    "th", "kh", "au", "ca", "eu", "ai", "vip", "win", "bet", "fun", "icu", "cyou", "buzz", "sbs",
    "cfd", "click", "life", "news", "space", "tech", "website", "world", "email", "pro",
})
_PATH_ONLY_TLDS = frozenset({"me", "to", "in", "la", "id", "my", "us"})
_URL_IN_TEXT = re.compile(
    r"(?i)(?<![\w@.\-/])"
    r"(?:(?:https?://|www\.)[^\s<>\"'`]+"
    r"|(?:[\w\-]+\.)+(?P<tld>[a-z]{2,7})(?![\w\-])(?::\d{1,5})?(?P<path>/[^\s<>\"'`]*)?)"
)
_URL_TRAILING = ".,;:!?'\"»…)]}"


def _find_urls(text: str) -> Iterator[tuple[int, int, str]]:
    """Start, end and canonical form of each link written in `text`."""
    for m in _URL_IN_TEXT.finditer(text):
        tld = (m.group("tld") or "").lower()
        if tld and not (tld in _BARE_TLDS or (tld in _PATH_ONLY_TLDS and m.group("path"))):
            continue
        raw = m.group(0)
        while raw and raw[-1] in _URL_TRAILING:
            closer = raw[-1]
            opener = {")": "(", "]": "[", "}": "{"}.get(closer)
            if opener and raw.count(opener) >= raw.count(closer):
                break
            raw = raw[:-1]
        try:
            canonical = canonical_url(raw)
        except ValueError:
            continue
        yield m.start(), m.start() + len(raw), canonical


def extract_urls(text: str) -> list[str]:
    """The links written in free text, as `canonical_url` keys, each once, in order.

    Finds links with a scheme ("https://..."), with "www." and bare domains whose top-level
    domain is a common one ("bit.ly/abc", "x.vn/y"); addresses in e-mails are not links.
    Trailing punctuation is not part of a link; things that look like links but are not
    valid addresses are skipped.
    """
    seen: dict[str, None] = {}
    for _, _, canonical in _find_urls(text):
        seen.setdefault(canonical, None)
    return list(seen)


# -- phone numbers -----------------------------------------------------------------------------

# Mobile prefixes moved from 11 to 10 digits in 2018 (MIC's renumbering): old numbers still
# appear in old reports and contact lists, so they are mapped to today's prefix.
_OLD_MOBILE_PREFIXES = {
    "0162": "032", "0163": "033", "0164": "034", "0165": "035", "0166": "036", "0167": "037",
    "0168": "038", "0169": "039",  # Viettel
    "0120": "070", "0121": "079", "0122": "077", "0126": "076", "0128": "078",  # MobiFone
    "0123": "083", "0124": "084", "0125": "085", "0127": "081", "0129": "082",  # VinaPhone
    "0186": "056", "0188": "058",  # Vietnamobile
    "0199": "059",  # Gmobile
}
_MOBILE = re.compile(r"0[35789]\d{8}")
_LANDLINE = re.compile(r"02\d{8,9}")
_SERVICE = re.compile(r"1[89]00(?:\d{4}|\d{6})")
_SHORT_CODE = re.compile(r"[1-9]\d{2,4}")
_PHONE_TEXT = re.compile(r"[(\s]*\+?[\d\s.\-()\u00a0]*\d[\d\s.\-()\u00a0]*")


def _national(digits: str, plus: bool) -> str | None:
    """The national form of a subscriber or service number written with these digits."""
    rest = None
    if plus:
        if not digits.startswith("84"):
            return None  # another country's number
        rest = digits[2:]
    elif digits.startswith("0084"):
        rest = digits[4:]
    elif digits.startswith("84") and 11 <= len(digits) <= 13:
        rest = digits[2:]
    elif _SERVICE.fullmatch(digits):
        return digits
    if rest is not None:
        digits = rest if rest.startswith("0") else "0" + rest
    if _MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits):
        return digits
    if len(digits) == 11 and digits[:4] in _OLD_MOBILE_PREFIXES:
        return _OLD_MOBILE_PREFIXES[digits[:4]] + digits[4:]
    return None


def normalize_phone(text: str) -> str | None:
    """A Vietnamese phone number in national form, or None when `text` is not one.

    - mobile (03x, 05x, 07x, 08x, 09x; 10 digits) and landline (02x; 10 or 11 digits)
      numbers come out as ``0xxxxxxxxx``, whatever the prefix (+84, 84, 0084, "+84 (0)")
      and separators (spaces, dots, dashes, parentheses): "+84 (91) 234-5678" and
      "84.912.345.678" -> "0912345678"; the 11-digit mobile numbers renumbered in 2018
      are mapped to today's ("01689123456" -> "0389123456");
    - toll-free and premium service numbers 1800/1900 + 4 or 6 digits come out as digits
      ("1800 8108" -> "18008108");
    - a short code, 3 to 5 digits written as one group ("5656", "113", "9029"), comes out
      as it is: callers that want a subscriber number check `phone_kind`.

    Foreign numbers, money amounts ("5.000.000đ"), dates and anything with letters give
    None. Idempotent: a result normalises to itself.
    """
    s = unicodedata.normalize("NFKC", text).strip()
    if s[:4].lower() == "tel:":
        s = s[4:].strip()
    if not s or not _PHONE_TEXT.fullmatch(s):
        return None
    groups = re.findall(r"\d+", s)
    plus = "+" in s
    if s.count("+") > 1 or (plus and not re.match(r"^[(\s]*\+\d", s)):
        return None
    digits = "".join(groups)
    if not plus and len(groups) == 1 and _SHORT_CODE.fullmatch(digits):
        return digits
    return _national(digits, plus)


def phone_kind(number: str) -> str | None:
    """What a number in national form is: "mobile", "landline", "service" (1800/1900),
    "short_code", or None when it is not a `normalize_phone` result."""
    if _MOBILE.fullmatch(number):
        return "mobile"
    if _LANDLINE.fullmatch(number):
        return "landline"
    if _SERVICE.fullmatch(number):
        return "service"
    if _SHORT_CODE.fullmatch(number):
        return "short_code"
    return None


def _strip_marks(s: str) -> str:
    """Lower-case text without diacritics, punctuation kept (unlike `fold`)."""
    s = unicodedata.normalize("NFKD", nfc(s).casefold().translate(_ASCII_LETTERS))
    return "".join(c for c in s if not unicodedata.combining(c)).translate(_ASCII_LETTERS)


# A run of digit groups that may hold phone numbers: separators are spaces, dots, dashes
# and parentheses ("/" is not one, so dates split into short groups).
_PHONE_RUN = re.compile(r"(?<![\w+.,])[(+]{0,2}\d[\d .\-()\u00a0]*\d(?!\w)")
_GROUP = re.compile(r"\d+")
# Units after an amount: "5.000.000đ", "19.000.000 vnd", "1900000 dong", "50%".
_MONEY_AFTER = re.compile(r"^\s?(?:d|vnd|dong|usd|\$|%|tr|trieu|k|nghin|ngan|ty)(?![a-z])")
_MONEY_BEFORE = re.compile(r"(?:\$|vnd|usd)\s?$")
_MONEY_SHAPE = re.compile(r"\d{1,3}(?:\.\d{3})+")
# Words after which a bare short code is a number ("soạn DK gửi 9029", "gọi 113",
# "tổng đài 5656"); without one, 3-5 digits are a count, a year or an amount.
_SHORT_CODE_CUE = re.compile(
    r"(?:gui|goi|nhan tin|nhan|soan tin|den so|toi so|dau so|tong dai|hotline|duong day nong"
    r"|sdt|lh|lien he|call|sms|text|to)\s?(?:den\s|toi\s|so\s)?[:\-]?\s?$"
)
_MAX_GROUPS = 11  # "0 9 1 2 3 4 5 6 7 8" is one number written to dodge filters


def _phones_in_run(text: str, m: re.Match[str]) -> Iterator[str]:
    run = m.group(0)
    groups = list(_GROUP.finditer(run))
    money_after = bool(_MONEY_AFTER.match(text[m.end():]))
    i = 0
    while i < len(groups):
        found = None
        for j in range(min(len(groups), i + _MAX_GROUPS), i, -1):
            start = m.start() + groups[i].start()
            if i == 0 and run.lstrip("(").startswith("+"):
                start = m.start() + run.index("+")
            written = text[start:m.start() + groups[j - 1].end()]
            phone = _national("".join(g.group(0) for g in groups[i:j]), written.startswith("+"))
            if phone is None:
                continue
            if j == len(groups) and money_after:
                continue
            if i == 0 and _MONEY_BEFORE.search(text[:m.start()]):
                continue
            if _MONEY_SHAPE.fullmatch(written) and not written.startswith(("0", "84")):
                continue  # "19.000.000" is an amount, "84.912.345.678" a number
            if j - i == 2 and re.fullmatch(r"1[89]00-(?:1\d{3}|20\d\d)", written):
                continue  # "1800-1900" is a range of years
            found = (phone, j)
            break
        if found is None:
            if len(groups) == 1 and _SHORT_CODE.fullmatch(run) and not money_after \
                    and _SHORT_CODE_CUE.search(text[:m.start()]):
                yield run
            i += 1
        else:
            yield found[0]
            i = found[1]


def extract_phones(text: str) -> list[str]:
    """The Vietnamese phone numbers written in free text, in national form, each once, in order.

    Numbers may be split by spaces, dots, dashes and parentheses ("0912.345.678",
    "+84 91 234 5678"); two numbers side by side are told apart. Money amounts
    ("5.000.000đ", "19.000.000"), dates and identity numbers are not numbers. Short codes
    (3-5 digits) count only after a word that introduces a number ("gửi 9029", "gọi 113",
    "tổng đài 5656"); 1800/1900 service numbers always count.
    """
    plain = _strip_marks(text)
    seen: dict[str, None] = {}
    for m in _PHONE_RUN.finditer(plain):
        for phone in _phones_in_run(plain, m):
            seen.setdefault(phone, None)
    return list(seen)


# -- teencode-tolerant tokens ------------------------------------------------------------------

# Teencode, chat abbreviations and spam shorthand, folded form -> the folded standard word(s).
# Why: the same sentence reaches the centre and the 5656 short code as "không được",
# "ko dc", "k đk", "hok duoc"; matching and the spam classifier must see one spelling.
# Only spellings that are hardly ever something else are listed: "kh" (không / khách hàng),
# "tb" (thông báo / thuê bao), "hd" (hướng dẫn / hợp đồng / hóa đơn), "v" (và / vậy) and
# "a"/"e" (anh / em, but also words) are left alone. Where the brief of the platform names a
# reading ("dk" -> "duoc", "ck" -> "chuyen khoan", "bn" -> "ban") the spam reading wins.
TEENCODE: dict[str, str] = {
    # negation
    "ko": "khong", "k": "khong", "hok": "khong", "hong": "khong", "khg": "khong", "kg": "khong",
    "hem": "khong", "kp": "khong phai", "kbh": "khong bao gio", "khong": "khong",
    # được, gì, vậy, thế nào
    "dc": "duoc", "dk": "duoc", "duoc": "duoc", "j": "gi", "gi": "gi", "z": "vay",
    "zay": "vay", "dzay": "vay", "ntn": "nhu the nao",
    # people
    "ng": "nguoi", "ngta": "nguoi ta", "mn": "moi nguoi", "mng": "moi nguoi", "bn": "ban",
    "mk": "minh", "mik": "minh", "mh": "minh", "ae": "anh em", "ny": "nguoi yeu", "nv": "nhan vien",
    # little words
    "vs": "voi", "cx": "cung", "cg": "cung", "r": "roi", "rui": "roi", "ms": "moi", "trc": "truoc",
    "bt": "biet", "bik": "biet", "bjk": "biet", "wa": "qua", "qa": "qua", "thui": "thoi",
    "nhiu": "nhieu", "iu": "yeu", "thik": "thich", "bh": "bao gio", "bg": "bao gio",
    "bjo": "bay gio", "bj": "bay gio", "tg": "thoi gian", "tgian": "thoi gian", "ok": "ok",
    "oke": "ok", "okie": "ok", "oki": "ok", "ns": "noi",
    # money, accounts and contact (spam and scam vocabulary)
    "tk": "tai khoan", "tkhoan": "tai khoan", "stk": "so tai khoan", "ck": "chuyen khoan",
    "ckhoan": "chuyen khoan", "sdt": "so dien thoai", "dt": "dien thoai", "lh": "lien he",
    "ib": "inbox", "inb": "inbox", "nt": "nhan tin", "tl": "tra loi", "rep": "tra loi",
    "fb": "facebook", "zl": "zalo", "qc": "quang cao", "km": "khuyen mai",
    "ctkm": "chuong trinh khuyen mai", "sp": "san pham", "dv": "dich vu", "cty": "cong ty",
    "ls": "lai suat", "gn": "giai ngan", "vnd": "dong",
}
# After a number the same letters are units: "5tr", "500k", "2 củ", "100đ".
_AFTER_NUMBER = {
    "k": "nghin", "nghin": "nghin", "ngan": "nghin", "tr": "trieu", "trieu": "trieu",
    "cu": "trieu", "ty": "ty", "ti": "ty", "d": "dong", "dong": "dong", "vnd": "dong",
    "usd": "usd", "km": "km",
}
_NUMBER_UNIT = re.compile(r"(\d+)([a-z]+)")
_DIGIT_IN_WORD = re.compile(r"(?<=[a-z])[01]+(?=[a-z])|(?<=[a-z])0+$")
# One folded Vietnamese syllable: onset, one to three vowels, final consonant.
_SYLLABLE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?[aeiouy]{1,3}(?:ng|nh|ch|[cmnpt])?"
)
_REPEATS = re.compile(r"([a-z])\1{2,}")


def _letters_for_digits(m: re.Match[str]) -> str:
    # "0" is "o"; "1" is "i" ("t1en", "b1nh") except doubled, "he11o" -> "hello".
    digits = m.group(0)
    if digits == "11":
        return "ll"
    return digits.replace("0", "o").replace("1", "i")


def _syllables(letters: str) -> list[str]:
    """Letters that lost their spaces ("vaytien") cut into the fewest Vietnamese syllables
    ("vay", "tien"); kept whole when they cannot be cut so ("click")."""
    best: list[list[str] | None] = [[]] + [None] * len(letters)
    for end in range(1, len(letters) + 1):
        for start in range(max(0, end - 7), end):
            before = best[start]
            if before is not None and _SYLLABLE.fullmatch(letters, start, end):
                candidate = before + [letters[start:end]]
                if best[end] is None or len(candidate) < len(best[end]):
                    best[end] = candidate
    return best[-1] or [letters]


def _merge_digit_groups(groups: list[str]) -> list[str]:
    """Consecutive digit tokens of folded text as phone numbers or grouped amounts."""
    out: list[str] = []
    i = 0
    while i < len(groups):
        taken = None
        for j in range(min(len(groups), i + _MAX_GROUPS), i + 1, -1):
            part = groups[i:j]
            joined = "".join(part)
            money_shaped = 1 <= len(part[0]) <= 3 and all(len(g) == 3 for g in part[1:])
            if money_shaped and not joined.startswith(("0", "84")):
                continue
            phone = _national(joined, plus=False)
            if phone is not None:
                taken = (phone, j)
                break
        if taken is None:
            j = i + 1
            if 1 <= len(groups[i]) <= 3 and not groups[i].startswith("0"):
                while j < len(groups) and len(groups[j]) == 3:
                    j += 1  # "5 000 000" -> "5000000"
            single = "".join(groups[i:j])
            taken = ((normalize_phone(single) if j == i + 1 else None) or single, j)
        out.append(taken[0])
        i = taken[1]
    return out


@functools.lru_cache(maxsize=1 << 16)
def _word_parts(word: str) -> tuple[str, ...]:
    # cached: words repeat, and these regexes ran for every word of every report
    unit = _NUMBER_UNIT.fullmatch(word)
    if unit and unit.group(2) in _AFTER_NUMBER:
        return unit.groups()
    return (_DIGIT_IN_WORD.sub(_letters_for_digits, word),)


@functools.lru_cache(maxsize=1 << 16)
def _squeezed(word: str) -> str:
    return word if len(set(word)) == 1 else _REPEATS.sub(r"\1", word)


def _folded_tokens(folded: str) -> list[str]:
    words: list[str] = []
    for word in folded.split():
        words.extend(_word_parts(word))
    merged: list[str] = []
    digits: list[str] = []
    for word in words + [""]:
        if word.isdigit():
            digits.append(word)
            continue
        if digits:
            merged.extend(_merge_digit_groups(digits))
            digits = []
        if word:
            merged.append(_squeezed(word))
    collapsed: list[str] = []
    k = 0
    while k < len(merged):
        end = k
        while end < len(merged) and len(merged[end]) == 1 and merged[end].isalpha():
            end += 1
        if end - k >= 3:  # "v a y", "v.a.y" -> "vay"; "v a y t i e n" -> "vay", "tien"
            collapsed.extend(_syllables("".join(merged[k:end])))
            k = end
        else:
            collapsed.append(merged[k])
            k += 1
    out: list[str] = []
    for word in collapsed:
        if out and out[-1].isdigit() and word in _AFTER_NUMBER:
            out.append(_AFTER_NUMBER[word])
        else:
            out.extend(TEENCODE.get(word, word).split())
    return out


def teencode_folded(folded: str) -> list[str]:
    """`teencode_tokens` of text already folded by `fold` (so without links): the same tokens,
    without folding twice."""
    return _folded_tokens(folded)


def teencode_tokens(text: str) -> list[str]:
    """Tokens of `text` that teencode, abbreviations and obfuscation do not change.

    Links become one `canonical_url` token each. The rest is folded (`fold`: no case, no
    diacritics, no punctuation) and then:

    - a digit glued to a unit is split off it, and the unit read after a number: "5tr" ->
      "5 trieu", "500k" -> "500 nghin", "100đ" -> "100 dong";
    - "0" and "1" between letters are letters: "l0an" -> "loan", "kh0ng" -> "khong",
      "t1en" -> "tien" ("11" -> "ll"), and so is a final "0" ("ch0" -> "cho");
    - digit groups join into phone numbers in national form (`normalize_phone`:
      "+84 91 234 5678", "0 9 1 2 3 4 5 6 7 8" -> "0912345678") or into amounts written
      with thousands separators ("5.000.000" -> "5000000");
    - letters repeated three times or more are one ("quaaaa" -> "qua");
    - runs of three or more single letters are joined and cut into the fewest Vietnamese
      syllables ("v.a.y" -> "vay", "v a y t i e n" -> "vay tien"; "c l i c k" -> "click");
    - teencode is replaced by the standard word(s) of `TEENCODE` ("ko" -> "khong",
      "ntn" -> "nhu the nao").

    Everything but the links is computed from the folded text, so
    ``teencode_tokens(fold(x)) == teencode_tokens(x)`` for text without links.
    """
    tokens: list[str] = []
    position = 0
    for start, end, canonical in _find_urls(text):
        tokens.extend(_folded_tokens(fold(text[position:start])))
        tokens.append(canonical)
        position = end
    tokens.extend(_folded_tokens(fold(text[position:])))
    return tokens


# -- shingles ----------------------------------------------------------------------------------


def shingles(text: str, k: int = 5) -> set[str]:
    """Character k-shingles of the folded text (single spaces), for MinHash.

    A text shorter than `k` is one shingle; an empty one has none.
    """
    if k < 1:
        raise ValueError("k must be at least 1")
    folded = fold(text)
    if len(folded) <= k:
        return {folded} if folded else set()
    return {folded[i:i + k] for i in range(len(folded) - k + 1)}


def word_shingles(tokens: Iterable[str], n: int = 3) -> set[str]:
    """Word n-grams of a token list (e.g. from `teencode_tokens`), joined by single spaces.

    Fewer than `n` tokens make one shingle; none make none.
    """
    if isinstance(tokens, str):
        raise TypeError("word_shingles takes a list of tokens, not a string: "
                        "use teencode_tokens(text)")
    if n < 1:
        raise ValueError("n must be at least 1")
    words = list(tokens)
    if len(words) <= n:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}
