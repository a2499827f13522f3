"""/api/v1/accounts/{id}/events: an account's latest usage events (imported or live)."""

from __future__ import annotations

import base64
import binascii
import json
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
        datetime | None, Query(description="only events before this time")
    ] = None,
    cursor: Annotated[
        str | None,
        Query(max_length=200, description="the next_cursor of the previous page"),
    ] = None,
) -> dict[str, Any]:
    """Newest first, ``limit`` at a time. ``next_cursor`` resumes right after the page's
    last event, also when several events share its time; ``next_before`` (the last
    event's time) is kept for older scripts, and skips the page's other events of that
    same time."""
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
    at, seen = _decode(cursor) if cursor else (None, 0)
    if at is not None:
        q = q.filter(q.event_time <= at)
    cols = ["event_time", "event_type", "user_id", "value", "event_id"]
    # a total order: events are unique by event_id, or without one by time, type and user
    order = [q.event_time.desc(), q.event_id.desc(), q.event_type.asc(), q.user_id.asc()]
    rows = q.order_by(order).limit(limit + 1, offset=seen).select(*cols)
    items = rows.to_pyarrow().to_pylist()
    more = len(items) > limit
    items = items[:limit]
    next_cursor = None
    if more and items:
        last = items[-1]["event_time"]
        same = sum(1 for i in items if i["event_time"] == last)
        next_cursor = _encode(last, same + (seen if last == at else 0))
    for item in items:
        item["event_time"] = item["event_time"].isoformat()
    return {
        "account_id": account_id,
        "items": items,
        "next_cursor": next_cursor,
        "next_before": items[-1]["event_time"] if more and items else None,
    }


def _encode(at: datetime, seen: int) -> str:
    """The cursor after ``seen`` events of time ``at`` (in the page order)."""
    raw = json.dumps({"at": at.isoformat(), "seen": seen}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int]:
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at, seen = datetime.fromisoformat(doc["at"]), int(doc["seen"])
        if seen < 0:
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise Problem(400, "Bad cursor", "use the next_cursor of a previous page") from exc
    return at, seen
