"""The join-based usage signals Helix used before the windowed engine: the test oracle.

Each event-day row is joined to every scoring date whose look-back covers it and
then aggregated. Simple enough to trust by reading, and quadratic in the number
of dates, which is why :mod:`helix.signals.usage` no longer works this way. The
tests assert that both give the same rows.
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from helix.signals._join import flag, left_join
from helix.signals.config import SignalConfig
from helix.signals.usage import event_days

KEY = ["account_id", "score_date"]


def _ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """num / den as a double, null when den is 0 or null."""
    den_f = den.cast(dt.float64)
    return ibis.ifelse(den_f > 0, num.cast(dt.float64) / den_f, ibis.null(dt.float64))


def _last_before(points: ir.Table, facts: ir.Table) -> ir.Table:
    """For each (account_id, score_date) in ``points``, the latest fact ``day`` strictly before it.

    A portable as-of join: facts and points in one ordered union, a running max
    per account, points ordered before facts of the same day.
    """
    p = points.select(
        "account_id", t=points.score_date, k=ibis.literal(0), fact=ibis.null(dt.date)
    )
    f = facts.select("account_id", t=facts.day, k=ibis.literal(1), fact=facts.day)
    u = p.union(f)
    w = ibis.window(group_by="account_id", order_by=["t", "k"], preceding=None, following=0)
    u = u.mutate(last=u.fact.max().over(w))
    u = u.filter(u.k == 0)
    return u.select("account_id", score_date=u.t, last=u.last)


def usage_signals(events: ir.Table, keys: ir.Table, cfg: SignalConfig) -> ir.Table:
    """Usage signals per (account_id, score_date) in ``keys`` (which carries the window columns)."""
    k = keys.select("account_id", "score_date", "_d30", "_d60", "_d90", "_d120", "seats", "tenure_days")
    # only the 120 days before the earliest scoring date reach the windows: an
    # incremental day then reduces four months of events, not the whole history
    since = k._d120.min().cast(dt.timestamp).as_scalar()
    daily = event_days(events.filter(events.event_time >= since))
    j = daily.join(
        k,
        [daily.account_id == k.account_id, daily.day < k.score_date, daily.day >= k._d120],
    )
    last30 = j.day >= j._d30
    prior = j.day < j._d30
    login = j.event_type == cfg.login_event_type
    core = j.event_type.isin(list(cfg.core_event_types)) if cfg.core_event_types else ibis.literal(False)
    agg = j.group_by(KEY).aggregate(
        active_users_30=j.user_id.nunique(where=last30),
        events_30=j.n.sum(where=last30),
        events_prev_30=j.n.sum(where=(j.day >= j._d60) & prior),
        events_prior_90=j.n.sum(where=prior),
        logins_30=j.n.sum(where=last30 & login),
        logins_prior_90=j.n.sum(where=prior & login),
        breadth_30=j.event_type.nunique(where=last30),
        core_events_30=j.n.sum(where=last30 & core),
    )
    first_use = events.group_by(["account_id", "event_type"]).aggregate(
        first_day=events.event_time.min().date()
    )
    # event types the product had before each scoring date (a type first seen later must
    # not make an account look stuck before it existed)
    type_first = events.group_by("event_type").aggregate(first_day=events.event_time.min().date())
    days = k.select("score_date").distinct()
    tj = type_first.join(days, type_first.first_day < days.score_date)
    types_known = tj.group_by("score_date").aggregate(types_known=tj.count())
    fu = first_use.join(
        k, [first_use.account_id == k.account_id, first_use.first_day < k.score_date]
    )
    feats = fu.group_by(KEY).aggregate(
        breadth_ever=fu.count(), new_features_90=fu.count(where=fu.first_day >= fu._d90)
    )
    active_days = events.select("account_id", day=events.event_time.date()).distinct()
    last = _last_before(k, active_days)
    out = left_join(left_join(left_join(k, agg, KEY), feats, KEY), last, KEY)
    out = left_join(out, types_known, "score_date")
    z = {c: out[c].fill_null(0) for c in (
        "active_users_30", "events_30", "events_prev_30", "events_prior_90", "logins_30",
        "logins_prior_90", "breadth_30", "core_events_30", "breadth_ever", "new_features_90",
    )}
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
            out.score_date.delta(out.last, unit="day"), out.tenure_days
        ).cast(dt.float64),
    )
