"""Login and the portfolio page (server-rendered, Jinja2)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from helix.api.deps import SESSION_USER, PlatformDep, current_principal, get_warehouse
from helix.api.problems import Problem
from helix.portfolio import list_accounts
from helix.store import authenticate

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter(include_in_schema=False)


def static_files() -> StaticFiles:
    return StaticFiles(directory=str(HERE / "static"))


def _csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


def _check_csrf(request: Request, token: str) -> None:
    expected = request.session.get("csrf")
    if not expected or not secrets.compare_digest(expected, token):
        raise Problem(403, "Forbidden", "the form expired; reload the page and try again")


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    target = "/accounts" if request.session.get(SESSION_USER) else "/login"
    return RedirectResponse(target, status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    return templates.TemplateResponse(
        request, "login.html", {"csrf": _csrf(request), "error": None}
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    platform: PlatformDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    csrf: Annotated[str, Form()],
) -> Response:
    _check_csrf(request, csrf)
    with platform.store.session() as session:
        user = authenticate(session, email, password)
        user_email = user.email if user else None
    if user_email is None:
        return templates.TemplateResponse(
            request,
            "login.html",
            {"csrf": _csrf(request), "error": "Wrong email or password."},
            status_code=401,
        )
    request.session.clear()
    request.session[SESSION_USER] = user_email
    return RedirectResponse("/accounts", status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()]) -> Response:
    _check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(
    request: Request,
    platform: PlatformDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    try:
        who = current_principal(request, platform)
    except Problem:
        return RedirectResponse("/login", status_code=303)
    for wh in get_warehouse(platform):
        page = list_accounts(wh, owner_email=who.book_owner, query=q or None, offset=offset, limit=50)
    return templates.TemplateResponse(
        request,
        "accounts.html",
        {"page": page, "who": who, "q": q or "", "csrf": _csrf(request)},
    )
