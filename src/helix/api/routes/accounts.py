"""/api/v1/accounts: the portfolio the caller may see."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from helix.api.deps import ReadAccess, WarehouseDep
from helix.api.problems import Problem
from helix.portfolio import SORTS, list_accounts

router = APIRouter(prefix="/accounts", tags=["accounts"])


@router.get("", summary="List accounts (a CSM sees their own book)")
def accounts(
    wh: WarehouseDep,
    who: ReadAccess,
    q: Annotated[str | None, Query(max_length=200, description="search name or id")] = None,
    tier: Annotated[str | None, Query(pattern="^(enterprise|mid_market|smb)$")] = None,
    sort: Annotated[str, Query(pattern=f"^({'|'.join(SORTS)})$")] = "arr",
    include_inactive: bool = False,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    page = list_accounts(
        wh, owner_email=who.book_owner, query=q, tier=tier, sort=sort,
        active_only=not include_inactive, offset=offset, limit=limit,
    )
    return page.to_dict()


@router.get("/{account_id}", summary="One account's commercial state")
def account(account_id: str, wh: WarehouseDep, who: ReadAccess) -> dict[str, Any]:
    t = wh.table("account_summary")
    rows = t.filter(t.account_id == account_id).to_pyarrow().to_pylist()
    if not rows or (who.book_owner and (rows[0]["owner_email"] or "").lower() != who.book_owner.lower()):
        raise Problem(404, "Not found", f"no account {account_id!r} in your book")
    row = rows[0]
    for money in ("mrr", "arr", "seats"):
        if row.get(money) is not None:
            row[money] = round(float(row[money]), 2)
    return row
