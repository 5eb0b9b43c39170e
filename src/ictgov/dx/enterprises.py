"""Enterprises taking the self-assessment: registration, profile, the tax code.

An enterprise is known by its tax code (mã số thuế), which is also its enterprise
registration number: 10 digits, the 10th a check digit over the first nine; a branch or
dependent unit adds a dash and 3 digits (``0100233488-001``). The check digit is
10 − (Σ wᵢ·dᵢ mod 11) with weights 31, 29, 23, 19, 17, 13, 7, 5, 3 (a sum whose remainder
is 0 gives 10, so no valid code has it). A user of role ``enterprise`` is bound to one
enterprise by ``users.enterprise_ref`` = the normalised tax code.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ictgov.audit import record
from ictgov.db import utcnow
from ictgov.dx.models import SECTORS, SIZE_CLASSES, Enterprise

MAX_EMPLOYEES = 1_000_000
_WEIGHTS = (31, 29, 23, 19, 17, 13, 7, 5, 3)
_SEPARATORS = re.compile(r"[\s.\-]")


class EnterpriseError(ValueError):
    """A registration or profile that cannot be saved; ``errors`` maps each field to why."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def check_digit(first_nine: str) -> int:
    """The 10th digit of a tax code whose first nine digits are given (10 means none is valid)."""
    return 10 - sum(w * int(d) for w, d in zip(_WEIGHTS, first_nine, strict=True)) % 11


def normalise_tax_code(text: str) -> str:
    """'0100 233 488' -> '0100233488'; '0100233488001' -> '0100233488-001'; else ValueError."""
    digits = _SEPARATORS.sub("", str(text or ""))
    if not digits:
        raise ValueError("required")
    if not digits.isdigit() or len(digits) not in (10, 13):
        raise ValueError(f"{text!r} is not a tax code: 10 digits, or 13 for a branch (0100233488-001)")
    if digits[2:9] == "0000000" or (len(digits) == 13 and digits[10:] == "000"):
        raise ValueError(f"{text!r} is not a tax code: its sequence number is all zeros")
    if check_digit(digits[:9]) != int(digits[9]):
        raise ValueError(f"{text!r} is not a tax code: the check digit (10th) does not match; "
                         "look for a mistyped digit")
    return digits if len(digits) == 10 else f"{digits[:10]}-{digits[10:]}"


def _clean(session: Session, data: dict[str, Any], *, tax_code_fixed: str | None = None) -> dict[str, Any]:
    from ictgov.stats.areas import find_area_by_code

    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    try:
        out["tax_code"] = normalise_tax_code(tax_code_fixed or data.get("tax_code", ""))
    except ValueError as exc:
        errors["tax_code"] = str(exc)
    name = " ".join(str(data.get("name") or "").split())
    if not name or len(name) > 300:
        errors["name"] = "required, at most 300 characters"
    out["name"] = name
    sector = str(data.get("sector") or "")
    if sector not in SECTORS:
        errors["sector"] = f"one of {', '.join(SECTORS)}"
    out["sector"] = sector
    size = str(data.get("size_class") or "")
    if size not in SIZE_CLASSES:
        errors["size_class"] = f"one of {', '.join(SIZE_CLASSES)}"
    out["size_class"] = size
    province = str(data.get("province_code") or "").strip()
    area = find_area_by_code(session, province, level="province") if province else None
    if area is None:
        errors["province_code"] = f"no province in force with code {province!r}" if province else "required"
    else:
        out["province_code"] = area.code
    # Staff head count: optional (older profiles lack it), but the SME programme's free period
    # is only offered once it is known, so it is checked when given.
    staff = str(data.get("employees") if data.get("employees") is not None else "").strip()
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", staff):  # 1.500 as Vietnamese write it
        staff = re.sub(r"[.,]", "", staff)
    out["employees"] = None
    if staff:
        if not staff.isdigit() or not 1 <= int(staff) <= MAX_EMPLOYEES:
            errors["employees"] = f"a whole number of staff from 1 to {MAX_EMPLOYEES:,}"
        else:
            out["employees"] = int(staff)
    if errors:
        raise EnterpriseError(errors)
    return out


def public_dict(e: Enterprise) -> dict[str, Any]:
    return {"tax_code": e.tax_code, "name": e.name, "sector": e.sector, "size_class": e.size_class,
            "province_code": e.province_code, "employees": e.employees}


def by_tax_code(session: Session, tax_code: str | None) -> Enterprise | None:
    if not tax_code:
        return None
    try:
        code = normalise_tax_code(tax_code)
    except ValueError:
        return None
    return session.scalar(select(Enterprise).where(Enterprise.tax_code == code))


def of_user(session: Session, user) -> Enterprise | None:
    """The enterprise a user of role enterprise is bound to, once it is registered."""
    return by_tax_code(session, getattr(user, "enterprise_ref", None))


def register(session: Session, data: dict[str, Any], actor=None, *, tax_code: str | None = None) -> Enterprise:
    """Create an enterprise. ``tax_code`` fixes the code (an enterprise user's own binding)."""
    clean = _clean(session, data, tax_code_fixed=tax_code)
    if by_tax_code(session, clean["tax_code"]) is not None:
        raise EnterpriseError({"tax_code": f"{clean['tax_code']} is already registered"})
    e = Enterprise(**clean, created_by_id=getattr(actor, "id", None))
    session.add(e)
    session.flush()
    record(session, actor, "register", "dx_enterprise", e.id, after=public_dict(e))
    return e


def update(session: Session, enterprise: Enterprise, data: dict[str, Any], actor=None) -> Enterprise:
    """Change the profile (name, sector, size, province, staff); the tax code never changes."""
    clean = _clean(session, data, tax_code_fixed=enterprise.tax_code)
    before = public_dict(enterprise)
    for k in ("name", "sector", "size_class", "province_code", "employees"):
        setattr(enterprise, k, clean[k])
    after = public_dict(enterprise)
    if after != before:
        enterprise.updated_at = utcnow()
        record(session, actor, "update", "dx_enterprise", enterprise.id, before=before, after=after)
    return enterprise
