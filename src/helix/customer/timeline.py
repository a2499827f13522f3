"""An account's timeline: everything that happened to it, merged, newest first.

Sources, each an item ``kind``:

* ``usage`` — one item per day with events: the count by event type and active users
  (its time is the day's last event);
* ``ticket`` (opened), ``survey`` (a response), ``activity`` (meeting, call, email, QBR,
  note, escalation), ``health`` (a colour change), ``revenue`` (a month's MRR movement)
  from the warehouse;
* ``task`` (created, and closed), ``note``, ``playbook`` (an enrolment, and each action
  that finished) from the app store.

Order is total: time descending, then kind, then id (ascending). A page is cut with an
opaque cursor (the last item's time, kind and id); each warehouse source reads only the
rows after the cursor, at most ``limit + 1`` of them, so a page costs the same however
long the history.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
from sqlalchemy import select
from sqlalchemy.orm import Session

from helix.errors import UserError
from helix.store.models import Enrolment, Note, PlaybookStep, Task
from helix.warehouse import Warehouse

__all__ = ["timeline", "KINDS", "encode_cursor", "decode_cursor"]

KINDS = ("activity", "health", "note", "playbook", "revenue", "survey", "task", "ticket", "usage")


@dataclass(frozen=True)
class _Cursor:
    at: datetime
    kind: str
    id: str


def encode_cursor(item: dict[str, Any]) -> str:
    """The cursor that resumes the timeline right after ``item``."""
    raw = json.dumps({"at": item["at"], "k": item["kind"], "id": item["id"]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> _Cursor:
    """The position a cursor points after, or a clear :class:`UserError`."""
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at = datetime.fromisoformat(doc["at"])
        kind, item_id = doc["k"], doc["id"]
        if kind not in KINDS or not isinstance(item_id, str):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise UserError(
            "the cursor is not valid", hint="use the next_cursor of a previous page"
        ) from exc
    return _Cursor(at, kind, item_id)


def _after_expr(
    at: ir.Value, item_id: ir.Value, shape: str, cur: dict[str, Any]
) -> ir.BooleanValue:
    """Rows of a one-kind source strictly after the cursor (time desc, kind, id asc):
    ``shape`` says how the source's kind compares with the cursor's (``first``: no
    cursor; ``le``: a later kind, so the cursor's own time is still ahead; ``lt``: an
    earlier kind; ``eq``: the same kind, ordered by id within the cursor's time)."""
    if shape == "first":
        return ibis.literal(True)
    if shape == "le":
        return at <= cur["c_at"]
    if shape == "lt":
        return at < cur["c_at"]
    return (at < cur["c_at"]) | ((at == cur["c_at"]) & (item_id > cur["c_id"]))


def _is_after(item: dict[str, Any], c: _Cursor | None) -> bool:
    if c is None:
        return True
    at = datetime.fromisoformat(item["at"])
    return at < c.at or (at == c.at and (item["kind"], item["id"]) > (c.kind, c.id))


def _midnight(d: Any) -> datetime:
    if isinstance(d, datetime):
        return d
    return datetime.combine(d, time.min)


def _item(
    at: datetime, kind: str, item_id: str, title: str, detail: str | None = None, **data: Any
) -> dict[str, Any]:
    return {
        "at": at.isoformat(),
        "kind": kind,
        "id": item_id,
        "title": title,
        "detail": detail,
        "data": {k: v for k, v in data.items() if v is not None},
    }


def _fetch(
    wh: Warehouse,
    source: Callable[[ir.StringValue], ir.Table],
    account_id: str,
    at: str,
    id_col: str,
    kind: str,
    c: _Cursor | None,
    n: int,
) -> list[dict[str, Any]]:
    """The first ``n`` rows of one source after the cursor, newest first (compiled once
    per source, cursor shape and ``n``; the account and the cursor are bound)."""
    shape = "first" if c is None else ("le" if kind > c.kind else "lt" if kind < c.kind else "eq")

    def page(account_id: Any, **cur: Any) -> ir.Table:
        expr = source(account_id)
        q = expr.filter(_after_expr(expr[at], expr[id_col], shape, cur))
        return q.order_by([ibis.desc(at), id_col]).limit(n)

    cur: dict[str, Any] = {} if c is None else {"c_at": c.at}
    if shape == "eq":
        cur["c_id"] = c.id  # type: ignore[union-attr]
    return wh.query(f"timeline.{kind}.{shape}.{n}", page, account_id=account_id, **cur).to_pylist()


def _usage(
    wh: Warehouse,
    account_id: str,
    c: _Cursor | None,
    n: int,
    given: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    if given is not None and c is None:
        days, types = given
        return _usage_items(days[:n], types)

    def mine(account_id: Any) -> ir.Table:
        e = wh.table("events")
        return e.filter(e.account_id == account_id)

    def daily(account_id: Any) -> ir.Table:
        m = mine(account_id)
        d = m.group_by(day=m.event_time.truncate("D")).aggregate(
            at=m.event_time.max(), events=m.count(), users=m.user_id.nunique()
        )
        return d.mutate(item_id=d.day.cast("date").cast("string"))

    def per_type(account_id: Any, first: Any, last: Any) -> ir.Table:
        m = mine(account_id)
        m = m.filter((m.event_time >= first) & (m.event_time < last))
        return m.group_by(day=m.event_time.truncate("D"), event_type=m.event_type).aggregate(
            n=m.count()
        )

    days = _fetch(wh, daily, account_id, "at", "item_id", "usage", c, n)
    if not days:
        return []
    wanted = {d["day"] for d in days}
    types = wh.query(
        "timeline.usage_types", per_type, account_id=account_id,
        first=min(wanted), last=max(wanted) + timedelta(days=1),
    ).to_pylist()
    return _usage_items(days, types)


def _usage_items(days: list[dict[str, Any]], types: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Timeline items of usage days (``day``, ``at``, ``events``, ``users``, ``item_id``)
    with each day's counts by event type (rows ``day``, ``event_type``, ``n``)."""
    wanted = {d["day"] for d in days}
    types = [r for r in types if r["day"] in wanted]
    by_day: dict[Any, list[tuple[str, int]]] = {}
    for r in types:
        by_day.setdefault(r["day"], []).append((r["event_type"], int(r["n"])))
    out = []
    for d in days:
        kinds = sorted(by_day.get(d["day"], []), key=lambda x: (-x[1], x[0]))
        words = ", ".join(f"{k} {v:,}" for k, v in kinds)
        users = int(d["users"])
        out.append(
            _item(
                d["at"],
                "usage",
                d["item_id"],
                f"{int(d['events']):,} events by {users:,} user{'s' if users != 1 else ''}",
                words,
                events=int(d["events"]),
                users=users,
                by_type={k: v for k, v in kinds},
            )
        )
    return out


def _of(wh: Warehouse, table: str) -> Callable[[Any], ir.Table]:
    """The rows of one account in ``table``."""

    def rows(account_id: Any) -> ir.Table:
        t = wh.table(table)
        return t.filter(t.account_id == account_id)

    return rows


def _warehouse_items(
    wh: Warehouse,
    account_id: str,
    c: _Cursor | None,
    n: int,
    usage: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if wh.has_table("events"):
        out += _usage(wh, account_id, c, n, usage)
    if wh.has_table("tickets"):
        rows = _fetch(wh, _of(wh, "tickets"), account_id, "created_at", "ticket_id", "ticket", c, n)
        for r in rows:
            state = r["status"] or ("resolved" if r["resolved_at"] else "open")
            out.append(
                _item(
                    r["created_at"],
                    "ticket",
                    r["ticket_id"],
                    f"Ticket: {r['subject'] or r['ticket_id']}",
                    f"{r['priority'] or 'normal'} priority, {state}"
                    + (f", resolved {r['resolved_at']:%Y-%m-%d}" if r["resolved_at"] else "")
                    + (f", CSAT {r['csat']}" if r["csat"] is not None else ""),
                    priority=r["priority"],
                    status=r["status"],
                )
            )
    if wh.has_table("survey_responses"):
        rows = _fetch(
            wh, _of(wh, "survey_responses"), account_id, "responded_at", "response_id", "survey",
            c, n,
        )
        for r in rows:
            out.append(
                _item(
                    r["responded_at"],
                    "survey",
                    r["response_id"],
                    f"{r['survey'].upper() if r['survey'] in ('nps', 'csat') else r['survey']} "
                    f"{r['score']}",
                    r["comment"],
                    survey=r["survey"],
                    score=r["score"],
                    contact_id=r["contact_id"],
                )
            )
    if wh.has_table("activities"):
        rows = _fetch(
            wh, _of(wh, "activities"), account_id, "occurred_at", "activity_id", "activity", c, n
        )
        for r in rows:
            title = r["kind"].upper() if r["kind"] == "qbr" else r["kind"].capitalize()
            if r["direction"]:
                title += f" ({r['direction']})"
            out.append(
                _item(
                    r["occurred_at"],
                    "activity",
                    r["activity_id"],
                    title,
                    r["summary"],
                    activity=r["kind"],
                    contact_id=r["contact_id"],
                )
            )
    if wh.has_table("health_events"):
        def health(account_id: Any) -> ir.Table:
            h = wh.table("health_events")
            mine = h.filter(h.account_id == account_id)
            return mine.mutate(
                at=mine.event_date.cast("timestamp"), item_id=mine.event_date.cast("string")
            )

        for r in _fetch(wh, health, account_id, "at", "item_id", "health", c, n):
            out.append(
                _item(
                    r["at"],
                    "health",
                    r["item_id"],
                    f"Health turned {r['to_color']}"
                    + (f" (score {r['score']:.0f})" if r["score"] is not None else ""),
                    r["action"],
                    from_color=r["from_color"],
                    to_color=r["to_color"],
                )
            )
    if wh.has_table("mrr_movements"):
        def revenue(account_id: Any) -> ir.Table:
            m = wh.table("mrr_movements")
            mine = m.filter((m.account_id == account_id) & (m.movement != "none"))
            return mine.mutate(at=mine.month.cast("timestamp"), item_id=mine.month.cast("string"))

        for r in _fetch(wh, revenue, account_id, "at", "item_id", "revenue", c, n):
            change = float(r["end_mrr"] or 0) - float(r["start_mrr"] or 0)
            out.append(
                _item(
                    r["at"],
                    "revenue",
                    r["item_id"],
                    f"{r['movement'].capitalize()}: MRR {change:+,.2f}",
                    f"MRR {float(r['start_mrr'] or 0):,.2f} -> {float(r['end_mrr'] or 0):,.2f}"
                    + (f" ({r['movement_type']})" if r["movement_type"] else ""),
                    movement=r["movement"],
                    change=round(change, 2),
                )
            )
    return out


def _pad(n: int) -> str:
    return f"{n:012d}"


def _store_items(session: Session, account_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for t in session.scalars(select(Task).where(Task.account_id == account_id)):
        out.append(
            _item(
                t.created_at,
                "task",
                _pad(t.id) + "a",
                f"Task: {t.title}",
                t.reason or None,
                task_id=t.id,
                owner=t.owner_email,
                due_date=t.due_date.isoformat(),
                playbook=t.playbook,
                status=str(t.status),
            )
        )
        if t.closed_at is not None:
            out.append(
                _item(
                    t.closed_at,
                    "task",
                    _pad(t.id) + "b",
                    f"Task {t.status}: {t.title}",
                    t.outcome,
                    task_id=t.id,
                    actor=t.closed_by,
                )
            )
    for note in session.scalars(select(Note).where(Note.account_id == account_id)):
        out.append(
            _item(
                note.created_at,
                "note",
                _pad(note.id),
                f"Note by {note.author}",
                note.body,
                note_id=note.id,
                author=note.author,
            )
        )
    enrolments = list(session.scalars(select(Enrolment).where(Enrolment.account_id == account_id)))
    for e in enrolments:
        out.append(
            _item(
                e.decided_at,
                "playbook",
                _pad(e.id) + "a",
                f"Playbook {e.playbook}: {'held out' if e.held_out else 'enrolled'}",
                e.evidence or None,
                playbook=e.playbook,
                held_out=e.held_out,
            )
        )
    if enrolments:
        by_id = {e.id: e for e in enrolments}
        steps = session.scalars(
            select(PlaybookStep).where(
                PlaybookStep.enrolment_id.in_(list(by_id)), PlaybookStep.finished_at.is_not(None)
            )
        )
        for s in steps:
            e = by_id[s.enrolment_id]
            kind = (s.result or {}).get("type") if isinstance(s.result, dict) else None
            out.append(
                _item(
                    s.finished_at,
                    "playbook",
                    f"{_pad(e.id)}s{_pad(s.position)}",  # type: ignore[arg-type]
                    f"Playbook {e.playbook}: action {s.position + 1} {s.status}",
                    s.last_error if str(s.status) == "failed" else None,
                    playbook=e.playbook,
                    action=kind,
                    status=str(s.status),
                )
            )
    return out


def _sort(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items = sorted(items, key=lambda i: (i["kind"], i["id"]))
    return sorted(items, key=lambda i: datetime.fromisoformat(i["at"]), reverse=True)


def timeline(
    wh: Warehouse,
    session: Session,
    account_id: str,
    *,
    limit: int = 50,
    cursor: str | None = None,
    kinds: set[str] | None = None,
    usage: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """One page of the account's timeline, newest first: ``items`` and ``next_cursor``
    (None on the last page). ``kinds`` keeps only those item kinds. ``usage``: the
    account's latest ``limit + 1`` usage days (or all of them, if fewer) and their
    counts by type, already read (:func:`helix.customer.profile.usage_summary`), used
    for the first page instead of reading the events again."""
    if limit < 1:
        raise UserError("limit must be at least 1")
    if kinds is not None and not kinds <= set(KINDS):
        raise UserError(
            f"unknown timeline kinds {sorted(kinds - set(KINDS))}", hint=", ".join(KINDS)
        )
    c = decode_cursor(cursor) if cursor else None
    items = _warehouse_items(wh, account_id, c, limit + 1, usage)
    items += _store_items(session, account_id)
    items = [i for i in items if _is_after(i, c) and (kinds is None or i["kind"] in kinds)]
    items = _sort(items)
    page, more = items[:limit], len(items) > limit
    return {
        "account_id": account_id,
        "items": page,
        "next_cursor": encode_cursor(page[-1]) if more and page else None,
    }


