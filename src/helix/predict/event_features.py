"""Per-event-type usage features, for whatever event types a company has.

No event type name is assumed: the most frequent types in the company's own
events are taken (:func:`top_event_types`), and for each the number of events
in the 7, 28 and 90 days before the observation date and since the
relationship began (every event before the date), plus the 7-day pace against
the 28-day one (``4 x 7-day / 28-day``: above 1 speeding up). Computed in the
warehouse through Ibis, from daily and monthly roll-ups of the events.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from helix.signals._join import left_join
from helix.warehouse import Warehouse

__all__ = ["top_event_types", "event_feature_names", "event_features", "describe", "TOP_TYPES"]

TOP_TYPES = 6
"""How many of the most frequent event types get features of their own."""
WINDOWS = (7, 28, 90)
LIFETIME = 0
"""The window "days" of the since-the-relationship-began count."""


def top_event_types(wh: Warehouse, k: int = TOP_TYPES) -> list[str]:
    """The ``k`` most frequent event types (ties by name); none without events."""
    if not wh.has_table("events") or wh.count("events") == 0:
        return []
    e = wh.table("events")
    counts = (
        e.group_by("event_type").aggregate(n=e.count()).order_by([ibis.desc("n"), "event_type"])
    )
    return [str(r["event_type"]) for r in counts.limit(k).to_pyarrow().to_pylist()]


def _slug(event_type: str, i: int) -> str:
    text = re.sub(r"[^a-z0-9]+", "_", event_type.lower()).strip("_")[:24]
    return f"t{i}_{text}" if text else f"t{i}"


def event_feature_names(types: list[str]) -> dict[str, tuple[str, int | None]]:
    """Feature name -> (event type, window days; None for the pace)."""
    out: dict[str, tuple[str, int | None]] = {}
    for i, t in enumerate(types):
        s = _slug(t, i)
        for w in WINDOWS:
            out[f"ev_{s}_{w}d"] = (t, w)
        out[f"ev_{s}_all"] = (t, LIFETIME)
        out[f"ev_{s}_pace"] = (t, None)
    return out


def describe(name: str, types: list[str]) -> str | None:
    """Plain words for an event feature name, or None when it is not one."""
    spec = event_feature_names(types).get(name)
    if spec is None:
        return None
    t, w = spec
    if w is None:
        return f"Pace of '{t}' events: 4 x the last 7 days over the last 28 (above 1: speeding up)."
    if w == LIFETIME:
        return f"'{t}' events since the relationship began."
    return f"'{t}' events in the last {w} days."


def event_features(wh: Warehouse, days: list[date], types: list[str]) -> ir.Table | None:
    """``account_id, score_date`` and the features of :func:`event_feature_names`
    (accounts with no such events before the date have no row: zero)."""
    if not types or not days:
        return None
    dates = ibis.memtable(
        pa.table(
            {
                "score_date": pa.array(days, pa.date32()),
                "_m0": pa.array([d.replace(day=1) for d in days], pa.date32()),
                **{
                    f"_w{w}": pa.array([d - timedelta(days=w) for d in days], pa.date32())
                    for w in WINDOWS
                },
            }
        )
    )
    names = event_feature_names(types)
    typed = wh.table("events")
    typed = typed.filter(typed.event_type.isin(types))
    since = min(days) - timedelta(days=max(WINDOWS))
    e = typed.filter(typed.event_time >= ibis.literal(since).cast(dt.timestamp))
    daily = e.group_by(["account_id", "event_type", e.event_time.date().name("day")]).aggregate(
        n=e.count()
    )
    j = daily.join(dates, [daily.day < dates.score_date, daily.day >= dates[f"_w{max(WINDOWS)}"]])
    aggs: dict[str, ir.Value] = {}
    for name, (t, w) in names.items():
        if w is None:
            continue
        # the lifetime count's part in the month of the date (earlier months: below)
        start = j._m0 if w == LIFETIME else j[f"_w{w}"]
        aggs[name] = (
            j.n.sum(where=(j.event_type == t) & (j.day >= start)).fill_null(0).cast(dt.float64)
        )
    g = j.group_by(["account_id", "score_date"]).aggregate(**aggs)
    # events of the months before the date's month, from a monthly roll-up
    month = typed.event_time.truncate("M").date().name("month")
    monthly = typed.group_by(["account_id", "event_type", month]).aggregate(n=typed.count())
    jm = monthly.join(dates, monthly.month < dates._m0)
    life = {
        f"{name}_before": jm.n.sum(where=jm.event_type == t).fill_null(0).cast(dt.float64)
        for name, (t, w) in names.items()
        if w == LIFETIME
    }
    before = jm.group_by(["account_id", "score_date"]).aggregate(**life)
    keys = g.select("account_id", "score_date").union(
        before.select("account_id", "score_date"), distinct=True
    )
    g = left_join(
        left_join(keys, g, ["account_id", "score_date"]), before, ["account_id", "score_date"]
    )
    counts = {
        name: g[name].fill_null(0.0) + g[f"{name}_before"].fill_null(0.0)
        if w == LIFETIME
        else g[name].fill_null(0.0)
        for name, (_t, w) in names.items()
        if w is not None
    }
    g = g.mutate(**counts).drop(*life)
    pace = {}
    for name, (_t, w) in names.items():
        if w is None:
            base = name.removesuffix("_pace")
            d28 = g[f"{base}_28d"].fill_null(0.0)
            pace[name] = ibis.ifelse(d28 > 0, 4.0 * g[f"{base}_7d"] / d28, ibis.null(dt.float64))
    return g.mutate(**pace)
