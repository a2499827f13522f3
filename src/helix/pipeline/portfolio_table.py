"""Stage `portfolio` (order 60): the rows the portfolio page filters and sorts.

``portfolio_accounts`` is ``account_summary`` joined with each account's latest health
(score and colour) and latest churn probability, written once per run. The portfolio
reads it while it is current (this stage ran on the present versions of its inputs)
instead of joining 100k accounts on every request, and joins live otherwise.
"""

from __future__ import annotations

from helix.pipeline.registry import Stage, StageContext, StageResult, register
from helix.warehouse.schema import (
    ACCOUNT_SUMMARY,
    HEALTH_RECENT,
    HEALTH_SCORES,
    PORTFOLIO_ACCOUNTS,
    PREDICTIONS,
)

__all__ = ["PORTFOLIO_STAGE"]


def _run(ctx: StageContext) -> StageResult:
    from helix.portfolio import latest_dates, live_join

    wh = ctx.warehouse
    if not wh.has_table(ACCOUNT_SUMMARY.name):
        return StageResult(rows={PORTFOLIO_ACCOUNTS.name: 0}, notes=["no account summary yet"])
    _, health_date, prediction_date = latest_dates(wh)
    rows = live_join(wh, health_date, prediction_date)
    typed = rows.select(**{c: rows[c].cast(t) for c, t in PORTFOLIO_ACCOUNTS.ibis_schema().items()})
    wh.write_table(PORTFOLIO_ACCOUNTS.name, typed.order_by("account_id"))
    return StageResult(rows={PORTFOLIO_ACCOUNTS.name: wh.count(PORTFOLIO_ACCOUNTS.name)})


PORTFOLIO_STAGE = register(
    Stage(
        name="portfolio",
        order=60,
        inputs=(ACCOUNT_SUMMARY.name, HEALTH_RECENT.name, HEALTH_SCORES.name, PREDICTIONS.name),
        outputs=(PORTFOLIO_ACCOUNTS.name,),
        run=_run,
        description="The portfolio's rows: each account with its latest health and churn risk.",
        depends_on_as_of=False,
    )
)
