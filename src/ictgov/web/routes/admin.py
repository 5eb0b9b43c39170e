"""Administration: accounts, API tokens, and the audit log.

Every change made here is written to the audit log in the same transaction as the change.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ictgov.audit import AuditEntry, entries, record
from ictgov.auth import (
    BOUND_TO,
    AccountError,
    ApiToken,
    Role,
    User,
    create_user,
    issue_token,
    user_public_dict,
)
from ictgov.db import utcnow
from ictgov.web import i18n
from ictgov.web.deps import SessionDep, flash, forget_tokens, get_lang, render, require

router = APIRouter(prefix="/admin", tags=["admin"])

Admin = Annotated[User, require("users.manage")]
Auditor = Annotated[User, require("audit.read")]

USER_FIELDS = ("username", "full_name", "email", "role", "province_code", "operator_code",
               "enterprise_ref", "agency_ref")
BINDING_FIELDS = tuple(BOUND_TO.values())


def _users(db: Session) -> list[User]:
    return list(db.scalars(select(User).options(selectinload(User.tokens)).order_by(User.username)))


def _provinces(db: Session) -> list[tuple[str, str]]:
    """Current provinces (code, name) for the form's suggestions; empty before data is loaded."""
    from ictgov.stats.models import Area

    rows = db.execute(
        select(Area.code, Area.name).where(Area.level == "province", Area.valid_to.is_(None))
        .order_by(Area.sort_order, Area.code)
    )
    return [(code, name) for code, name in rows]


def _users_page(request: Request, db: Session, *, values: dict | None = None,
                errors: dict[str, str] | None = None, new_token: dict | None = None,
                status_code: int = 200) -> Response:
    headers = {"Cache-Control": "no-store"} if new_token else None
    return render(request, "admin_users.html", {
        "users": _users(db),
        "roles": [r.value for r in Role],
        "bound_to": {r.value: f for r, f in BOUND_TO.items()},
        "binding_fields": BINDING_FIELDS,
        "provinces": _provinces(db),
        "values": values or {},
        "errors": errors or {},
        "new_token": new_token,
    }, status_code=status_code, headers=headers)


# AccountError messages from ictgov.auth are "field: English text"; show them in the page's
# language, and fall back to the English text for a message not listed here.
_ACCOUNT_MESSAGES = [
    (re.compile(r"unknown role"), "account.role_unknown", lambda m: {}),
    (re.compile(r"required, at most"), "account.username_invalid", lambda m: {}),
    (re.compile(r"'(?P<value>.*)' is taken"), "account.username_taken",
     lambda m: {"value": m["value"]}),
    (re.compile(r"at least 8"), "account.password_short", lambda m: {}),
    (re.compile(r"required for role (?P<role>\w+)"), "account.binding_required",
     lambda m: {"role": m["role"]}),
    (re.compile(r"only for role (?P<role>\w+(?: or \w+)*)"), "account.binding_forbidden",
     lambda m: {"role": m["role"]}),
    (re.compile(r"no province with code '(?P<value>.*)'"), "account.no_province",
     lambda m: {"value": m["value"]}),
]


def account_error(exc: AccountError, lang: str) -> tuple[str, str]:
    """(field, message in `lang`) for an AccountError."""
    field, sep, text = str(exc).partition(": ")
    if not sep:
        field, text = "username", str(exc)
    for pattern, key, kw in _ACCOUNT_MESSAGES:
        m = pattern.search(text)
        if m:
            args = kw(m)
            if "role" in args:
                args["role"] = " / ".join(i18n.t(f"role.{r}", lang) if i18n.has(f"role.{r}") else r
                                          for r in args["role"].split(" or "))
            return field, i18n.t(key, lang, **args)
    return field, text


@router.get("")
def admin_home(_: Admin) -> Response:
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/users")
def users_page(request: Request, db: SessionDep, _: Admin) -> Response:
    return _users_page(request, db)


@router.post("/users")
def users_create(
    request: Request,
    db: SessionDep,
    admin: Admin,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    role: Annotated[str, Form(max_length=40)] = "",
    full_name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=200)] = "",
    province_code: Annotated[str, Form(max_length=16)] = "",
    operator_code: Annotated[str, Form(max_length=32)] = "",
    enterprise_ref: Annotated[str, Form(max_length=32)] = "",
    agency_ref: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    values = {"username": username, "role": role, "full_name": full_name, "email": email,
              "province_code": province_code, "operator_code": operator_code,
              "enterprise_ref": enterprise_ref, "agency_ref": agency_ref}
    try:
        user = create_user(
            db, username, password, role,
            full_name=full_name.strip(),
            email=email.strip() or None,
            province_code=province_code.strip() or None,
            operator_code=operator_code.strip() or None,
            enterprise_ref=enterprise_ref.strip() or None,
            agency_ref=agency_ref.strip() or None,
            actor=admin,
        )
    except AccountError as exc:
        field, text = account_error(exc, get_lang(request))
        return _users_page(request, db, values=values, errors={field: text}, status_code=422)
    flash(request, "admin.users.created", "success", username=user.username)
    return RedirectResponse("/admin/users", status_code=303)


def _user_or_404(db: Session, user_id: int) -> User:
    user = db.get(User, user_id)
    if user is None:
        raise HTTPException(404, "admin.users.not_found")
    return user


def _set_active(request: Request, db: Session, admin: User, user_id: int, active: bool) -> Response:
    user = _user_or_404(db, user_id)
    if not active and user.id == admin.id:
        flash(request, "admin.users.not_self", "error")
        return RedirectResponse("/admin/users", status_code=303)
    if user.is_active != active:
        before = user_public_dict(user)
        user.is_active = active
        db.flush()
        forget_tokens(request.app)  # a deactivated user's tokens stop working here at once
        record(db, admin, "activate" if active else "deactivate", "user", user.id,
               before=before, after=user_public_dict(user))
    flash(request, "admin.users.activated" if active else "admin.users.deactivated", "success",
          username=user.username)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/users/{user_id}/deactivate")
def users_deactivate(request: Request, db: SessionDep, admin: Admin, user_id: int) -> Response:
    return _set_active(request, db, admin, user_id, False)


@router.post("/users/{user_id}/activate")
def users_activate(request: Request, db: SessionDep, admin: Admin, user_id: int) -> Response:
    return _set_active(request, db, admin, user_id, True)


@router.post("/users/{user_id}/tokens")
def tokens_issue(
    request: Request,
    db: SessionDep,
    admin: Admin,
    user_id: int,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    user = _user_or_404(db, user_id)
    name = name.strip()
    if not name or len(name) > 100:
        lang = get_lang(request)
        return _users_page(request, db, errors={f"token_name_{user.id}": i18n.t(
            "admin.tokens.name_required", lang)}, status_code=422)
    token = issue_token(db, user, name, actor=admin)  # writes its own audit entry
    db.flush()
    # Shown in this response only (never stored in clear, never put in the session cookie).
    return _users_page(request, db, new_token={"username": user.username, "token": token,
                                               "name": name})


@router.post("/tokens/{token_id}/revoke")
def tokens_revoke(request: Request, db: SessionDep, admin: Admin, token_id: int) -> Response:
    row = db.get(ApiToken, token_id)
    if row is None:
        raise HTTPException(404, "admin.tokens.not_found")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        forget_tokens(request.app)
        record(db, admin, "revoke", "api_token", row.id,
               before={"name": row.name, "user": row.user.username, "revoked": False},
               after={"name": row.name, "user": row.user.username, "revoked": True})
    flash(request, "admin.tokens.revoked", "success", prefix=row.prefix)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/audit")
def audit_page(
    request: Request,
    db: SessionDep,
    _: Auditor,
    entity: Annotated[str, Query(max_length=40)] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> Response:
    known = sorted(db.scalars(select(AuditEntry.entity).distinct()))
    rows = entries(db, entity=entity or None, limit=limit)
    return render(request, "admin_audit.html",
                  {"entries": rows, "entities": known, "entity": entity, "limit": limit})
