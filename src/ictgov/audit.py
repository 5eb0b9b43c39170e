"""The audit log: every change of state, who made it, when, and what it was before and after."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, String, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from ictgov.db import Base, utcnow

if TYPE_CHECKING:
    from ictgov.auth import User


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int | None]
    actor: Mapped[str] = mapped_column(String(80), default="system")
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40), index=True)
    entity_id: Mapped[str] = mapped_column(String(80))
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)


def record(
    session: Session,
    actor: User | None,
    action: str,
    entity: str,
    entity_id: Any,
    *,
    before: Any = None,
    after: Any = None,
) -> AuditEntry:
    """Add an audit entry in the caller's transaction, so it commits or rolls back with the change."""
    entry = AuditEntry(
        actor_id=actor.id if actor is not None else None,
        actor=actor.username if actor is not None else "system",
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        before=before,
        after=after,
    )
    session.add(entry)
    return entry


def record_many(session: Session, actor: User | None, action: str, entity: str,
                changes: list[tuple[Any, Any]]) -> None:
    """Add one audit entry per (entity_id, after) of `changes`, like `record`, in one statement.

    For many changes of one kind at once (the tipline intake stores reports by the dozen): the
    entries are inserted as rows, not built as objects the session must track, which cost
    more than the insert itself."""
    if not changes:
        return
    actor_id = actor.id if actor is not None else None
    actor_name = actor.username if actor is not None else "system"
    session.execute(insert(AuditEntry), [
        {"actor_id": actor_id, "actor": actor_name, "action": action, "entity": entity,
         "entity_id": str(entity_id), "before": None, "after": after}
        for entity_id, after in changes])


def entries(session: Session, entity: str | None = None, limit: int = 200) -> list[AuditEntry]:
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if entity:
        q = q.where(AuditEntry.entity == entity)
    return list(session.scalars(q))
