"""The facts of one account's quarterly business review (seed 002, "QBR agenda").

Open on the customer (goals and progress, what changed in their business),
bring a point of view (where the product is and is not helping, a
recommendation), close on decisions (agreed next steps, attendees). Each
section is built from data the rest of Helix already computes:

* goals: the account's success plan (:mod:`helix.reports.success_plans`);
* what changed over the review window (default the 90 days to the as-of
  date, against the 90 days before): contacts who joined or left, product
  events and active users, the MRR movement (:func:`helix.metrics.mrr.window_ledger`);
* adoption: the daily signals on the as-of date (``account_signals``: seat
  utilisation, breadth, core share, new features, plateau), features used and
  not used, support tickets and CSAT;
* recommendation: the explained health score (:func:`helix.health.service.explain_account`),
  the latest churn/expansion prediction drivers, and the account's expansion leads;
* next steps: open tasks; attendees: current contacts by role and the account's CSM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import ibis

from helix.errors import NotFoundError
from helix.platform import Platform
from helix.reports.plans import open_tasks
from helix.reports.success_plans import success_plan

__all__ = ["QbrFacts", "qbr_facts", "ROLE_ORDER", "WINDOW_DAYS"]

WINDOW_DAYS = 90
ROLE_ORDER = ("executive_sponsor", "decision_maker", "champion", "user", "other")
_ADOPTION = (
    "active_users_30",
    "licensed_seats",
    "seat_utilisation",
    "breadth_30",
    "core_share_30",
    "logins_30",
    "events_30",
    "usage_trend_90",
    "new_features_90",
    "plateau",
    "days_since_last_activity",
    "nps_latest",
    "csat_latest",
    "engaged_contacts_90",
    "multi_threaded",
    "mrr",
    "days_to_renewal",
)


@dataclass(frozen=True)
class QbrFacts:
    """Everything the QBR deck says about one account, as plain JSON-ready data."""

    account: dict[str, Any]
    as_of: date
    window: tuple[date, date]
    goals: dict[str, Any]
    changes: dict[str, Any]
    adoption: dict[str, Any]
    support: dict[str, Any]
    health: dict[str, Any] | None
    predictions: list[dict[str, Any]]
    expansion: list[dict[str, Any]]
    next_steps: list[dict[str, Any]]
    attendees: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "account": self.account,
            "as_of": self.as_of.isoformat(),
            "window": {"start": self.window[0].isoformat(), "end": self.window[1].isoformat()},
            "goals": self.goals,
            "changes": self.changes,
            "adoption": self.adoption,
            "support": self.support,
            "health": self.health,
            "predictions": self.predictions,
            "expansion": self.expansion,
            "next_steps": self.next_steps,
            "attendees": self.attendees,
        }


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    return value if isinstance(value, date) else None


def _ts(day: date) -> Any:
    return ibis.timestamp(datetime(day.year, day.month, day.day))


def _account(platform: Platform, account_id: str) -> dict[str, Any]:
    wh = platform.warehouse
    if wh.has_table("account_summary"):
        t = wh.table("account_summary")
        rows = t.filter(t.account_id == account_id).to_pyarrow().to_pylist()
    else:
        t = wh.table("accounts")
        rows = (
            t.filter(t.account_id == account_id)
            .select("account_id", "name", "segment", "owner_email")
            .to_pyarrow()
            .to_pylist()
        )
    if not rows:
        raise NotFoundError(
            f"no account {account_id!r}", hint="check the id (ids are compared exactly)"
        )
    r = rows[0]
    out = {
        k: r.get(k)
        for k in (
            "account_id",
            "name",
            "segment",
            "tier",
            "owner_email",
            "arr",
            "mrr",
            "seats",
            "active",
        )
    }
    for k in ("customer_since", "next_renewal"):
        d = _day(r.get(k))
        out[k] = d.isoformat() if d else None
    for k in ("arr", "mrr", "seats"):
        if out.get(k) is not None:
            out[k] = round(float(out[k]), 2)
    return out


def _contacts(
    platform: Platform, account_id: str, start: date, end: date
) -> tuple[list, list, list]:
    wh = platform.warehouse
    if not wh.has_table("contacts"):
        return [], [], []
    c = wh.table("contacts")
    rows = c.filter(c.account_id == account_id).to_pyarrow().to_pylist()
    joined, left, current = [], [], []
    for r in rows:
        started, ended = _day(r.get("started_at")), _day(r.get("ended_at"))
        person = {
            "contact_id": r["contact_id"],
            "name": r["name"],
            "title": r.get("title"),
            "role": r.get("role") or "other",
            "email": r.get("email"),
            "started_at": started.isoformat() if started else None,
            "ended_at": ended.isoformat() if ended else None,
        }
        if started is not None and start <= started < end:
            joined.append(person)
        if ended is not None and start <= ended < end:
            left.append(person)
        if (started is None or started < end) and (ended is None or ended >= end):
            current.append(person)

    def rank(p: dict[str, Any]) -> tuple[int, str]:
        role = p["role"] if p["role"] in ROLE_ORDER else "other"
        return ROLE_ORDER.index(role), p["name"]

    return sorted(joined, key=rank), sorted(left, key=rank), sorted(current, key=rank)


def _usage(platform: Platform, account_id: str, start: date, end: date) -> dict[str, Any]:
    wh = platform.warehouse
    prior_start = start - (end - start)
    empty = {
        "events": 0,
        "prior_events": 0,
        "active_users": 0,
        "prior_active_users": 0,
        "features": [],
        "not_adopted": [],
    }
    if not wh.has_table("events"):
        return empty
    e = wh.table("events")
    mine = e.filter(
        e.account_id == account_id, e.event_time >= _ts(prior_start), e.event_time < _ts(end)
    )
    mine = mine.mutate(current=mine.event_time >= _ts(start))
    by = mine.group_by(["event_type", "current"]).aggregate(
        n=mine.count(), users=mine.user_id.nunique()
    )
    users = mine.group_by("current").aggregate(users=mine.user_id.nunique(), n=mine.count())
    counts: dict[str, dict[str, int]] = {}
    for r in by.to_pyarrow().to_pylist():
        counts.setdefault(r["event_type"], {"now": 0, "before": 0})[
            "now" if r["current"] else "before"
        ] = int(r["n"])
    totals = {bool(r["current"]): r for r in users.to_pyarrow().to_pylist()}
    company = e.filter(e.event_time >= _ts(start), e.event_time < _ts(end))
    used_elsewhere = set(company.select("event_type").distinct().to_pyarrow().column(0).to_pylist())
    features = [
        {"event_type": k, "events": v["now"], "prior_events": v["before"]}
        for k, v in sorted(counts.items(), key=lambda kv: (-kv[1]["now"], kv[0]))
    ]
    used_now = {f["event_type"] for f in features if f["events"] > 0}
    return {
        "events": int(totals[True]["n"]) if True in totals else 0,
        "prior_events": int(totals[False]["n"]) if False in totals else 0,
        "active_users": int(totals[True]["users"]) if True in totals else 0,
        "prior_active_users": int(totals[False]["users"]) if False in totals else 0,
        "features": features,
        "not_adopted": sorted(used_elsewhere - used_now),
    }


def _signals(platform: Platform, account_id: str, on: date) -> dict[str, Any]:
    wh = platform.warehouse
    if not wh.has_table("account_signals"):
        return {}
    s = wh.table("account_signals")
    cols = [c for c in _ADOPTION if c in s.columns]
    rows = (
        s.filter(s.account_id == account_id, s.score_date <= on)
        .order_by(s.score_date.desc())
        .limit(1)
        .select("score_date", *cols)
        .to_pyarrow()
        .to_pylist()
    )
    if not rows:
        return {}
    r = rows[0]
    out: dict[str, Any] = {"score_date": _day(r.pop("score_date")).isoformat()}  # type: ignore[union-attr]
    for k, v in r.items():
        out[k] = (
            None
            if v is None or (isinstance(v, float) and v != v)
            else (float(v) if isinstance(v, int | float) else v)
        )
    return out


def _tickets(platform: Platform, account_id: str, start: date, end: date) -> dict[str, Any]:
    wh = platform.warehouse
    if not wh.has_table("tickets"):
        return {
            "tickets": 0,
            "prior_tickets": 0,
            "urgent": 0,
            "open": 0,
            "csat": None,
            "subjects": [],
        }
    t = wh.table("tickets")
    prior_start = start - (end - start)
    rows = (
        t.filter(
            t.account_id == account_id, t.created_at >= _ts(prior_start), t.created_at < _ts(end)
        )
        .order_by(t.created_at.desc())
        .to_pyarrow()
        .to_pylist()
    )
    now = [r for r in rows if _day(r["created_at"]) >= start]  # type: ignore[operator]
    open_now = [r for r in now if r.get("resolved_at") is None or _day(r["resolved_at"]) >= end]  # type: ignore[operator]
    scores = [int(r["csat"]) for r in now if r.get("csat") is not None]
    return {
        "tickets": len(now),
        "prior_tickets": len(rows) - len(now),
        "urgent": sum(1 for r in now if (r.get("priority") or "") in ("high", "urgent")),
        "open": len(open_now),
        "csat": round(sum(scores) / len(scores), 2) if scores else None,
        "subjects": [r["subject"] for r in now if r.get("subject")][:5],
    }


def _mrr_change(
    platform: Platform, account_id: str, start: date, end: date
) -> dict[str, Any] | None:
    from helix.metrics.mrr import window_ledger

    rows = window_ledger(platform.warehouse, start, end, account_id=account_id)
    if not rows:
        return None
    r = rows[0]
    return {
        k: r[k]
        for k in (
            "start_mrr",
            "end_mrr",
            "expansion_mrr",
            "contraction_mrr",
            "churned_mrr",
            "movement",
            "movement_type",
        )
    }


def _health(platform: Platform, account_id: str, on: date) -> dict[str, Any] | None:
    from helix.health.service import explain_account

    try:
        return explain_account(platform, account_id, on)
    except NotFoundError:
        return None
    except Exception as exc:  # no signals yet is a UserError too: no health section
        from helix.errors import UserError

        if isinstance(exc, UserError):
            return None
        raise


def _predictions(platform: Platform, account_id: str, on: date) -> list[dict[str, Any]]:
    """The account's predictions of the latest scoring date on or before ``on``."""
    from helix.predict.service import account_predictions

    if not platform.warehouse.has_table("predictions"):
        return []
    rows = account_predictions(platform.warehouse, account_id=account_id, limit=200)
    rows = [r for r in rows if r["score_date"] <= on.isoformat()]
    if not rows:
        return []
    last = max(r["score_date"] for r in rows)
    return [
        {
            "target": r["target"],
            "horizon_days": int(r["horizon_days"]),
            "probability": float(r["probability"]),
            "score_date": r["score_date"],
            "drivers": list(r["drivers"] or []),
        }
        for r in sorted(rows, key=lambda r: (r["target"], r["horizon_days"]))
        if r["score_date"] == last
    ]


def _expansion(platform: Platform, account_id: str, on: date) -> list[dict[str, Any]]:
    from helix.predict.expansion import list_leads

    if not platform.warehouse.has_table("expansion_leads"):
        return []
    rows = list_leads(platform.warehouse, account_id=account_id, limit=20)
    rows = [r for r in rows if r["detected_on"] <= on.isoformat()]
    if not rows:
        return []
    latest = rows[0]["detected_on"]
    return [
        {
            k: r.get(k)
            for k in (
                "signal",
                "suggested_motion",
                "evidence",
                "motion_reason",
                "strength",
                "detected_on",
                "first_detected_on",
            )
        }
        for r in rows
        if r["detected_on"] == latest
    ]


def qbr_facts(
    platform: Platform,
    account_id: str,
    *,
    as_of: date | None = None,
    window_days: int = WINDOW_DAYS,
) -> QbrFacts:
    """Gather the facts of ``account_id``'s QBR as of ``as_of`` (default: the last `helix run`)."""
    from helix.predict.service import data_as_of

    account = _account(platform, account_id)
    day = as_of or data_as_of(platform.warehouse)
    end = day + timedelta(days=1)  # the window holds the as-of day itself
    start = end - timedelta(days=window_days)
    joined, left, current = _contacts(platform, account_id, start, end)
    with platform.store.session() as session:
        goals = success_plan(session, account_id)
        tasks = open_tasks(session, [account_id])[account_id]
    usage = _usage(platform, account_id, start, end)
    changes = {
        "contacts_joined": joined,
        "contacts_left": left,
        "events": usage["events"],
        "prior_events": usage["prior_events"],
        "active_users": usage["active_users"],
        "prior_active_users": usage["prior_active_users"],
        "mrr": _mrr_change(platform, account_id, start, end),
    }
    signals = _signals(platform, account_id, day)
    adoption = {
        "signals": signals,
        "features": usage["features"],
        "not_adopted": usage["not_adopted"],
    }
    roles = {p["role"] for p in current}
    attendees = {
        "customer": current,
        "vendor": [{"name": account["owner_email"], "role": "CSM"}]
        if account.get("owner_email")
        else [],
        "missing_roles": [
            r for r in ("executive_sponsor", "decision_maker", "champion") if r not in roles
        ],
    }
    return QbrFacts(
        account=account,
        as_of=day,
        window=(start, end),
        goals=goals,
        changes=changes,
        adoption=adoption,
        support=_tickets(platform, account_id, start, end),
        health=_health(platform, account_id, day),
        predictions=_predictions(platform, account_id, day),
        expansion=_expansion(platform, account_id, day),
        next_steps=tasks,
        attendees=attendees,
    )
