"""Sentiment and relationship signals: surveys, tickets, text tone, escalations, contacts.

Each source is joined to the scoring dates it can inform (``day < score_date``,
within the signal's look-back) and aggregated per (account_id, score_date).
"""

from __future__ import annotations

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from helix.signals._join import flag, left_join
from helix.signals.config import SignalConfig

__all__ = [
    "survey_signals",
    "csat_signals",
    "ticket_signals",
    "text_signals",
    "escalation_signals",
    "engaged_contact_signals",
    "contact_signals",
    "csm_contact_signals",
]

KEY = ["account_id", "score_date"]


def _in_window(facts: ir.Table, keys: ir.Table, lookback: str) -> ir.Table:
    """``facts`` (with ``account_id`` and ``day``) joined to keys whose window covers ``day``."""
    k = keys.select("account_id", "score_date", "_d30", "_d90", "_d120", "_d180", "_d365")
    return facts.join(
        k,
        [facts.account_id == k.account_id, facts.day < k.score_date, facts.day >= k[lookback]],
    )


def _latest(j: ir.Table, value: str, order: list[str]) -> ir.Table:
    """The row with the greatest ``order`` per (account_id, score_date)."""
    w = ibis.window(group_by=KEY, order_by=[ibis.desc(c) for c in order])
    ranked = j.mutate(_rn=ibis.row_number().over(w))
    return ranked.filter(ranked._rn == 0).select(*KEY, value)


def survey_signals(surveys: ir.Table, keys: ir.Table) -> ir.Table:
    """Latest NPS (last 365 days) with detractor and promoter flags."""
    s = surveys.filter(surveys.survey.lower() == "nps")
    s = s.select("account_id", "response_id", "responded_at", "score", day=s.responded_at.date())
    latest = _latest(_in_window(s, keys, "_d365"), "score", ["responded_at", "response_id"])
    nps = latest.score.cast(dt.float64)
    return latest.select(
        *KEY,
        nps_latest=nps,
        nps_detractor=flag(nps <= 6),
        nps_promoter=flag(nps >= 9),
    )


def csat_signals(surveys: ir.Table | None, tickets: ir.Table | None, keys: ir.Table) -> ir.Table | None:
    """Latest CSAT from CSAT surveys and rated tickets (rated when resolved)."""
    parts = []
    if surveys is not None:
        s = surveys.filter(surveys.survey.lower() == "csat")
        parts.append(
            s.select("account_id", t=s.responded_at, id=s.response_id, score=s.score.cast(dt.float64))
        )
    if tickets is not None:
        t = tickets.filter(tickets.csat.notnull())
        parts.append(
            t.select(
                "account_id",
                t=ibis.coalesce(t.resolved_at, t.created_at),
                id=t.ticket_id,
                score=t.csat.cast(dt.float64),
            )
        )
    if not parts:
        return None
    u = parts[0] if len(parts) == 1 else parts[0].union(parts[1])
    u = u.mutate(day=u.t.date())
    latest = _latest(_in_window(u, keys, "_d365"), "score", ["t", "id"])
    return latest.select(*KEY, csat_latest=latest.score)


def _monthly_trend(last30: ir.NumericValue, prior90: ir.NumericValue) -> ir.FloatingValue:
    base = prior90.cast(dt.float64) / 3.0
    return ibis.ifelse(base > 0, last30.cast(dt.float64) / base, ibis.null(dt.float64))


def ticket_signals(tickets: ir.Table, keys: ir.Table) -> ir.Table:
    """Ticket volume (90 days), its trend, and urgent tickets."""
    t = tickets.select("account_id", "priority", day=tickets.created_at.date())
    j = _in_window(t, keys, "_d120")
    agg = j.group_by(KEY).aggregate(
        tickets_90=j.count(where=j.day >= j._d90),
        tickets_30=j.count(where=j.day >= j._d30),
        tickets_prior=j.count(where=j.day < j._d30),
        urgent_tickets_90=j.count(where=(j.day >= j._d90) & (j.priority == "urgent")),
    )
    out = left_join(keys.select(*KEY), agg, KEY)
    return out.select(
        *KEY,
        tickets_90=out.tickets_90.fill_null(0).cast(dt.float64),
        ticket_trend=_monthly_trend(out.tickets_30.fill_null(0), out.tickets_prior.fill_null(0)),
        urgent_tickets_90=out.urgent_tickets_90.fill_null(0).cast(dt.float64),
    )


def text_signals(scored: ir.Table, keys: ir.Table) -> ir.Table:
    """Mean VADER compound of texts in the last 90 days, and last 30 vs the 90 before."""
    t = scored.select("account_id", "compound", day=scored.occurred_at.date())
    j = _in_window(t, keys, "_d120")
    agg = j.group_by(KEY).aggregate(
        text_sentiment_90=j.compound.mean(where=j.day >= j._d90),
        _s30=j.compound.mean(where=j.day >= j._d30),
        _sprior=j.compound.mean(where=j.day < j._d30),
    )
    return agg.select(
        *KEY,
        text_sentiment_90=agg.text_sentiment_90.cast(dt.float64),
        text_sentiment_trend=(agg._s30 - agg._sprior).cast(dt.float64),
    )


def escalation_signals(activities: ir.Table, keys: ir.Table) -> ir.Table:
    """Escalations logged in the last 90 days."""
    a = activities.filter(activities.kind == "escalation")
    a = a.select("account_id", day=a.occurred_at.date())
    j = _in_window(a, keys, "_d90")
    agg = j.group_by(KEY).aggregate(n=j.count())
    out = left_join(keys.select(*KEY), agg, KEY)
    return out.select(*KEY, escalations_90=out.n.fill_null(0).cast(dt.float64))


def engaged_contact_signals(
    activities: ir.Table, surveys: ir.Table | None, keys: ir.Table
) -> ir.Table:
    """Distinct contacts seen in activities (and survey answers) in the last 90 days."""
    a = activities.filter(activities.contact_id.notnull())
    u = a.select("account_id", "contact_id", day=a.occurred_at.date())
    if surveys is not None:
        s = surveys.filter(surveys.contact_id.notnull())
        u = u.union(s.select("account_id", "contact_id", day=s.responded_at.date()))
    j = _in_window(u, keys, "_d90")
    agg = j.group_by(KEY).aggregate(n=j.contact_id.nunique())
    out = left_join(keys.select(*KEY), agg, KEY)
    n = out.n.fill_null(0)
    return out.select(
        *KEY,
        engaged_contacts_90=n.cast(dt.float64),
        multi_threaded=flag(n >= 2),
    )


def contact_signals(contacts: ir.Table, keys: ir.Table) -> ir.Table:
    """Champion, sponsor and decision-maker presence and changes, from contact dates.

    A contact is in place on day D when ``started_at < D`` (or unknown) and it has
    not ended before D (``ended_at`` null or ``>= D``).
    """
    k = keys.select("account_id", "score_date", "_d90", "_d180", "_d365")
    c = contacts.select("account_id", "contact_id", "name", "started_at", "ended_at", role=contacts.role.lower())
    j = c.join(k, c.account_id == k.account_id)
    started = j.started_at.isnull() | (j.started_at < j.score_date)
    in_place = started & (j.ended_at.isnull() | (j.ended_at >= j.score_date))
    champion = j.role == "champion"
    left = champion & j.ended_at.notnull() & (j.ended_at < j.score_date)
    agg = j.group_by(KEY).aggregate(
        champions=j.count(where=champion & in_place),
        sponsors=j.count(where=(j.role == "executive_sponsor") & in_place),
        new_dms=j.count(
            where=(j.role == "decision_maker") & j.started_at.notnull()
            & (j.started_at < j.score_date) & (j.started_at >= j._d90)
        ),
        champions_left_180=j.count(where=left & (j.ended_at >= j._d180)),
    )
    gone = j.filter(left & (j.ended_at >= j._d365))
    w = ibis.window(group_by=KEY, order_by=[ibis.desc(gone.ended_at), ibis.desc(gone.contact_id)])
    gone = gone.mutate(_rn=ibis.row_number().over(w))
    gone = gone.filter(gone._rn == 0).select(*KEY, champion_left_on=gone.ended_at, champion_left_name=gone.name)
    out = left_join(left_join(keys.select(*KEY), agg, KEY), gone, KEY)
    return out.select(
        *KEY,
        champion_present=flag(out.champions.fill_null(0) > 0),
        champion_left_180=flag(out.champions_left_180.fill_null(0) > 0),
        champion_left_on=out.champion_left_on,
        champion_left_name=out.champion_left_name,
        sponsor_present=flag(out.sponsors.fill_null(0) > 0),
        new_decision_maker_90=flag(out.new_dms.fill_null(0) > 0),
    )


def csm_contact_signals(activities: ir.Table, keys: ir.Table, cfg: SignalConfig) -> ir.Table:
    """Days since the latest meaningful CSM contact (capped at 365 when none in a year)."""
    a = activities.filter(activities.kind.isin(list(cfg.meaningful_contact_kinds)))
    a = a.select("account_id", day=a.occurred_at.date())
    j = _in_window(a, keys, "_d365")
    agg = j.group_by(KEY).aggregate(last=j.day.max())
    out = left_join(keys.select(*KEY), agg, KEY)
    days = ibis.coalesce(out.score_date.delta(out.last, unit="day"), 365)
    return out.select(*KEY, days_since_csm_contact=days.cast(dt.float64))
