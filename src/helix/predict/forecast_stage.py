"""Stage ``renewal_forecast`` of `helix run` (order 50): a snapshot of the renewal forecast.

Each run stores the forecast of the next 365 days as of its date in
``renewal_forecasts`` (rows of that date replaced, earlier dates kept), so
`helix forecast accuracy` can later compare what was forecast with what
renewed. On the first run (or ``--full``) it also reconstructs the snapshots
of the first day of every past month from the start of the health history:
each from the data of its own date only (subscriptions in force, the health
score and predictions stored by then, overrides recorded by then), and with
bucket probabilities calibrated only on outcomes known by then.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa

from helix.metrics.periods import add_months, month_start
from helix.pipeline.registry import Stage, StageContext, StageResult, register
from helix.predict.forecast import (
    ForecastRules,
    Override,
    bucketed,
    calibrated_rates,
    past_outcomes,
    with_rates,
)
from helix.predict.overrides import load_overrides
from helix.predict.renewals import outcomes
from helix.warehouse import Warehouse
from helix.warehouse.connection import utcnow
from helix.warehouse.schema import HEALTH_SCORES, PREDICTIONS, RENEWAL_FORECASTS

__all__ = ["STAGE", "stored_snapshots", "snapshot_dates"]

HORIZON_DAYS = 365


def stored_snapshots(wh: Warehouse) -> pd.DataFrame:
    """Every stored forecast snapshot (empty when there is none)."""
    cols = ["forecast_date", "account_id", "renewal_date", "arr", "bucket", "probability"]
    if not wh.has_table(RENEWAL_FORECASTS.name):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    frame = wh.table(RENEWAL_FORECASTS.name).select(*cols).to_pandas()
    for col in ("forecast_date", "renewal_date"):
        frame[col] = pd.to_datetime(frame[col]).dt.date
    frame["arr"] = frame["arr"].astype(float)
    return frame


def snapshot_dates(wh: Warehouse, as_of: date, backfill: bool) -> list[date]:
    """``as_of``, and with ``backfill`` the first of every month from the first health score."""
    if not backfill or not wh.has_table(HEALTH_SCORES.name):
        return [as_of]
    first = wh.table(HEALTH_SCORES.name).score_date.min().to_pyarrow().as_py()
    if first is None:
        return [as_of]
    days, d = [], add_months(month_start(first), 1)
    while d < as_of:
        days.append(d)
        d = add_months(d, 1)
    return [*days, as_of]


def build_snapshots(
    wh: Warehouse,
    days: list[date],
    kept: pd.DataFrame,
    rules: ForecastRules,
    overrides: list[Override],
    live: date,
) -> pd.DataFrame:
    """The snapshots of ``days`` (oldest first), each calibrated on outcomes known by its date."""
    frame = bucketed(
        wh, days, rules=rules, overrides=overrides, live=live, horizon_days=HORIZON_DAYS
    )
    pairs = pd.concat([kept[["account_id", "renewal_date"]], frame[["account_id", "renewal_date"]]])
    known = outcomes(wh, pairs.drop_duplicates(), rules.grace_days)
    done = kept
    parts = []
    for day in days:
        history = past_outcomes(wh, done, day, rules, known=known)
        part = with_rates(frame[frame["forecast_date"] == day], calibrated_rates(history, rules))
        parts.append(part)
        done = pd.concat([done, part[done.columns]]) if not done.empty else part[done.columns]
    return pd.concat(parts) if parts else frame.iloc[0:0]


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    """The snapshot rows typed like ``renewal_forecasts`` (money as float: the store casts it)."""
    schema = RENEWAL_FORECASTS.ibis_schema().to_pyarrow()
    money = {"arr", "expected_arr"}
    fields = [pa.field(n, pa.float64()) if n in money else schema.field(n) for n in schema.names]
    data = frame.assign(computed_at=utcnow())
    return pa.Table.from_pandas(data[schema.names], schema=pa.schema(fields), preserve_index=False)


def _run(ctx: StageContext) -> StageResult:
    wh = ctx.warehouse
    rules = ForecastRules()
    overrides = load_overrides(ctx.settings) if ctx.settings is not None else []
    stored = stored_snapshots(wh)
    backfill = ctx.full or stored.empty
    days = snapshot_dates(wh, ctx.as_of, backfill)
    first_new = days[0]
    kept = stored[stored["forecast_date"] < first_new] if not backfill else stored.iloc[0:0]
    ctx.progress(0.2, f"renewal forecast ({len(days)} snapshot date(s))")
    snaps = build_snapshots(wh, days, kept, rules, overrides, live=ctx.as_of)
    t = wh.table(RENEWAL_FORECASTS.name)
    keep = t.filter(t.forecast_date < first_new) if not backfill else t.limit(0)
    wh.write_parts(RENEWAL_FORECASTS.name, [keep, _to_arrow(snaps)])
    notes = [f"{len(snaps)} renewal(s) over {len(days)} snapshot date(s)"]
    if not wh.has_table(PREDICTIONS.name) or wh.count(PREDICTIONS.name) == 0:
        notes.append("no churn predictions: buckets from health colours only")
    return StageResult(rows={RENEWAL_FORECASTS.name: len(snaps)}, notes=notes)


STAGE = register(
    Stage(
        name="renewal_forecast",
        order=50,
        inputs=("subscriptions", HEALTH_SCORES.name, PREDICTIONS.name),
        outputs=(RENEWAL_FORECASTS.name,),
        run=_run,
        description="A daily snapshot of the renewal forecast (and past months' on the first run).",
    )
)
