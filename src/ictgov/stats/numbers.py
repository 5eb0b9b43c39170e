"""Reading numbers as ministry files write them.

English notation (the default): "3063606", "3,063,606", "20.11". Vietnamese notation, when
the file says so: "3.063.606", "20,11". A value that only makes sense in the other notation
is an error that says which notation was assumed — never a silent misreading: "3.063" in
English notation is three, in Vietnamese three thousand and sixty-three.
"""

from __future__ import annotations

import re

NUMBER_FORMATS = ("en", "vi")

_PLAIN = re.compile(r"^[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$")
_EN_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_VI_PLAIN = re.compile(r"^[+-]?\d+(?:,\d+)?$")
_VI_GROUPED = re.compile(r"^[+-]?\d{1,3}(?:\.\d{3})+(?:,\d+)?$")


class NumberError(ValueError):
    pass


def parse_number(text: str | float | int, number_format: str = "en") -> float:
    if isinstance(text, bool):
        raise NumberError(f"{text!r} is not a number")
    if isinstance(text, (int, float)):
        return float(text)
    s = str(text).strip().replace("\u00a0", "").replace(" ", "")
    if not s:
        raise NumberError("empty; a number is required")
    if number_format == "vi":
        if _VI_GROUPED.match(s):
            return float(s.replace(".", "").replace(",", "."))
        if _VI_PLAIN.match(s):
            return float(s.replace(",", "."))
        raise NumberError(f"{text!r} is not a number in Vietnamese notation (1.234.567,89)")
    if _PLAIN.match(s):
        return float(s)
    if _EN_GROUPED.match(s):
        return float(s.replace(",", ""))
    hint = ""
    if _VI_GROUPED.match(s) or _VI_PLAIN.match(s):
        hint = "; if the file uses Vietnamese notation (1.234.567,89), import it with number_format=vi"
    raise NumberError(f"{text!r} is not a number{hint}")
