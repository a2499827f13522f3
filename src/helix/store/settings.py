"""Organisation settings: string keys with JSON values, every change audited."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helix.errors import UserError
from helix.store.audit import check_actor, record
from helix.store.models import Setting

__all__ = ["get_setting", "set_setting", "all_settings", "masked"]

_KEY = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,99}$")
_SECRET_WORDS = ("secret", "password", "token", "api_key")


def _check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.match(key):
        raise UserError(
            f"not a setting key: {key!r}",
            hint="use lower-case letters, digits, '.', '_' or '-' (e.g. health.weights)",
        )
    return key


def masked(key: str, value: Any) -> Any:
    """What the audit log keeps of a value: secrets are masked."""
    if value is not None and any(word in key for word in _SECRET_WORDS):
        return "***"
    return value


def get_setting(session: Session, key: str, default: Any = None) -> Any:
    """The value of ``key``, or ``default`` when it was never set."""
    row = session.get(Setting, key)
    return default if row is None else row.value


def set_setting(session: Session, key: str, value: Any, actor: str) -> Setting:
    """Set ``key`` to ``value`` (any JSON-serialisable value)."""
    actor = check_actor(actor)
    _check_key(key)
    row = session.get(Setting, key)
    old = row.value if row is not None else None
    if row is None:
        row = Setting(key=key, value=value, updated_by=actor)
        session.add(row)
    else:
        row.value = value
        row.updated_by = actor
    session.flush()
    record(
        session,
        actor=actor,
        action="setting.set",
        target_type="setting",
        target_id=key,
        detail={"from": masked(key, old), "to": masked(key, value)},
    )
    return row


def all_settings(session: Session) -> dict[str, Any]:
    """Every setting as ``{key: value}``, sorted by key."""
    return dict(session.execute(select(Setting.key, Setting.value).order_by(Setting.key)).all())
