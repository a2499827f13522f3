"""What the company is already doing about an account: open tasks and save-play enrolments.

A *save play* is a playbook whose goal is retention or health recovery (the
``goal.metric`` of its definition: ``retention`` or ``health_recovery``, e.g.
``health-red``, ``renewal-30``, ``champion-left``). An enrolment counts when it
was treated (not held out) and happened within :data:`SAVE_PLAY_DAYS` before
the report date. Open tasks are the tasks not yet completed or dismissed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helix.store.models import Enrolment, PlaybookRecord, Task, TaskStatus

__all__ = ["Plan", "SAVE_GOALS", "SAVE_PLAY_DAYS", "plans_for", "open_tasks"]

SAVE_GOALS = frozenset({"retention", "health_recovery"})
SAVE_PLAY_DAYS = 120


@dataclass(frozen=True)
class Plan:
    """The plan attached to one account: its open tasks and recent save plays."""

    account_id: str
    tasks: list[dict[str, Any]]
    save_plays: list[dict[str, Any]]

    @property
    def exists(self) -> bool:
        """True when there is an open task or a save play."""
        return bool(self.tasks or self.save_plays)

    def summary(self) -> str:
        """One line for a slide: the first open task, else the latest save play, else none."""
        if self.tasks:
            t = self.tasks[0]
            more = f" (+{len(self.tasks) - 1} more)" if len(self.tasks) > 1 else ""
            return f"Plan: {t['title']}, {t['owner_email']}, due {t['due_date']}{more}"
        if self.save_plays:
            e = self.save_plays[0]
            return f"Plan: save play '{e['playbook']}' running since {e['occurred_on']}"
        return "No plan recorded: needs an owner and a save plan"

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "account_id": self.account_id,
            "exists": self.exists,
            "summary": self.summary(),
            "tasks": self.tasks,
            "save_plays": self.save_plays,
        }


def open_tasks(session: Session, account_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Open tasks per account, soonest due first."""
    ids = sorted(set(account_ids))
    out: dict[str, list[dict[str, Any]]] = {a: [] for a in ids}
    if not ids:
        return out
    rows = session.scalars(
        select(Task)
        .where(Task.account_id.in_(ids), Task.status == TaskStatus.OPEN)
        .order_by(Task.due_date, Task.id)
    )
    for t in rows:
        out[t.account_id].append(
            {
                "id": t.id,
                "title": t.title,
                "owner_email": t.owner_email,
                "due_date": t.due_date.isoformat(),
                "priority": t.priority,
                "playbook": t.playbook,
            }
        )
    return out


def _save_playbooks(session: Session) -> set[str]:
    """Names of the save plays: stored playbooks, and the shipped library's (a store
    where the library was never installed can still hold enrolments of it)."""
    from helix.playbooks.catalog import library

    names = set()
    stored = set()
    for rec in session.scalars(select(PlaybookRecord)):
        stored.add(rec.name)
        goal = (rec.definition or {}).get("goal") or {}
        if isinstance(goal, dict) and goal.get("metric") in SAVE_GOALS:
            names.add(rec.name)
    for pb in library():
        if pb.name not in stored and pb.goal is not None and pb.goal.metric in SAVE_GOALS:
            names.add(pb.name)
    return names


def plans_for(session: Session, account_ids: Iterable[str], as_of: date) -> dict[str, Plan]:
    """The :class:`Plan` of each account (open tasks; save plays in the window before ``as_of``)."""
    ids = sorted(set(account_ids))
    tasks = open_tasks(session, ids)
    plays: dict[str, list[dict[str, Any]]] = {a: [] for a in ids}
    saves = _save_playbooks(session)
    if ids and saves:
        rows = session.scalars(
            select(Enrolment)
            .where(
                Enrolment.account_id.in_(ids),
                Enrolment.playbook.in_(sorted(saves)),
                Enrolment.held_out.is_(False),
                Enrolment.occurred_on <= as_of,
                Enrolment.occurred_on > as_of - timedelta(days=SAVE_PLAY_DAYS),
            )
            .order_by(Enrolment.occurred_on.desc(), Enrolment.id.desc())
        )
        for e in rows:
            plays[e.account_id].append(
                {
                    "playbook": e.playbook,
                    "occurred_on": e.occurred_on.isoformat(),
                    "evidence": e.evidence,
                }
            )
    return {a: Plan(a, tasks[a], plays[a]) for a in ids}
