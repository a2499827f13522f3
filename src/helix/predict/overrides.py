"""Renewal overrides: a person puts one renewal in a forecast bucket, and says why.

Kept in the app store (``renewal_overrides``), audited, never deleted: the
latest override of an (account, renewal date) is the one in force. A reason
is always required; that is what lets a red account be called ``committed``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helix.errors import UserError
from helix.predict.forecast import BUCKETS, Override
from helix.store.audit import check_actor, record
from helix.store.models import RenewalOverride

__all__ = ["add_override", "list_overrides", "load_overrides"]

MAX_REASON = 2000


def add_override(
    session: Session, *, account_id: str, renewal_date: date, bucket: str, reason: str, actor: str
) -> dict[str, Any]:
    """Record ``bucket`` for the renewal of ``account_id`` on ``renewal_date``."""
    check_actor(actor)
    if bucket not in BUCKETS:
        raise UserError(f"unknown bucket {bucket!r}", hint=f"use one of: {', '.join(BUCKETS)}")
    text = (reason or "").strip()
    if not text:
        raise UserError(
            "an override needs a reason", hint="say why, e.g. --reason 'PO signed 3 May'"
        )
    if len(text) > MAX_REASON:
        raise UserError(f"the reason is longer than {MAX_REASON} characters")
    if not account_id or len(account_id) > 255:
        raise UserError(f"not an account id: {account_id!r}")
    row = RenewalOverride(
        account_id=account_id, renewal_date=renewal_date, bucket=bucket, reason=text, actor=actor
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action="renewal.override",
        target_type="renewal",
        target_id=f"{account_id}@{renewal_date.isoformat()}",
        detail={"bucket": bucket, "reason": text},
    )
    return row.to_dict()


def list_overrides(session: Session, account_id: str | None = None) -> list[Override]:
    """Every override, oldest first (of one account when ``account_id`` is given)."""
    q = select(RenewalOverride).order_by(RenewalOverride.created_at, RenewalOverride.id)
    if account_id is not None:
        q = q.where(RenewalOverride.account_id == account_id)
    return [
        Override(r.account_id, r.renewal_date, r.bucket, r.reason, r.actor, r.created_at)
        for r in session.scalars(q)
    ]


def load_overrides(settings: Any) -> list[Override]:
    """Every override in the app store of ``settings`` (for pipeline stages)."""
    from helix.store import open_store

    store = open_store(settings.database_url)
    try:
        with store.session() as session:
            return list_overrides(session)
    finally:
        store.close()
