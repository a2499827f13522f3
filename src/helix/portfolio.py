"""The portfolio: which accounts a person sees, with their commercial state.

Reads the ``account_summary`` table written by `helix run`. A CSM sees their
own book; leaders, admins and viewers see every account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis

from helix.warehouse import Warehouse

SORTS = {
    "arr": ("arr", True),
    "name": ("name", False),
    "renewal": ("next_renewal", False),
    "last_activity": ("last_event_at", True),
}


@dataclass(frozen=True)
class AccountPage:
    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int

    @property
    def next_offset(self) -> int | None:
        nxt = self.offset + self.limit
        return nxt if nxt < self.total else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "total": self.total,
            "offset": self.offset,
            "limit": self.limit,
            "next_offset": self.next_offset,
        }


def list_accounts(
    wh: Warehouse,
    *,
    owner_email: str | None = None,
    query: str | None = None,
    tier: str | None = None,
    active_only: bool = True,
    sort: str = "arr",
    offset: int = 0,
    limit: int = 50,
) -> AccountPage:
    """A page of accounts from the latest `helix run`, filtered and sorted."""
    t = wh.table("account_summary")
    if owner_email is not None:
        t = t.filter(t.owner_email.lower() == owner_email.lower())
    if active_only:
        t = t.filter(t.active == 1)
    if tier:
        t = t.filter(t.tier == tier)
    if query:
        needle = query.lower()
        t = t.filter(t.name.lower().contains(needle) | t.account_id.lower().contains(needle))
    column, descending = SORTS.get(sort, SORTS["arr"])
    key = ibis.desc(t[column]) if descending else ibis.asc(t[column])
    total = int(t.count().execute())
    rows = t.order_by([key, t.account_id]).limit(limit, offset=offset).to_pyarrow().to_pylist()
    for r in rows:
        for money in ("mrr", "arr"):
            if r.get(money) is not None:
                r[money] = round(float(r[money]), 2)
        if r.get("seats") is not None:
            r["seats"] = float(r["seats"])
    return AccountPage(items=rows, total=total, offset=offset, limit=limit)
