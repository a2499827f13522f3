"""The admin pages (admins only; anyone else gets 403) and the first-run setup.

* ``GET /admin``: users, API keys and settings, with forms to create a user, change a
  role, deactivate, create a key (shown once, on the page that answers the form), revoke
  one, and set a setting (secrets masked).
* ``GET /admin/imports``: the import runs with their reports, and an upload form
  (``POST /admin/imports``, the same checks and import as ``POST /api/v1/imports``);
  ``GET /admin/imports/{id}`` shows one run's report and its quarantined rows.
* ``GET/POST /setup``: while no user exists, create the first admin (and sign in).
  Once any user exists it is closed (303 to the login page / 403).

Every form carries the session's CSRF token; each change is one library call, audited.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool

from helix.api.deps import SESSION_USER, PlatformDep, Principal
from helix.api.problems import Problem
from helix.api.routes.admin import (
    RowId,
    import_out,
    import_upload,
    key_out,
    masked_settings,
    put_setting,
    upload_limits,
    user_out,
)
from helix.errors import ContractError, UserError
from helix.ingest.upload import UploadDir, UploadTooLarge
from helix.platform import Platform
from helix.store import (
    Role,
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
from helix.store.models import User
from helix.web.pages import _check_csrf, _csrf, _form_caller, _signed_in, templates

router = APIRouter(include_in_schema=False)

ROLES = [r.value for r in Role]
SCOPES = ["read", "write", "ingest", "admin"]


def _admin(p: Principal) -> bool:
    return p.is_admin


def _admin_page(request: Request, platform: Platform) -> Principal | Response:
    """The signed-in admin, a redirect to the login, or a 403 for anyone else."""
    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    if not who.is_admin:
        raise Problem(403, "Forbidden", "only admins may open the admin pages")
    return who


def _overview(
    request: Request, platform: Platform, who: Principal, *, message: str | None = None,
    error: str | None = None, new_key: dict[str, Any] | None = None, status_code: int = 200,
) -> Response:
    with platform.store.session() as s:
        users = [user_out(u) for u in list_users(s)]
        keys = [key_out(k) for k in list_keys(s)]
    settings = {k: json.dumps(v) for k, v in masked_settings(platform).items()}
    return templates.TemplateResponse(request, "admin.html", {
        "who": who, "csrf": _csrf(request), "users": users, "keys": keys, "settings": settings,
        "roles": ROLES, "scopes": SCOPES, "message": message, "error": error, "new_key": new_key,
    }, status_code=status_code)


@router.get("/admin", response_class=HTMLResponse)
def admin_page(
    request: Request, platform: PlatformDep,
    message: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Users, API keys and settings."""
    who = _admin_page(request, platform)
    if isinstance(who, Response):
        return who
    return _overview(request, platform, who, message=message)


def _change(
    request: Request, platform: Platform, csrf: str, done: str, change: Any
) -> Response:
    """Run ``change(session, actor)`` for an admin's form; the overview with the outcome."""
    who = _form_caller(request, platform, csrf, _admin, "only admins may do this")
    if who is None:
        return RedirectResponse("/login", status_code=303)
    try:
        with platform.store.session() as s:
            change(s, who.name)
    except UserError as exc:
        return _overview(request, platform, who, error=exc.for_people(), status_code=400)
    from urllib.parse import quote

    return RedirectResponse(f"/admin?message={quote(done)}", status_code=303)


@router.post("/admin/users")
def create_user_form(
    request: Request, platform: PlatformDep,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form(pattern="^(admin|leader|csm|viewer)$")],
    password: Annotated[str, Form(min_length=1, max_length=1024)],
    csrf: Annotated[str, Form()],
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Create a user with a role and a first password."""
    return _change(request, platform, csrf, f"User {email} created ({role})",
                   lambda s, actor: create_user(s, email=email, name=name, role=role,
                                                password=password, actor=actor))


@router.post("/admin/users/role")
def set_role_form(
    request: Request, platform: PlatformDep,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[str, Form(pattern="^(admin|leader|csm|viewer)$")],
    csrf: Annotated[str, Form()],
) -> Response:
    """Change a user's role (the last active admin cannot be demoted)."""
    return _change(request, platform, csrf, f"{email} is now {role}",
                   lambda s, actor: set_role(s, email, role, actor))


@router.post("/admin/users/deactivate")
def deactivate_form(
    request: Request, platform: PlatformDep,
    email: Annotated[str, Form(max_length=320)], csrf: Annotated[str, Form()],
) -> Response:
    """Stop a user from signing in."""
    return _change(request, platform, csrf, f"{email} deactivated",
                   lambda s, actor: deactivate_user(s, email, actor))


@router.post("/admin/keys", response_class=HTMLResponse)
def create_key_form(
    request: Request, platform: PlatformDep,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    scope: Annotated[str, Form(pattern="^(ingest|read|write|admin)$")],
    csrf: Annotated[str, Form()],
) -> Response:
    """Create an API key and show it, this once (the page is not cached)."""
    who = _form_caller(request, platform, csrf, _admin, "only admins may do this")
    if who is None:
        return RedirectResponse("/login", status_code=303)
    try:
        with platform.store.session() as s:
            key, plaintext = create_key(s, name=name, scope=scope, actor=who.name)
            shown = {"id": key.id, "name": key.name, "scope": str(key.scope), "key": plaintext}
    except UserError as exc:
        return _overview(request, platform, who, error=exc.for_people(), status_code=400)
    response = _overview(request, platform, who, new_key=shown, status_code=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/admin/keys/{key_id}/revoke")
def revoke_key_form(
    request: Request, platform: PlatformDep, key_id: RowId, csrf: Annotated[str, Form()]
) -> Response:
    """Revoke an API key for good."""
    return _change(request, platform, csrf, f"Key {key_id} revoked",
                   lambda s, actor: revoke_key(s, key_id, actor))


@router.post("/admin/settings")
def set_setting_form(
    request: Request, platform: PlatformDep,
    key: Annotated[str, Form(min_length=1, max_length=100)],
    value: Annotated[str, Form(max_length=20000)],
    csrf: Annotated[str, Form()],
) -> Response:
    """Set a setting: the value is read as JSON (``0.75``, ``true``, ``{...}``), else as text."""
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    who = _form_caller(request, platform, csrf, _admin, "only admins may do this")
    if who is None:
        return RedirectResponse("/login", status_code=303)
    try:
        put_setting(platform, key, parsed, who.name)
    except Problem as exc:
        return _overview(request, platform, who, error=exc.detail, status_code=400)
    except UserError as exc:
        return _overview(request, platform, who, error=exc.for_people(), status_code=400)
    from urllib.parse import quote

    return RedirectResponse(f"/admin?message={quote(f'Setting {key} saved')}", status_code=303)


# -- imports ----------------------------------------------------------------------------


def _imports_page(
    request: Request, platform: Platform, who: Principal, *, error: str | None = None,
    status_code: int = 200,
) -> Response:
    with platform.store.session() as s:
        runs = [import_out(r) for r in list_imports(s, 100)]
    limit_mb = upload_limits(platform).max_bytes / 2**20
    return templates.TemplateResponse(request, "admin_imports.html", {
        "who": who, "csrf": _csrf(request), "runs": runs, "error": error, "limit_mb": limit_mb,
    }, status_code=status_code)


@router.get("/admin/imports", response_class=HTMLResponse)
def imports_page(request: Request, platform: PlatformDep) -> Response:
    """Every import run, newest first, and the upload form."""
    who = _admin_page(request, platform)
    if isinstance(who, Response):
        return who
    return _imports_page(request, platform, who)


def _quarantine(platform: Platform, report: dict[str, Any]) -> dict[str, Any]:
    from helix.errors import NotFoundError
    from helix.ingest.quarantine import quarantined_rows

    out = {}
    for table, entry in (report.get("tables") or {}).items():
        if entry.get("quarantine"):
            try:
                out[table] = quarantined_rows(report, table,
                                              imports_dir=platform.settings.imports_dir, limit=50)
            except NotFoundError as exc:
                out[table] = {"table": table, "missing": exc.message, "rows": [], "total": 0}
    return out


@router.get("/admin/imports/{run_id}", response_class=HTMLResponse)
def import_page(request: Request, platform: PlatformDep, run_id: RowId) -> Response:
    """One import run: its report, and the rows it quarantined with the reasons."""
    who = _admin_page(request, platform)
    if isinstance(who, Response):
        return who
    with platform.store.session() as s:
        run = import_out(get_import(s, run_id))
    return templates.TemplateResponse(request, "admin_import.html", {
        "who": who, "csrf": _csrf(request), "run": run,
        "quarantine": _quarantine(platform, run["report"] or {}),
    })


@router.post("/admin/imports", response_class=HTMLResponse)
async def upload_form(request: Request, platform: PlatformDep) -> Response:
    """Upload contract files (a zip, or several files) and import them."""
    who = await run_in_threadpool(_signed_in, request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    limits = await run_in_threadpool(upload_limits, platform)
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > limits.max_bytes:
        _check_admin(who)
        return await run_in_threadpool(
            _imports_page, request, platform, who,
            error=f"The upload is larger than the limit of {limits.max_bytes / 2**20:.0f} MB.",
            status_code=413)
    form = await request.form(max_files=limits.max_files, max_fields=10)
    try:
        token = form.get("csrf")
        _check_csrf(request, token if isinstance(token, str) else "")
        _check_admin(who)
        uploads = [v for k, v in form.multi_items() if k == "files" and not isinstance(v, str)]
        uploads = [u for u in uploads if u.filename]
        if not uploads:
            return await run_in_threadpool(_imports_page, request, platform, who,
                                           error="Choose one or more files to upload.",
                                           status_code=400)
        try:
            with UploadDir(platform.settings.home) as target:
                for up in uploads:
                    await run_in_threadpool(target.add_file, up.filename or "", up.file, limits)
                result = await run_in_threadpool(import_upload, platform, target, who.name)
        except UploadTooLarge as exc:
            return await run_in_threadpool(_imports_page, request, platform, who,
                                           error=exc.for_people(), status_code=413)
        except (ContractError, UserError) as exc:
            return await run_in_threadpool(_imports_page, request, platform, who,
                                           error=exc.for_people(), status_code=400)
        except Problem as exc:
            return await run_in_threadpool(_imports_page, request, platform, who,
                                           error=exc.detail, status_code=exc.status)
    finally:
        await form.close()
    return RedirectResponse(f"/admin/imports/{result['import_run']}", status_code=303)


def _check_admin(who: Principal) -> None:
    if not who.is_admin:
        raise Problem(403, "Forbidden", "only admins may import data")


# -- first-run setup --------------------------------------------------------------------


def users_exist(platform: Platform) -> bool:
    """Whether any user exists (the first-run setup is open only while none does)."""
    with platform.store.session() as s:
        return bool(s.scalar(select(func.count()).select_from(User)))


@router.get("/setup", response_class=HTMLResponse)
def setup_form(request: Request, platform: PlatformDep) -> Response:
    """Create the first admin; once a user exists, the login page instead."""
    if users_exist(platform):
        return RedirectResponse("/login", status_code=303)
    return templates.TemplateResponse(request, "setup.html", {
        "csrf": _csrf(request), "error": None, "who": None, "email": "", "name": ""})


@router.post("/setup", response_class=HTMLResponse)
def setup(
    request: Request, platform: PlatformDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    confirm: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form()],
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Create the first admin and sign them in (refused once any user exists)."""
    _check_csrf(request, csrf)
    if users_exist(platform):
        raise Problem(403, "Forbidden", "Helix is set up already; an admin adds users")

    def again(error: str) -> Response:
        return templates.TemplateResponse(request, "setup.html", {
            "csrf": _csrf(request), "error": error, "who": None, "email": email, "name": name,
        }, status_code=400)

    if password != confirm:
        return again("The two passwords differ.")
    try:
        with platform.store.session() as s:
            if s.scalar(select(func.count()).select_from(User)):
                raise Problem(403, "Forbidden", "Helix is set up already; an admin adds users")
            user = create_user(s, email=email, name=name, role=Role.ADMIN, password=password,
                               actor="setup")
            address = user.email
    except UserError as exc:
        return again(exc.for_people())
    except IntegrityError as exc:  # another first admin was created at the same moment
        raise Problem(403, "Forbidden", "Helix is set up already; an admin adds users") from exc
    request.session.clear()
    request.session[SESSION_USER] = address
    return RedirectResponse("/admin", status_code=303)
