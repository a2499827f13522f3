"""Notes and success plans of an account, under /api/v1.

* ``GET/POST /accounts/{id}/notes``, ``GET/PATCH/DELETE /notes/{id}``
* ``GET/PUT /accounts/{id}/success-plan``, ``POST /accounts/{id}/success-plan/goals``,
  ``PATCH /goals/{id}``, ``POST /goals/{id}/complete``, ``POST /goals/{id}/milestones``,
  ``PATCH /milestones/{id}``, ``POST /milestones/{id}/complete``

Reading needs read access; writing needs write access, and a CSM reads and writes only
the accounts of their own book (anything else is a 404, existence not revealed).

Concurrency: every note, plan, goal and milestone has a ``version``, sent as its
``ETag``. A change to an existing object must say which version it was based on, in
``If-Match`` or as ``version`` in the body: a stale one is ``412 Precondition Failed``
and a missing one ``428 Precondition Required``. Every write is in the audit log.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, Field

from helix.api.deps import PlatformDep, Principal, ReadAccess, WarehouseDep, WriteAccess
from helix.api.problems import Problem
from helix.customer import (
    PreconditionRequired,
    StaleWrite,
    add_goal,
    add_milestone,
    add_note,
    delete_note,
    find_account,
    get_goal,
    get_milestone,
    get_note,
    list_notes,
    plan_dict,
    put_plan,
    update_goal,
    update_milestone,
    update_note,
)
from helix.customer.plans import GOAL_STATUSES, MILESTONE_STATUSES
from helix.warehouse import Warehouse

router = APIRouter(tags=["notes and success plans"])

IfMatch = Annotated[str | None, Header(alias="If-Match", description='the ETag read, e.g. "3"')]
GoalStatus = Annotated[str, Field(pattern=f"^({'|'.join(GOAL_STATUSES)})$")]
MilestoneStatus = Annotated[str, Field(pattern=f"^({'|'.join(MILESTONE_STATUSES)})$")]


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


class NoteEdit(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)
    version: int | None = Field(default=None, ge=0, description="the version read (or If-Match)")


class PlanIn(BaseModel):
    objective: str = Field(default="", max_length=2000)
    version: int | None = Field(default=None, ge=0)


class GoalIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=2000)
    target_date: date | None = None
    status: GoalStatus = "planned"


class GoalEdit(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    description: str | None = Field(default=None, max_length=2000)
    target_date: date | None = None
    status: GoalStatus | None = None
    version: int | None = Field(default=None, ge=0)


class MilestoneIn(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    due_date: date | None = None


class MilestoneEdit(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    due_date: date | None = None
    status: MilestoneStatus | None = None
    version: int | None = Field(default=None, ge=0)


class VersionIn(BaseModel):
    version: int | None = Field(default=None, ge=0)


def _version(if_match: str | None, body_version: int | None) -> int | None:
    """The version the caller read: If-Match (an ETag, weak or strong) or the body's."""
    if if_match is not None:
        tag = if_match.strip()
        tag = tag[2:] if tag.startswith("W/") else tag
        try:
            return int(tag.strip('"'))
        except ValueError:
            raise Problem(
                412, "Precondition failed", f"If-Match {if_match!r} is not an ETag of this object"
            ) from None
    return body_version


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


class _Concurrency:
    """Turn the library's concurrency errors into 412 / 428 problems."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        if isinstance(exc, StaleWrite):
            raise Problem(
                412, "Precondition failed", exc.for_people(), current_version=exc.current
            ) from exc
        if isinstance(exc, PreconditionRequired):
            raise Problem(428, "Precondition required", exc.for_people()) from exc


def _account(wh: Warehouse, account_id: str, who: Principal) -> str:
    find_account(wh, account_id, who.book_owner)  # 404 outside the caller's book
    return account_id


def _today(wh: Warehouse) -> date:
    from helix.predict.service import data_as_of

    return data_as_of(wh)


# -- notes ------------------------------------------------------------------------------


@router.get("/accounts/{account_id}/notes", summary="An account's notes, newest first")
def notes_of(
    account_id: str,
    wh: WarehouseDep,
    platform: PlatformDep,
    who: ReadAccess,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    _account(wh, account_id, who)
    with platform.store.session() as s:
        return {
            "account_id": account_id,
            "items": [n.to_dict() for n in list_notes(s, account_id, limit=limit)],
        }


@router.post("/accounts/{account_id}/notes", status_code=201, summary="Add a note")
def note_add(
    account_id: str,
    body: NoteIn,
    response: Response,
    wh: WarehouseDep,
    platform: PlatformDep,
    who: WriteAccess,
) -> dict[str, Any]:
    _account(wh, account_id, who)
    with platform.store.session() as s:
        note = add_note(s, account_id, body.text, actor=who.name)
        out = note.to_dict()
    _etag(response, out["version"])
    response.headers["Location"] = f"/api/v1/notes/{out['id']}"
    return out


def _visible_note(s: Any, wh: Warehouse, note_id: int, who: Principal) -> Any:
    note = get_note(s, note_id)
    _account(wh, note.account_id, who)
    return note


@router.get("/notes/{note_id}", summary="One note (its ETag is its version)")
def note_get(
    note_id: int, response: Response, wh: WarehouseDep, platform: PlatformDep, who: ReadAccess
) -> dict[str, Any]:
    with platform.store.session() as s:
        out = _visible_note(s, wh, note_id, who).to_dict()
    _etag(response, out["version"])
    return out


@router.patch("/notes/{note_id}", summary="Edit a note (If-Match or version required)")
def note_edit(
    note_id: int,
    body: NoteEdit,
    response: Response,
    wh: WarehouseDep,
    platform: PlatformDep,
    who: WriteAccess,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    with _Concurrency(), platform.store.session() as s:
        _visible_note(s, wh, note_id, who)
        note = update_note(
            s, note_id, body.text, version=_version(if_match, body.version), actor=who.name
        )
        out = note.to_dict()
    _etag(response, out["version"])
    return out


@router.delete(
    "/notes/{note_id}", status_code=204, summary="Delete a note (If-Match or ?version= required)"
)
def note_delete(
    note_id: int,
    wh: WarehouseDep,
    platform: PlatformDep,
    who: WriteAccess,
    if_match: IfMatch = None,
    version: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    with _Concurrency(), platform.store.session() as s:
        _visible_note(s, wh, note_id, who)
        delete_note(s, note_id, version=_version(if_match, version), actor=who.name)
    return Response(status_code=204)


# -- success plans ----------------------------------------------------------------------


@router.get("/accounts/{account_id}/success-plan", summary="An account's success plan")
def plan_get(
    account_id: str, response: Response, wh: WarehouseDep, platform: PlatformDep, who: ReadAccess
) -> dict[str, Any]:
    _account(wh, account_id, who)
    with platform.store.session() as s:
        out = plan_dict(s, account_id, today=_today(wh))
    _etag(response, out["version"])
    return out


@router.put("/accounts/{account_id}/success-plan", summary="Set the plan's objective")
def plan_put(
    account_id: str,
    body: PlanIn,
    response: Response,
    wh: WarehouseDep,
    platform: PlatformDep,
    who: WriteAccess,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    _account(wh, account_id, who)
    with _Concurrency(), platform.store.session() as s:
        put_plan(
            s, account_id, body.objective, version=_version(if_match, body.version), actor=who.name
        )
        s.flush()
        out = plan_dict(s, account_id, today=_today(wh))
    _etag(response, out["version"])
    return out


@router.post("/accounts/{account_id}/success-plan/goals", status_code=201, summary="Add a goal")
def goal_add(
    account_id: str,
    body: GoalIn,
    response: Response,
    wh: WarehouseDep,
    platform: PlatformDep,
    who: WriteAccess,
) -> dict[str, Any]:
    _account(wh, account_id, who)
    with platform.store.session() as s:
        goal = add_goal(
            s,
            account_id,
            body.title,
            actor=who.name,
            description=body.description,
            target_date=body.target_date,
            status=body.status,
        )
        goal_id = goal.id
        out = next(
            g for g in plan_dict(s, account_id, today=_today(wh))["goals"] if g["id"] == goal_id
        )
    _etag(response, out["version"])
    return out


def _goal_out(s: Any, wh: Warehouse, goal_id: int) -> dict[str, Any]:
    goal = get_goal(s, goal_id)
    s.flush()
    return next(
        g for g in plan_dict(s, goal.account_id, today=_today(wh))["goals"] if g["id"] == goal_id
    )


@router.patch("/goals/{goal_id}", summary="Change a goal (If-Match or version required)")
def goal_edit(
    goal_id: int,
    body: GoalEdit,
    response: Response,
    wh: WarehouseDep,
    platform: PlatformDep,
    who: WriteAccess,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        k: getattr(body, k)
        for k in ("title", "description", "status")
        if getattr(body, k) is not None
    }
    if "target_date" in body.model_fields_set:
        fields["target_date"] = body.target_date
    with _Concurrency(), platform.store.session() as s:
        _account(wh, get_goal(s, goal_id).account_id, who)
        update_goal(s, goal_id, version=_version(if_match, body.version), actor=who.name, **fields)
        out = _goal_out(s, wh, goal_id)
    _etag(response, out["version"])
    return out


@router.post("/goals/{goal_id}/complete", summary="Mark a goal achieved")
def goal_complete(
    goal_id: int,
    body: VersionIn,
    response: Response,
    wh: WarehouseDep,
    platform: PlatformDep,
    who: WriteAccess,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    with _Concurrency(), platform.store.session() as s:
        _account(wh, get_goal(s, goal_id).account_id, who)
        update_goal(
            s, goal_id, version=_version(if_match, body.version), actor=who.name, status="achieved"
        )
        out = _goal_out(s, wh, goal_id)
    _etag(response, out["version"])
    return out


@router.post("/goals/{goal_id}/milestones", status_code=201, summary="Add a milestone to a goal")
def milestone_add(
    goal_id: int,
    body: MilestoneIn,
    response: Response,
    wh: WarehouseDep,
    platform: PlatformDep,
    who: WriteAccess,
) -> dict[str, Any]:
    with platform.store.session() as s:
        _account(wh, get_goal(s, goal_id).account_id, who)
        m = add_milestone(s, goal_id, body.title, actor=who.name, due_date=body.due_date)
        mid = m.id
        out = next(x for x in _goal_out(s, wh, goal_id)["milestones"] if x["id"] == mid)
    _etag(response, out["version"])
    return out


def _milestone(s: Any, wh: Warehouse, milestone_id: int, who: Principal) -> Any:
    m = get_milestone(s, milestone_id)
    _account(wh, m.goal.account_id, who)
    return m


def _milestone_out(s: Any, wh: Warehouse, milestone_id: int) -> dict[str, Any]:
    m = get_milestone(s, milestone_id)
    return next(x for x in _goal_out(s, wh, m.goal_id)["milestones"] if x["id"] == milestone_id)


@router.patch(
    "/milestones/{milestone_id}", summary="Change a milestone (If-Match or version required)"
)
def milestone_edit(
    milestone_id: int,
    body: MilestoneEdit,
    response: Response,
    wh: WarehouseDep,
    platform: PlatformDep,
    who: WriteAccess,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    fields: dict[str, Any] = {
        k: getattr(body, k) for k in ("title", "status") if getattr(body, k) is not None
    }
    if "due_date" in body.model_fields_set:
        fields["due_date"] = body.due_date
    with _Concurrency(), platform.store.session() as s:
        _milestone(s, wh, milestone_id, who)
        update_milestone(
            s, milestone_id, version=_version(if_match, body.version), actor=who.name, **fields
        )
        out = _milestone_out(s, wh, milestone_id)
    _etag(response, out["version"])
    return out


@router.post("/milestones/{milestone_id}/complete", summary="Mark a milestone done")
def milestone_complete(
    milestone_id: int,
    body: VersionIn,
    response: Response,
    wh: WarehouseDep,
    platform: PlatformDep,
    who: WriteAccess,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    with _Concurrency(), platform.store.session() as s:
        _milestone(s, wh, milestone_id, who)
        update_milestone(
            s, milestone_id, version=_version(if_match, body.version), actor=who.name, status="done"
        )
        out = _milestone_out(s, wh, milestone_id)
    _etag(response, out["version"])
    return out
