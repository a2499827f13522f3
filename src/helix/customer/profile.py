"""What the Customer 360 page shows of one account, read from the warehouse.

Every function takes an account id the caller was already allowed to see
(:func:`helix.customer.access.find_account`), and reads only that account's rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc

from helix.portfolio import CHURN_HORIZON_DAYS, quarter_end, risk_band
from helix.warehouse import Warehouse

__all__ = [
    "customer_header",
    "health_history",
    "usage_weekly",
    "usage_summary",
    "UsageSummary",
    "subscriptions",
    "mrr_movements",
    "contacts",
    "stakeholder_map",
    "STAKEHOLDER_ROLES",
]

STAKEHOLDER_ROLES = ("champion", "executive_sponsor", "decision_maker", "user", "other")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return round(float(value), 2)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _rows(table: Any) -> list[dict[str, Any]]:
    """Rows of an Arrow table (or an Ibis expression) with money and dates made plain."""
    data = table if hasattr(table, "to_pylist") else table.to_pyarrow()
    return [{k: _plain(v) for k, v in r.items()} for r in data.to_pylist()]


def _json_list(text: str | None) -> list[Any]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []


def customer_header(wh: Warehouse, account: dict[str, Any]) -> dict[str, Any]:
    """ARR, MRR, plan, owner, renewal, the latest health (score, colour, group scores,
    drivers) and the latest churn prediction (probability, risk band, drivers)."""
    account_id = account["account_id"]
    out: dict[str, Any] = {k: _plain(v) for k, v in account.items()}
    summary: dict[str, Any] = {}
    if wh.has_table("account_summary"):
        def summary_of(account_id: Any) -> Any:
            t = wh.table("account_summary")
            return t.filter(t.account_id == account_id)

        got = _rows(wh.query("c360.summary", summary_of, account_id=account_id))
        summary = got[0] if got else {}
    for key in (
        "mrr",
        "arr",
        "tier",
        "active",
        "customer_since",
        "next_renewal",
        "seats",
        "last_event_at",
        "as_of",
    ):
        out[key] = summary.get(key)
    as_of = date.fromisoformat(out["as_of"]) if out.get("as_of") else None
    out["renews_this_quarter"] = bool(
        as_of
        and out["next_renewal"]
        and date.fromisoformat(out["next_renewal"]) <= quarter_end(as_of)
    )
    out["plans"] = []
    if wh.has_table("subscriptions") and as_of is not None:
        def plans_of(account_id: Any, as_of: Any) -> Any:
            s = wh.table("subscriptions")
            live = s.filter(
                (s.account_id == account_id)
                & (s.start_date <= as_of)
                & (s.end_date.isnull() | (s.end_date > as_of))
            )
            return (
                live.group_by(["product", "plan"])
                .aggregate(mrr=live.mrr.sum())
                .order_by(ibis.desc("mrr"))
            )

        plans = _rows(wh.query("c360.plans", plans_of, account_id=account_id, as_of=as_of))
        out["plans"] = [
            f"{p['product']} {p['plan']}".strip() if p["plan"] else p["product"] for p in plans
        ]
    out["health"] = None
    if wh.has_table("health_scores"):
        rows = _latest_health(wh, account_id)
        if rows:
            r = rows[0]
            groups = json.loads(r["group_scores"] or "{}")
            out["health"] = {
                "score_date": r["score_date"],
                "score": round(float(r["score"]), 1),
                "color": r["color"],
                "groups": groups,
                "drivers": _json_list(r["drivers"]),
                "missing": _json_list(r["missing"]),
                "model_version": r["model_version"],
            }
    out["churn"] = None
    if wh.has_table("predictions"):
        def latest_churn(account_id: Any) -> Any:
            p = wh.table("predictions")
            mine = p.filter(
                (p.account_id == account_id)
                & (p.target == "churn")
                & (p.horizon_days == CHURN_HORIZON_DAYS)
            )
            return mine.order_by(ibis.desc("score_date")).limit(1)

        rows = _rows(wh.query("c360.churn", latest_churn, account_id=account_id))
        if rows:
            r = rows[0]
            out["churn"] = {
                "score_date": r["score_date"],
                "probability": round(float(r["probability"]), 4),
                "risk": risk_band(float(r["probability"])),
                "horizon_days": r["horizon_days"],
                "drivers": _json_list(r["drivers"]),
                "model_version": r["model_version"],
            }
    return out


def _latest_health(wh: Warehouse, account_id: str) -> list[dict[str, Any]]:
    """The account's latest score row: from ``health_latest`` (one row per account),
    or from the daily history while the health stage has not written that table (a
    warehouse from before it existed)."""
    if wh.has_table("health_latest"):
        def latest(account_id: Any) -> Any:
            h = wh.table("health_latest")
            return h.filter(h.account_id == account_id)

        def any_row() -> Any:
            return wh.table("health_latest").select("account_id").limit(1)

        rows = _rows(wh.query("c360.health_latest", latest, account_id=account_id))
        if rows or wh.query("c360.health_latest_any", any_row).num_rows:
            return rows

    def from_history(account_id: Any) -> Any:
        h = wh.table("health_scores")
        return h.filter(h.account_id == account_id).order_by(ibis.desc("score_date")).limit(1)

    return _rows(wh.query("c360.health", from_history, account_id=account_id))


def health_history(wh: Warehouse, account_id: str, *, days: int = 365) -> list[dict[str, Any]]:
    """The daily health score and colour over the last ``days`` days of history, oldest first."""
    if not wh.has_table("health_scores"):
        return []

    def history(account_id: Any) -> Any:
        h = wh.table("health_scores")
        mine = h.filter(h.account_id == account_id)
        latest_first = mine.order_by(ibis.desc("score_date")).limit(days)
        return latest_first.select("score_date", "score", "color")

    got = wh.query(f"c360.history.{days}", history, account_id=account_id)[::-1]
    # a year of days: converted by Arrow, not cell by cell
    plain = pa.table(
        {
            "score_date": got["score_date"].cast(pa.string()),
            "score": pc.round(got["score"].cast(pa.float64()), 1),
            "color": got["color"],
        }
    )
    return plain.to_pylist()  # type: ignore[no-any-return]


def _week_span(as_of: date, weeks: int) -> tuple[date, datetime, datetime]:
    """The first Monday of the ``weeks`` weeks up to ``as_of``, and the half-open span."""
    monday = as_of - timedelta(days=as_of.weekday())
    start = monday - timedelta(weeks=weeks - 1)
    return (
        start,
        datetime.combine(start, datetime.min.time()),
        datetime.combine(as_of + timedelta(days=1), datetime.min.time()),
    )


def _weekly_rows(got: dict[str, Any], start: date, weeks: int) -> list[dict[str, Any]]:
    out = []
    for k in range(weeks):
        w = (start + timedelta(weeks=k)).isoformat()
        r = got.get(w, {})
        out.append({"week": w, "events": int(r.get("events", 0)), "users": int(r.get("users", 0))})
    return out


def usage_weekly(
    wh: Warehouse, account_id: str, as_of: date | None, *, weeks: int = 26
) -> list[dict[str, Any]]:
    """Events and distinct active users per ISO week (weeks start on Monday), for the
    ``weeks`` weeks up to ``as_of``, oldest first; weeks without events count zero."""
    if not wh.has_table("events") or as_of is None:
        return []
    start, lo, hi = _week_span(as_of, weeks)

    def weekly(account_id: Any, start: Any, end: Any) -> Any:
        e = wh.table("events")
        mine = e.filter(
            (e.account_id == account_id) & (e.event_time >= start) & (e.event_time < end)
        )
        week = mine.event_time.truncate("W").cast("date").name("week")
        return mine.group_by(week).aggregate(events=mine.count(), users=mine.user_id.nunique())

    got = wh.query("c360.usage_weekly", weekly, account_id=account_id, start=lo, end=hi)
    return _weekly_rows({r["week"]: r for r in _rows(got)}, start, weeks)


@dataclass(frozen=True)
class UsageSummary:
    """An account's usage for the Customer 360, read from its events at once."""

    weeks: list[dict[str, Any]]
    """:func:`usage_weekly`'s rows."""
    days: list[dict[str, Any]]
    """The latest days with events, newest first: ``day``, ``at`` (the day's last event),
    ``events``, ``users``, ``item_id`` (the timeline's usage rows)."""
    types: list[dict[str, Any]]
    """``day``, ``event_type``, ``n`` for those days."""


def usage_summary(
    wh: Warehouse, account_id: str, as_of: date, *, weeks: int = 26, days: int = 31
) -> UsageSummary:
    """The weekly usage and the latest ``days`` days with events, from one read of the
    account's events (the page's chart and its timeline's first usage items would
    otherwise read them three times)."""
    if not wh.has_table("events"):
        return UsageSummary([], [], [])
    start, lo, hi = _week_span(as_of, weeks)
    cols = ["grain", "day", "event_type", "at", "n", "users"]

    def read(account_id: Any, start: Any, end: Any) -> Any:
        e = wh.table("events")
        m = e.filter(e.account_id == account_id).select("event_time", "event_type", "user_id")
        day = m.event_time.truncate("D")
        daily = m.group_by(day=day).aggregate(
            at=m.event_time.max(), n=m.count(), users=m.user_id.nunique()
        )
        daily = daily.filter(ibis.dense_rank().over(order_by=ibis.desc(daily.day)) < days)
        per_type = m.group_by(day=day, event_type=m.event_type).aggregate(
            at=m.event_time.max(), n=m.count(), users=m.user_id.nunique()
        )
        per_type = per_type.filter(
            ibis.dense_rank().over(order_by=ibis.desc(per_type.day)) < days
        )
        w = m.filter((m.event_time >= start) & (m.event_time < end))
        weekly = w.group_by(day=w.event_time.truncate("W")).aggregate(
            at=w.event_time.max(), n=w.count(), users=w.user_id.nunique()
        )
        none = ibis.null("string")
        return ibis.union(
            daily.mutate(grain=ibis.literal("day"), event_type=none).select(cols),
            per_type.mutate(grain=ibis.literal("type")).select(cols),
            weekly.mutate(grain=ibis.literal("week"), event_type=none).select(cols),
            distinct=False,
        )

    rows = wh.query(
        f"c360.usage.{weeks}.{days}", read, account_id=account_id, start=lo, end=hi
    ).to_pylist()
    got_weeks = {
        r["day"].date().isoformat(): {"events": r["n"], "users": r["users"]}
        for r in rows
        if r["grain"] == "week"
    }
    day_rows = sorted(
        (
            {"day": r["day"], "at": r["at"], "events": r["n"], "users": r["users"],
             "item_id": r["day"].date().isoformat()}
            for r in rows
            if r["grain"] == "day"
        ),
        key=lambda r: (r["at"], r["item_id"]),
        reverse=True,
    )  # fmt: skip
    types = [
        {"day": r["day"], "event_type": r["event_type"], "n": r["n"]}
        for r in rows
        if r["grain"] == "type"
    ]
    return UsageSummary(_weekly_rows(got_weeks, start, weeks), day_rows, types)


def subscriptions(wh: Warehouse, account_id: str) -> list[dict[str, Any]]:
    """The account's subscription rows, latest start first (money rounded to the cent)."""
    if not wh.has_table("subscriptions"):
        return []
    cols = [
        "subscription_id",
        "product",
        "plan",
        "start_date",
        "end_date",
        "mrr",
        "quantity",
        "currency",
        "contract_end_date",
    ]

    def of(account_id: Any) -> Any:
        s = wh.table("subscriptions")
        return (
            s.filter(s.account_id == account_id)
            .select(*cols)
            .order_by([ibis.desc("start_date"), "subscription_id"])
        )

    return _rows(wh.query("c360.subscriptions", of, account_id=account_id))


def mrr_movements(wh: Warehouse, account_id: str) -> list[dict[str, Any]]:
    """The account's months in the MRR movements ledger with a movement (new, expansion,
    contraction, churn, reactivation), latest first."""
    if not wh.has_table("mrr_movements"):
        return []
    cols = [
        "month",
        "movement",
        "movement_type",
        "start_mrr",
        "end_mrr",
        "new_mrr",
        "reactivation_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "churned_mrr",
        "churn_date",
    ]

    def of(account_id: Any) -> Any:
        m = wh.table("mrr_movements")
        return (
            m.filter((m.account_id == account_id) & (m.movement != "none"))
            .select(*cols)
            .order_by(ibis.desc("month"))
        )

    rows = _rows(wh.query("c360.movements", of, account_id=account_id))
    for r in rows:
        r["change"] = round((r["end_mrr"] or 0) - (r["start_mrr"] or 0), 2)
    return rows


def contacts(wh: Warehouse, account_id: str) -> list[dict[str, Any]]:
    """The account's contacts with their role, start and end, and their last activity."""
    if not wh.has_table("contacts"):
        return []
    cols = ["contact_id", "name", "email", "title", "role", "started_at", "ended_at"]

    def people(account_id: Any) -> Any:
        c = wh.table("contacts")
        return c.filter(c.account_id == account_id).select(*cols).order_by(["name", "contact_id"])

    def last_touch(account_id: Any) -> Any:
        a = wh.table("activities")
        return (
            a.filter((a.account_id == account_id) & a.contact_id.notnull())
            .group_by("contact_id")
            .aggregate(last_activity_at=a.occurred_at.max())
        )

    rows = _rows(wh.query("c360.contacts", people, account_id=account_id))
    if wh.has_table("activities") and rows:
        last = _rows(wh.query("c360.last_touch", last_touch, account_id=account_id))
        by = {r["contact_id"]: r["last_activity_at"] for r in last}
        for r in rows:
            r["last_activity_at"] = by.get(r["contact_id"])
    for r in rows:
        r["left"] = r.get("ended_at") is not None
    return rows


def stakeholder_map(people: list[dict[str, Any]], as_of: date | None = None) -> dict[str, Any]:
    """The contacts grouped by role (current people only) and who left, latest first.

    A contact has left when ``ended_at`` is set on or before ``as_of`` (any ``ended_at``
    without one). ``gaps`` names the roles nobody holds now: no champion, no sponsor.
    """

    def gone(p: dict[str, Any]) -> bool:
        if p.get("ended_at") is None:
            return False
        return as_of is None or date.fromisoformat(p["ended_at"]) <= as_of

    current = [p for p in people if not gone(p)]
    left = sorted((p for p in people if gone(p)), key=lambda p: p["ended_at"], reverse=True)
    roles = {
        role: [p for p in current if (p.get("role") or "other") == role]
        for role in STAKEHOLDER_ROLES
    }
    gaps = [
        label
        for role, label in (
            ("champion", "no champion"),
            ("executive_sponsor", "no executive sponsor"),
        )
        if not roles[role]
    ]
    return {
        "roles": roles,
        "left": left,
        "gaps": gaps,
        "left_roles": sorted({p.get("role") or "other" for p in left}),
    }
