"""Renewals in the warehouse: which accounts renew when, at what ARR, and whether they did.

Everything here is one Ibis query over many forecast dates at once, so the
daily snapshot and a backfill over years of history cost the same few scans.

* The **renewal** of an account is the earliest ``contract_end_date`` of its
  positive subscription rows in force on the forecast date that falls inside
  the window asked for (``source = 'contract'``); several lines ending the
  same day are one renewal.
* An account none of whose rows in force carries a ``contract_end_date`` renews,
  by inference, on each anniversary of its first paid day (``source =
  'inferred'``): the yearly billing cycle most B2B contracts follow.
* The **ARR at stake** is 12 x the account's MRR on the forecast date.
* A renewal **happened** when the account still has MRR > 0 on the renewal
  date plus a grace period (30 days by default: late signatures are common);
  the **actual ARR** is 12 x its MRR on that day.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from helix.metrics.movements import ACCOUNT_MRR, FAR_FUTURE
from helix.warehouse import Warehouse

__all__ = ["renewals", "outcomes", "GRACE_DAYS"]

GRACE_DAYS = 30
"""Days after the renewal date by which a renewal must have happened to count."""


def _dates(values: Sequence[date], name: str) -> ir.Table:
    return ibis.memtable(pa.table({name: pa.array(sorted(set(values)), pa.date32())}))


def _positive(wh: Warehouse) -> ir.Table:
    s = wh.table("subscriptions")
    s = s.filter(s.mrr > 0)
    return s.mutate(end_date=ibis.coalesce(s.end_date, ibis.date(FAR_FUTURE)))


def _next_anniversary(anchor: ir.DateValue, ref: ir.DateValue) -> ir.DateValue:
    """The first of ``anchor``, ``anchor`` + 1 year, + 2 years... falling on or after ``ref``."""
    years = (ref.year() - anchor.year()).cast("int32")
    shifted = anchor + years.as_interval("Y")
    shifted = ibis.ifelse(shifted < ref, shifted + ibis.interval(years=1), shifted)
    return ibis.ifelse(anchor >= ref, anchor, shifted).cast("date")


def renewals(
    wh: Warehouse,
    forecast_dates: Sequence[date],
    *,
    horizon_days: int = 365,
    start: date | None = None,
    end: date | None = None,
) -> pd.DataFrame:
    """Each account's next renewal seen from each forecast date (one row per date and account).

    The window is ``(d, d + horizon_days]`` for a forecast date ``d``, or the
    fixed ``[start, end]`` when both are given. A contract end date already past
    on a row still in force rolls forward by whole years (an evergreen renewal
    the data did not record). Columns: ``forecast_date, account_id,
    renewal_date, source, arr``.
    """
    days = _dates(forecast_dates, "forecast_date")
    rows = _positive(wh)
    live = rows.join(
        days, [rows.start_date <= days.forecast_date, rows.end_date > days.forecast_date]
    )
    fixed = start is not None and end is not None
    ref = ibis.literal(start) if fixed else live.forecast_date + ibis.interval(days=1)
    live = live.mutate(due=_next_anniversary(live.contract_end_date, ref))
    first = rows.group_by("account_id").aggregate(first_paid=rows.start_date.min())
    per = live.group_by(["forecast_date", "account_id"]).aggregate(
        mrr=live.mrr.sum().cast(ACCOUNT_MRR),
        contract_due=live.due.min(),
    )
    per = per.join(first, "account_id")
    ref = ibis.literal(start) if fixed else per.forecast_date + ibis.interval(days=1)
    inferred = _next_anniversary((per.first_paid + ibis.interval(years=1)).cast("date"), ref)
    per = per.mutate(
        renewal_date=ibis.coalesce(per.contract_due, inferred),
        source=ibis.ifelse(per.contract_due.notnull(), "contract", "inferred"),
    )
    if fixed:
        keep = per.renewal_date <= ibis.literal(end)
    else:
        keep = per.renewal_date <= per.forecast_date + ibis.interval(days=horizon_days)
    out = per.filter(keep)
    out = out.select(
        "forecast_date", "account_id", "renewal_date", "source", arr=(out.mrr * 12).round(2)
    )
    frame = out.order_by(["forecast_date", "renewal_date", "account_id"]).to_pandas()
    frame["arr"] = frame["arr"].astype(float)
    for col in ("forecast_date", "renewal_date"):
        frame[col] = pd.to_datetime(frame[col]).dt.date
    return frame


def outcomes(wh: Warehouse, due: pd.DataFrame, grace_days: int = GRACE_DAYS) -> pd.DataFrame:
    """Whether each ``(account_id, renewal_date)`` of ``due`` renewed: columns ``account_id,
    renewal_date, renewed (0/1), actual_arr`` (ARR on the renewal date plus ``grace_days``)."""
    pairs = due[["account_id", "renewal_date"]].drop_duplicates()
    if pairs.empty:
        return pairs.assign(renewed=pd.Series(dtype="int64"), actual_arr=pd.Series(dtype=float))
    table = ibis.memtable(
        pa.table(
            {
                "o_account": pa.array(pairs["account_id"].tolist(), pa.string()),
                "renewal_date": pa.array(pairs["renewal_date"].tolist(), pa.date32()),
            }
        )
    )
    table = table.mutate(check=table.renewal_date + ibis.interval(days=grace_days))
    rows = _positive(wh)
    j = table.left_join(
        rows,
        [
            table.o_account == rows.account_id,
            rows.start_date <= table.check,
            rows.end_date > table.check,
        ],
    )
    g = j.group_by(["o_account", "renewal_date"]).aggregate(mrr=j.mrr.sum().cast(ACCOUNT_MRR))
    res = g.select(
        account_id=g.o_account,
        renewal_date=g.renewal_date,
        renewed=ibis.ifelse(g.mrr.fill_null(0) > 0, 1, 0),
        actual_arr=(g.mrr.fill_null(0) * 12).round(2),
    ).to_pandas()
    res["renewal_date"] = pd.to_datetime(res["renewal_date"]).dt.date
    res["actual_arr"] = res["actual_arr"].astype(float)
    res["renewed"] = res["renewed"].astype("int64")
    return res
