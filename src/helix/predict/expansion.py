"""Expansion signals: which accounts are ready to buy more, why, and which motion fits.

Four signals, each detected on a date D from data strictly before D (events
with ``event_time < D``; subscription terms in force on D; the daily signals
of D), with Ibis expressions only:

* ``seats_near_limit``: active users in the last 30 days per licensed seat
  (``account_signals.seat_utilisation``) at or above the seat threshold.
* ``usage_near_limit``: for each configured usage limit, the metered events of
  the last 30 days per allowance (licensed quantity x units per quantity).
* ``adoption_spreading``: event types the account used in the last 30 days and
  not in the look-back before them (365 days by default), when it used the
  product in that look-back; types no account used in the look-back do not
  count (a type the product only began recording is instrumentation, not
  adoption).
* ``predicted_expansion``: the expansion model's probability (table
  ``predictions``, target ``expansion``) at or above the threshold.

The leads go to ``expansion_leads`` (one row per account, signal and date;
schema in :mod:`helix.warehouse.schema`, meaning in ``docs/expansion.md``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from helix.metrics.unit_economics import tier_of
from helix.predict.expansion_config import ExpansionConfig
from helix.signals.sources import Sources
from helix.warehouse import Warehouse
from helix.warehouse.connection import utcnow
from helix.warehouse.schema import ACCOUNT_SIGNALS, EXPANSION_LEADS, MRR_MOVEMENTS, PREDICTIONS

__all__ = [
    "SIGNALS",
    "MOTIONS",
    "WINDOW_DAYS",
    "DetectionRun",
    "lead_date",
    "detect_leads",
    "update_leads",
    "list_leads",
    "account_visible",
]

SIGNALS = ("seats_near_limit", "usage_near_limit", "adoption_spreading", "predicted_expansion")
MOTIONS = ("seats", "tier", "cross_sell", "usage")
WINDOW_DAYS = 30
"""Look-back of the usage and adoption signals (the active-user signal's window too)."""
HISTORY_DAYS = 365
"""Expansions of the year before D tell which motion usually works for an account's tier."""
MAX_NAMES = 5
"""Event types or products named in one evidence text."""

_FROM_MOVEMENT = {
    "seats": "seats",
    "tier": "tier",
    "cross_sell": "cross_sell",
    "usage_price": "usage",
}
_F = dt.float64


@dataclass
class DetectionRun:
    """What one detection did: the date, the leads by signal, and what was skipped."""

    detected_on: date | None
    rows: int = 0
    new: int = 0  # leads whose run starts on this date (first_detected_on == detected_on)
    by_signal: dict[str, int] = field(default_factory=dict)
    by_motion: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the `helix expansion detect --json` document)."""
        return {
            "detected_on": self.detected_on.isoformat() if self.detected_on else None,
            "rows": self.rows,
            "new": self.new,
            "by_signal": self.by_signal,
            "by_motion": self.by_motion,
            "notes": self.notes,
            "config": self.config,
        }


# --------------------------------------------------------------------------- helpers
def _ts(day: date) -> ir.TimestampScalar:
    return ibis.literal(datetime.combine(day, time()), dt.Timestamp())


def _num(x: float) -> ir.FloatingScalar:
    return ibis.literal(float(x), _F)


def _live(subs: ir.Table, day: date) -> ir.Table:
    """Subscription rows in force on ``day`` (half-open terms)."""
    return subs.filter(subs.start_date <= day, subs.end_date.isnull() | (subs.end_date > day))


def lead_date(wh: Warehouse, as_of: date) -> date | None:
    """The detection date for ``as_of``: the latest stored signal date on or before it."""
    t = wh.table(ACCOUNT_SIGNALS.name)
    return t.filter(t.score_date <= as_of).score_date.max().to_pyarrow().as_py()


def _base(wh: Warehouse, day: date) -> ir.Table:
    """Accounts active on ``day`` with their ARR, tenure, seats and owner."""
    s = wh.table(ACCOUNT_SIGNALS.name)
    s = s.filter(s.score_date == day)
    acc = wh.table("accounts").select("account_id", "owner_email")
    j = s.left_join(acc, s.account_id == acc.account_id)
    return j.select(
        s.account_id,
        arr=(s.mrr * 12).cast(_F),
        tenure_days=s.tenure_days,
        active_users_30=s.active_users_30,
        licensed_seats=s.licensed_seats,
        seat_utilisation=s.seat_utilisation,
        owner_email=acc.owner_email,
    )


# --------------------------------------------------------------------------- detectors
def _seat_leads(base: ir.Table, cfg: ExpansionConfig) -> ir.Table:
    b = base.filter(base.licensed_seats > 0, base.seat_utilisation >= _num(cfg.seat_threshold))
    return b.select(
        "account_id", value=b.seat_utilisation, used=b.active_users_30, licensed=b.licensed_seats
    )


def _usage_leads(src: Sources, base: ir.Table, day: date, cfg: ExpansionConfig) -> ir.Table:
    subs = _live(src.table("subscriptions"), day)
    events = src.table("events")
    since, until = _ts(day - timedelta(days=WINDOW_DAYS)), _ts(day)
    parts = []
    for i, lim in enumerate(cfg.usage_limits):
        rows = subs.filter(subs.product == lim.product)
        allowance = rows.group_by("account_id").aggregate(
            quantity=rows.quantity.sum().cast(_F),
        )
        ev = events.filter(
            events.event_type == lim.event_type,
            events.event_time >= since,
            events.event_time < until,
        )
        amount = ev.count() if lim.measure == "count" else ev.value.fill_null(1.0).sum()
        usage = ev.group_by("account_id").aggregate(used=amount.cast(_F))
        j = allowance.left_join(usage, allowance.account_id == usage.account_id)
        licensed = j.quantity * lim.units_per_quantity
        used = j.used.fill_null(0.0)
        parts.append(
            j.filter(licensed > 0).select(
                allowance.account_id,
                value=used / licensed,
                used=used,
                licensed=licensed,
                quantity=j.quantity,
                limit_index=ibis.literal(i, dt.int64),
            )
        )
    u = parts[0]
    for p in parts[1:]:
        u = u.union(p)
    u = u.filter(u.value >= _num(cfg.usage_threshold))
    u = u.semi_join(base, "account_id")
    w = ibis.window(group_by="account_id", order_by=[u.value.desc(), u.limit_index])
    u = u.mutate(_rn=ibis.row_number().over(w))
    return u.filter(u._rn == 0).drop("_rn")


def _adoption_leads(src: Sources, base: ir.Table, day: date, cfg: ExpansionConfig) -> ir.Table:
    e = src.table("events")
    window_start = day - timedelta(days=WINDOW_DAYS)
    since = window_start - timedelta(days=cfg.adoption_lookback_days)
    e = e.filter(e.event_time >= _ts(since), e.event_time < _ts(day))
    start = _ts(window_start)
    first = e.group_by(["account_id", "event_type"]).aggregate(first_at=e.event_time.min())
    recorded = e.group_by("event_type").aggregate(recorded_from=e.event_time.min())
    f = first.join(recorded, "event_type")
    new = (f.first_at >= start) & (f.recorded_from < start)
    per = f.group_by("account_id").aggregate(
        new_types=f.count(where=new),
        types_before=f.count(where=f.first_at < start),
        names=f.event_type.collect(where=new, order_by=[f.first_at, f.event_type]),
    )
    j = per.join(base, "account_id")
    j = j.filter(
        j.types_before > 0,
        j.tenure_days >= cfg.adoption_min_tenure_days,
        j.new_types >= cfg.min_new_event_types,
    )
    return j.select(
        "account_id", value=j.new_types.cast(_F), types_before=j.types_before, names=j.names
    )


def _plan_options(src: Sources, day: date, accounts: ir.Table) -> ir.Table:
    """Per account of ``accounts``: a higher plan of a product it has, and products it lacks.

    Plans are ranked by their mean MRR per licensed unit on ``day`` across all
    accounts (the names say nothing about order); a plan is higher when that
    price is above the account's own plan's.
    """
    live = _live(src.table("subscriptions"), day)
    live = live.filter(live.mrr > 0)
    units = ibis.ifelse(live.quantity > 0, live.quantity, 1).cast(_F)
    priced = live.filter(live.plan.notnull()).mutate(unit_price=live.mrr.cast(_F) / units)
    price = priced.group_by(["product", "plan"]).aggregate(price=priced.unit_price.mean())
    mine = (
        priced.select("account_id", "product", "plan").distinct().semi_join(accounts, "account_id")
    )
    mine = mine.join(price, ["product", "plan"])
    other = price.view()
    up = mine.join(other, [mine.product == other.product, other.price > mine.price])
    up = up.select(mine.account_id, up_product=mine.product, from_plan=mine.plan,
                   to_plan=other.plan, step=other.price - mine.price)  # fmt: skip
    w = ibis.window(group_by="account_id", order_by=[up.step, up.up_product, up.to_plan])
    up = up.mutate(_rn=ibis.row_number().over(w))
    up = up.filter(up._rn == 0).drop("_rn", "step")
    sold = live.select("product").distinct()
    owned = live.select("account_id", "product").distinct()
    lacking = (
        accounts.select("account_id").cross_join(sold).anti_join(owned, ["account_id", "product"])
    )
    lacks = lacking.group_by("account_id").aggregate(
        lacking=lacking.product.collect(order_by=lacking.product)
    )
    out = accounts.select("account_id")
    out = out.left_join(up, "account_id").select(
        out.account_id, up.up_product, up.from_plan, up.to_plan
    )
    return out.left_join(lacks, "account_id").select(
        out.account_id, out.up_product, out.from_plan, out.to_plan, lacks.lacking
    )


def _predicted_leads(src: Sources, base: ir.Table, day: date, cfg: ExpansionConfig) -> ir.Table:
    p = src.table(PREDICTIONS.name)
    p = p.filter(
        p.target == "expansion",
        p.score_date <= day,
        p.score_date >= day - timedelta(days=cfg.prediction_max_age_days),
    )
    p = p.filter(p.score_date == p.score_date.max().as_scalar())
    p = p.filter(p.probability >= _num(cfg.prediction_threshold)).semi_join(base, "account_id")
    w = ibis.window(group_by="account_id", order_by=[p.probability.desc(), p.horizon_days])
    p = p.mutate(_rn=ibis.row_number().over(w))
    p = p.filter(p._rn == 0)
    j = p.join(base, "account_id")
    return j.select(
        p.account_id,
        value=p.probability,
        horizon_days=p.horizon_days,
        model_version=p.model_version,
        scored_on=p.score_date,
        tier=tier_of(j.arr),
    )


def _usual_motions(src: Sources, day: date) -> ir.Table:
    """The most frequent expansion motion of the year before ``day``, per ARR tier and overall.

    Rows: ``tier`` (``"all"`` for the whole company), ``motion``, ``n`` (its
    expansions), ``total`` (all expansions of the tier). Ties go to the motion
    listed first in :data:`MOTIONS`.
    """
    m = src.table(MRR_MOVEMENTS.name)
    m = m.filter(
        m.movement == "expansion",
        m.period_end <= day,
        m.period_start >= day - timedelta(days=HISTORY_DAYS),
        m.movement_type.isin(list(_FROM_MOVEMENT)),
    )
    m = m.select(
        tier=tier_of(m.start_mrr * 12),
        motion=m.movement_type.substitute(_FROM_MOVEMENT),
    )
    whole = m.select(tier=ibis.literal("all"), motion=m.motion)
    both = m.union(whole, distinct=False)
    counts = both.group_by(["tier", "motion"]).aggregate(n=both.count())
    order = ibis.cases(
        *[(counts.motion == x, i) for i, x in enumerate(MOTIONS)], else_=len(MOTIONS)
    )
    w = ibis.window(group_by="tier", order_by=[counts.n.desc(), order])
    ranked = counts.mutate(
        _rn=ibis.row_number().over(w), total=counts.n.sum().over(group_by="tier")
    )
    return ranked.filter(ranked._rn == 0).select("tier", "motion", "n", "total")


# --------------------------------------------------------------------------- evidence
def _pct(ratio: float) -> str:
    """A ratio as a whole percentage, rounded down (so 79.6% never reads as 80%)."""
    return f"{math.floor(ratio * 100 + 1e-9)}%"


def _n(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.2f}"


def _names(names: list[str] | None) -> str:
    names = list(names or [])
    shown = ", ".join(names[:MAX_NAMES])
    return shown + (f" and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else "")


def _seat_row(r: dict[str, Any], cfg: ExpansionConfig) -> dict[str, Any]:
    return {
        "signal": "seats_near_limit",
        "suggested_motion": "seats",
        "evidence": f"{_n(r['used'])} of {_n(r['licensed'])} licensed seats active in the last "
        f"{WINDOW_DAYS} days ({_pct(r['value'])}; threshold {_pct(cfg.seat_threshold)})",
        "motion_reason": "the seats are nearly all in use: more seats",
        "threshold": cfg.seat_threshold,
        "detail": {},
    }


def _usage_row(r: dict[str, Any], cfg: ExpansionConfig) -> dict[str, Any]:
    lim = cfg.usage_limits[r["limit_index"]]
    unit = f"{lim.event_type} events" if lim.measure == "count" else f"{lim.event_type} units"
    reason = {
        "usage": f"usage is close to the {lim.product} allowance: a larger allowance",
        "tier": f"usage is close to what the plan allows on {lim.product}: a higher tier",
    }[lim.motion]
    return {
        "signal": "usage_near_limit",
        "suggested_motion": lim.motion,
        "evidence": f"{_n(r['used'])} {unit} in the last {WINDOW_DAYS} days of the "
        f"{_n(r['licensed'])} allowed by {_n(r['quantity'])} {lim.product} "
        f"({_pct(r['value'])}; threshold {_pct(cfg.usage_threshold)})",
        "motion_reason": reason,
        "threshold": cfg.usage_threshold,
        "detail": {**lim.to_dict(), "quantity": r["quantity"]},
    }


def _adoption_motion(r: dict[str, Any]) -> tuple[str, str]:
    if r.get("to_plan") is not None:
        return "tier", (
            f"{r['up_product']} has a higher plan than {r['from_plan']} ({r['to_plan']}) "
            "for the new workflows"
        )
    if r.get("lacking"):
        return "cross_sell", f"products it does not have yet: {_names(r['lacking'])}"
    return "seats", "it has every product on the highest plan: more seats for the teams adopting"


def _adoption_row(r: dict[str, Any], cfg: ExpansionConfig) -> dict[str, Any]:
    motion, reason = _adoption_motion(r)
    n = int(r["value"])
    return {
        "signal": "adoption_spreading",
        "suggested_motion": motion,
        "evidence": f"{n} event type{'s' if n != 1 else ''} used in the last {WINDOW_DAYS} days "
        f"and not in the {cfg.adoption_lookback_days} days before ({_names(r['names'])}; "
        f"threshold {cfg.min_new_event_types}); {r['types_before']} other "
        f"type{'s' if r['types_before'] != 1 else ''} used then",
        "motion_reason": reason,
        "threshold": float(cfg.min_new_event_types),
        "detail": {
            "new_event_types": list(r["names"] or []),
            "event_types_before": r["types_before"],
            "higher_plan": None
            if r.get("to_plan") is None
            else {"product": r["up_product"], "from": r["from_plan"], "to": r["to_plan"]},
            "products_lacking": list(r.get("lacking") or []),
        },
    }


def _predicted_row(
    r: dict[str, Any], cfg: ExpansionConfig, usual: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    basis = usual.get(r["tier"]) or usual.get("all")
    if basis is None:
        motion, reason = (
            "seats",
            "no expansion in the year before to learn from: seats, the simplest",
        )
    else:
        who = f"{r['tier']} accounts" if basis is usual.get(r["tier"]) else "accounts"
        motion = basis["motion"]
        reason = (
            f"{who} expanded most often by {motion} in the year before "
            f"({basis['n']} of {basis['total']} expansions)"
        )
    return {
        "signal": "predicted_expansion",
        "suggested_motion": motion,
        "evidence": f"{_pct(r['value'])} probability of expanding within {r['horizon_days']} days "
        f"(expansion model {r['model_version']}, scored {r['scored_on'].isoformat()}; threshold "
        f"{_pct(cfg.prediction_threshold)})",
        "motion_reason": reason,
        "threshold": cfg.prediction_threshold,
        "detail": {
            "horizon_days": r["horizon_days"],
            "model_version": r["model_version"],
            "scored_on": r["scored_on"].isoformat(),
            "tier": r["tier"],
        },
    }


# --------------------------------------------------------------------------- detection
def _rows(expr: ir.Table) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()


def detect_leads(
    wh: Warehouse, day: date, cfg: ExpansionConfig | None = None
) -> tuple[pa.Table, list[str]]:
    """The leads of ``day`` as an Arrow table of the ``expansion_leads`` schema, and notes
    on the signals that could not be looked for (missing tables or settings)."""
    cfg = cfg or ExpansionConfig()
    src = Sources(wh)
    base = _base(wh, day)
    facts = {r["account_id"]: r for r in _rows(base.select("account_id", "arr", "owner_email"))}
    notes: list[str] = []
    found: list[tuple[dict[str, Any], dict[str, Any]]] = []

    has_events = src.available("events")
    found += [(r, _seat_row(r, cfg)) for r in _rows(_seat_leads(base, cfg))]
    if not has_events:
        notes.append("seats_near_limit skipped: no events (active users come from them)")
    elif int(base.filter(base.licensed_seats > 0).count().execute()) == 0:
        notes.append("seats_near_limit: no licensed quantities in the subscriptions")

    if not cfg.usage_limits:
        notes.append(
            "usage_near_limit skipped: no usage limits configured "
            "(usage_limits in `helix expansion config --set FILE`)"
        )
    elif not has_events:
        notes.append("usage_near_limit skipped: no events")
    else:
        found += [(r, _usage_row(r, cfg)) for r in _rows(_usage_leads(src, base, day, cfg))]

    if has_events:
        adopting = _rows(_adoption_leads(src, base, day, cfg))
        options: dict[str, dict[str, Any]] = {}
        if adopting:
            ids = ibis.memtable(pa.table({"account_id": [r["account_id"] for r in adopting]}))
            options = {r["account_id"]: r for r in _rows(_plan_options(src, day, ids))}
        for r in adopting:
            r.update(options.get(r["account_id"], {}))
            found.append((r, _adoption_row(r, cfg)))
    else:
        notes.append("adoption_spreading skipped: no events")

    if not src.available(PREDICTIONS.name):
        notes.append(
            "predicted_expansion skipped: no predictions (`helix predict train --target expansion`)"
        )
    else:
        predicted = _rows(_predicted_leads(src, base, day, cfg))
        if not predicted and not _has_recent_expansion_model(src, day, cfg):
            notes.append(
                f"predicted_expansion skipped: no expansion predictions in the "
                f"{cfg.prediction_max_age_days} days up to {day}"
            )
        usual: dict[str, dict[str, Any]] = {}
        if predicted and src.available(MRR_MOVEMENTS.name):
            usual = {r["tier"]: r for r in _rows(_usual_motions(src, day))}
        elif predicted:
            notes.append("predicted_expansion: no MRR ledger, so the motion defaults to seats")
        found += [(r, _predicted_row(r, cfg, usual)) for r in predicted]
    return _arrow(day, found, facts, _running_since(wh, day)), notes


def _running_since(wh: Warehouse, day: date) -> dict[tuple[str, str], date]:
    """``first_detected_on`` of the leads stored for the detection date before ``day``."""
    t = wh.table(EXPANSION_LEADS.name)
    before = t.filter(t.detected_on < day)
    prev = before.filter(before.detected_on == before.detected_on.max().as_scalar())
    rows = _rows(prev.select("account_id", "signal", "first_detected_on"))
    return {(r["account_id"], r["signal"]): r["first_detected_on"] for r in rows}


def _has_recent_expansion_model(src: Sources, day: date, cfg: ExpansionConfig) -> bool:
    p = src.table(PREDICTIONS.name)
    p = p.filter(
        p.target == "expansion",
        p.score_date <= day,
        p.score_date >= day - timedelta(days=cfg.prediction_max_age_days),
    )
    return int(p.limit(1).count().execute()) > 0


def _money(x: float | None) -> Decimal | None:
    return None if x is None else Decimal(str(round(x, 2)))


def _arrow(
    day: date,
    found: list[tuple[dict[str, Any], dict[str, Any]]],
    facts: dict[str, dict[str, Any]],
    since: dict[tuple[str, str], date],
) -> pa.Table:
    now = utcnow()
    rows = []
    for raw, lead in sorted(
        found, key=lambda x: (x[0]["account_id"], SIGNALS.index(x[1]["signal"]))
    ):
        acc = facts.get(raw["account_id"], {})
        rows.append(
            {
                "account_id": raw["account_id"],
                "detected_on": day,
                "first_detected_on": since.get((raw["account_id"], lead["signal"])) or day,
                "signal": lead["signal"],
                "suggested_motion": lead["suggested_motion"],
                "evidence": lead["evidence"],
                "motion_reason": lead["motion_reason"],
                "value": float(raw["value"]),
                "threshold": float(lead["threshold"]),
                "used": raw.get("used"),
                "licensed": raw.get("licensed"),
                "strength": round(float(raw["value"]) / float(lead["threshold"]), 6),
                "arr": _money(acc.get("arr")),
                "owner_email": acc.get("owner_email"),
                "detail": json.dumps(lead["detail"], sort_keys=True, default=str),
                "computed_at": now,
            }
        )
    schema = EXPANSION_LEADS.ibis_schema().to_pyarrow()
    return pa.Table.from_pylist(rows, schema=schema)


def update_leads(wh: Warehouse, as_of: date, cfg: ExpansionConfig | None = None) -> DetectionRun:
    """Detect the leads of ``as_of`` (the latest signal date on or before it) and store them.

    Rows of that date are replaced; leads of earlier dates are kept as history.
    """
    cfg = cfg or ExpansionConfig()
    day = lead_date(wh, as_of)
    run = DetectionRun(detected_on=day, config=cfg.to_dict())
    if day is None:
        run.notes.append(f"no signals on or before {as_of}: run `helix run` first")
        return run
    leads, run.notes = detect_leads(wh, day, cfg)
    t = wh.table(EXPANSION_LEADS.name)
    wh.write_parts(EXPANSION_LEADS.name, [t.filter(t.detected_on != day), leads])
    run.rows = leads.num_rows
    run.new = sum(d == day for d in leads["first_detected_on"].to_pylist())
    for col, counts in (("signal", run.by_signal), ("suggested_motion", run.by_motion)):
        for v in leads[col].to_pylist():
            counts[v] = counts.get(v, 0) + 1
    if day != as_of:
        run.notes.append(f"signals are stored up to {day}: leads detected on {day}")
    return run


# --------------------------------------------------------------------------- reading
def list_leads(
    wh: Warehouse,
    *,
    on: date | None = None,
    motion: str | None = None,
    signal: str | None = None,
    owner: str | None = None,
    account_id: str | None = None,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """Stored leads, strongest first, with the account's name.

    Without ``account_id``: the leads of ``on`` (default: the latest detection
    date). With it: that account's leads over time, newest first. ``owner``
    keeps the accounts whose current CSM is that email (a CSM's book).
    """
    t = wh.table(EXPANSION_LEADS.name)
    acc = wh.table("accounts").select("account_id", "name", current_owner="owner_email")
    if owner is not None:
        mine = acc.filter(acc.current_owner.lower() == owner.lower()).select("account_id")
        t = t.semi_join(mine, "account_id")
    if motion is not None:
        t = t.filter(t.suggested_motion == motion)
    if signal is not None:
        t = t.filter(t.signal == signal)
    if account_id is not None:
        t = t.filter(t.account_id == account_id)
    else:
        day = on or t.detected_on.max().to_pyarrow().as_py()
        if day is None:
            return []
        t = t.filter(t.detected_on == day)
    j = t.left_join(acc, "account_id").select(t, acc.name)
    order = [j.detected_on.desc(), j.strength.desc(), j.arr.desc(), j.account_id, j.signal]
    rows = j.order_by(order).limit(limit).to_pyarrow().to_pylist()
    return [_public(r) for r in rows]


def account_visible(wh: Warehouse, account_id: str, owner: str | None = None) -> bool:
    """True when ``account_id`` exists and, with ``owner``, is in that CSM's book."""
    acc = wh.table("accounts")
    hit = acc.filter(acc.account_id == account_id)
    if owner is not None:
        hit = hit.filter(hit.owner_email.lower() == owner.lower())
    return int(hit.count().execute()) > 0


def _public(r: dict[str, Any]) -> dict[str, Any]:
    r["detected_on"] = r["detected_on"].isoformat()
    if r["first_detected_on"] is not None:
        r["first_detected_on"] = r["first_detected_on"].isoformat()
    r["computed_at"] = r["computed_at"].isoformat() if r["computed_at"] else None
    r["arr"] = None if r["arr"] is None else round(float(r["arr"]), 2)
    r["detail"] = json.loads(r["detail"] or "{}")
    return r
