"""One account's year before a churn: every source, read with small Ibis queries.

Each source gives a list of plain rows for the window ``[start, churn_date)``;
an absent or empty table gives an empty list and is named in ``sources``. The
dated series (signals, health, predictions) are thinned to about one row a week,
keeping every row on which something changed (a flag, a health colour, a
prediction crossing the threshold), so the shape of the year shows without
hundreds of daily rows. :func:`event_stream` merges everything into one
chronological list for reading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import ibis.expr.types as ir

from helix.predict.forensics_config import ForensicsConfig
from helix.signals.registry import signal
from helix.signals.sources import Sources

__all__ = [
    "SOURCE_TABLES",
    "TIMELINE_SIGNALS",
    "source_status",
    "account_timeline",
    "event_stream",
    "plain",
]

SOURCE_TABLES = (
    "account_signals",
    "health_scores",
    "predictions",
    "contacts",
    "tickets",
    "activities",
    "survey_responses",
    "payments",
    "churn_reasons",
)
"""The tables a timeline reads besides accounts, subscriptions and the MRR ledger."""

TIMELINE_SIGNALS = (
    "mrr",
    "active_users_30",
    "seat_utilisation",
    "logins_30",
    "usage_trend_90",
    "breadth_30",
    "value_reached",
    "nps_latest",
    "tickets_90",
    "engaged_contacts_90",
    "champion_present",
    "days_since_csm_contact",
)
"""The signals a timeline samples (meanings from the signal registry)."""

_FLAGS = ("value_reached", "champion_present")
SAMPLE_DAYS = 7


def plain(value: Any) -> Any:
    """A warehouse value as plain JSON data (dates as ISO text, decimals as floats)."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return round(float(value), 2)
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def source_status(src: Sources) -> dict[str, str]:
    """Per source table: ``ok``, or ``missing`` (absent or empty)."""
    return {name: "ok" if src.available(name) else "missing" for name in SOURCE_TABLES}


def _rows(t: ir.Table, order: list[str]) -> list[dict[str, Any]]:
    return [plain(r) for r in t.order_by(order).to_pyarrow().to_pylist()]


def _day(value: Any) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        return value.date()
    assert isinstance(value, date)
    return value


def thin(
    rows: list[dict[str, Any]], day: str, changed: Callable[[dict[str, Any], dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Rows at least :data:`SAMPLE_DAYS` apart, plus every row where ``changed(prev, row)``
    and the last row (``rows`` sorted by ``day``)."""
    out: list[dict[str, Any]] = []
    last_kept: date | None = None
    prev: dict[str, Any] | None = None
    for i, r in enumerate(rows):
        d = _day(r[day])
        keep = (
            last_kept is None
            or (d - last_kept).days >= SAMPLE_DAYS
            or (prev is not None and changed(prev, r))
            or i == len(rows) - 1
        )
        if keep:
            out.append(r)
            last_kept = d
        prev = r
    return out


def _window(t: ir.Table, col: ir.Value, account_id: str, start: date, end: date) -> ir.Table:
    return t.filter((t.account_id == account_id) & (col >= start) & (col < end))


def _signals(src: Sources, account_id: str, start: date, end: date) -> list[dict[str, Any]]:
    s = src.table("account_signals")
    s = _window(s, s.score_date, account_id, start, end)
    rows = _rows(s.select("score_date", *TIMELINE_SIGNALS), ["score_date"])
    return thin(rows, "score_date", lambda a, b: any(a[f] != b[f] for f in _FLAGS))


def _health(src: Sources, account_id: str, start: date, end: date) -> list[dict[str, Any]]:
    h = src.table("health_scores")
    h = _window(h, h.score_date, account_id, start, end)
    cols = ["score_date", "score", "color", "usage_score", "sentiment_score", "relationship_score"]
    return _rows(h.select(*cols), ["score_date"])


def colour_changes(health: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The days the health colour changed (the first row of the window counts as a start)."""
    out = []
    prev: str | None = None
    for r in health:
        if r["color"] != prev:
            out.append(
                {"date": r["score_date"], "from": prev, "to": r["color"], "score": r["score"]}
            )
            prev = r["color"]
    return out


def _predictions(
    src: Sources, account_id: str, start: date, end: date, threshold: float
) -> list[dict[str, Any]]:
    p = src.table("predictions")
    p = _window(p, p.score_date, account_id, start, end).filter(lambda t: t.target == "churn")
    rows = _rows(
        p.select("score_date", "horizon_days", "probability", "model_version"),
        ["score_date", "horizon_days"],
    )
    return thin(
        rows,
        "score_date",
        lambda a, b: (a["probability"] >= threshold) != (b["probability"] >= threshold),
    )


def _contacts(src: Sources, account_id: str, start: date, end: date) -> dict[str, list[Any]]:
    c = src.table("contacts").filter(lambda t: t.account_id == account_id)
    cols = ["contact_id", "name", "title", "role", "started_at", "ended_at"]
    joined = c.filter((c.started_at >= start) & (c.started_at < end)).select(*cols)
    left = c.filter((c.ended_at >= start) & (c.ended_at < end)).select(*cols)
    return {
        "joined": _rows(joined, ["started_at", "contact_id"]),
        "left": _rows(left, ["ended_at", "contact_id"]),
    }


def _dated(src: Sources, table: str, col: str, cols: list[str], account_id: str,
           start: date, end: date) -> list[dict[str, Any]]:  # fmt: skip
    t = src.table(table)
    t = _window(t, t[col].date() if col.endswith("_at") else t[col], account_id, start, end)
    return _rows(t.select(*cols), [col, cols[1]])


def _ledger(src: Sources, account_id: str, start: date, end: date) -> list[dict[str, Any]]:
    m = src.table("mrr_movements")
    first_month = date(start.year, start.month, 1)
    m = m.filter(
        (m.account_id == account_id)
        & (m.month >= first_month)
        & (m.month < end)
        & (m.movement != "none")
    )
    cols = ["month", "movement", "movement_type", "start_mrr", "end_mrr", "churn_date"]
    return _rows(m.select(*cols), ["month"])


def account_timeline(
    src: Sources, account_id: str, churn_date: date, cfg: ForensicsConfig
) -> dict[str, Any]:
    """Every source's rows for ``account_id`` in the ``lookback_days`` before ``churn_date``
    (empty lists for missing sources)."""
    start = churn_date - timedelta(days=cfg.lookback_days)
    have = src.available
    args = (account_id, start, churn_date)
    health = _health(src, *args) if have("health_scores") else []
    return {
        "window": {"from": start.isoformat(), "to": churn_date.isoformat()},
        "signals": {
            "legend": {
                n: {"description": signal(n).description, "unit": signal(n).unit}
                for n in TIMELINE_SIGNALS
            },
            "rows": _signals(src, *args) if have("account_signals") else [],
        },
        "health": thin(health, "score_date", lambda a, b: a["color"] != b["color"]),
        "health_changes": colour_changes(health),
        "predictions": (
            _predictions(src, *args, cfg.churn_probability_at_least) if have("predictions") else []
        ),
        "contacts": _contacts(src, *args) if have("contacts") else {"joined": [], "left": []},
        "tickets": (
            _dated(
                src,
                "tickets",
                "created_at",
                ["created_at", "ticket_id", "priority", "status", "subject", "csat", "resolved_at"],
                *args,
            )  # fmt: skip
            if have("tickets")
            else []
        ),
        "activities": (
            _dated(
                src,
                "activities",
                "occurred_at",
                ["occurred_at", "activity_id", "kind", "direction", "contact_id", "summary"],
                *args,
            )  # fmt: skip
            if have("activities")
            else []
        ),
        "surveys": (
            _dated(
                src,
                "survey_responses",
                "responded_at",
                ["responded_at", "response_id", "survey", "score", "comment"],
                *args,
            )  # fmt: skip
            if have("survey_responses")
            else []
        ),
        "payments": (
            _dated(
                src, "payments", "due_date", ["due_date", "amount", "status", "paid_at"], *args
            )  # fmt: skip
            if have("payments")
            else []
        ),
        "mrr_movements": _ledger(src, *args),
    }


_ROUTINE_ACTIVITIES = ("email",)
_ROUTINE_TICKETS = ("low", "normal")


def event_stream(
    timeline: dict[str, Any], warnings: Iterable[dict[str, Any]], churn: dict[str, Any]
) -> list[dict[str, Any]]:
    """One chronological list of what happened: contacts joining and leaving, health colour
    changes, warnings becoming visible, tickets (not routine low/normal ones unless rated
    2 or lower), activities (not emails), survey answers, payments that did not go through,
    MRR movements, and the churn itself. Each item: ``date``, ``source``, ``what``."""
    items: list[tuple[str, int, str, str]] = []

    def add(day: str, order: int, source: str, what: str) -> None:
        items.append((day[:10], order, source, what))

    for c in timeline["contacts"]["joined"]:
        add(c["started_at"], 0, "contacts", f"{c['name']} ({_role(c)}) joined")
    for c in timeline["contacts"]["left"]:
        add(c["ended_at"], 0, "contacts", f"{c['name']} ({_role(c)}) left")
    for h in timeline["health_changes"]:
        if h["from"] is not None:
            add(h["date"], 1, "health", f"health turned {h['to']} (score {h['score']:.0f})")
    for w in warnings:
        if w.get("first_seen"):
            add(w["first_seen"], 2, "warning", f"first seen: {w['label']}")
        if w.get("visible_from") and w["visible_from"] != w.get("first_seen"):
            add(w["visible_from"], 2, "warning", f"on from here to the churn: {w['label']}")
    for t in timeline["tickets"]:
        rated_low = t["csat"] is not None and t["csat"] <= 2
        if t["priority"] in _ROUTINE_TICKETS and not rated_low:
            continue
        csat = f", CSAT {t['csat']}" if t["csat"] is not None else ""
        add(
            t["created_at"],
            3,
            "tickets",
            f"[{t['priority'] or 'ticket'}] {t['subject'] or ''}{csat}",
        )
    for a in timeline["activities"]:
        if a["kind"] in _ROUTINE_ACTIVITIES:
            continue
        add(a["occurred_at"], 4, "activities", f"{a['kind']}: {a['summary'] or ''}".strip())
    for s in timeline["surveys"]:
        comment = f": {s['comment']}" if s["comment"] else ""
        add(s["responded_at"], 5, "surveys", f"{s['survey']} {s['score']}{comment}")
    for p in timeline["payments"]:
        if p["status"] != "paid":
            add(p["due_date"], 6, "payments", f"payment of {p['amount']:.2f} {p['status']}")
    for m in timeline["mrr_movements"]:
        if m["movement"] != "churn":
            kind = f" ({m['movement_type']})" if m["movement_type"] else ""
            add(
                m["month"],
                7,
                "mrr",
                f"{m['movement']}{kind}: MRR {m['start_mrr']:.2f} -> {m['end_mrr']:.2f}",
            )
    add(
        churn["churn_date"],
        9,
        "churn",
        f"churned ({churn['churn_type']}), MRR {churn['churned_mrr']:.2f} lost",
    )
    items.sort(key=lambda x: (x[0], x[1]))
    return [{"date": d, "source": s, "what": w} for d, _, s, w in items]


def _role(contact: dict[str, Any]) -> str:
    parts = [p for p in (contact.get("role"), contact.get("title")) if p]
    return ", ".join(parts) if parts else "contact"
