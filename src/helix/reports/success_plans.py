"""An account's success plan (goals and milestones), read from the app store when it has one.

Success plans are a separate capability (their own migration and models). This
reader does not import those models: it finds the tables by name in the
app store's metadata (``success_plans``; goals in ``success_goals``,
``success_plan_goals`` or ``goals``; milestones in ``success_milestones`` or
``milestones``) and reads the usual columns by name (title, status, target,
progress, due date). When there are no such tables, or they are not migrated
yet, the account simply has no success plan recorded.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from helix.store.models import Base

__all__ = ["success_plan", "NO_PLAN"]

NO_PLAN = "No success plan recorded"

_PLANS = ("success_plans",)
_GOALS = ("success_goals", "success_plan_goals", "goals")
_MILESTONES = ("success_milestones", "milestones")
_FIELDS = {
    "title": ("title", "name", "goal", "summary", "description"),
    "status": ("status", "state"),
    "target": ("target", "target_value", "success_criteria", "measure", "metric", "outcome"),
    "progress": ("progress", "progress_pct", "current_value", "current"),
    "due": ("due_date", "target_date", "due_on", "due"),
    "detail": ("description", "notes", "detail"),
}


def _table(names: tuple[str, ...]) -> Table | None:
    for name in names:
        table = Base.metadata.tables.get(name)
        if table is not None:
            return table
    return None


def _pick(row: dict[str, Any], field: str) -> Any:
    for col in _FIELDS[field]:
        if col in row and row[col] not in (None, ""):
            value = row[col]
            return value.isoformat() if hasattr(value, "isoformat") else value
    return None


def _item(row: dict[str, Any]) -> dict[str, Any]:
    out = {f: _pick(row, f) for f in _FIELDS}
    if out["detail"] == out["title"]:
        out["detail"] = None
    out["id"] = row.get("id")
    return out


def _rows(session: Session, table: Table, **where: Any) -> list[dict[str, Any]]:
    stmt = select(table)
    for col, value in where.items():
        if col not in table.c:
            return []
        stmt = stmt.where(
            table.c[col].in_(value) if isinstance(value, list) else table.c[col] == value
        )
    if "id" in table.c:
        stmt = stmt.order_by(table.c.id)
    return [dict(r) for r in session.execute(stmt).mappings()]


def success_plan(session: Session, account_id: str) -> dict[str, Any]:
    """``{"recorded", "source", "plans", "goals", "milestones"}`` for ``account_id``."""
    empty = {"recorded": False, "source": NO_PLAN, "plans": [], "goals": [], "milestones": []}
    plans_t, goals_t, miles_t = _table(_PLANS), _table(_GOALS), _table(_MILESTONES)
    if plans_t is None and goals_t is None:
        return empty
    try:
        plans = _rows(session, plans_t, account_id=account_id) if plans_t is not None else []
        plan_ids = [p["id"] for p in plans if p.get("id") is not None]
        goals: list[dict[str, Any]] = []
        milestones: list[dict[str, Any]] = []
        for table, found in ((goals_t, goals), (miles_t, milestones)):
            if table is None:
                continue
            if "account_id" in table.c:
                found += _rows(session, table, account_id=account_id)
            elif plan_ids:
                key = next((c for c in ("plan_id", "success_plan_id") if c in table.c), None)
                if key is not None:
                    found += _rows(session, table, **{key: plan_ids})
    except SQLAlchemyError:  # the capability's migration has not run on this store
        session.rollback()
        return empty
    if not plans and not goals:
        return empty
    return {
        "recorded": True,
        "source": "success plan",
        "plans": [_item(p) for p in plans],
        "goals": [_item(g) for g in goals],
        "milestones": [_item(m) for m in milestones],
    }
