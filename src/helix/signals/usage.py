"""Usage signals: active users, logins, breadth, depth, trends, plateau, recency.

Events are first reduced to one row per account, day, event type and user,
then to per-day counts; every look-back (strictly before the scoring date) is a
range window over day numbers, so scoring every day of a long history costs
about as much as scoring a few dates of it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from helix.signals._join import day_number as _day_number
from helix.signals._join import flag, left_join
from helix.signals.config import SignalConfig
from helix.signals.event_summary import (
    EventSummary,
    first_uses,
    last_day_before,
    value_firsts,
    week_start,
)

__all__ = ["usage_signals", "onboarding_signals", "event_days", "first_uses", "value_days"]

KEY = ["account_id", "score_date"]


def event_days(events: ir.Table) -> ir.Table:
    """Events reduced to (account_id, day, event_type, user_id, n)."""
    e = events.select("account_id", "event_type", "user_id", day=events.event_time.date())
    return e.group_by(["account_id", "day", "event_type", "user_id"]).aggregate(n=e.count())


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """num / den as a double, null when den is 0 or null."""
    den_f = den.cast(dt.float64)
    return ibis.ifelse(den_f > 0, num.cast(dt.float64) / den_f, ibis.null(dt.float64))


def _day_sums(
    facts: ir.Table, day: date, sums: dict[str, tuple[str, int | None, int]], how: str
) -> ir.Table:
    """:func:`_range_sums` for the one scoring date ``day``: each look-back is a filtered
    aggregate per account (a range window over every fact costs far more for one point).
    Accounts without a fact in a look-back get null, as the windows give."""
    t = (day - date(1970, 1, 1)).days
    aggs = {}
    for name, (col, lo, hi) in sums.items():
        inside = facts.t <= t - hi
        if lo is not None:
            inside &= facts.t >= t - lo
        v = facts[col].cast(dt.int64)
        aggs[name] = v.sum(where=inside) if how == "sum" else v.max(where=inside)
    out = facts.group_by("account_id").aggregate(**aggs)
    return out.select("account_id", *sums, score_date=ibis.literal(day, dt.date))


def _range_sums(
    facts: ir.Table, points: ir.Table, sums: dict[str, tuple[str, int | None, int]], *,
    how: str = "sum", one_day: date | None = None,
) -> ir.Table:
    """Window sums (or maxima) of ``facts`` columns for each point, by day number ``t``.

    ``facts`` has ``account_id``, ``t`` and integer columns; ``points`` has
    ``account_id``, ``score_date`` and ``t``. ``sums[name] = (column, lo, hi)``
    sums ``column`` over the facts with ``t - lo <= fact.t <= t - hi`` (``lo``
    None: since the beginning); null when there are none. Facts and points go
    into one union ordered by ``t``, so each point costs one step of a range
    window instead of a join with every fact of its look-back. With ``one_day`` (every
    point is on that date) the sums are plain filtered aggregates (:func:`_day_sums`).
    """
    if one_day is not None:
        return _day_sums(facts, one_day, sums, how)
    cols = sorted({c for c, _, _ in sums.values()})
    f = facts.select(
        "account_id", "t", score_date=ibis.null(dt.date), _pt=ibis.literal(0),
        **{c: facts[c].cast(dt.int64) for c in cols},
    )  # fmt: skip
    p = points.select(
        "account_id", "t", "score_date", _pt=ibis.literal(1),
        **{c: ibis.null(dt.int64) for c in cols},
    )  # fmt: skip
    u = f.union(p)
    windows = {}
    for name, (col, lo, hi) in sums.items():
        w = ibis.window(group_by="account_id", order_by="t", range=(None if lo is None else -lo, -hi))
        windows[name] = (u[col].sum() if how == "sum" else u[col].max()).over(w)
    u = u.mutate(**windows)
    u = u.filter(u._pt == 1)
    return u.select("account_id", "score_date", *sums)


def _distinct_recent(items: ir.Table, points: ir.Table, days: int) -> ir.Table:
    """Distinct ``item`` values per point seen on one of the ``days`` days before it.

    ``items`` holds distinct (``account_id``, ``item``, ``t``). An occurrence on
    day t covers the points t+1 .. t+days, up to the item's next occurrence (which
    takes over from there), so each item is counted once: +1 where an occurrence's
    cover starts, -1 where it ends, and a running sum over the points.
    """
    w = ibis.window(group_by=["account_id", "item"], order_by="t")
    nxt = items.t.lead().over(w)
    r = items.mutate(_end=ibis.least(items.t + days, ibis.coalesce(nxt, items.t + days)) + 1)
    change = r.select("account_id", t=r.t + 1, d=ibis.literal(1, dt.int64)).union(
        r.select("account_id", t=r._end, d=ibis.literal(-1, dt.int64))
    )
    change = change.group_by(["account_id", "t"]).aggregate(d=change.d.sum())
    change = change.filter(change.d != 0).select(
        "account_id", "t", score_date=ibis.null(dt.date), _pt=ibis.literal(0), d="d"
    )
    p = points.select("account_id", "t", "score_date", _pt=ibis.literal(1), d=ibis.literal(0, dt.int64))
    u = change.union(p)
    running = ibis.window(group_by="account_id", order_by=["t", "_pt"], preceding=None, following=0)
    u = u.mutate(n=u.d.sum().over(running))
    u = u.filter(u._pt == 1)
    return u.select("account_id", "score_date", n=u.n)


def value_days(events: ir.Table, cfg: SignalConfig, firsts: ir.Table | None = None) -> ir.Table:
    """``account_id, value_day``: the day the ``value_min_users``-th user first did the value event.

    ``firsts`` is :func:`~helix.signals.event_summary.value_firsts` of ``events`` when
    already at hand (the event summary's).
    """
    firsts = value_firsts(events, cfg) if firsts is None else firsts
    w = ibis.window(group_by="account_id", order_by=["first_day", "user_id"])
    ranked = firsts.mutate(rn=ibis.row_number().over(w))
    return ranked.filter(ranked.rn == cfg.value_min_users - 1).select("account_id", value_day=ranked.first_day)


def usage_signals(
    events: ir.Table,
    keys: ir.Table,
    cfg: SignalConfig,
    first_use: ir.Table | None = None,
    *,
    one_day: date | None = None,
    start: date | None = None,
    end: date | None = None,
    summary: EventSummary | None = None,
) -> ir.Table:
    """Usage signals per (account_id, score_date) in ``keys`` (which carries the window columns).

    Events are reduced to account-days (counts) and account-user-days /
    account-type-days (for the distinct counts), then every window is a range
    window over day numbers: the cost grows with events plus scoring rows, not
    with their product, so a daily history costs about as much as a monthly one.
    ``first_use`` is :func:`first_uses` of ``events`` (pass a cached copy when
    scoring several batches of dates). ``one_day``: ``keys`` hold that one scoring date
    only (an incremental day), whose distinct counts are then counted directly over its
    30 days instead of through the change points, which pay off across many dates.
    ``start`` and ``end`` are the earliest and latest scoring dates in ``keys`` (read from
    them when not given; as literals, the event filters reach the Parquet scans).
    ``summary``: the event summary, whence the last active day before the windows
    (otherwise from the events).
    """
    k = keys.select("account_id", "score_date", "seats", "tenure_days")
    points = k.select("account_id", "score_date", t=_day_number(k.score_date))
    # only the 120 days before the earliest scoring date reach the windows (from the
    # start of that day's summary week, see helix.signals.event_summary): an incremental
    # day then reduces four months of events, not the whole history
    if start is None or end is None:
        span = keys.aggregate(lo=keys.score_date.min(), hi=keys.score_date.max()).to_pyarrow()
        # (no keys at all: any date, nothing is scored)
        start, end = span["lo"][0].as_py() or date.today(), span["hi"][0].as_py() or date.today()
    first = week_start(start - timedelta(days=120))
    since = datetime.combine(first, time.min)
    until = datetime.combine(end, time.min)
    # the sums need account-days only; the distinct counts need users and types, and
    # only over the 30 days before each point (occurrences before the earliest point's
    # window cover no point and do not change the later ones' covers): an incremental
    # day reduces four months of events to account-days, and one month by user and type
    window = events.filter((events.event_time >= since) & (events.event_time < until))
    e = window.select("account_id", "event_type", t=_day_number(window.event_time.date()))
    login = e.event_type == cfg.login_event_type
    core = e.event_type.isin(list(cfg.core_event_types)) if cfg.core_event_types else ibis.literal(False)
    per_day = e.group_by(["account_id", "t"]).aggregate(
        n=e.count(), n_login=e.count(where=login), n_core=e.count(where=core)
    )
    per_day = per_day.mutate(
        n_login=per_day.n_login.fill_null(0), n_core=per_day.n_core.fill_null(0), day_t=per_day.t
    )
    sums = _range_sums(per_day, points, {
        "events_30": ("n", 30, 1),
        "events_prev_30": ("n", 60, 31),
        "events_prior_90": ("n", 120, 31),
        "logins_30": ("n_login", 30, 1),
        "logins_prior_90": ("n_login", 120, 31),
        "core_events_30": ("n_core", 30, 1),
    }, one_day=one_day)  # fmt: skip
    recent = _range_sums(per_day, points, {"last_t": ("day_t", None, 1)}, how="max",
                         one_day=one_day)
    # the last active day before the look-backs, for accounts quiet all through them
    old = summary.last_day_before(first) if summary is not None else last_day_before(events, first)
    if one_day is not None:
        lo = datetime.combine(one_day - timedelta(days=30), time.min)
        month = events.filter(
            (events.event_time >= lo) & (events.event_time < datetime.combine(one_day, time.min))
        )
        counts = month.group_by("account_id").aggregate(
            active_users_30=month.user_id.nunique(), breadth_30=month.event_type.nunique()
        )
        counts = counts.mutate(score_date=ibis.literal(one_day, dt.date))
        active_users = counts.select(*KEY, "active_users_30")
        breadth = counts.select(*KEY, "breadth_30")
    else:
        # (occurrences before the earliest point's month cover no point: +1 and -1 both
        # fall before it)
        month_since = datetime.combine(start - timedelta(days=30), time.min)
        seen = event_days(events.filter((events.event_time >= month_since) & (events.event_time < until)))
        seen = seen.mutate(t=_day_number(seen.day))
        users = seen.filter(seen.user_id.notnull()).select("account_id", "t", item=seen.user_id).distinct()
        types = seen.filter(seen.event_type.notnull()).select("account_id", "t", item=seen.event_type).distinct()
        active_users = _distinct_recent(users, points, 30).rename(active_users_30="n")
        breadth = _distinct_recent(types, points, 30).rename(breadth_30="n")
    fu = first_uses(events) if first_use is None else first_use
    feats = _range_sums(
        fu.select("account_id", t=_day_number(fu.first_day), one=ibis.literal(1)),
        points,
        {"breadth_ever": ("one", None, 1), "new_features_90": ("one", 90, 1)},
        one_day=one_day,
    )
    # event types the product had before each scoring date (a type first seen later must
    # not make an account look stuck before it existed)
    type_first = fu.group_by("event_type").aggregate(first_day=fu.first_day.min())
    days = k.select("score_date").distinct()
    tj = type_first.join(days, type_first.first_day < days.score_date)
    types_known = tj.group_by("score_date").aggregate(types_known=tj.count())
    out = k
    for part in (sums, recent, active_users, breadth, feats):
        out = left_join(out, part, KEY)
    out = left_join(out, old, "account_id")
    out = left_join(out, types_known, "score_date")
    last_t = ibis.coalesce(out.last_t, _day_number(out.old_last))
    z = {c: out[c].fill_null(0) for c in (
        "active_users_30", "events_30", "events_prev_30", "events_prior_90", "logins_30",
        "logins_prior_90", "breadth_30", "core_events_30", "breadth_ever", "new_features_90",
    )}  # fmt: skip
    trend90 = _ratio(z["events_30"], z["events_prior_90"] / 3.0)
    plateau = (
        (out.tenure_days >= cfg.plateau_min_tenure_days)
        & (z["new_features_90"] == 0)
        & (z["breadth_ever"] < out.types_known.fill_null(0))
        & (trend90.fill_null(0) < 1.1)
    )
    return out.select(
        "account_id",
        "score_date",
        active_users_30=z["active_users_30"].cast(dt.float64),
        seat_utilisation=_ratio(z["active_users_30"], out.seats),
        logins_30=z["logins_30"].cast(dt.float64),
        login_ratio=_ratio(z["logins_30"], z["logins_prior_90"] / 3.0),
        breadth_30=z["breadth_30"].cast(dt.float64),
        core_events_30=z["core_events_30"].cast(dt.float64),
        core_share_30=_ratio(z["core_events_30"], z["events_30"]),
        events_30=z["events_30"].cast(dt.float64),
        usage_trend_30=_ratio(z["events_30"], z["events_prev_30"]),
        usage_trend_90=trend90,
        new_features_90=z["new_features_90"].cast(dt.float64),
        plateau=flag(plateau),
        days_since_last_activity=ibis.coalesce(
            _day_number(out.score_date) - last_t, out.tenure_days
        ).cast(dt.float64),
    )


def onboarding_signals(
    events: ir.Table, keys: ir.Table, cfg: SignalConfig, value: ir.Table | None = None,
    first_use: ir.Table | None = None,
) -> ir.Table:
    """First value moment reached, time to value and onboarding stall per key.

    ``value`` and ``first_use`` are :func:`value_days` and :func:`first_uses` of
    ``events`` (pass cached copies when scoring several batches of dates).
    """
    value = value_days(events, cfg) if value is None else value
    fu = first_uses(events) if first_use is None else first_use
    k = keys.select("account_id", "score_date", "customer_since", "tenure_days")
    j = left_join(k, value, "account_id")
    reached = j.value_day.notnull() & (j.value_day < j.score_date)
    # onboarding of accounts that began before the event history cannot be observed
    observed = j.customer_since >= fu.first_day.min().as_scalar()
    return j.select(
        "account_id",
        "score_date",
        value_reached=flag(reached),
        time_to_value_days=ibis.ifelse(
            reached & observed,
            j.value_day.delta(j.customer_since, unit="day").cast(dt.float64),
            ibis.null(dt.float64),
        ),
        onboarding_stalled=flag(~reached & observed & (j.tenure_days > cfg.onboarding_stall_days)),
    )
