"""/api/v1/accounts: the portfolio the caller may see, and one account's detail,
contacts and subscriptions (a CSM: their own book only; any other account is a 404)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from helix.api.deps import PlatformDep, ReadAccess, WarehouseDep
from helix.customer import (
    contacts,
    customer_header,
    find_account,
    mrr_movements,
    open_task_counter,
    stakeholder_map,
    subscriptions,
)
from helix.portfolio import COLOURS, RISKS, SORTS, list_accounts

router = APIRouter(prefix="/accounts", tags=["accounts"])


@router.get("", summary="List accounts (a CSM sees their own book)")
def accounts(
    wh: WarehouseDep,
    platform: PlatformDep,
    who: ReadAccess,
    q: Annotated[str | None, Query(max_length=200, description="search name or id")] = None,
    tier: Annotated[str | None, Query(pattern="^(enterprise|mid_market|smb)$")] = None,
    segment: Annotated[
        str | None, Query(max_length=200, description="the company's segment label")
    ] = None,
    color: Annotated[
        str | None,
        Query(pattern=f"^({'|'.join(COLOURS)}|none)$", description="latest health colour"),
    ] = None,
    risk: Annotated[
        str | None, Query(pattern=f"^({'|'.join(RISKS)}|none)$", description="churn risk band")
    ] = None,
    owner: Annotated[str | None, Query(max_length=320, description="one CSM's accounts")] = None,
    at_risk: Annotated[
        bool, Query(description="renewing this quarter and red/yellow or high risk")
    ] = False,
    sort: Annotated[str, Query(pattern=f"^({'|'.join(SORTS)})$")] = "arr",
    include_inactive: bool = False,
    offset: Annotated[int, Query(ge=0, description="ignored when a cursor is given")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None, Query(max_length=2000, description="next_cursor of the previous page")
    ] = None,
) -> dict[str, Any]:
    page = list_accounts(
        wh,
        owner_email=who.book_owner,
        owner=owner,
        query=q,
        tier=tier,
        segment=segment,
        color=color,
        risk=risk,
        at_risk=at_risk,
        sort=sort,
        active_only=not include_inactive,
        offset=offset,
        limit=limit,
        cursor=cursor,
        open_tasks=open_task_counter(platform.store),
    )
    return page.to_dict()


@router.get("/{account_id}", summary="One account: commercial state, health and churn risk")
def account(account_id: str, wh: WarehouseDep, who: ReadAccess) -> dict[str, Any]:
    return customer_header(wh, find_account(wh, account_id, who.book_owner))


@router.get("/{account_id}/contacts", summary="An account's contacts and stakeholder map")
def account_contacts(account_id: str, wh: WarehouseDep, who: ReadAccess) -> dict[str, Any]:
    header = customer_header(wh, find_account(wh, account_id, who.book_owner))
    from datetime import date

    people = contacts(wh, account_id)
    as_of = date.fromisoformat(header["as_of"]) if header.get("as_of") else None
    return {
        "account_id": account_id,
        "items": people,
        "stakeholders": stakeholder_map(people, as_of),
    }


@router.get("/{account_id}/subscriptions", summary="An account's subscriptions and MRR movements")
def account_subscriptions(account_id: str, wh: WarehouseDep, who: ReadAccess) -> dict[str, Any]:
    find_account(wh, account_id, who.book_owner)
    return {
        "account_id": account_id,
        "items": subscriptions(wh, account_id),
        "movements": mrr_movements(wh, account_id),
    }
