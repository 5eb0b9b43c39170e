"""Which operator a Vietnamese number belongs to, from its prefix (``data/prefixes.csv``).

The prefix names the network that issued the number (see ``data/SOURCES.md`` for the
sources and the caveat about ported numbers). Operator codes are the reporting units of
``ictgov/data/areas/reporting_units.csv`` (VIETTEL, VINAPHONE, MOBIFONE ...).
"""

from __future__ import annotations

import csv
import functools
from pathlib import Path

from ictgov.text import normalize_phone, phone_kind

PREFIXES_FILE = Path(__file__).parent / "data" / "prefixes.csv"
OPERATOR_NAMES = {
    "VIETTEL": "Viettel", "VINAPHONE": "VNPT-VinaPhone", "MOBIFONE": "MobiFone",
    "VIETNAMOBILE": "Vietnamobile", "GMOBILE": "Gmobile", "ITEL": "Itel", "REDDI": "Reddi",
}


@functools.cache
def prefixes() -> dict[str, str]:
    """Prefix (three digits, national form) -> operator code."""
    with open(PREFIXES_FILE, encoding="utf-8", newline="") as fh:
        return {row["prefix"]: row["operator_code"] for row in csv.DictReader(fh)}


def operators() -> list[str]:
    """The operator codes that hold at least one prefix, in the file's order."""
    return list(dict.fromkeys(prefixes().values()))


def operator_of(number: str | None) -> str | None:
    """The operator code of a mobile number in any usual spelling; None for a landline, a
    service number, a brandname, or a prefix no operator is known to hold."""
    if not number:
        return None
    national = normalize_phone(number)
    if national is None or phone_kind(national) != "mobile":
        return None
    return prefixes().get(national[:3])


def code_of(name: str | None) -> str | None:
    """An operator code from what a records file writes ("viettel", "Viettel", "VIETTEL")."""
    if not name:
        return None
    key = str(name).strip().upper().replace("-", "").replace(" ", "")
    aliases = {"VNPTVINAPHONE": "VINAPHONE", "VNPT": "VINAPHONE", "ITELECOM": "ITEL"}
    key = aliases.get(key, key)
    return key if key in OPERATOR_NAMES else None
