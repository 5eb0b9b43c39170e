"""The 5656 short code: what a citizen's SMS asks for, and the reply it gets.

Syntaxes (Authority of Information Security, thongbaorac.ais.gov.vn; `LD` from 1 Nov 2022):

    S [source][content]     report a spam SMS          -> sms_report
    V [source][content]     report a spam call         -> call_report
    DK DNC                  join the do-not-call list  -> dnc_register
    HUY DNC                 leave it                   -> dnc_cancel
    FW [content]            forward a copy of an ad    -> forward
    LD [number][content]    report a scam call         -> scam_call_report

People type these on phone keypads, so the parser is tolerant: any case, extra spaces,
arguments in brackets ``[...]``, parentheses ``(...)`` or bare, ``+84``/``84`` prefixes
and dots or spaces inside numbers, diacritics in the keyword ("HỦY DNC", "ĐK DNC"), a
separator after the keyword ("S:", "V-"). A source is a phone number (national form
``0xxxxxxxxx``), a service number or short code (digits), or a brandname (upper-cased).
Anything else gets the help reply; `parse` never raises on text.

Replies are written without diacritics: they fit one 160-character GSM-7 SMS, where a
single accented letter would switch the message to UCS-2 and 70 characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Literal

from ictgov.text import normalize, normalize_phone, phone_kind

Kind = Literal["sms_report", "call_report", "dnc_register", "dnc_cancel", "forward",
               "scam_call_report", "invalid"]
KINDS: tuple[str, ...] = ("sms_report", "call_report", "dnc_register", "dnc_cancel", "forward",
                          "scam_call_report", "invalid")
SHORT_CODE = "5656"
MAX_CONTENT = 1000

REPLIES = {
    "sms_report": "Cam on ban da phan anh tin nhan rac tu {source}. Phan anh da duoc tiep nhan"
                  "{ref} va chuyen toi nha mang de xu ly.",
    "call_report": "Cam on ban da phan anh cuoc goi rac tu {source}. Phan anh da duoc tiep nhan"
                   "{ref} va chuyen toi nha mang de xu ly.",
    "scam_call_report": "Cam on ban da phan anh cuoc goi nghi lua dao tu {source}{ref}. Tuyet doi "
                        "khong cung cap ma OTP, mat khau cho nguoi la.",
    "forward": "Cam on ban da gui ban sao tin nhan quang cao{ref}. Noi dung se duoc doi chieu "
               "voi quy dinh ve quang cao.",
    "dnc_register": "Ban da dang ky thanh cong danh sach khong quang cao (DNC). Tu choi nhan tin "
                    "nhan, cuoc goi quang cao. Huy: soan HUY DNC gui 5656.",
    "dnc_cancel": "Ban da huy dang ky danh sach khong quang cao (DNC). Dang ky lai: soan DK DNC "
                  "gui 5656.",
    "invalid": "Sai cu phap. Phan anh tin rac: S [so/ten gui][noi dung]; cuoc goi rac: "
               "V [so][noi dung]; lua dao: LD [so][noi dung]; DK DNC; HUY DNC. Gui 5656.",
}
# Replies that name a source get at most this many of its characters (one SMS in all).
_SOURCE_IN_REPLY = 20


@dataclass(frozen=True)
class ShortcodeMessage:
    kind: str
    source: str | None
    content: str
    reply: str
    # Why a message was not understood (for staff and logs; the citizen gets the help reply).
    problem: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        d = asdict(self)
        d.pop("problem")
        return d


def _ascii_upper(s: str) -> str:
    s = s.replace("đ", "d").replace("Đ", "D")
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c)).upper()


# The command word, then an optional separator; no letter may follow it ("SPAM" is not "S"),
# but a bracket or a digit may ("S[0901..]", "S0901...").
_KEYWORD = re.compile(r"^\s*(LD|FW|S|V)(?![^\W\d_])\s*[:;,\-]?\s*", re.IGNORECASE)
_DNC = re.compile(r"^\s*(DK|DANGKY|DANG\s*KY|HUY)\s*[-_.:]?\s*DNC\s*[.!]*\s*$")
# A number at the start of the bare form: optional +, then digits with spaces/dots/dashes.
# It is the longest prefix of _NUMBER_RUN that is a whole phone number (`_leading_source`):
# the run also swallows content that starts with a figure.
_BARE_NUMBER = re.compile(r"^\s*(\+?\d[\d .\-]{1,18}\d|\d{3,5})(?=\s|$|[\[(])")
_NUMBER_RUN = re.compile(r"^\s*\+?\d[\d .\-]*")
_BARE_WORD = re.compile(r"^\s*([^\s\[\]()]+)")
_BRANDNAME = re.compile(r"^[A-Z0-9][A-Z0-9 ._&'-]{0,29}$")
_CLOSER = {"[": "]", "(": ")"}


def _unwrap(s: str) -> str:
    """Content without the one pair of brackets the syntax puts around it.

    Only an outer pair goes: "[[QC] Giam gia]" keeps its "[QC]", and "[QC] Giam gia" (no
    outer pair) is kept whole. A closing mark forgotten at the end is forgiven.
    """
    s = s.strip()
    if s[:1] in _CLOSER:
        closer = _CLOSER[s[0]]
        if s.endswith(closer):
            depth = 0
            for i, c in enumerate(s):
                depth += (c == s[0]) - (c == closer)
                if depth == 0:
                    if i == len(s) - 1:
                        return s[1:-1].strip()
                    break
        elif closer not in s:
            return s[1:].strip()
    return s


def _leading_source(rest: str) -> tuple[str, int] | None:
    """(source as written, where the content starts) at the start of the bare form.

    A number is the longest prefix, cut where a space, a bracket or the end follows a digit,
    that `normalize_phone` reads as one number: in "S 0901234567 50 trieu vay" the prefix
    "0901234567 50" is no number, so "50 trieu vay" stays content. When no prefix is a
    number, the greedy number match and then the first word are taken as they are, so the
    help reply can name what was written.
    """
    run = _NUMBER_RUN.match(rest)
    if run:
        for end in range(run.end(), 0, -1):
            follows = rest[end:end + 1]
            if rest[end - 1].isdigit() and (follows == "" or follows.isspace() or follows in "[(") \
                    and normalize_phone(rest[:end]) is not None:
                return rest[:end].strip(), end
    m = _BARE_NUMBER.match(rest) or _BARE_WORD.match(rest)
    return (m.group(1), m.end()) if m else None


def parse_source(raw: str) -> str | None:
    """A spam source as written by a citizen: number in national form, or brandname upper-cased."""
    raw = raw.strip().strip("[]() \t\"'")
    if not raw:
        return None
    number = normalize_phone(raw)
    if number is not None:
        return number
    if re.fullmatch(r"[+\d .\-()]+", raw):
        return None  # digits that make no number we know (too long, foreign): not a brandname
    name = re.sub(r"\s+", " ", _ascii_upper(raw))
    return name if _BRANDNAME.fullmatch(name) else None


def _split_source_content(rest: str) -> tuple[str | None, str, str | None]:
    """(source, content, problem) from the arguments of S / V / LD."""
    # "(+84) 912 345 678": the country code in parentheses is part of a bare number
    rest = re.sub(r"^\(\s*(\+?84)\s*\)\s*(?=\d)", r"\1 ", rest.strip())
    if rest[:1] in _CLOSER:
        close = rest.find(_CLOSER[rest[0]])
        if close < 0:  # "[0901234567 noi dung": the source is the first word
            found = _leading_source(rest[1:])
            source_raw, content = (found[0], rest[1 + found[1]:]) if found else ("", "")
        else:
            source_raw, content = rest[1:close], rest[close + 1:]
    else:
        found = _leading_source(rest)
        if not found:
            return None, "", "no source"
        source_raw, content = found[0], rest[found[1]:]
    source = parse_source(source_raw)
    content = _unwrap(content)
    if source is None:
        return None, content, f"source {source_raw!r} is neither a phone number nor a brandname"
    return source, content, None


def _reply(kind: str, source: str | None, ref: str | None) -> str:
    shown = (source or "")[:_SOURCE_IN_REPLY]
    return REPLIES[kind].format(source=shown, ref=f" (ma {ref})" if ref else "")


def parse(text: str, *, ref: str | None = None) -> ShortcodeMessage:
    """What an SMS to 5656 asks for. `ref` (a receipt code) is put into the reply when given."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    body = normalize(text)[: MAX_CONTENT + 200]

    def invalid(problem: str) -> ShortcodeMessage:
        return ShortcodeMessage("invalid", None, body[:MAX_CONTENT], _reply("invalid", None, None), problem)

    if not body:
        return invalid("empty message")
    dnc = _DNC.match(_ascii_upper(body))
    if dnc:
        kind = "dnc_cancel" if dnc.group(1) == "HUY" else "dnc_register"
        return ShortcodeMessage(kind, None, "", _reply(kind, None, ref))
    m = _KEYWORD.match(body)
    if not m:
        return invalid("no command word")
    keyword, rest = m.group(1).upper(), body[m.end():]
    if keyword == "FW":
        content = _unwrap(rest)
        if not content:
            return invalid("FW without the advertisement's content")
        return ShortcodeMessage("forward", None, content[:MAX_CONTENT], _reply("forward", None, ref))
    kinds = {"S": "sms_report", "V": "call_report", "LD": "scam_call_report"}
    if keyword not in kinds:
        return invalid(f"unknown command {m.group(1)!r}")
    kind = kinds[keyword]
    source, content, problem = _split_source_content(rest)
    if problem:
        return invalid(problem)
    if kind == "scam_call_report" and phone_kind(source or "") is None:
        return invalid(f"LD needs the caller's number, not {source!r}")
    return ShortcodeMessage(kind, source, content[:MAX_CONTENT], _reply(kind, source, ref))
