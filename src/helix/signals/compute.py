"""Assemble the ``account_signals`` table: one row per active account per scoring date.

An account is scored on day D when its MRR on D is above zero. Every signal is
computed from facts strictly before D (events with ``event_time < D`` and so
on); subscription terms in force on D are known on D. Everything is one Ibis
expression: no backend SQL, no Python loops over accounts.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from helix.signals import engagement as eng
from helix.signals._join import flag, left_join
from helix.signals.config import SignalConfig
from helix.signals.dates import dates_table
from helix.signals.registry import SIGNALS, SignalSpec
from helix.signals.sources import Sources
from helix.signals.text import TEXT_SENTIMENT
from helix.signals.usage import first_uses, onboarding_signals, usage_signals, value_days

__all__ = ["compute_signals", "active_keys", "mrr_on", "available_signals", "KEY"]

KEY = ["account_id", "score_date"]


def mrr_on(subs: ir.Table, dates: ir.Table, day_col: str) -> ir.Table:
    """MRR per (account_id, score_date) on the day in ``dates[day_col]`` (half-open terms)."""
    d = dates.select("score_date", _on=dates[day_col])
    j = subs.join(d, [subs.start_date <= d._on, subs.end_date.isnull() | (subs.end_date > d._on)])
    return j.group_by(KEY).aggregate(mrr=j.mrr.sum().cast(dt.float64))


def active_keys(src: Sources, dates: ir.Table, cfg: SignalConfig) -> ir.Table:
    """Active accounts on each date with MRR, seats, renewal, tenure and the window columns."""
    subs = src.table("subscriptions")
    j = subs.join(
        dates.select("score_date"),
        [subs.start_date <= dates.score_date, subs.end_date.isnull() | (subs.end_date > dates.score_date)],
    )
    if cfg.seat_products:
        seats = j.quantity.sum(where=j.product.isin(list(cfg.seat_products)))
    else:
        seats = j.quantity.max()
    live = j.group_by(KEY).aggregate(
        mrr=j.mrr.sum().cast(dt.float64),
        seats=seats.cast(dt.float64),
        renewal=j.contract_end_date.min(where=j.contract_end_date >= j.score_date),
    )
    live = live.filter(live.mrr > 0)
    starts = subs.group_by("account_id").aggregate(first_start=subs.start_date.min())
    accounts = src.table("accounts").select("account_id", created=src.table("accounts").created_at.date())
    since = left_join(starts, accounts, "account_id")
    since = since.select(
        "account_id", customer_since=ibis.least(since.first_start, ibis.coalesce(since.created, since.first_start))
    )
    out = left_join(live.join(dates, "score_date"), since, "account_id")
    return out.mutate(tenure_days=out.score_date.delta(out.customer_since, unit="day"))


def _commercial(src: Sources, keys: ir.Table, dates: ir.Table) -> ir.Table:
    before = mrr_on(src.table("subscriptions"), dates, "_d90").rename(mrr_90="mrr")
    out = left_join(keys, before, KEY)
    m90 = out.mrr_90.fill_null(0)
    cols = {
        "tenure_days": out.tenure_days.cast(dt.float64),
        "mrr": out.mrr,
        "licensed_seats": out.seats,
        "days_to_renewal": out.renewal.delta(out.score_date, unit="day").cast(dt.float64),
        "contraction_90": flag((m90 > 0) & (out.mrr < m90)),
        "mrr_change_90": ibis.ifelse(m90 > 0, out.mrr / m90, ibis.null(dt.float64)),
    }
    return out.select(*KEY, **cols)


def _payments(payments: ir.Table, keys: ir.Table) -> ir.Table:
    p = payments.filter(payments.status == "failed")
    p = p.select("account_id", day=p.due_date)
    k = keys.select("account_id", "score_date", "_d90")
    j = p.join(k, [p.account_id == k.account_id, p.day < k.score_date, p.day >= k._d90])
    agg = j.group_by(KEY).aggregate(n=j.count())
    out = left_join(keys.select(*KEY), agg, KEY)
    return out.select(*KEY, failed_payments_90=out.n.fill_null(0).cast(dt.float64))


def available_signals(src: Sources) -> dict[str, bool]:
    """Whether each signal can be computed from the tables present."""
    return {
        s.name: any(map(src.available, s.requires)) if s.any_source else src.all_available(s.requires)
        for s in SIGNALS
    }


def _dtype(s: SignalSpec) -> dt.DataType:
    return {"float64": dt.float64, "int64": dt.int64, "date": dt.date, "string": dt.string}[s.dtype]


def compute_signals(src: Sources, days: list[date], cfg: SignalConfig | None = None) -> ir.Table:
    """The signals of every active account on each of ``days``, as one Ibis expression."""
    cfg = cfg or SignalConfig()
    dates = dates_table(sorted(set(days)))
    keys = active_keys(src, dates, cfg)
    ok = available_signals(src)
    has = src.available
    parts: list[ir.Table] = [_commercial(src, keys, dates)]
    if has("events"):
        events = src.table("events")
        summary = src.event_summary(cfg)
        first_use = src.cached("first_use", lambda: summary.first_uses() if summary else first_uses(events))
        value = src.cached(
            f"value_days:{cfg.value_event_type}:{cfg.value_min_users}",
            lambda: value_days(events, cfg, summary.value_firsts() if summary else None),
        )
        one_day = days[0] if len(set(days)) == 1 else None
        parts.append(usage_signals(
            events, keys, cfg, first_use, one_day=one_day, start=min(days), end=max(days), summary=summary
        ))  # fmt: skip
        parts.append(onboarding_signals(events, keys, cfg, value, first_use))
    surveys = src.table("survey_responses") if has("survey_responses") else None
    tickets = src.table("tickets") if has("tickets") else None
    activities = src.table("activities") if has("activities") else None
    if surveys is not None:
        parts.append(eng.survey_signals(surveys, keys))
    csat = eng.csat_signals(surveys, tickets, keys)
    if csat is not None:
        parts.append(csat)
    if tickets is not None:
        parts.append(eng.ticket_signals(tickets, keys))
    if has(TEXT_SENTIMENT):
        parts.append(eng.text_signals(src.table(TEXT_SENTIMENT), keys))
    if activities is not None:
        parts.append(eng.escalation_signals(activities, keys))
        parts.append(eng.engaged_contact_signals(activities, surveys, keys))
        parts.append(eng.csm_contact_signals(activities, keys, cfg))
    if has("contacts"):
        parts.append(eng.contact_signals(src.table("contacts"), keys))
    if has("payments"):
        parts.append(_payments(src.table("payments"), keys))
    out = keys.select(*KEY)
    for part in parts:
        out = left_join(out, part, KEY)
    cols: dict[str, ir.Value] = {}
    for s in SIGNALS:
        typ = _dtype(s)
        if ok[s.name] and s.name in out.columns:
            cols[s.name] = out[s.name].cast(typ)
        else:
            cols[s.name] = ibis.null(typ)
    return out.select(*KEY, **cols)
