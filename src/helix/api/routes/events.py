"""/api/v1/accounts/{id}/events: an account's latest usage events (imported or live)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from helix.api.deps import ReadAccess, WarehouseDep
from helix.api.problems import Problem

router = APIRouter(prefix="/accounts", tags=["events"])


@router.get("/{account_id}/events", summary="An account's latest events, newest first")
def account_events(
    account_id: str,
    wh: WarehouseDep,
    who: ReadAccess,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    before: Annotated[
        datetime | None, Query(description="only events before this time (the next page's cursor)")
    ] = None,
) -> dict[str, Any]:
    accounts = wh.table("accounts")
    found = accounts.filter(accounts.account_id == account_id).select("owner_email")
    owners = found.to_pyarrow()["owner_email"].to_pylist()
    mine = who.book_owner is None or any(
        (o or "").lower() == who.book_owner.lower() for o in owners
    )
    if not owners or not mine:
        raise Problem(404, "Not found", f"no account {account_id!r} in your book")
    t = wh.table("events")
    q = t.filter(t.account_id == account_id)
    if before is not None:
        if before.tzinfo is not None:  # the warehouse keeps naive UTC
            from datetime import UTC

            before = before.astimezone(UTC).replace(tzinfo=None)
        q = q.filter(q.event_time < before)
    cols = ["event_time", "event_type", "user_id", "value", "event_id"]
    rows = q.order_by([q.event_time.desc(), q.event_id.desc()]).limit(limit + 1).select(*cols)
    items = rows.to_pyarrow().to_pylist()
    more = len(items) > limit
    items = items[:limit]
    for item in items:
        item["event_time"] = item["event_time"].isoformat()
    return {
        "account_id": account_id,
        "items": items,
        "next_before": items[-1]["event_time"] if more and items else None,
    }
