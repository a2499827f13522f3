"""Who owns which account: synced in bulk from imports, overridden by hand.

Rows with ``source='import'`` follow the latest import; a manual assignment
(``source='manual'``) is never overwritten by an import.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from helix.errors import UserError
from helix.store.audit import check_actor, record
from helix.store.models import AccountAssignment, AssignmentSource, User, utcnow
from helix.store.users import normalize_email

__all__ = ["sync_from_import", "assign", "get_assignment", "owner_of", "accounts_of"]

_CHUNK = 500  # rows per IN (...) list or executemany batch; well under every bind limit
_table = cast(Table, AccountAssignment.__table__)


def _chunks(items: list[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def _check_account_id(account_id: str) -> str:
    """``account_id`` unchanged (it is the warehouse's key), if it is usable."""
    value = account_id if isinstance(account_id, str) else ""
    if not value.strip():
        raise UserError(f"not an account id: {account_id!r}")
    if len(value) > 255:
        raise UserError(f"account id longer than 255 characters: {value[:40]}...")
    return value


def _user_id_of(session: Session, email: str) -> int | None:
    return session.scalar(select(User.id).where(User.email == email))


def _user_ids(session: Session) -> dict[str, int]:
    return dict(session.execute(select(User.email, User.id)).all())


def sync_from_import(session: Session, pairs: Iterable[tuple[str, str | None]], actor: str) -> int:
    """Make import-sourced owners match ``(account_id, owner_email)`` pairs from an import.

    A pair with no (or a blank) owner clears the account's import-sourced
    assignment. Manual assignments and accounts absent from ``pairs`` are left
    alone; when an account appears twice the last pair wins. Imported data is
    not trusted to be clean: a pair whose account id is blank or too long, or
    whose owner is not a plausible email, is skipped (the account keeps its
    current owner) and counted as ``skipped`` in the audit detail. Works in
    bulk (a handful of statements per 500 changed rows). Returns how many
    assignments were created, changed or cleared; one audit row summarises the
    sync.
    """
    actor = check_actor(actor)
    wanted: dict[str, str | None] = {}
    skipped = 0
    for account_id, owner in pairs:
        try:
            account = _check_account_id(account_id)
            wanted[account] = normalize_email(owner) if owner and owner.strip() else None
        except UserError:
            skipped += 1
    if not wanted and not skipped:
        return 0

    existing = {
        row.account_id: row
        for row in session.execute(
            select(_table.c.account_id, _table.c.owner_email, _table.c.user_id, _table.c.source)
        )
    }
    user_ids = _user_ids(session)
    now = utcnow()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    clears: list[str] = []
    manual_kept = 0
    for account_id, owner in wanted.items():
        current = existing.get(account_id)
        if current is not None and current.source == AssignmentSource.MANUAL:
            manual_kept += 1
            continue
        if owner is None:
            if current is not None:
                clears.append(account_id)
            continue
        user_id = user_ids.get(owner)
        if current is None:
            inserts.append(
                {
                    "account_id": account_id,
                    "owner_email": owner,
                    "user_id": user_id,
                    "assigned_at": now,
                    "source": AssignmentSource.IMPORT,
                }
            )
        elif current.owner_email != owner or current.user_id != user_id:
            updates.append({"b_account_id": account_id, "b_owner": owner, "b_user_id": user_id})

    for batch in _chunks(inserts):
        session.execute(insert(_table), batch)
    if updates:
        stmt = (
            update(_table)
            .where(_table.c.account_id == bindparam("b_account_id"))
            .values(
                owner_email=bindparam("b_owner"), user_id=bindparam("b_user_id"), assigned_at=now
            )
        )
        for batch in _chunks(updates):
            session.connection().execute(stmt, batch)
    for batch in _chunks(clears):
        session.execute(delete(_table).where(_table.c.account_id.in_(batch)))

    changed = len(inserts) + len(updates) + len(clears)
    if changed:
        # rows loaded earlier in this session no longer match the table
        for obj in list(session.identity_map.values()):
            if isinstance(obj, AccountAssignment):
                session.expire(obj)
    record(
        session,
        actor=actor,
        action="assignment.sync",
        target_type="account_assignment",
        target_id=None,
        detail={
            "accounts": len(wanted),
            "created": len(inserts),
            "changed": len(updates),
            "cleared": len(clears),
            "manual_kept": manual_kept,
            "skipped": skipped,
        },
    )
    return changed


def get_assignment(session: Session, account_id: str) -> AccountAssignment | None:
    """The assignment of ``account_id``, or ``None`` when nobody owns it."""
    return session.get(AccountAssignment, account_id)


def assign(session: Session, account_id: str, owner_email: str, actor: str) -> AccountAssignment:
    """Assign an account by hand; later imports will not change it."""
    actor = check_actor(actor)
    account = _check_account_id(account_id)
    owner = normalize_email(owner_email)
    user_id = _user_id_of(session, owner)
    row = session.get(AccountAssignment, account)
    previous = row.owner_email if row is not None else None
    if row is None:
        row = AccountAssignment(account_id=account, owner_email=owner)
        session.add(row)
    row.owner_email = owner
    row.user_id = user_id
    row.source = AssignmentSource.MANUAL
    row.assigned_at = utcnow()
    session.flush()
    record(
        session,
        actor=actor,
        action="assignment.assign",
        target_type="account",
        target_id=account,
        detail={"from": previous, "to": owner},
    )
    return row


def owner_of(session: Session, account_id: str) -> str | None:
    """The owner's email for ``account_id``, or ``None`` when it is unassigned."""
    return session.scalar(
        select(AccountAssignment.owner_email).where(AccountAssignment.account_id == account_id)
    )


def accounts_of(session: Session, email: str) -> list[str]:
    """The ids of the accounts owned by ``email`` (any case), sorted."""
    value = (email or "").strip().lower()
    query = (
        select(AccountAssignment.account_id)
        .where(AccountAssignment.owner_email == value)
        .order_by(AccountAssignment.account_id)
    )
    return list(session.scalars(query))
