"""Closed loop: every NPS detractor gets a follow-up within the SLA.

A detractor is an NPS answer of 0-6. Its follow-up is the earliest of:

* a **task** of the account that was **completed** (status done) at or after the answer,
  when the task is the one the ``nps-detractor`` playbook opened for this answer (its
  enrolment's occurrence is the response id), or any task of that playbook on the
  account opened at or after the answer: the time is the task's ``closed_at``;
* an **outbound contact** in the account's activities (a call, meeting, email or QBR
  whose direction is outbound or not recorded) at or after the answer.

Each detractor is then ``on_time`` (follow-up within ``sla_days`` of the answer),
``late`` (after it), ``missed`` (none, and the SLA has passed as of ``as_of``) or
``open`` (none yet, and still within the SLA). A contact more than ``LATE_WINDOW_DAYS``
(30) after the answer is not a follow-up of it. Compliance is
``on_time / (on_time + late + missed)``; open ones are not counted yet. The SLA is the
setting ``voice.closed_loop_sla_days`` (default 2 days, the detractor playbook's).

:func:`follow_up_status` is the rule, pure; :func:`closed_loop` loads the data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helix.errors import UserError
from helix.playbooks.impact import wilson
from helix.warehouse import Warehouse

__all__ = [
    "SLA_SETTING",
    "DEFAULT_SLA_DAYS",
    "FollowUp",
    "follow_up_status",
    "compliance",
    "closed_loop",
]

SLA_SETTING = "voice.closed_loop_sla_days"
DEFAULT_SLA_DAYS = 2
CONTACT_KINDS = ("call", "meeting", "email", "qbr")
PLAYBOOK = "nps-detractor"
LATE_WINDOW_DAYS = 30
"""A contact later than this after the answer does not count as its follow-up."""


@dataclass(frozen=True)
class FollowUp:
    """One follow-up: when, what (task or activity) and its id."""

    at: datetime
    kind: str
    ref: str


def follow_up_status(
    responded_at: datetime, follow_ups: Iterable[FollowUp], sla_days: float, as_of: datetime
) -> tuple[str, FollowUp | None]:
    """The status of one detractor (module docstring) and its first follow-up, if any."""
    horizon = responded_at + timedelta(days=max(sla_days, LATE_WINDOW_DAYS))
    after = sorted((f for f in follow_ups if responded_at <= f.at <= horizon), key=lambda f: f.at)
    deadline = responded_at + timedelta(days=sla_days)
    if after:
        first = after[0]
        return ("on_time" if first.at <= deadline else "late"), first
    return ("missed" if as_of > deadline else "open"), None


def compliance(statuses: Sequence[str]) -> dict[str, Any]:
    """Counts per status and the compliance rate with its Wilson interval."""
    counts = {s: sum(1 for x in statuses if x == s) for s in ("on_time", "late", "missed", "open")}
    due = counts["on_time"] + counts["late"] + counts["missed"]
    lo, hi = wilson(counts["on_time"], due)
    return {
        **counts,
        "detractors": len(statuses),
        "due": due,
        "compliance": round(counts["on_time"] / due, 6) if due else None,
        "ci": [round(lo, 6), round(hi, 6)] if due else None,
    }


def sla_days_of(session: Session) -> float:
    """The SLA setting (days), default :data:`DEFAULT_SLA_DAYS`."""
    from helix.store.settings import get_setting

    value = get_setting(session, SLA_SETTING, DEFAULT_SLA_DAYS)
    try:
        days = float(value)
    except (TypeError, ValueError):
        raise UserError(f"{SLA_SETTING} must be a number of days, not {value!r}") from None
    if days <= 0:
        raise UserError(f"{SLA_SETTING} must be > 0, not {value!r}")
    return days


def _task_follow_ups(
    session: Session, accounts: set[str]
) -> tuple[dict[str, list[FollowUp]], dict[str, list[tuple[datetime, FollowUp]]]]:
    """Completed detractor-playbook tasks: by response id (linked), and by account (with
    the time each was opened)."""
    from helix.store.models import Enrolment, PlaybookStep, Task, TaskStatus

    q = (
        select(Task, Enrolment.occurrence_key)
        .outerjoin(PlaybookStep, Task.step_id == PlaybookStep.id)
        .outerjoin(Enrolment, PlaybookStep.enrolment_id == Enrolment.id)
        .where(
            Task.status == TaskStatus.DONE, Task.playbook == PLAYBOOK, Task.closed_at.is_not(None)
        )
    )
    linked: dict[str, list[FollowUp]] = {}
    by_account: dict[str, list[tuple[datetime, FollowUp]]] = {}
    for task, occurrence in session.execute(q):
        if task.account_id not in accounts:
            continue
        f = FollowUp(task.closed_at, "task", str(task.id))
        if occurrence:
            linked.setdefault(occurrence, []).append(f)
        by_account.setdefault(task.account_id, []).append((task.created_at, f))
    return linked, by_account


def closed_loop(
    wh: Warehouse,
    session: Session,
    as_of: date,
    *,
    sla_days: float | None = None,
    start: date | None = None,
    end: date | None = None,
) -> dict[str, Any]:
    """Follow-up of every detractor answered in ``[start, end)`` (default: up to ``as_of``):
    the compliance, by month, and the list of misses (late and missed)."""
    if not wh.has_table("survey_responses"):
        raise UserError("no survey responses imported", hint="import survey_responses.csv")
    sla = float(sla_days) if sla_days is not None else sla_days_of(session)
    if sla <= 0:
        raise UserError(f"the SLA must be > 0 days, not {sla}")
    cutoff = datetime.combine(as_of, time()) + timedelta(days=1)
    s = wh.table("survey_responses")
    s = s.filter(s.survey.lower() == "nps", s.score.between(0, 6), s.responded_at < cutoff)
    if start is not None:
        s = s.filter(s.responded_at >= datetime.combine(start, time()))
    if end is not None:
        s = s.filter(s.responded_at < datetime.combine(end, time()))
    names = wh.table("accounts").select(
        _aid="account_id", account_name="name", owner_email="owner_email"
    )
    s = s.left_join(names, s.account_id == names._aid).drop("_aid")
    detractors = s.order_by(s.responded_at).to_pyarrow().to_pylist()
    accounts = {r["account_id"] for r in detractors}
    activity: dict[str, list[FollowUp]] = {}
    if accounts and wh.has_table("activities"):
        a = wh.table("activities")
        first = min(r["responded_at"] for r in detractors)
        a = a.filter(
            a.kind.isin(list(CONTACT_KINDS)),
            a.direction.isnull() | (a.direction == "outbound"),
            a.occurred_at >= first,
            a.account_id.isin(list(accounts)),
        )
        for r in a.select("account_id", "occurred_at", "activity_id").to_pyarrow().to_pylist():
            activity.setdefault(r["account_id"], []).append(
                FollowUp(r["occurred_at"], "activity", r["activity_id"])
            )
    linked, by_account = _task_follow_ups(session, accounts)
    now = datetime.combine(as_of, time()) + timedelta(days=1)  # the end of the as-of day
    items = []
    for r in detractors:
        at = r["responded_at"]
        candidates = list(activity.get(r["account_id"], []))
        candidates += linked.get(r["response_id"], [])
        candidates += [f for opened, f in by_account.get(r["account_id"], []) if opened >= at]
        status, first = follow_up_status(at, candidates, sla, now)
        items.append(
            {
                "response_id": r["response_id"],
                "account_id": r["account_id"],
                "account_name": r["account_name"],
                "owner_email": r["owner_email"],
                "responded_at": at.isoformat(),
                "score": r["score"],
                "comment": r["comment"],
                "status": status,
                "due_at": (at + timedelta(days=sla)).isoformat(),
                "followed_up_at": first.at.isoformat() if first else None,
                "follow_up": {"kind": first.kind, "ref": first.ref} if first else None,
                "hours_to_follow_up": round((first.at - at).total_seconds() / 3600, 2)
                if first
                else None,
            }
        )
    months: dict[str, list[str]] = {}
    for it in items:
        months.setdefault(it["responded_at"][:7], []).append(it["status"])
    owners: dict[str, list[str]] = {}
    for it in items:
        owners.setdefault(it["owner_email"] or "(no owner)", []).append(it["status"])
    return {
        "as_of": as_of.isoformat(),
        "sla_days": sla,
        "start": start.isoformat() if start else None,
        "end": end.isoformat() if end else None,
        **compliance([it["status"] for it in items]),
        "by_month": [{"month": m, **compliance(v)} for m, v in sorted(months.items())],
        "by_owner": [{"owner_email": o, **compliance(v)} for o, v in sorted(owners.items())],
        "misses": [it for it in items if it["status"] in ("late", "missed")],
        "open_items": [it for it in items if it["status"] == "open"],
        "rule": "follow-up = a completed nps-detractor task, or an outbound call, meeting, "
        "email or QBR with the account, at or after the answer",
    }
