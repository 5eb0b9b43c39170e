"""Accounts: users with one role each, Argon2 password hashes, API tokens for machines."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, joinedload, mapped_column, relationship

from ictgov.db import Base, utcnow


class Role(str, enum.Enum):
    admin = "admin"
    analyst = "analyst"
    province_officer = "province_officer"
    fact_checker = "fact_checker"
    hotline_agent = "hotline_agent"
    operator = "operator"
    enterprise = "enterprise"
    # dx, press and SMEdx (issue 7)
    press_agency = "press_agency"  # a press agency assessing its own digital maturity
    appraiser = "appraiser"  # a member of the appraisal council that reviews and certifies
    provider = "provider"  # a Vietnamese platform provider in the SME programme (its tax code)


# Roles that act for one organisation must name it; the others must not.
BOUND_TO = {
    Role.province_officer: "province_code",
    Role.operator: "operator_code",
    Role.enterprise: "enterprise_ref",
    Role.press_agency: "agency_ref",
    # A provider is an enterprise, known by its tax code like any other.
    Role.provider: "enterprise_ref",
}


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32))
    province_code: Mapped[str | None] = mapped_column(String(16))
    operator_code: Mapped[str | None] = mapped_column(String(32))
    enterprise_ref: Mapped[str | None] = mapped_column(String(32))
    agency_ref: Mapped[str | None] = mapped_column(String(32))
    is_active: Mapped[bool] = mapped_column(default=True)
    lang: Mapped[str] = mapped_column(String(2), default="vi")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def role_enum(self) -> Role:
        return Role(self.role)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    # Only a SHA-256 of the token is stored: a leaked database does not leak working tokens.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


_hasher = PasswordHasher()


class AccountError(ValueError):
    """A user or token request that cannot be honoured; the message names the field."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(
    session: Session,
    username: str,
    password: str,
    role: Role | str,
    *,
    full_name: str = "",
    email: str | None = None,
    province_code: str | None = None,
    operator_code: str | None = None,
    enterprise_ref: str | None = None,
    agency_ref: str | None = None,
    actor: User | None = None,
) -> User:
    from ictgov.audit import record

    try:
        role = Role(role)
    except ValueError:
        raise AccountError(
            f"role: unknown role {role!r}; one of {', '.join(r.value for r in Role)}"
        ) from None
    username = username.strip()
    if not username or len(username) > 80:
        raise AccountError("username: required, at most 80 characters")
    if len(password) < 8:
        raise AccountError("password: at least 8 characters")
    if session.scalar(select(User).where(User.username == username)):
        raise AccountError(f"username: {username!r} is taken")
    bindings = {
        "province_code": province_code,
        "operator_code": operator_code,
        "enterprise_ref": enterprise_ref,
        "agency_ref": agency_ref,
    }
    needed = BOUND_TO.get(role)
    for field, value in bindings.items():
        if field == needed and not value:
            raise AccountError(f"{field}: required for role {role.value}")
        if field != needed and value:
            raise AccountError(f"{field}: only for role {_role_for(field)}")
    if province_code:
        from ictgov.stats.areas import find_area_by_code

        if find_area_by_code(session, province_code, level="province") is None:
            raise AccountError(f"province_code: no province with code {province_code!r}")
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role.value,
        full_name=full_name,
        email=email,
        **bindings,
    )
    session.add(user)
    session.flush()
    record(session, actor, "create", "user", user.id, after=user_public_dict(user))
    return user


def _role_for(field: str) -> str:
    return " or ".join(r.value for r, f in BOUND_TO.items() if f == field)


def user_public_dict(user: User) -> dict:
    return {
        "username": user.username,
        "role": user.role,
        "province_code": user.province_code,
        "operator_code": user.operator_code,
        "enterprise_ref": user.enterprise_ref,
        "agency_ref": user.agency_ref,
        "is_active": user.is_active,
    }


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_active:
        # Hash anyway so an unknown username costs as much time as a wrong password.
        _hasher.hash(password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def token_digest(token: str) -> str:
    """How a token is stored and looked up: never in clear."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, name: str, actor: User | None = None) -> str:
    """Create an API token; the clear token is returned once and never stored."""
    from ictgov.audit import record

    token = "ictg_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name, token_hash=token_digest(token), prefix=token[:12])
    session.add(row)
    session.flush()
    record(session, actor or user, "create", "api_token", row.id, after={"name": name, "user": user.username})
    return token


TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def user_for_token(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).options(joinedload(ApiToken.user))
                         .where(ApiToken.token_hash == token_digest(token)))
    if row is None or row.revoked_at is not None or not row.user.is_active:
        return None
    # To the minute: a partner's gateway posting hundreds of reports a second would otherwise
    # turn every request, reads included, into one more write on the same row.
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= TOKEN_USE_RESOLUTION:
        row.last_used_at = now
    return row.user
