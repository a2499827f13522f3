"""/api/v1/accounts/{id}/timeline: everything that happened to an account, newest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from helix.api.deps import PlatformDep, ReadAccess, WarehouseDep
from helix.customer import find_account, timeline
from helix.customer.timeline import KINDS

router = APIRouter(prefix="/accounts", tags=["timeline"])


@router.get("/{account_id}/timeline", summary="An account's timeline (cursor pagination)")
def account_timeline(
    account_id: str,
    wh: WarehouseDep,
    platform: PlatformDep,
    who: ReadAccess,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=1000, description="next_cursor of the previous page")
    ] = None,
    kind: Annotated[
        list[str] | None, Query(description=f"only these kinds: {', '.join(KINDS)}")
    ] = None,
) -> dict[str, Any]:
    find_account(wh, account_id, who.book_owner)
    with platform.store.session() as session:
        return timeline(
            wh, session, account_id, limit=limit, cursor=cursor, kinds=set(kind) if kind else None
        )
