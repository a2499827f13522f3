"""/api/v1: administration, for admins only (users with the admin role, admin-scoped keys).

* ``GET/POST /users``, ``PUT /users/{email}/role``, ``POST /users/{email}/deactivate``;
* ``GET/POST /keys`` (the key itself is in the POST answer only), ``DELETE /keys/{id}``;
* ``GET /settings`` (secrets masked), ``PUT /settings/{key}``;
* ``GET /imports``, ``GET /imports/{id}``, ``GET /imports/{id}/quarantine/{table}``;
* ``POST /imports``: upload contract files (a zip, or several files, as multipart
  form data; or a zip as the raw ``application/zip`` body), size-limited by the
  setting ``imports.max_upload_mb`` (default 50), imported exactly as
  `helix import` does (:func:`helix.ingest.service.run_import`).

Every use case is one library call in one transaction; the audit log records it.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from helix.api.deps import AdminAccess, Principal, get_platform, get_warehouse
from helix.api.problems import Problem
from helix.errors import ContractError, HelixError
from helix.ingest.upload import (
    DEFAULT_MAX_MB,
    MAX_UPLOAD_SETTING,
    UploadDir,
    UploadLimits,
    UploadTooLarge,
)
from helix.platform import Platform
from helix.store import (
    ImportRun,
    create_key,
    create_user,
    deactivate_user,
    get_import,
    list_imports,
    list_keys,
    list_users,
    revoke_key,
    set_role,
)
from helix.store.models import ApiKey, User
from helix.store.settings import all_settings, get_setting, masked, set_setting

router = APIRouter(tags=["admin"])

RowId = Annotated[int, Path(ge=1, le=2**62, description="a row id")]

MANAGED_ELSEWHERE = {
    "health.model": "`helix health model --set` or the Health page",
    "health.proposal": "the Health page (compute, then accept)",
}


def actor_of(who: Principal) -> str:
    """How the audit log names a change made through the API or the web app."""
    return f"api:{who.name}" if who.kind == "key" else who.name


# -- users ------------------------------------------------------------------------------


class UserOut(BaseModel):
    email: str
    name: str
    role: str
    is_active: bool
    has_password: bool
    created_at: datetime


def user_out(u: User) -> UserOut:
    """The public fields of a user (never the password hash)."""
    return UserOut(
        email=u.email,
        name=u.name,
        role=str(u.role),
        is_active=u.is_active,
        has_password=u.password_hash is not None,
        created_at=u.created_at,
    )


class UserIn(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    name: str = Field("", max_length=200)
    role: str = Field(pattern="^(admin|leader|csm|viewer)$")
    password: str | None = Field(None, min_length=8, max_length=1024)


class RoleIn(BaseModel):
    role: str = Field(pattern="^(admin|leader|csm|viewer)$")


def _platform(request: Request) -> Platform:
    return get_platform(request)


@router.get("/users", summary="Every user (admins)")
def users_route(request: Request, who: AdminAccess) -> list[UserOut]:
    with _platform(request).store.session() as s:
        return [user_out(u) for u in list_users(s)]


@router.post("/users", status_code=201, summary="Create a user with a role (admins)")
def create_user_route(request: Request, body: UserIn, who: AdminAccess) -> UserOut:
    with _platform(request).store.session() as s:
        return user_out(
            create_user(
                s,
                email=body.email,
                name=body.name,
                role=body.role,
                password=body.password,
                actor=actor_of(who),
            )
        )


@router.put("/users/{email}/role", summary="Change a user's role (admins)")
def set_role_route(request: Request, email: str, body: RoleIn, who: AdminAccess) -> UserOut:
    with _platform(request).store.session() as s:
        return user_out(set_role(s, email, body.role, actor_of(who)))


@router.post("/users/{email}/deactivate", summary="Stop a user from signing in (admins)")
def deactivate_route(request: Request, email: str, who: AdminAccess) -> UserOut:
    with _platform(request).store.session() as s:
        return user_out(deactivate_user(s, email, actor_of(who)))


# -- API keys ---------------------------------------------------------------------------


class KeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    scope: str
    created_by: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewKeyOut(KeyOut):
    key: str = Field(description="the key itself: shown this once, never again")


class KeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scope: str = Field(pattern="^(ingest|read|write|admin)$")


def key_out(k: ApiKey) -> KeyOut:
    """The listing fields of a key (its prefix, never its hash)."""
    return KeyOut(
        id=k.id,
        name=k.name,
        prefix=k.prefix,
        scope=str(k.scope),
        created_by=k.created_by,
        created_at=k.created_at,
        last_used_at=k.last_used_at,
        revoked_at=k.revoked_at,
    )


@router.get("/keys", summary="Every API key, by prefix (admins)")
def keys_route(request: Request, who: AdminAccess) -> list[KeyOut]:
    with _platform(request).store.session() as s:
        return [key_out(k) for k in list_keys(s)]


@router.post(
    "/keys", status_code=201, summary="Create an API key; the answer holds it, once (admins)"
)
def create_key_route(request: Request, body: KeyIn, who: AdminAccess) -> NewKeyOut:
    with _platform(request).store.session() as s:
        key, plaintext = create_key(s, name=body.name, scope=body.scope, actor=actor_of(who))
        return NewKeyOut(**key_out(key).model_dump(), key=plaintext)


@router.delete("/keys/{key_id}", summary="Revoke an API key for good (admins)")
def revoke_key_route(request: Request, key_id: RowId, who: AdminAccess) -> KeyOut:
    if who.kind == "key" and who.name == f"key:{key_id}":
        raise Problem(400, "Bad request", "a key cannot revoke itself; use another admin key")
    with _platform(request).store.session() as s:
        return key_out(revoke_key(s, key_id, actor_of(who)))


# -- settings ---------------------------------------------------------------------------


class SettingIn(BaseModel):
    value: Any = Field(description="any JSON value")


def masked_settings(platform: Platform) -> dict[str, Any]:
    """Every setting, secrets shown as ``***``."""
    with platform.store.session() as s:
        return {k: masked(k, v) for k, v in all_settings(s).items()}


def put_setting(platform: Platform, key: str, value: Any, actor: str) -> Any:
    """Set one organisation setting; the keys other pages manage are refused."""
    if key in MANAGED_ELSEWHERE:
        raise Problem(400, "Bad request", f"{key} is set through {MANAGED_ELSEWHERE[key]}")
    with platform.store.session() as s:
        row = set_setting(s, key, value, actor)
        return masked(key, row.value)


@router.get("/settings", summary="Organisation settings, secrets masked (admins)")
def settings_route(request: Request, who: AdminAccess) -> dict[str, Any]:
    return masked_settings(_platform(request))


@router.put("/settings/{key}", summary="Set one organisation setting (admins)")
def put_setting_route(
    request: Request, key: str, body: SettingIn, who: AdminAccess
) -> dict[str, Any]:
    return {"key": key, "value": put_setting(_platform(request), key, body.value, actor_of(who))}


# -- imports ----------------------------------------------------------------------------


def import_out(run: ImportRun) -> dict[str, Any]:
    """One import run with its report."""
    return {
        "id": run.id,
        "status": str(run.status),
        "source": run.source,
        "started_by": run.started_by,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "report": run.report,
        "quarantine_dir": run.quarantine_dir,
    }


@router.get("/imports", summary="The latest import runs, newest first (admins)")
def imports_route(
    request: Request, who: AdminAccess, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict[str, Any]]:
    with _platform(request).store.session() as s:
        return [import_out(r) for r in list_imports(s, limit)]


@router.get("/imports/{run_id}", summary="One import run and its report (admins)")
def import_route(request: Request, run_id: RowId, who: AdminAccess) -> dict[str, Any]:
    with _platform(request).store.session() as s:
        return import_out(get_import(s, run_id))


@router.get(
    "/imports/{run_id}/quarantine/{table}",
    summary="An import's rejected rows of one table (admins)",
)
def quarantine_route(
    request: Request,
    run_id: RowId,
    table: str,
    who: AdminAccess,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    from helix.ingest.quarantine import quarantined_rows

    platform = _platform(request)
    with platform.store.session() as s:
        report = get_import(s, run_id).report or {}
    return quarantined_rows(
        report, table, imports_dir=platform.settings.imports_dir, limit=limit, offset=offset
    )


def upload_limits(platform: Platform) -> UploadLimits:
    """The upload limits: ``imports.max_upload_mb`` (default 50 MB) of sent bytes."""
    with platform.store.session() as s:
        mb = get_setting(s, MAX_UPLOAD_SETTING, DEFAULT_MAX_MB)
    try:
        value = float(mb)
    except (TypeError, ValueError):
        value = DEFAULT_MAX_MB
    return UploadLimits(max_bytes=int(max(0.001, value) * 2**20))


def import_upload(platform: Platform, target: UploadDir, actor: str) -> dict[str, Any]:
    """Import an unpacked upload as `helix import` does; the answer names the uploaded files."""
    from helix.ingest.service import run_import
    from helix.store.models import ImportRun as Run

    if not target.files:
        raise Problem(
            400,
            "Bad request",
            "the upload holds no contract files (.csv, .parquet)",
            ignored=target.ignored,
        )
    try:
        with contextlib.contextmanager(get_warehouse)(platform):  # one warehouse user at a time
            report = run_import(platform, target.path, actor=actor).to_dict()
    except ContractError as exc:
        raise Problem(
            400, "Import rejected", target.display(exc.for_people()), file=target.display(exc.file)
        ) from exc
    except HelixError as exc:
        raise Problem(400, "Import rejected", target.display(exc.for_people())) from exc
    with platform.store.session() as s:
        run_id = s.scalar(select(Run.id).where(Run.source == str(target.path)))
    for t in report["tables"].values():
        t["file"] = target.display(t["file"])
    for e in report["errors"]:
        e["file"] = target.display(e["file"])
    return {"import_run": run_id, "files": target.files, "ignored": target.ignored, **report}


async def receive_upload(request: Request, target: UploadDir, limits: UploadLimits) -> None:
    """Store the files of an upload request in ``target`` (limits checked as bytes arrive)."""
    length = request.headers.get("content-length")
    if length is None or not length.isdigit():
        raise Problem(411, "Length required", "send the upload with a Content-Length header")
    if int(length) > limits.max_bytes:
        raise Problem(
            413,
            "Upload too large",
            f"the upload is {int(length) / 2**20:.1f} MB; "
            f"the limit is {limits.max_bytes / 2**20:.0f} MB",
        )
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("application/zip", "application/x-zip-compressed"):
        import io

        body = io.BytesIO()
        async for chunk in request.stream():
            body.write(chunk)
            if body.tell() > limits.max_bytes:
                raise Problem(413, "Upload too large", "the upload is larger than the limit")
        body.seek(0)
        await run_in_threadpool(target.add_file, "upload.zip", body, limits)
        return
    if kind != "multipart/form-data":
        raise Problem(
            415,
            "Unsupported media type",
            "send multipart/form-data with one or more 'files', or an application/zip body",
        )
    form = await request.form(max_files=limits.max_files, max_fields=10)
    try:
        uploads = [v for _, v in form.multi_items() if not isinstance(v, str)]
        if not uploads:
            raise Problem(400, "Bad request", "the form holds no files (send them as 'files')")
        for up in uploads:
            await run_in_threadpool(target.add_file, up.filename or "", up.file, limits)
    finally:
        await form.close()


@router.post(
    "/imports",
    status_code=201,
    summary="Upload contract files and import them, validated as `helix import` (admins)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "files": {
                                "type": "array",
                                "items": {"type": "string", "format": "binary"},
                            }
                        },
                        "required": ["files"],
                    }
                },
                "application/zip": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def upload_route(request: Request, who: AdminAccess) -> dict[str, Any]:
    platform = _platform(request)
    limits = await run_in_threadpool(upload_limits, platform)
    try:
        with UploadDir(platform.settings.home) as target:
            await receive_upload(request, target, limits)
            return await run_in_threadpool(import_upload, platform, target, actor_of(who))
    except UploadTooLarge as exc:
        raise Problem(413, "Upload too large", exc.for_people()) from exc
    except ContractError as exc:
        raise Problem(400, "Upload rejected", exc.for_people(), file=exc.file) from exc
