"""The warnings churn forensics looks for, and when each became visible before a churn.

Two kinds of warning:

* a **state** is read from a dated series (daily signals, health scores,
  predictions, payment outcomes) and is on or off on each stored date. It is *visible from* the
  first date of the run of "on" dates that lasts up to the last stored date
  before the churn (if it was off on that last date, it is not visible at the
  churn, though ``first`` still says when it was first seen).
  A failed payment is such a state over the account's payments (failed or paid,
  by due date): on from the first failure that no successful payment followed.
* an **event** is a dated fact (a champion left, an urgent ticket, an
  escalation); it is visible from the first such fact in the window.

Everything is Ibis over the warehouse: one aggregation per source for all the
churns at once, so the summary of a year of churns is a handful of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir

from helix.predict.forensics_config import ForensicsConfig
from helix.signals._join import flag
from helix.signals.registry import signal
from helix.signals.sources import Sources

__all__ = [
    "WarningSpec",
    "WARNINGS",
    "warning",
    "warning_availability",
    "warning_dates",
    "state_dates",
    "event_dates",
    "base_rates",
    "KEY",
]

KEY = ["account_id", "churn_date"]
"""One churn: an account and the day its MRR fell to zero."""

Kind = Literal["state", "event"]
Condition = Callable[[ir.Table, ForensicsConfig], ir.BooleanValue]


@dataclass(frozen=True)
class WarningSpec:
    """One warning: where it is read, what turns it on, and its plain-language name."""

    name: str
    label: str
    kind: Kind
    source: str
    """The table it is read from."""
    signal: str | None = None
    """The registry signal that carries the same information (its description is shown)."""

    @property
    def description(self) -> str:
        """What the warning measures, in the words of the signal registry where it has one."""
        if self.signal is not None:
            return signal(self.signal).description
        return _OWN_DESCRIPTIONS[self.name]

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON-ready data."""
        return {
            "warning": self.name,
            "label": self.label,
            "kind": self.kind,
            "source": self.source,
            "signal": self.signal,
            "description": self.description,
        }


_OWN_DESCRIPTIONS = {
    "health_red": "The account's health score was red (helix.health).",
    "churn_risk_high": "The active churn model's probability was at or above the threshold.",
}

W = WarningSpec
WARNINGS: tuple[WarningSpec, ...] = (
    W("health_red", "health score red", "state", "health_scores"),
    W("churn_risk_high", "high predicted churn risk", "state", "predictions"),
    W("usage_down", "usage down", "state", "account_signals", "usage_trend_90"),
    W(
        "low_seat_utilisation",
        "few licensed seats in use",
        "state",
        "account_signals",
        "seat_utilisation",
    ),  # fmt: skip
    W("onboarding_stalled", "onboarding stalled", "state", "account_signals", "onboarding_stalled"),
    W("nps_detractor", "NPS detractor", "state", "account_signals", "nps_detractor"),
    W("contraction", "MRR contracted", "state", "account_signals", "contraction_90"),
    W("champion_left", "champion left", "event", "contacts", "champion_left_180"),
    W("failed_payment", "payment failed", "state", "payments", "failed_payments_90"),
    W("urgent_ticket", "urgent support ticket", "event", "tickets", "urgent_tickets_90"),
    W("escalation", "escalation", "event", "activities", "escalations_90"),
)
"""Every warning, in the order reports list them."""

_BY_NAME = {w.name: w for w in WARNINGS}


def warning(name: str) -> WarningSpec:
    """The spec of one warning by name (KeyError when unknown)."""
    return _BY_NAME[name]


def _on(value: ir.BooleanValue) -> ir.BooleanValue:
    """A condition where unknown (null) counts as off."""
    return value.fill_null(False)


_SIGNAL_CONDITIONS: dict[str, Condition] = {
    "usage_down": lambda t, c: t.usage_trend_90 < c.usage_down_below,
    "low_seat_utilisation": lambda t, c: t.seat_utilisation < c.low_utilisation_below,
    "onboarding_stalled": lambda t, c: t.onboarding_stalled >= 1,
    "nps_detractor": lambda t, c: t.nps_detractor >= 1,
    "contraction": lambda t, c: t.contraction_90 >= 1,
}


def _event_facts(src: Sources, name: str) -> ir.Table:
    """``(account_id, day)`` of every fact that fires event warning ``name``."""
    if name == "champion_left":
        t = src.table("contacts")
        t = t.filter((t.role == "champion") & t.ended_at.notnull())
        return t.select("account_id", day=t.ended_at)
    if name == "urgent_ticket":
        t = src.table("tickets")
        t = t.filter(t.priority == "urgent")
        return t.select("account_id", day=t.created_at.date())
    if name == "escalation":
        t = src.table("activities")
        t = t.filter(t.kind == "escalation")
        return t.select("account_id", day=t.occurred_at.date())
    raise KeyError(name)


def payment_outcomes(src: Sources) -> ir.Table:
    """Payments that failed or were paid, by due date (``failed`` true for a failure)."""
    p = src.table("payments")
    p = p.filter(p.status.isin(["failed", "paid"]))
    return p.select("account_id", "due_date", failed=p.status == "failed")


def warning_availability(src: Sources) -> dict[str, bool]:
    """Per warning: whether there is data to read it from. A warning read from a signal
    needs that signal to have a value somewhere in ``account_signals`` (a signal whose
    source tables are missing is stored as null); the others need their table."""
    out: dict[str, bool] = {}
    signals = [w.signal for w in WARNINGS if w.source == "account_signals" and w.signal]
    present: dict[str, bool] = {}
    if src.available("account_signals"):
        s = src.table("account_signals")
        row = s.aggregate(**{n: s[n].notnull().any() for n in signals}).to_pyarrow().to_pylist()
        present = {k: bool(v) for k, v in row[0].items()}
    for w in WARNINGS:
        if w.source == "account_signals":
            out[w.name] = present.get(w.signal or "", False)
        else:
            out[w.name] = src.available(w.source)
    return out


def _in_window(facts: ir.Table, churns: ir.Table, day: str) -> ir.Table:
    """``facts`` joined to each churn of the same account whose window holds ``facts[day]``."""
    k = churns.select("account_id", "churn_date", "_start")
    return facts.join(
        k,
        [facts.account_id == k.account_id, facts[day] < k.churn_date, facts[day] >= k._start],
    )


def state_dates(
    obs: ir.Table,
    churns: ir.Table,
    day: str,
    conditions: dict[str, Callable[[ir.Table], ir.BooleanValue]],
) -> ir.Table:
    """Per churn, for each condition: ``<name>_first`` (first date on in the window) and
    ``<name>_from`` (start of the run of "on" dates that reaches the last date before
    the churn; null when it was off on that date), and ``_last``, the last date."""
    j = _in_window(obs, churns, day)
    j = j.mutate(**{f"_on_{n}": _on(c(j)) for n, c in conditions.items()})
    d = j[day]
    first = j.group_by(KEY).aggregate(
        _last=d.max(),
        **{f"{n}_first": d.min(where=j[f"_on_{n}"]) for n in conditions},
        **{f"_off_{n}": d.max(where=~j[f"_on_{n}"]) for n in conditions},
    )
    j2 = j.join(first.select(*KEY, *[f"_off_{n}" for n in conditions]), KEY)
    d2 = j2[day]
    since = j2.group_by(KEY).aggregate(
        **{
            f"{n}_from": d2.min(
                where=j2[f"_on_{n}"] & (j2[f"_off_{n}"].isnull() | (d2 > j2[f"_off_{n}"]))
            )
            for n in conditions
        }
    )
    out = first.join(since, KEY)
    return out.drop(*[f"_off_{n}" for n in conditions])


def event_dates(facts: ir.Table, churns: ir.Table, name: str) -> ir.Table:
    """Per churn: ``<name>_first`` = ``<name>_from``, the first fact in the window."""
    j = _in_window(facts, churns, "day")
    agg = j.group_by(KEY).aggregate(**{f"{name}_first": j.day.min()})
    return agg.mutate(**{f"{name}_from": agg[f"{name}_first"]})


def _null_dates(t: ir.Table, names: list[str]) -> ir.Table:
    return t.mutate(**{f"{n}_{s}": ibis.null(dt.date) for n in names for s in ("first", "from")})


def churn_probabilities(src: Sources) -> ir.Table:
    """The churn predictions per account and date: the highest probability of any horizon."""
    p = src.table("predictions")
    p = p.filter(p.target == "churn")
    return p.group_by(["account_id", "score_date"]).aggregate(probability=p.probability.max())


def warning_dates(
    src: Sources, churns: ir.Table, cfg: ForensicsConfig, avail: dict[str, bool]
) -> ir.Table:
    """``churns`` (with ``_start``) plus ``<w>_first`` and ``<w>_from`` for every warning
    (null for unavailable ones) and ``_signal_last``, the last signal date before the churn."""
    out = churns
    signal_names = [n for n in _SIGNAL_CONDITIONS if avail[n]]
    if src.available("account_signals"):
        sig = src.table("account_signals")
        conds = {n: _bind(_SIGNAL_CONDITIONS[n], cfg) for n in signal_names}
        agg = state_dates(sig, churns, "score_date", conds).rename(_signal_last="_last")
        out = _left(out, agg)
    else:
        out = out.mutate(_signal_last=ibis.null(dt.date))
    out = _null_dates(out, [n for n in _SIGNAL_CONDITIONS if n not in signal_names])
    if avail["health_red"]:
        h = src.table("health_scores")
        agg = state_dates(h, churns, "score_date", {"health_red": lambda t: t.color == "red"})
        out = _left(out, agg.drop("_last"))
    else:
        out = _null_dates(out, ["health_red"])
    if avail["churn_risk_high"]:
        p = churn_probabilities(src)
        cond = {"churn_risk_high": lambda t: t.probability >= cfg.churn_probability_at_least}
        out = _left(out, state_dates(p, churns, "score_date", cond).drop("_last"))
    else:
        out = _null_dates(out, ["churn_risk_high"])
    if avail["failed_payment"]:
        pay = payment_outcomes(src)
        cond = {"failed_payment": lambda t: t.failed}
        out = _left(out, state_dates(pay, churns, "due_date", cond).drop("_last"))
    else:
        out = _null_dates(out, ["failed_payment"])
    for w in WARNINGS:
        if w.kind != "event":
            continue
        if avail[w.name]:
            out = _left(out, event_dates(_event_facts(src, w.name), churns, w.name))
        else:
            out = _null_dates(out, [w.name])
    return out


def _bind(cond: Condition, cfg: ForensicsConfig) -> Callable[[ir.Table], ir.BooleanValue]:
    return lambda t: cond(t, cfg)


def _left(a: ir.Table, b: ir.Table) -> ir.Table:
    j = a.left_join(b, [a[k] == b[k] for k in KEY])
    return j.select(*[a[c] for c in a.columns], *[b[c] for c in b.columns if c not in KEY])


def base_rates(
    src: Sources,
    cfg: ForensicsConfig,
    avail: dict[str, bool],
    start: Any,
    end: Any,
    accounts: ir.Table | None = None,
) -> dict[str, float | None]:
    """Per warning: how common it is among all accounts, the yardstick for how unusual it
    was to see it before a churn. States: the share of scored account-days in
    ``[start, end)`` on which it was on. Events: the share of scored account-days (of
    ``account_signals``) with such a fact in the ``lookback_days`` before, the same
    look-back as a churn's window. ``accounts`` (``account_id``) narrows the population."""

    def narrow(t: ir.Table) -> ir.Table:
        t = t.filter((t.score_date >= start) & (t.score_date < end))
        return t.semi_join(accounts, "account_id") if accounts is not None else t

    def mean(t: ir.Table, cond: ir.BooleanValue) -> Any:
        # (0/1 as double through flag(): PostgreSQL reads a 1.0 literal as numeric)
        return t.aggregate(r=flag(_on(cond)).mean()).to_pyarrow()["r"][0].as_py()

    rates: dict[str, float | None] = {w.name: None for w in WARNINGS}
    if src.available("account_signals"):
        sig = narrow(src.table("account_signals"))
        for n, cond in _SIGNAL_CONDITIONS.items():
            if avail[n]:
                rates[n] = mean(sig, cond(sig, cfg))
        days = sig.select("account_id", "score_date")
        days = days.mutate(_start=days.score_date - ibis.interval(days=cfg.lookback_days))
        total = days.count().to_pyarrow().as_py()
        for w in WARNINGS:
            if w.kind == "event" and avail[w.name] and total:
                facts = _event_facts(src, w.name)
                j = days.join(
                    facts,
                    [
                        days.account_id == facts.account_id,
                        facts.day < days.score_date,
                        facts.day >= days._start,
                    ],
                )
                hits = j.select("account_id", "score_date").distinct().count()
                rates[w.name] = hits.to_pyarrow().as_py() / total
        if avail["failed_payment"] and total:
            pay = payment_outcomes(src)
            j = days.join(
                pay,
                [
                    days.account_id == pay.account_id,
                    pay.due_date < days.score_date,
                    pay.due_date >= days._start,
                ],
            )
            per = j.group_by(["account_id", "score_date"]).aggregate(
                failed=j.due_date.max(where=j.failed), paid=j.due_date.max(where=~j.failed)
            )
            on = per.failed.notnull() & (per.paid.isnull() | (per.failed > per.paid))
            hits = per.filter(on).count().to_pyarrow().as_py()
            rates["failed_payment"] = hits / total
    if avail["health_red"]:
        h = narrow(src.table("health_scores"))
        rates["health_red"] = mean(h, h.color == "red")
    if avail["churn_risk_high"]:
        p = narrow(churn_probabilities(src))
        rates["churn_risk_high"] = mean(p, p.probability >= cfg.churn_probability_at_least)
    return {k: (None if v is None else round(float(v), 4)) for k, v in rates.items()}
