"""Success plans: the customer's objective, goals with target dates and status, and
milestones towards each goal. Every change is audited.

Concurrency: the plan, each goal and each milestone carry a ``version``. Changing the
objective names the plan's version; changing a goal or milestone names its own version
(:class:`StaleWrite` when it moved on). Every change also bumps the plan's version, so
the plan's ETag changes whenever anything in it does.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helix.customer.errors import check_version
from helix.errors import NotFoundError, UserError
from helix.store.audit import record
from helix.store.models import (
    GoalStatus,
    MilestoneStatus,
    SuccessGoal,
    SuccessMilestone,
    SuccessPlan,
    utcnow,
)

__all__ = [
    "get_plan",
    "plan_dict",
    "put_plan",
    "add_goal",
    "get_goal",
    "update_goal",
    "add_milestone",
    "get_milestone",
    "update_milestone",
    "GOAL_STATUSES",
    "MILESTONE_STATUSES",
]

GOAL_STATUSES = tuple(s.value for s in GoalStatus)
MILESTONE_STATUSES = tuple(s.value for s in MilestoneStatus)
_CLOSED_GOAL = {GoalStatus.ACHIEVED, GoalStatus.MISSED, GoalStatus.DROPPED}


def _text(value: str | None, what: str, limit: int, *, required: bool = True) -> str:
    text = (value or "").strip()
    if required and not text:
        raise UserError(f"a {what} is needed")
    if len(text) > limit:
        raise UserError(f"the {what} holds at most {limit:,} characters")
    return text


def _goal_status(value: str) -> GoalStatus:
    try:
        return GoalStatus(value)
    except ValueError:
        raise UserError(f"unknown goal status {value!r}", hint=", ".join(GOAL_STATUSES)) from None


def _milestone_status(value: str) -> MilestoneStatus:
    try:
        return MilestoneStatus(value)
    except ValueError:
        raise UserError(
            f"unknown milestone status {value!r}", hint=", ".join(MILESTONE_STATUSES)
        ) from None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def get_plan(session: Session, account_id: str) -> SuccessPlan | None:
    """The account's plan, or None when nobody has written one."""
    return session.get(SuccessPlan, account_id)


def _milestone_dict(m: SuccessMilestone, today: date | None) -> dict[str, Any]:
    return {
        "id": m.id,
        "goal_id": m.goal_id,
        "title": m.title,
        "due_date": _iso(m.due_date),
        "status": str(m.status),
        "version": m.version,
        "overdue": bool(
            today and m.due_date and m.status == MilestoneStatus.OPEN and m.due_date < today
        ),
        "completed_at": _iso(m.completed_at),
        "completed_by": m.completed_by,
        "updated_at": _iso(m.updated_at),
        "updated_by": m.updated_by,
    }


def _goal_dict(g: SuccessGoal, today: date | None) -> dict[str, Any]:
    milestones = [_milestone_dict(m, today) for m in g.milestones]
    done = sum(1 for m in g.milestones if m.status == MilestoneStatus.DONE)
    counted = sum(1 for m in g.milestones if m.status != MilestoneStatus.DROPPED)
    return {
        "id": g.id,
        "account_id": g.account_id,
        "title": g.title,
        "description": g.description,
        "target_date": _iso(g.target_date),
        "status": str(g.status),
        "version": g.version,
        "overdue": bool(
            today and g.target_date and g.status not in _CLOSED_GOAL and g.target_date < today
        ),
        "milestones": milestones,
        "milestones_done": done,
        "milestones_total": counted,
        "completed_at": _iso(g.completed_at),
        "updated_at": _iso(g.updated_at),
        "updated_by": g.updated_by,
    }


def plan_dict(session: Session, account_id: str, *, today: date | None = None) -> dict[str, Any]:
    """The plan as a JSON-ready document; version 0 and no goals when there is none yet.
    ``today`` marks goals and milestones past their date as overdue."""
    plan = get_plan(session, account_id)
    if plan is None:
        return {
            "account_id": account_id,
            "objective": "",
            "version": 0,
            "goals": [],
            "updated_at": None,
            "updated_by": None,
        }
    return {
        "account_id": account_id,
        "objective": plan.objective,
        "version": plan.version,
        "goals": [_goal_dict(g, today) for g in plan.goals],
        "updated_at": _iso(plan.updated_at),
        "updated_by": plan.updated_by,
    }


def _ensure_plan(session: Session, account_id: str, actor: str) -> SuccessPlan:
    plan = get_plan(session, account_id)
    if plan is None:
        now = utcnow()
        plan = SuccessPlan(
            account_id=account_id,
            objective="",
            version=0,
            created_at=now,
            updated_at=now,
            updated_by=actor,
        )
        session.add(plan)
        session.flush()
    return plan


def _touch(plan: SuccessPlan, actor: str) -> None:
    plan.version += 1
    plan.updated_at, plan.updated_by = utcnow(), actor


def put_plan(
    session: Session, account_id: str, objective: str, *, version: int | None, actor: str
) -> SuccessPlan:
    """Set the plan's objective. A new plan needs no version (or 0); an existing one must be
    at ``version``."""
    plan = get_plan(session, account_id)
    if plan is not None:
        check_version(f"the success plan of {account_id}", version, plan.version)
    elif version not in (None, 0):
        check_version(f"the success plan of {account_id}", version, 0)
    plan = _ensure_plan(session, account_id, actor)
    plan.objective = _text(objective, "objective", 2000, required=False)
    _touch(plan, actor)
    record(
        session,
        actor=actor,
        action="success_plan.update",
        target_type="success_plan",
        target_id=account_id,
        detail={"version": plan.version},
    )
    return plan


def add_goal(
    session: Session,
    account_id: str,
    title: str,
    *,
    actor: str,
    description: str = "",
    target_date: date | None = None,
    status: str = "planned",
) -> SuccessGoal:
    """Add a goal to the account's plan (creating the plan if needed)."""
    plan = _ensure_plan(session, account_id, actor)
    position = (
        session.scalar(
            select(func.coalesce(func.max(SuccessGoal.position), -1)).where(
                SuccessGoal.account_id == account_id
            )
        )
        + 1
    )
    now = utcnow()
    st = _goal_status(status)
    goal = SuccessGoal(
        account_id=account_id,
        position=position,
        title=_text(title, "goal title", 300),
        description=_text(description, "goal description", 2000, required=False),
        target_date=target_date,
        status=st,
        version=1,
        created_at=now,
        updated_at=now,
        updated_by=actor,
        completed_at=now if st in _CLOSED_GOAL else None,
    )
    session.add(goal)
    _touch(plan, actor)
    session.flush()
    record(
        session,
        actor=actor,
        action="success_goal.create",
        target_type="success_goal",
        target_id=goal.id,
        detail={"account_id": account_id, "title": goal.title},
    )
    return goal


def get_goal(session: Session, goal_id: int) -> SuccessGoal:
    """One goal, or :class:`NotFoundError`."""
    goal = session.get(SuccessGoal, goal_id)
    if goal is None:
        raise NotFoundError(f"no goal {goal_id}")
    return goal


_UNSET: Any = object()


def update_goal(
    session: Session,
    goal_id: int,
    *,
    version: int | None,
    actor: str,
    title: str | None = None,
    description: str | None = None,
    target_date: date | None = _UNSET,
    status: str | None = None,
) -> SuccessGoal:
    """Change a goal still at ``version`` (only the fields given). Completing a goal is
    setting its status to ``achieved`` (or ``missed``/``dropped``)."""
    goal = get_goal(session, goal_id)
    check_version(f"goal {goal_id}", version, goal.version)
    changed: dict[str, Any] = {}
    if title is not None:
        goal.title = changed["title"] = _text(title, "goal title", 300)
    if description is not None:
        goal.description = changed["description"] = _text(
            description, "goal description", 2000, required=False
        )
    if target_date is not _UNSET:
        goal.target_date = target_date
        changed["target_date"] = _iso(target_date)
    if status is not None:
        st = _goal_status(status)
        goal.status = st
        goal.completed_at = (goal.completed_at or utcnow()) if st in _CLOSED_GOAL else None
        changed["status"] = st.value
    if not changed:
        raise UserError(
            "nothing to change", hint="give a title, description, target date or status"
        )
    goal.version += 1
    goal.updated_at, goal.updated_by = utcnow(), actor
    _touch(goal.plan, actor)
    record(
        session,
        actor=actor,
        action="success_goal.update",
        target_type="success_goal",
        target_id=goal.id,
        detail={"account_id": goal.account_id, "version": goal.version, **changed},
    )
    return goal


def add_milestone(
    session: Session, goal_id: int, title: str, *, actor: str, due_date: date | None = None
) -> SuccessMilestone:
    """Add an open milestone to a goal."""
    goal = get_goal(session, goal_id)
    now = utcnow()
    m = SuccessMilestone(
        goal_id=goal.id,
        title=_text(title, "milestone title", 300),
        due_date=due_date,
        status=MilestoneStatus.OPEN,
        version=1,
        created_at=now,
        updated_at=now,
        updated_by=actor,
    )
    session.add(m)
    goal.milestones.append(m)
    _touch(goal.plan, actor)
    session.flush()
    record(
        session,
        actor=actor,
        action="success_milestone.create",
        target_type="success_milestone",
        target_id=m.id,
        detail={"account_id": goal.account_id, "goal_id": goal.id, "title": m.title},
    )
    return m


def get_milestone(session: Session, milestone_id: int) -> SuccessMilestone:
    """One milestone, or :class:`NotFoundError`."""
    m = session.get(SuccessMilestone, milestone_id)
    if m is None:
        raise NotFoundError(f"no milestone {milestone_id}")
    return m


def update_milestone(
    session: Session,
    milestone_id: int,
    *,
    version: int | None,
    actor: str,
    title: str | None = None,
    due_date: date | None = _UNSET,
    status: str | None = None,
) -> SuccessMilestone:
    """Change a milestone still at ``version``; ``status='done'`` completes it."""
    m = get_milestone(session, milestone_id)
    check_version(f"milestone {milestone_id}", version, m.version)
    changed: dict[str, Any] = {}
    if title is not None:
        m.title = changed["title"] = _text(title, "milestone title", 300)
    if due_date is not _UNSET:
        m.due_date = due_date
        changed["due_date"] = _iso(due_date)
    if status is not None:
        st = _milestone_status(status)
        m.status = st
        if st == MilestoneStatus.DONE:
            m.completed_at, m.completed_by = m.completed_at or utcnow(), m.completed_by or actor
        else:
            m.completed_at = m.completed_by = None
        changed["status"] = st.value
    if not changed:
        raise UserError("nothing to change", hint="give a title, due date or status")
    m.version += 1
    m.updated_at, m.updated_by = utcnow(), actor
    _touch(m.goal.plan, actor)
    record(
        session,
        actor=actor,
        action="success_milestone.update",
        target_type="success_milestone",
        target_id=m.id,
        detail={"account_id": m.goal.account_id, "version": m.version, **changed},
    )
    return m
