"""The tasks inbox: list a person's tasks, complete or dismiss them with an outcome,
reassign them, or create one by hand. Every change is audited."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from helix.errors import NotFoundError, PermissionDenied, UserError
from helix.store.audit import record
from helix.store.models import Task, TaskStatus, utcnow

Due = Literal["today", "overdue", "week", "all"]
PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}


def list_tasks(
    session: Session,
    *,
    owner: str | None = None,
    due: Due = "all",
    status: str | None = "open",
    account_id: str | None = None,
    today: date | None = None,
    limit: int = 500,
) -> list[Task]:
    """Tasks by owner (any case), due window and status, most urgent first: overdue and
    today's first, then by priority and due date.

    ``due``: ``today`` = due on or before today (overdue included), ``overdue`` = before
    today, ``week`` = within the next 7 days, ``all`` = any date."""
    today = today or date.today()
    q = select(Task)
    if owner:
        q = q.where(Task.owner_email == owner.strip().lower())
    if status:
        q = q.where(Task.status == TaskStatus(status))
    if account_id:
        q = q.where(Task.account_id == account_id)
    if due == "today":
        q = q.where(Task.due_date <= today)
    elif due == "overdue":
        q = q.where(Task.due_date < today)
    elif due == "week":
        q = q.where(Task.due_date <= today + timedelta(days=7))
    tasks = list(session.scalars(q.order_by(Task.due_date, Task.id)))
    tasks.sort(key=lambda t: (t.due_date > today, PRIORITY_ORDER.get(t.priority, 9), t.due_date,
                              t.id))
    return tasks[:limit]


def get_task(session: Session, task_id: int, *, book_owner: str | None = None) -> Task:
    """Task ``task_id``; a CSM (``book_owner``) only reaches their own."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFoundError(f"no task {task_id}")
    if book_owner and task.owner_email.lower() != book_owner.lower():
        raise PermissionDenied(f"task {task_id} belongs to {task.owner_email}")
    return task


def close_task(
    session: Session, task_id: int, status: Literal["done", "dismissed"], outcome: str, *,
    actor: str, book_owner: str | None = None,
) -> Task:
    """Complete or dismiss an open task; the outcome (what happened) is required."""
    task = get_task(session, task_id, book_owner=book_owner)
    if task.status != TaskStatus.OPEN:
        raise UserError(f"task {task_id} is already {task.status}")
    if not outcome.strip():
        raise UserError("say what happened: an outcome is required")
    task.status, task.outcome = TaskStatus(status), outcome.strip()[:2000]
    task.closed_at, task.closed_by = utcnow(), actor
    record(session, actor=actor, action=f"task.{status}", target_type="task", target_id=task.id,
           detail={"outcome": task.outcome, "playbook": task.playbook})
    return task


def reassign_task(
    session: Session, task_id: int, to: str, *, actor: str, book_owner: str | None = None
) -> Task:
    """Give an open task to someone else."""
    task = get_task(session, task_id, book_owner=book_owner)
    if task.status != TaskStatus.OPEN:
        raise UserError(f"task {task_id} is already {task.status}")
    new = to.strip().lower()
    if "@" not in new:
        raise UserError(f"{to!r} is not an email address")
    old, task.owner_email = task.owner_email, new
    record(session, actor=actor, action="task.reassign", target_type="task", target_id=task.id,
           detail={"from": old, "to": new})
    return task


def create_task(
    session: Session, *, account_id: str, title: str, owner: str, due_date: date, actor: str,
    priority: str = "normal", reason: str = "",
) -> Task:
    """A task created by a person (not by a playbook)."""
    if priority not in PRIORITY_ORDER:
        raise UserError(f"priority must be one of {', '.join(PRIORITY_ORDER)}")
    if not title.strip():
        raise UserError("a task needs a title")
    task = Task(account_id=account_id, title=title.strip()[:300], reason=reason[:2000],
                owner_email=owner.strip().lower(), due_date=due_date, priority=priority,
                status=TaskStatus.OPEN, created_by=actor, evidence=[
                    {"label": "Customer 360", "href": f"/accounts/{account_id}"}])
    session.add(task)
    session.flush()
    record(session, actor=actor, action="task.create", target_type="task", target_id=task.id,
           detail={"account_id": account_id, "owner": task.owner_email})
    return task
