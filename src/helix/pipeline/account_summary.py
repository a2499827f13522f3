"""Stage `account_summary`: each account's commercial state on the as-of date.

MRR on day D is the sum of subscription rows with ``start_date <= D < end_date``
(null end = ongoing). Tiers follow ARR = 12 x MRR: enterprise above $100K,
mid-market $25K-$100K, SMB below $25K (BRIEF section 9).
"""

from __future__ import annotations

from datetime import date, datetime, time

import ibis
import ibis.expr.types as ir

from helix.pipeline.registry import Stage, StageContext, StageResult, register
from helix.warehouse import Warehouse
from helix.warehouse.schema import ACCOUNT_SUMMARY

ENTERPRISE_ARR = 100_000
MID_MARKET_ARR = 25_000


def tier_of(arr: ir.NumericValue) -> ir.StringValue:
    """The ARR tier of an amount: enterprise, mid_market or smb."""
    return ibis.cases(
        (arr > ENTERPRISE_ARR, "enterprise"),
        (arr >= MID_MARKET_ARR, "mid_market"),
        else_="smb",
    )


def active_rows(subs: ir.Table, day: date) -> ir.Table:
    """Subscription rows in force on ``day`` (half-open periods)."""
    return subs.filter(
        (subs.start_date <= day) & (subs.end_date.isnull() | (subs.end_date > day))
    )


def account_summary(wh: Warehouse, as_of: date) -> ir.Table:
    """One row per account with MRR, ARR, tier, seats, renewal and last activity as of ``as_of``."""
    accounts = wh.table("accounts")
    subs = wh.table("subscriptions")
    events = wh.table("events")
    live = active_rows(subs, as_of)
    mrr = live.group_by("account_id").aggregate(mrr=live.mrr.sum(), seats=live.quantity.sum())
    since = subs.group_by("account_id").aggregate(customer_since=subs.start_date.min())
    upcoming = live.filter(live.contract_end_date >= as_of)
    renewal = upcoming.group_by("account_id").aggregate(next_renewal=upcoming.contract_end_date.min())
    cutoff = datetime.combine(as_of, time.min)
    past = events.filter(events.event_time < cutoff)
    last_event = past.group_by("account_id").aggregate(last_event_at=past.event_time.max())
    joined = (
        accounts.left_join(mrr, "account_id")
        .left_join(since, "account_id")
        .left_join(renewal, "account_id")
        .left_join(last_event, "account_id")
    )
    mrr_value = joined.mrr.fill_null(0)
    arr = mrr_value * 12
    schema = ACCOUNT_SUMMARY.ibis_schema()
    out = joined.select(
        account_id=joined.account_id,
        name=joined.name,
        segment=joined.segment,
        tier=ibis.ifelse(mrr_value > 0, tier_of(arr), None),
        owner_email=joined.owner_email,
        mrr=mrr_value,
        arr=arr,
        active=ibis.ifelse(mrr_value > 0, 1, 0),
        customer_since=joined.customer_since,
        next_renewal=joined.next_renewal,
        seats=joined.seats,
        last_event_at=joined.last_event_at,
        as_of=ibis.literal(as_of),
    )
    return out.select(*[out[name].cast(dtype).name(name) for name, dtype in schema.items()])


def _run(ctx: StageContext) -> StageResult:
    ctx.progress(0.1, "account state")
    ctx.warehouse.write_table(ACCOUNT_SUMMARY.name, account_summary(ctx.warehouse, ctx.as_of))
    ctx.progress(1.0, "account state")
    return StageResult(rows={ACCOUNT_SUMMARY.name: ctx.warehouse.count(ACCOUNT_SUMMARY.name)})


STAGE = register(
    Stage(
        name="account_summary",
        order=15,
        inputs=("accounts", "subscriptions", "events"),
        outputs=(ACCOUNT_SUMMARY.name,),
        run=_run,
        description="Each account's MRR, ARR, tier, seats, renewal date and last activity.",
    )
)
