"""An account's success plan for the QBR: the objective, its goals and progress on them.

Reads the app-store models of the success plans (``SuccessPlan``, ``SuccessGoal``,
``SuccessMilestone``, migration 0004). Progress on a goal is its milestones
done out of those not dropped; a goal without milestones shows its status
alone. A store without a plan for the account (or not yet migrated to 0004)
gives "no success plan recorded".
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from helix.store.models import MilestoneStatus, SuccessGoal, SuccessPlan

__all__ = ["success_plan", "NO_PLAN"]

NO_PLAN = "No success plan recorded"


def _goal(goal: SuccessGoal) -> dict[str, Any]:
    live = [m for m in goal.milestones if m.status != MilestoneStatus.DROPPED]
    done = [m for m in live if m.status == MilestoneStatus.DONE]
    return {
        "id": goal.id,
        "title": goal.title,
        "detail": goal.description or None,
        "status": str(goal.status).replace("_", " "),
        "target": None,
        "progress": f"{len(done)} of {len(live)} milestones done" if live else None,
        "due": goal.target_date.isoformat() if goal.target_date else None,
        "milestones": [
            {
                "title": m.title,
                "status": str(m.status),
                "due": m.due_date.isoformat() if m.due_date else None,
            }
            for m in goal.milestones
        ],
    }


def success_plan(session: Session, account_id: str) -> dict[str, Any]:
    """``{"recorded", "source", "objective", "goals", "plans", "milestones"}`` of the account."""
    empty: dict[str, Any] = {
        "recorded": False,
        "source": NO_PLAN,
        "objective": None,
        "plans": [],
        "goals": [],
        "milestones": [],
    }
    try:
        plan = session.scalars(
            select(SuccessPlan)
            .where(SuccessPlan.account_id == account_id)
            .options(selectinload(SuccessPlan.goals).selectinload(SuccessGoal.milestones))
        ).first()
    except SQLAlchemyError:  # a store not yet migrated to the success-plan tables
        session.rollback()
        return empty
    if plan is None:
        return empty
    goals = [_goal(g) for g in plan.goals]
    return {
        "recorded": True,
        "source": "success plan",
        "objective": plan.objective or None,
        "plans": [
            {"title": plan.objective or "success plan", "updated_at": plan.updated_at.isoformat()}
        ],
        "goals": goals,
        "milestones": [m for g in goals for m in g["milestones"]],
    }
