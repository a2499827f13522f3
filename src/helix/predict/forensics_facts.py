"""One row per churn: when each warning became visible, the recorded reason, and its pattern.

A churn is a row of the MRR ledger (``mrr_movements``) with movement ``churn``:
the month an account's MRR fell to zero, its ``churn_date``, the MRR lost and the
ledger's churn type (voluntary / involuntary / unknown). An account that came back
and left again has one row per churn.

Each churn gets one **pattern**, the first rule that matches:

1. ``involuntary``: the ledger typed the churn involuntary (a recorded involuntary
   reason such as a closure or an acquisition, or a failed payment with no later
   successful one).
2. ``never_adopted``: the first value moment was never reached, onboarding stalled,
   or seat utilisation never reached the healthy line (``healthy_utilisation``) on
   any stored date of the year (at least two dates).
3. ``lost_champion``: a champion left in the year before the churn.
4. ``consolidated``: usage was healthy (mean seat utilisation over the last
   ``recent_days`` at or above ``healthy_utilisation`` and usage not down at the
   churn) and the recorded reason names consolidation, budget or price.
5. ``outgrew``: usage was healthy and the reason names a competitor, an
   alternative or needs the product did not meet.
6. ``unknown``: none of the above (often: a voluntary churn of an account whose
   usage or sentiment faded, with no personnel change and no telling reason).

Everything here is one Ibis expression over the warehouse; the same expression
serves one account's forensics and the summary of a period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from helix.errors import UserError
from helix.predict.forensics_config import ForensicsConfig
from helix.predict.forensics_warnings import KEY, WARNINGS, warning_dates
from helix.signals.sources import Sources
from helix.warehouse import Warehouse
from helix.warehouse.schema import MRR_MOVEMENTS

__all__ = [
    "PatternSpec",
    "PATTERNS",
    "ledger_churns",
    "churn_facts",
    "require_ledger",
    "pattern_evidence",
]


@dataclass(frozen=True)
class PatternSpec:
    """A churn pattern the forensics recognise (the seeds' common patterns)."""

    name: str
    label: str
    description: str


P = PatternSpec
PATTERNS: tuple[PatternSpec, ...] = (
    P("involuntary", "involuntary",
      "Typed involuntary by the MRR ledger: a failed payment with no later success, or a "
      "recorded involuntary reason (closure, acquisition)."),
    P("never_adopted", "never adopted",
      "Never reached the first value moment, stalled in onboarding, or never brought seat "
      "utilisation to a healthy level: the loss happened early, not at the renewal."),
    P("lost_champion", "lost their champion",
      "A champion left in the year before the churn."),
    P("consolidated", "consolidated",
      "Usage was healthy, and the recorded reason names consolidation, budget or price: "
      "useful, but not indispensable."),
    P("outgrew", "outgrew the product",
      "Usage was healthy, and the recorded reason names a competitor, an alternative or "
      "needs the product did not meet."),
    P("unknown", "no clear pattern",
      "None of the above: read the timeline."),
)  # fmt: skip
"""Every pattern, in the order the rules try them."""


def require_ledger(wh: Warehouse) -> list[str]:
    """Check that the MRR ledger exists; return notes (e.g. that it is out of date)."""
    from helix.metrics.stage import stored_ledger

    if not wh.has_table(MRR_MOVEMENTS.name) or wh.count(MRR_MOVEMENTS.name) == 0:
        raise UserError(
            "no MRR ledger yet: churn forensics starts from the churns it records",
            hint="run `helix run` first",
        )
    if stored_ledger(wh) is None:
        return ["the MRR ledger is older than the latest import: run `helix run` to refresh it"]
    return []


def ledger_churns(
    wh: Warehouse,
    *,
    start: date | None = None,
    end: date | None = None,
    account_id: str | None = None,
    owner: str | None = None,
) -> ir.Table:
    """The churns of the ledger (``churn_date`` in ``[start, end)`` when given), with the
    account's name and owner; only accounts ``owner`` owns, when given."""
    m = wh.table(MRR_MOVEMENTS.name)
    c = m.filter((m.movement == "churn") & m.churn_date.notnull())
    if start is not None:
        c = c.filter(c.churn_date >= start)
    if end is not None:
        c = c.filter(c.churn_date < end)
    if account_id is not None:
        c = c.filter(c.account_id == account_id)
    c = c.select(
        "account_id",
        "churn_date",
        "month",
        "churned_mrr",
        churn_type=c.movement_type.fill_null("unknown"),
    )
    acc = wh.table("accounts").select("account_id", "name", "owner_email")
    j = c.left_join(acc, c.account_id == acc.account_id)
    j = j.select(*[c[k] for k in c.columns], acc.name, acc.owner_email)
    if owner is not None:
        j = j.filter(j.owner_email.lower() == owner.lower())
    return j


def _with_window(churns: ir.Table, cfg: ForensicsConfig) -> ir.Table:
    return churns.mutate(_start=churns.churn_date - ibis.interval(days=cfg.lookback_days))


def _recorded_reasons(src: Sources, churns: ir.Table, cfg: ForensicsConfig) -> ir.Table:
    """Per churn: the nearest churn_reasons record within ``reason_match_days`` (later wins
    a tie), as ``reason``, ``reason_type`` and ``reason_recorded_on``."""
    cr = src.table("churn_reasons")
    reach = ibis.interval(days=cfg.reason_match_days)
    k = churns.select(*KEY)
    j = k.join(
        cr,
        [
            k.account_id == cr.account_id,
            cr.churned_on >= k.churn_date - reach,
            cr.churned_on <= k.churn_date + reach,
        ],
    )
    dist = j.churned_on.delta(j.churn_date, unit="day").abs()
    w = ibis.window(group_by=KEY, order_by=[dist, ibis.desc(j.churned_on), j.churn_type])
    ranked = j.mutate(_rn=ibis.row_number().over(w))
    best = ranked.filter(ranked._rn == 0)
    return best.select(
        *KEY, reason=best.reason, reason_type=best.churn_type, reason_recorded_on=best.churned_on
    )


def _usage_features(src: Sources, churns: ir.Table, cfg: ForensicsConfig) -> ir.Table:
    """Per churn, from the signals of the window: how far adoption ever got."""
    s = src.table("account_signals")
    k = churns.select(*KEY, "_start")
    j = s.join(
        k,
        [s.account_id == k.account_id, s.score_date < k.churn_date, s.score_date >= k._start],
    )
    recent = j.score_date >= j.churn_date - ibis.interval(days=cfg.recent_days)
    return j.group_by(KEY).aggregate(
        signal_days=j.count(),
        value_reached=j.value_reached.max(),
        peak_utilisation=j.seat_utilisation.max(),
        recent_utilisation=j.seat_utilisation.mean(where=recent),
    )


def _left(a: ir.Table, b: ir.Table) -> ir.Table:
    j = a.left_join(b, [a[k] == b[k] for k in KEY])
    return j.select(*[a[c] for c in a.columns], *[b[c] for c in b.columns if c not in KEY])


def _mentions(text: ir.StringValue, words: tuple[str, ...]) -> ir.BooleanValue:
    low = text.lower()
    hit: ir.BooleanValue = ibis.literal(False)
    for w in words:
        hit = hit | low.contains(w.lower()).fill_null(False)
    return hit


def _pattern(t: ir.Table, cfg: ForensicsConfig) -> ir.StringValue:
    f = ibis.literal(False)
    involuntary = (t.churn_type == "involuntary").fill_null(False)
    never = (
        (t.value_reached == 0).fill_null(False)
        | t.onboarding_stalled_first.notnull()
        | ((t.signal_days >= 2) & (t.peak_utilisation < cfg.healthy_utilisation)).fill_null(f)
    )
    lost = t.champion_left_first.notnull()
    healthy = (t.recent_utilisation >= cfg.healthy_utilisation).fill_null(
        False
    ) & t.usage_down_from.isnull()
    consolidated = healthy & _mentions(t.reason, cfg.consolidation_words)
    outgrew = healthy & _mentions(t.reason, cfg.outgrew_words)
    return ibis.cases(
        (involuntary, "involuntary"),
        (never, "never_adopted"),
        (lost, "lost_champion"),
        (consolidated, "consolidated"),
        (outgrew, "outgrew"),
        else_="unknown",
    )


def churn_facts(
    churns: ir.Table, cfg: ForensicsConfig, src: Sources, avail: dict[str, bool]
) -> ir.Table:
    """``churns`` (from :func:`ledger_churns`) with, per warning, ``<w>_from`` /
    ``<w>_first`` and ``<w>_lead`` / ``<w>_first_lead`` (days before the churn), the
    earliest visible warning, the recorded reason, adoption features and ``pattern``."""
    c = _with_window(churns, cfg)
    out = warning_dates(src, c, cfg, avail)
    if src.available("churn_reasons"):
        out = _left(out, _recorded_reasons(src, c, cfg))
    else:
        out = out.mutate(
            reason=ibis.null(dt.string),
            reason_type=ibis.null(dt.string),
            reason_recorded_on=ibis.null(dt.date),
        )
    if src.available("account_signals"):
        out = _left(out, _usage_features(src, c, cfg))
    else:
        out = out.mutate(
            signal_days=ibis.literal(0, dt.int64),
            value_reached=ibis.null(dt.float64),
            peak_utilisation=ibis.null(dt.float64),
            recent_utilisation=ibis.null(dt.float64),
        )
    out = out.mutate(signal_days=out.signal_days.fill_null(0))
    leads = {}
    for w in WARNINGS:
        leads[f"{w.name}_lead"] = out.churn_date.delta(out[f"{w.name}_from"], unit="day")
        leads[f"{w.name}_first_lead"] = out.churn_date.delta(out[f"{w.name}_first"], unit="day")
    out = out.mutate(**leads)
    lead_cols = [out[f"{w.name}_lead"] for w in WARNINGS]
    out = out.mutate(earliest_lead=ibis.greatest(*lead_cols))
    out = out.mutate(
        earliest_warning=ibis.cases(
            *[(out[f"{w.name}_lead"] == out.earliest_lead, w.name) for w in WARNINGS],
            else_=ibis.null(dt.string),
        ),
        pattern=_pattern(out, cfg),
    )
    return out.drop("_start")


def _iso(d: date | None) -> str | None:
    return None if d is None else d.isoformat()


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}%"


def pattern_evidence(
    row: dict[str, Any], contacts_left: list[dict[str, Any]], cfg: ForensicsConfig
) -> list[str]:
    """The evidence behind a churn's pattern, in words: ``row`` is a :func:`churn_facts`
    row, ``contacts_left`` the contacts who left in its window (ISO ``ended_at``)."""
    why: list[str] = []
    reason = f"recorded reason: {row['reason']!r}" if row["reason"] else "no recorded reason"
    p = row["pattern"]
    if p == "involuntary":
        why.append("the MRR ledger typed the churn involuntary")
        if row["failed_payment_first"] is not None:
            why.append(f"a payment failed on {_iso(row['failed_payment_first'])}")
    if p == "never_adopted":
        if row["value_reached"] == 0:
            why.append("the first value moment was never reached")
        if row["onboarding_stalled_first"] is not None:
            why.append(f"onboarding stalled (seen from {_iso(row['onboarding_stalled_first'])})")
        if (
            row["peak_utilisation"] is not None
            and row["peak_utilisation"] < cfg.healthy_utilisation
        ):
            why.append(f"seat utilisation peaked at {_pct(row['peak_utilisation'])} in the year")
    if p == "lost_champion":
        left = [c for c in contacts_left if c["role"] == "champion"]
        for c in left:
            days = (row["churn_date"] - date.fromisoformat(c["ended_at"])).days
            why.append(
                f"champion {c['name']} left on {c['ended_at']}, {days} days before the churn"
            )
    if p in ("consolidated", "outgrew"):
        why.append(
            f"usage was healthy: mean seat utilisation {_pct(row['recent_utilisation'])} over "
            f"the last {cfg.recent_days} days, usage not down at the churn"
        )
    if p == "unknown":
        recent = row["recent_utilisation"]
        healthy = recent is not None and recent >= cfg.healthy_utilisation
        healthy = healthy and row["usage_down_from"] is None
        if row["signal_days"] == 0:
            why.append("no signals were stored for the year before the churn")
        elif healthy:
            why.append(
                "usage was healthy, but the recorded reason names neither consolidation, "
                "budget or price nor a competitor or unmet needs"
            )
        else:
            down = (
                f", usage down from {_iso(row['usage_down_from'])}"
                if row["usage_down_from"] is not None
                else ""
            )
            why.append(
                f"adopted, then faded: mean seat utilisation "
                f"{_pct(row['recent_utilisation'])} over the last {cfg.recent_days} days"
                f"{down}; no champion left"
            )
    why.append(reason)
    return why
