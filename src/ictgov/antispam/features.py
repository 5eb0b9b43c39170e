"""Features of SMS texts for the spam classifier, computed for a whole batch at once.

A message is seen three ways:

- the **raw** text (NFC): case, diacritics, punctuation and emoji, where English spam
  shouts ("FREE", "URGENT") and Vietnamese spam shows its marks or their absence;
- the **folded** text: `ictgov.text.fold` (no case, no diacritics, no punctuation) with
  the obfuscation undone as `ictgov.text.teencode_tokens` undoes it (runs of three or more
  single letters joined, "0"/"1" inside words read as letters, letters repeated three times
  or more kept once, units after numbers read one way, `ictgov.text.TEENCODE` words replaced
  by the standard word), and then **without spaces**, so "vay tiền", "v.a.y t.i.e.n",
  "V A Y  T I E N" and "vaytien" are the same characters;
- the **words** of the folded, de-obfuscated text (hashed like the n-grams);
- four explicit **signals**: a link, a phone number, a money amount, a [QC]/[AD] prefix.

Why batches: per-message Python work caps the speed (fold alone costs ~35 µs a message,
teencode_tokens ~300 µs, on the development machine). Here a batch is one string, messages
separated by "\\n": folding is one `str.translate` with a table compiled from `fold`
itself (`fold_many` equals `fold`), obfuscation is one regular expression over the batch
plus a cached rewrite of each distinct word, and character n-grams are hashed with numpy
over the code points of the whole batch.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ictgov.text import TEENCODE, fold

__all__ = ["SIGNALS", "Batch", "fold_many", "message_index", "ngram_buckets", "ngram_counts",
           "prepare", "word_buckets"]

SEP = "\n"
_SEP_CODE = ord(SEP)
# Characters that would split a message in two when batches are joined by "\n".
_LINE_BREAK = re.compile(r"[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def _join(texts: Sequence[str]) -> str:
    joined = SEP.join(texts)
    if joined.count(SEP) != len(texts) - 1 or "\r" in joined:
        # rare: a message with a line break inside; for the classifier it is a space
        joined = SEP.join(_LINE_BREAK.sub(" ", t) for t in texts)
    return joined


def _fold_char(code: int) -> str:
    """What `fold` makes of one character inside a word.

    `fold` treats each character alone (casefold, NFKD, marks dropped, ASCII letters, the rest
    a separator) and then merges separators; so the fold of a character between two letters
    says what it becomes: "aa" (dropped: a combining mark, a zero-width space), "a a" (a
    separator) or "a" + letters + "a". The message separator stays one.
    """
    return SEP if code == _SEP_CODE else fold("a" + chr(code) + "a")[1:-1]


class _FoldTable(dict):
    """`str.translate` table of `_fold_char`, filled on first sight (for the rare batch with a
    character that folds to several letters, "ß" -> "ss", "æ" -> "ae")."""

    def __missing__(self, code: int) -> str:
        value = self[code] = _fold_char(code)
        return value


_FOLD = _FoldTable()
# The same as one byte per code point, for numpy: the ASCII code it folds to, or one of:
_DROPPED, _SEVERAL, _UNSEEN = 0, 254, 255
_FOLD_BYTES = np.full(0x110000, _UNSEEN, dtype=np.uint8)


def _fold_codes(raw: str, codes: np.ndarray) -> str:
    """`fold` of a joined batch, character by character (separators not yet merged)."""
    folded = _FOLD_BYTES[codes]
    unseen = folded == _UNSEEN
    if unseen.any():
        for code in np.unique(codes[unseen]).tolist():
            value = _fold_char(code)
            _FOLD_BYTES[code] = (_DROPPED if not value else ord(value) if len(value) == 1
                                 else _SEVERAL)
        folded = _FOLD_BYTES[codes]
    if (folded == _SEVERAL).any():
        return raw.translate(_FOLD)
    return folded[folded != _DROPPED].tobytes().decode("ascii")


_SPACE_RUN = re.compile(r" {2,}")
_SPACE_AT_SEP = re.compile(r" *\n *")


def fold_many(texts: Sequence[str]) -> list[str]:
    """`fold` of each text (the same strings), computed in one pass over the batch."""
    if not texts:
        return []
    raw = _join(texts)
    folded = _SPACE_RUN.sub(" ", _fold_codes(raw, _codes(raw)))
    return _SPACE_AT_SEP.sub(SEP, folded).strip(" ").split(SEP)


# -- obfuscation undone on folded text -----------------------------------------------------------

# Three or more single letters in a row are one word written to dodge filters: "v a y",
# "v.a.y" (two are left alone: "a e", "u r" are words). Digits need no joining: the view
# drops spaces. The leading space (every message has one, see `_deobfuscated`) lets the
# search skip from space to space.
_SINGLE_RUN = re.compile(r" (?:[a-z] +){2,}[a-z](?![a-z0-9])")
# After a number these words are units: "5tr", "500k", "2 cu", "100d" (as teencode_tokens).
_UNITS = {"k": "nghin", "nghin": "nghin", "ngan": "nghin", "tr": "trieu", "trieu": "trieu",
          "cu": "trieu", "ty": "ty", "ti": "ty", "d": "dong", "dong": "dong", "vnd": "dong"}
_SPACED_UNIT = re.compile(r"\d +(?:" + "|".join(sorted(_UNITS, key=len, reverse=True))
                          + r")(?![a-z0-9])")
_NUMBER_UNIT = re.compile(r"(\d+)([a-z]+)")
_DIGIT_IN_WORD = re.compile(r"(?<=[a-z])[01]+(?=[a-z])|(?<=[a-z])0+$")
_REPEATS = re.compile(r"([a-z])\1{2,}")


def _digits_as_letters(m: re.Match[str]) -> str:
    digits = m.group(0)
    return "ll" if digits == "11" else digits.replace("0", "o").replace("1", "i")


def _rewrite_word(word: str) -> str:
    """One folded word as teencode_tokens reads it, spaces dropped ("k0" -> "khong")."""
    unit = _NUMBER_UNIT.fullmatch(word)
    if unit and unit.group(2) in _UNITS:
        return unit.group(1) + _UNITS[unit.group(2)]
    word = _DIGIT_IN_WORD.sub(_digits_as_letters, word)
    if len(set(word)) > 1:
        word = _REPEATS.sub(r"\1", word)
    return TEENCODE.get(word, word).replace(" ", "")


class _WordCache(dict):
    """Rewritten words, computed once each: a language repeats its words."""

    limit = 200_000  # numbers and codes are words too: bound the cache in a long-lived process

    def __missing__(self, word: str) -> str:
        if len(self) >= self.limit:
            self.clear()
            self.update({"": "", SEP: SEP})
        value = self[word] = _rewrite_word(word)
        return value


_WORDS = _WordCache({"": "", SEP: SEP})


def _glued(m: re.Match[str]) -> str:
    return " " + m.group(0).replace(" ", "")


def _deobfuscated(folded: str) -> list[str]:
    """The words of a folded batch (separators unmerged) with obfuscation undone; "\n" between
    messages and "" where spaces were doubled."""
    s = _SINGLE_RUN.sub(_glued, " " + folded.replace(SEP, " \n "))
    s = _SPACED_UNIT.sub(lambda m: m.group(0).replace(" ", ""), s)
    return list(map(_WORDS.__getitem__, s.split(" ")))


_NOT_A_WORD, _NEXT_MESSAGE = -2, -1


class _WordHashes(dict):
    """A stable 32-bit hash of each word (crc32: Python's own str hash differs per process)."""

    limit = 200_000

    def __missing__(self, word: str) -> int:
        if len(self) >= self.limit:
            self.clear()
            self.update({"": _NOT_A_WORD, SEP: _NEXT_MESSAGE})
        value = self[word] = zlib.crc32(word.encode("ascii"))
        return value


_WORD_HASHES = _WordHashes({"": _NOT_A_WORD, SEP: _NEXT_MESSAGE})


# -- explicit signals ------------------------------------------------------------------------------

# On the lower-cased raw text: without IGNORECASE the regular expression engine can skip
# ahead to the first character a match can start with (five times faster here).
_TLDS = ("vn|com|net|org|info|biz|io|co|cc|tv|xyz|top|online|site|shop|store|club|app|link|"
         "live|asia|tk|ml|ga|cf|gq|ws|gd|uk|vip|win|bet|fun|icu|cyou|buzz|sbs|cfd|click|life|"
         "news|pro")
_LINK = re.compile(r"https?://|www\.|\.(?:" + _TLDS + r")\b|\.(?:me|to|ly|us|in|gl)/")
# Eight digits or more, one space, dot or dash allowed between them ("0912.345.678",
# "0 9 1 2 3 4 5 6 7 8", "+84 91 234 5678", "08712460324").
_PHONE = re.compile(r"\d(?:[ .\-]?\d){7,12}(?!\d)")
# (Starting with one character class lets the engine skip to the next digit or currency sign.)
_MONEY = re.compile(r"[\d£$€¥₫](?:(?<=\d)(?:[.,]\d+)* ?(?:k|tr|triệu|trieu|củ|cu|đ|₫|vnđ|vnd|dong"
                    r"|đồng|usd|pounds?|tỷ|ty|nghìn|ngàn|nghin|ngan|p)(?![^\W\d_])|(?<=[£$€¥₫]) ?\d)")
# Decree 91/2020 makes advertisers start an ad SMS with [QC] or [AD].
_AD_PREFIX = re.compile(r"(?m)^[^\S\n]*[\[(<{] ?(?:qc|ad) ?[\])>}]")

SIGNALS = ("link", "phone", "money", "ad_prefix")
_SIGNAL_PATTERNS = (_LINK, _PHONE, _MONEY, _AD_PREFIX)


def _signals(lowered: str, starts: np.ndarray) -> np.ndarray:
    """Per message, 1.0 where each of `SIGNALS` occurs."""
    out = np.zeros((len(starts), len(SIGNALS)), dtype=np.float32)
    for column, pattern in enumerate(_SIGNAL_PATTERNS):
        positions = np.fromiter((m.start() for m in pattern.finditer(lowered)), dtype=np.int64)
        if len(positions):
            out[np.searchsorted(starts, positions, side="right") - 1, column] = 1.0
    return out


# -- hashed character n-grams ----------------------------------------------------------------------

# 32-bit arithmetic: half the memory traffic of 64-bit, and the buckets are 2**20 at most.
_PRIME = np.uint32(0x01000193)
_MIX = np.uint32(0x9E3779B1)
_SHIFT = np.uint32(15)


def _codes(joined: str) -> np.ndarray:
    return np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def ngram_buckets(codes: np.ndarray, ngram_range: tuple[int, int], bits: int, seed: int):
    """For each n of `ngram_range`: the bucket (0 .. 2**bits - 1) of the character n-gram
    starting at each position of a batch, and whether that n-gram lies inside one message.

    `codes` are the code points of the messages separated by "\n" (n-grams that contain a
    separator are not n-grams of any message). Yields (n, buckets, inside); both arrays have
    one entry per start position, ``len(codes) - n + 1``.
    """
    length = len(codes)
    index = np.arange(length, dtype=np.int32)
    # characters left in the message from each position: an n-gram starting there stays
    # inside when at least n are left
    next_sep = np.where(codes == _SEP_CODE, index, np.int32(length))
    room = np.minimum.accumulate(next_sep[::-1])[::-1] - index
    h = np.full(length, (seed * 0x9E3779B1 + 1) % 2**32, dtype=np.uint32)
    shift = np.uint32(32 - bits)
    low, high = ngram_range
    for n in range(1, min(high, length) + 1):
        h = h[:length - n + 1] * _PRIME + codes[n - 1:]
        if n >= low:
            yield n, ((h ^ (h >> _SHIFT)) * _MIX) >> shift, room[:length - n + 1] >= n


def word_buckets(hashes: np.ndarray, bits: int, seed: int) -> np.ndarray:
    """The bucket (0 .. 2**bits - 1) of each word hash of a batch."""
    h = hashes.astype(np.uint32) ^ np.uint32((seed * 0x9E3779B1) % 2**32)
    return ((h ^ (h >> _SHIFT)) * _MIX) >> np.uint32(32 - bits)


def message_index(codes: np.ndarray) -> np.ndarray:
    """The message each position of a batch belongs to (separators to the message before)."""
    return np.cumsum(codes == _SEP_CODE, dtype=np.int32) - (codes == _SEP_CODE)


def ngram_counts(lengths: np.ndarray, ngram_range: tuple[int, int]) -> np.ndarray:
    """How many character n-grams (n in `ngram_range`) messages of these lengths have."""
    low, high = ngram_range
    return sum(np.maximum(lengths - n + 1, 0) for n in range(low, high + 1))


@dataclass(frozen=True, slots=True)
class Batch:
    """The views of a batch of messages that the classifier reads."""

    n: int
    raw: np.ndarray  # code points of the NFC texts, "\n" between messages
    folded: np.ndarray  # code points of the folded, de-obfuscated texts without spaces
    raw_lengths: np.ndarray
    folded_lengths: np.ndarray
    word_hashes: np.ndarray  # crc32 of every folded, de-obfuscated word of the batch
    word_rows: np.ndarray  # the message of each of those words
    word_counts: np.ndarray  # words per message
    signals: np.ndarray  # (n, len(SIGNALS)) of 0.0 / 1.0


def _lengths(codes: np.ndarray) -> np.ndarray:
    """Length of each message of a batch of code points."""
    ends = np.append(np.flatnonzero(codes == _SEP_CODE), len(codes))
    return np.diff(ends, prepend=-1) - 1


def prepare(texts: Sequence[str]) -> Batch:
    """The raw, folded and signal views of a batch of messages (see the module docstring)."""
    n = len(texts)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Batch(0, empty, empty, empty, empty, empty, empty, empty,
                     np.zeros((0, len(SIGNALS)), np.float32))
    raw = unicodedata.normalize("NFC", _join(texts))
    raw_codes = _codes(raw)
    raw_lengths = _lengths(raw_codes)
    lowered = raw.lower()
    lowered_lengths = raw_lengths if len(lowered) == len(raw) else _lengths(_codes(lowered))
    starts = np.cumsum(lowered_lengths + 1) - lowered_lengths - 1
    words = _deobfuscated(_fold_codes(raw, raw_codes))
    folded_codes = _codes("".join(words))
    hashes = np.fromiter(map(_WORD_HASHES.__getitem__, words), dtype=np.int64, count=len(words))
    rows = np.cumsum(hashes == _NEXT_MESSAGE, dtype=np.int32)
    real = hashes >= 0
    word_rows = rows[real]
    return Batch(n, raw_codes, folded_codes, raw_lengths, _lengths(folded_codes),
                 hashes[real].astype(np.uint32), word_rows, np.bincount(word_rows, minlength=n),
                 _signals(lowered, starts))
