"""Which accounts a caller may see: CSMs their own book, everyone else every account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from helix.errors import NotFoundError
from helix.store import AppStore
from helix.store.models import Task, TaskStatus
from helix.warehouse import Warehouse

__all__ = ["find_account", "open_task_counter", "not_found"]


def not_found(account_id: str) -> NotFoundError:
    """The one answer for an account that does not exist or is in another book."""
    return NotFoundError(f"no account {account_id!r} in your book")


def find_account(wh: Warehouse, account_id: str, book_owner: str | None) -> dict[str, Any]:
    """The account's contract row (name, segment, industry, region, owner ...) when the
    caller may see it; :class:`NotFoundError` otherwise, the same whether it does not
    exist or belongs to another CSM's book."""
    if not wh.has_table("accounts"):
        raise not_found(account_id)
    t = wh.table("accounts")
    cols = [
        c
        for c in (
            "account_id",
            "name",
            "segment",
            "industry",
            "region",
            "owner_email",
            "created_at",
            "parent_account_id",
        )
        if c in t.columns
    ]

    def of(account_id: Any) -> Any:
        return t.filter(t.account_id == account_id).select(*cols)

    rows = wh.query("account.find", of, account_id=account_id).to_pylist()
    if not rows:
        raise not_found(account_id)
    row = rows[0]
    if book_owner is not None and (row.get("owner_email") or "").lower() != book_owner.lower():
        raise not_found(account_id)
    return row


def open_task_counter(store: AppStore) -> Callable[[list[str] | None], dict[str, int]]:
    """A function giving the open-task count of each account id (of all with ``None``)."""

    def count(ids: list[str] | None) -> dict[str, int]:
        if ids is not None and not ids:
            return {}
        q = select(Task.account_id, func.count()).where(Task.status == TaskStatus.OPEN)
        if ids is not None:
            q = q.where(Task.account_id.in_(ids))
        with store.session() as s:
            return {a: int(n) for a, n in s.execute(q.group_by(Task.account_id))}

    return count
