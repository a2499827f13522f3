"""The audit log: every write to the app store records who did what, in the same transaction.

Actors are strings: a user's email, ``'system'``, ``'key:<id>'`` for an API key,
or ``'cli:<os user>'`` for the command line.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helix.errors import UserError
from helix.store.models import ACTOR_LENGTH, AuditLog

__all__ = ["record", "recent", "SYSTEM_ACTOR"]

SYSTEM_ACTOR = "system"


def check_actor(actor: str) -> str:
    """Return ``actor`` if it is a usable audit actor, else raise :class:`UserError`."""
    if not isinstance(actor, str) or not actor.strip():
        raise UserError("every write needs an actor for the audit log")
    if len(actor) > ACTOR_LENGTH:
        raise UserError(f"actor is longer than {ACTOR_LENGTH} characters")
    return actor.strip()


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: str | int | None,
    detail: dict[str, Any] | None = None,
) -> AuditLog:
    """Add one audit row to ``session`` (committed with the caller's transaction).

    ``detail`` must never hold secrets (passwords, key plaintext).
    """
    entry = AuditLog(
        actor=check_actor(actor),
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        detail=detail,
    )
    session.add(entry)
    return entry


def recent(
    session: Session,
    limit: int = 100,
    *,
    action: str | None = None,
    target_type: str | None = None,
    target_id: str | int | None = None,
) -> list[AuditLog]:
    """The latest audit rows, newest first, optionally filtered by action or target."""
    query = select(AuditLog)
    if action is not None:
        query = query.where(AuditLog.action == action)
    if target_type is not None:
        query = query.where(AuditLog.target_type == target_type)
    if target_id is not None:
        query = query.where(AuditLog.target_id == str(target_id))
    query = query.order_by(AuditLog.id.desc()).limit(max(0, limit))
    return list(session.scalars(query))
