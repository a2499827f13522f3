"""/api/v1/playbooks, /api/v1/tasks, /api/v1/notifications and contact preferences.

* Reading playbooks, their versions and impact: any reader.
* Changing playbooks (PUT a definition as JSON or YAML, enable, disable) and running the
  engine: leaders and admins (API keys: admin scope).
* Tasks: a CSM sees and changes only their own; leaders, admins and write keys all.
* Notifications: the signed-in user's own.
* Contact preferences: read with read access, change with write access.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy import select

from helix.api.deps import (
    PlatformDep,
    Principal,
    ReadAccess,
    WarehouseDep,
    WriteAccess,
    current_principal,
    get_warehouse,
)
from helix.api.problems import Problem
from helix.playbooks import catalog, tasks
from helix.playbooks.contacts import get_preference, set_preference
from helix.playbooks.definition import load_yaml, parse_playbook
from helix.playbooks.impact import funnel, impact
from helix.store import Role, Scope
from helix.store.models import Notification, utcnow

router = APIRouter(tags=["playbooks"])
MAX_YAML_BYTES = 64 * 1024


def require_manager(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """Leaders and admins (and admin-scope keys) manage playbooks."""
    ok = principal.role in (Role.ADMIN, Role.LEADER) if principal.kind == "user" else (
        principal.scope == Scope.ADMIN
    )
    if not ok:
        raise Problem(403, "Forbidden", "only leaders and admins may change or run playbooks")
    return principal


ManagerAccess = Annotated[Principal, Depends(require_manager)]


def _actor(who: Principal) -> str:
    return f"api:{who.name}"


@router.get("/playbooks", summary="Every playbook with its state and funnel")
def list_route(platform: PlatformDep, who: ReadAccess) -> list[dict[str, Any]]:
    with platform.store.session() as s:
        return [r.to_dict() | {"funnel": funnel(s, r.name)} for r in catalog.list_records(s)]


@router.get("/playbooks/{name}", summary="One playbook, its versions and YAML")
def get_route(name: str, platform: PlatformDep, who: ReadAccess) -> dict[str, Any]:
    with platform.store.session() as s:
        rec = catalog.get_record(s, name)
        return rec.to_dict() | {
            "yaml": catalog.export_yaml(s, name),
            "versions": [{"version": v.version, "created_at": v.created_at.isoformat(),
                          "created_by": v.created_by} for v in catalog.versions(s, name)],
        }


@router.get("/playbooks/{name}/export", summary="The playbook as a YAML file",
            response_class=PlainTextResponse)
def export_route(name: str, platform: PlatformDep, who: ReadAccess) -> PlainTextResponse:
    with platform.store.session() as s:
        text = catalog.export_yaml(s, name)
    return PlainTextResponse(text, media_type="application/yaml",
                             headers={"Content-Disposition": f'attachment; filename="{name}.yaml"'})


@router.put("/playbooks/{name}", summary="Create or change a playbook (JSON or YAML body)")
async def put_route(
    name: str, request: Request, platform: PlatformDep, who: ManagerAccess
) -> dict[str, Any]:
    body = await request.body()
    if len(body) > MAX_YAML_BYTES:
        raise Problem(413, "Too large", f"a playbook is at most {MAX_YAML_BYTES} bytes")
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    try:
        if kind in ("application/yaml", "application/x-yaml", "text/yaml", "text/plain"):
            pb = load_yaml(body.decode("utf-8"), source="request body")
        else:
            import json

            pb = parse_playbook(json.loads(body or b"null"), source="request body")
    except (UnicodeDecodeError, ValueError) as exc:  # a UserError (invalid playbook) passes
        raise Problem(400, "Bad request", f"the body is not valid JSON or YAML: {exc}") from None
    if pb.name != name:
        raise Problem(400, "Bad request", f"the body names playbook {pb.name!r}, the URL {name!r}")
    with platform.store.session() as s:
        rec, changed = catalog.save_playbook(s, pb, actor=_actor(who))
        return rec.to_dict() | {"changed": changed}


class Toggle(BaseModel):
    """Turn a playbook on or off."""

    enabled: bool


@router.post("/playbooks/{name}/enabled", summary="Enable or disable a playbook")
def toggle_route(name: str, body: Toggle, platform: PlatformDep, who: ManagerAccess) -> dict:
    with platform.store.session() as s:
        return catalog.set_enabled(s, name, body.enabled, actor=_actor(who)).to_dict()


class RunIn(BaseModel):
    """Evaluate the playbooks now."""

    as_of: date | None = None
    dry_run: bool = False
    playbooks: list[str] | None = None


@router.post("/playbooks/run", summary="Evaluate the playbooks and execute due steps")
def run_route(body: RunIn, platform: PlatformDep, wh: WarehouseDep, who: ManagerAccess) -> dict:
    from helix.playbooks.service import run_playbooks

    return run_playbooks(platform, body.as_of, dry_run=body.dry_run, names=body.playbooks,
                         actor=_actor(who))


@router.get("/playbooks/{name}/impact", summary="Treated vs held out on the goal, with a 95% CI")
def impact_route(
    name: str, platform: PlatformDep, wh: WarehouseDep, who: ReadAccess,
    as_of: Annotated[date | None, Query()] = None,
) -> dict[str, Any]:
    from helix.playbooks.service import latest_as_of

    with platform.store.session() as s:
        return impact(wh, s, name, as_of or latest_as_of(platform))


# --------------------------------------------------------------------------- tasks


def _book(who: Principal, owner: str | None) -> str | None:
    if who.book_owner is not None:
        if owner and owner.lower() != who.book_owner.lower():
            raise Problem(403, "Forbidden", "a CSM sees their own tasks only")
        return who.book_owner
    return owner


@router.get("/tasks", summary="Tasks by owner, due window and status, most urgent first")
def tasks_route(
    platform: PlatformDep, who: ReadAccess,
    owner: Annotated[str | None, Query()] = None,
    due: Annotated[Literal["today", "overdue", "week", "all"], Query()] = "all",
    status: Annotated[Literal["open", "done", "dismissed", "any"], Query()] = "open",
    account_id: Annotated[str | None, Query()] = None,
    today: Annotated[date | None, Query()] = None,
) -> list[dict[str, Any]]:
    from helix.playbooks.service import latest_as_of

    day = today
    if day is None:
        for _ in get_warehouse(platform):  # under the warehouse lock, released after
            day = latest_as_of(platform)
    with platform.store.session() as s:
        rows = tasks.list_tasks(s, owner=_book(who, owner), due=due,
                                status=None if status == "any" else status,
                                account_id=account_id, today=day)
        return [t.to_dict() for t in rows]


class TaskIn(BaseModel):
    """A task created by a person."""

    account_id: str = Field(min_length=1, max_length=255)
    title: str = Field(min_length=1, max_length=300)
    owner_email: str | None = Field(default=None, max_length=254)
    due_date: date
    priority: Literal["low", "normal", "high", "urgent"] = "normal"
    reason: str = Field(default="", max_length=2000)


@router.post("/tasks", status_code=201, summary="Create a task")
def create_route(body: TaskIn, platform: PlatformDep, who: WriteAccess) -> dict[str, Any]:
    owner = body.owner_email or (who.name if who.kind == "user" else None)
    if owner is None:
        raise Problem(400, "Bad request", "owner_email is required for API keys")
    owner = _book(who, owner) or owner
    with platform.store.session() as s:
        return tasks.create_task(s, account_id=body.account_id, title=body.title, owner=owner,
                                 due_date=body.due_date, priority=body.priority,
                                 reason=body.reason, actor=_actor(who)).to_dict()


class OutcomeIn(BaseModel):
    """What happened."""

    outcome: str = Field(min_length=1, max_length=2000)


@router.post("/tasks/{task_id}/complete", summary="Complete a task with its outcome")
def complete_route(task_id: int, body: OutcomeIn, platform: PlatformDep, who: WriteAccess) -> dict:
    with platform.store.session() as s:
        return tasks.close_task(s, task_id, "done", body.outcome, actor=_actor(who),
                                book_owner=who.book_owner).to_dict()


@router.post("/tasks/{task_id}/dismiss", summary="Dismiss a task, saying why")
def dismiss_route(task_id: int, body: OutcomeIn, platform: PlatformDep, who: WriteAccess) -> dict:
    with platform.store.session() as s:
        return tasks.close_task(s, task_id, "dismissed", body.outcome, actor=_actor(who),
                                book_owner=who.book_owner).to_dict()


class ReassignIn(BaseModel):
    """The new owner."""

    to: str = Field(min_length=3, max_length=254)


@router.post("/tasks/{task_id}/reassign", summary="Give a task to someone else")
def reassign_route(task_id: int, body: ReassignIn, platform: PlatformDep, who: WriteAccess) -> dict:
    with platform.store.session() as s:
        return tasks.reassign_task(s, task_id, body.to, actor=_actor(who),
                                   book_owner=who.book_owner).to_dict()


# --------------------------------------------------------------------------- notifications


@router.get("/notifications", summary="The signed-in user's notifications, newest first")
def notifications_route(
    platform: PlatformDep, who: ReadAccess, unread: Annotated[bool, Query()] = False
) -> list[dict[str, Any]]:
    if who.kind != "user":
        raise Problem(403, "Forbidden", "notifications belong to people; sign in")
    with platform.store.session() as s:
        q = select(Notification).where(Notification.user_email == who.name.lower())
        if unread:
            q = q.where(Notification.read_at.is_(None))
        return [n.to_dict() for n in s.scalars(q.order_by(Notification.id.desc()).limit(200))]


@router.post("/notifications/{note_id}/read", summary="Mark a notification read")
def read_route(note_id: int, platform: PlatformDep, who: ReadAccess) -> dict[str, Any]:
    with platform.store.session() as s:
        note = s.get(Notification, note_id)
        if note is None or note.user_email.lower() != who.name.lower():
            raise Problem(404, "Not found", f"no notification {note_id} of yours")
        note.read_at = note.read_at or utcnow()
        return note.to_dict()


# --------------------------------------------------------------------------- contacts


class PreferenceIn(BaseModel):
    """A contact's communication preferences (fields left out stay as they are)."""

    email_opt_out: bool | None = None
    channels: list[Literal["email", "phone", "in_app"]] | None = None
    max_emails_per_week: int | None = Field(default=None, ge=0, le=100)


@router.get("/contacts/{contact_id}/preferences", summary="How a contact wants to be reached")
def get_pref_route(contact_id: str, platform: PlatformDep, who: ReadAccess) -> dict[str, Any]:
    with platform.store.session() as s:
        pref = get_preference(s, contact_id)
        return pref.to_dict() if pref else {
            "contact_id": contact_id, "email_opt_out": False, "channels": ["email"],
            "max_emails_per_week": None, "updated_at": None, "updated_by": None}


def _contact_owner(wh: Any, platform: PlatformDep, contact_id: str) -> str | None:
    """The owner of the account the contact belongs to (manual assignment first)."""
    from helix.store import owner_of

    if not wh.has_table("contacts"):
        return None
    c = wh.table("contacts")
    found = c.filter(c.contact_id == contact_id).select("account_id").to_pyarrow().to_pylist()
    if not found:
        return None
    account_id = found[0]["account_id"]
    with platform.store.session() as s:
        manual = owner_of(s, account_id)
    if manual:
        return manual
    acc = wh.table("account_summary")
    rows = acc.filter(acc.account_id == account_id).select("owner_email").to_pyarrow().to_pylist()
    return rows[0]["owner_email"] if rows else None


@router.put("/contacts/{contact_id}/preferences", summary="Change a contact's preferences")
def put_pref_route(
    contact_id: str, body: PreferenceIn, platform: PlatformDep, wh: WarehouseDep,
    who: WriteAccess,
) -> dict[str, Any]:
    if who.book_owner is not None:
        owner = _contact_owner(wh, platform, contact_id)
        if (owner or "").lower() != who.book_owner.lower():
            raise Problem(403, "Forbidden", f"contact {contact_id!r} is not in your book")
    with platform.store.session() as s:
        return set_preference(s, contact_id, actor=_actor(who), email_opt_out=body.email_opt_out,
                              channels=body.channels,
                              max_emails_per_week=body.max_emails_per_week).to_dict()
