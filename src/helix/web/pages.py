"""Login and the portfolio page (server-rendered, Jinja2)."""

from __future__ import annotations

import csv
import io
import json
import math
import secrets
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy import select

from helix.api.deps import (
    SESSION_USER,
    PlatformDep,
    Principal,
    current_principal,
    get_warehouse,
    read_warehouse,
)
from helix.api.problems import Problem
from helix.customer.access import open_task_counter
from helix.portfolio import (
    CSV_COLUMNS,
    HIGH_RISK,
    SORTS,
    PortfolioFilter,
    iter_accounts,
    list_accounts,
    portfolio_choices,
)
from helix.store import Role, authenticate
from helix.store.models import Notification

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def chart_json(spec: dict[str, Any]) -> Markup:
    """A Vega-Lite spec as JSON safe inside ``<script type="application/json">`` (the
    ``chart_json`` filter every page's charts go through; see static/charts.js)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, date):
            return value.isoformat()
        raise TypeError(f"not JSON: {type(value).__name__}")

    text = json.dumps(spec, default=plain)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


templates.env.filters["chart_json"] = chart_json
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


def _signed_in(request: Request, platform: PlatformDep) -> Principal | None:
    """The signed-in caller of a page, or None (the page then redirects to the login)."""
    try:
        return current_principal(request, platform)
    except Problem:
        return None


def _form_caller(
    request: Request, platform: PlatformDep, csrf: str,
    allowed: Callable[[Principal], bool], why: str,
) -> Principal | None:
    """The caller of a form POST: CSRF checked, signed in (else None: redirect to the
    login), and ``allowed`` (else 403 with ``why``)."""
    _check_csrf(request, csrf)
    who = _signed_in(request, platform)
    if who is not None and not allowed(who):
        raise Problem(403, "Forbidden", why)
    return who


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    target = "/accounts" if request.session.get(SESSION_USER) else "/login"
    return RedirectResponse(target, status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, platform: PlatformDep) -> Response:
    from helix.web.admin_pages import users_exist

    if not users_exist(platform):  # first run: create the first admin
        return RedirectResponse("/setup", status_code=303)
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
    from helix.web.ratelimit import limiter_of

    _check_csrf(request, csrf)
    limiter, address = limiter_of(request.app.state), request.client.host if request.client else ""
    wait = limiter.retry_after(email, address)
    if wait is not None:  # too many failures: refused whatever the password
        return templates.TemplateResponse(
            request, "login.html",
            {"csrf": _csrf(request), "error": f"Too many failed attempts; try again in "
             f"{math.ceil(wait / 60)} minutes."},
            status_code=429, headers={"Retry-After": str(wait)},
        )
    with platform.store.session() as session:
        user = authenticate(session, email, password)
        user_email = user.email if user else None
    if user_email is None:
        limiter.failed(email, address)
        return templates.TemplateResponse(
            request,
            "login.html",
            {"csrf": _csrf(request), "error": "Wrong email or password."},
            status_code=401,
        )
    limiter.succeeded(email, address)
    request.session.clear()
    request.session[SESSION_USER] = user_email
    return RedirectResponse("/accounts", status_code=303)


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form()]) -> Response:
    _check_csrf(request, csrf)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


PAGE_SIZE = 50
SORT_FILTER = f"^({'|'.join(SORTS)})$"
SORT_LABELS = {"arr": "ARR", "risk": "Churn risk", "health": "Health (worst first)",
               "renewal": "Renewal date", "name": "Name", "last_activity": "Last activity"}

Search = Annotated[str | None, Query(max_length=200)]
Segment = Annotated[str | None, Query(max_length=200)]
Tier = Annotated[str | None, Query(pattern="^(enterprise|mid_market|smb|)$")]
Colour = Annotated[str | None, Query(pattern="^(red|yellow|green|none|)$")]
Risk = Annotated[str | None, Query(pattern="^(high|medium|low|none|)$")]
Owner = Annotated[str | None, Query(max_length=320)]
View = Annotated[str, Query(pattern="^(all|at_risk)$")]
Sort = Annotated[str, Query(pattern=SORT_FILTER)]


def _portfolio_filters(
    who: Principal, q: str | None, segment: str | None, tier: str | None, color: str | None,
    risk: str | None, owner: str | None, view: str,
) -> PortfolioFilter:
    """The filters of the portfolio page and its CSV export (a CSM: their book only)."""
    return PortfolioFilter(
        book_owner=who.book_owner, owner=None if who.book_owner else (owner or None),
        query=q or None, tier=tier or None, segment=segment or None, color=color or None,
        risk=risk or None, at_risk=view == "at_risk",
    )


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(
    request: Request,
    platform: PlatformDep,
    q: Search = None,
    segment: Segment = None,
    tier: Tier = None,
    color: Colour = None,
    risk: Risk = None,
    owner: Owner = None,
    view: View = "all",
    sort: Sort = "arr",
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    """The portfolio: filters, sort, search, the at-risk view, pages of 50, CSV export."""
    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    f = _portfolio_filters(who, q, segment, tier, color, risk, owner, view)
    for wh in read_warehouse(platform):
        page = list_accounts(
            wh, owner_email=f.book_owner, owner=f.owner, query=f.query, tier=f.tier,
            segment=f.segment, color=f.color, risk=f.risk, at_risk=f.at_risk, sort=sort,
            offset=offset, cursor=cursor or None, limit=PAGE_SIZE,
            open_tasks=open_task_counter(platform.store),
        )
        choices = portfolio_choices(wh, who.book_owner)
    params = {k: v for k, v in {
        "q": q, "segment": segment, "tier": tier, "color": color, "risk": risk, "owner": f.owner,
        "view": view if view != "all" else None, "sort": sort if sort != "arr" else None,
    }.items() if v}
    return templates.TemplateResponse(request, "accounts.html", {
        "page": page, "who": who, "q": q or "", "csrf": _csrf(request), "choices": choices,
        "f": f, "sort": sort, "view": view, "params": params, "query": urlencode(params),
        "sorts": SORT_LABELS, "high_risk": HIGH_RISK, "cursor": cursor or "",
    })


@router.get("/accounts.csv")
def accounts_csv(
    request: Request,
    platform: PlatformDep,
    q: Search = None,
    segment: Segment = None,
    tier: Tier = None,
    color: Colour = None,
    risk: Risk = None,
    owner: Owner = None,
    view: View = "all",
    sort: Sort = "arr",
) -> Response:
    """Every account of the portfolio with the page's filters, as CSV, in the page's order."""
    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    f = _portfolio_filters(who, q, segment, tier, color, risk, owner, view)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(CSV_COLUMNS), extrasaction="ignore")
    writer.writeheader()
    for wh in get_warehouse(platform):
        rows = iter_accounts(wh, filters=f, sort=sort, open_tasks=open_task_counter(platform.store))
        for row in rows:
            writer.writerow({k: (v.isoformat() if hasattr(v, "isoformat") else v)
                             for k, v in row.items()})
    name = "accounts-at-risk.csv" if f.at_risk else "accounts.csv"
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/tasks", response_class=HTMLResponse)
def tasks_page(
    request: Request,
    platform: PlatformDep,
    due: Annotated[str, Query(pattern="^(today|overdue|week|all)$")] = "today",
    message: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    from helix.playbooks.service import latest_as_of
    from helix.playbooks.tasks import list_tasks

    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    for _ in get_warehouse(platform):
        today = latest_as_of(platform)
    mine = who.book_owner is not None  # a CSM's own; leaders and admins see everyone's
    with platform.store.session() as session:
        rows = list_tasks(session, owner=who.name if mine else None, due=due,  # type: ignore[arg-type]
                          today=today)
        notes = list(session.scalars(
            select(Notification).where(Notification.user_email == who.name.lower())
            .order_by(Notification.id.desc()).limit(20)))
    return templates.TemplateResponse(request, "tasks.html", {
        "tasks": rows, "notes": notes, "who": who, "due": due, "today": today, "mine": mine,
        "can_write": who.can_write, "csrf": _csrf(request), "message": message,
    })


@router.post("/tasks/{task_id}/close")
def close_task_form(
    request: Request,
    platform: PlatformDep,
    task_id: int,
    status: Annotated[str, Form(pattern="^(done|dismissed)$")],
    outcome: Annotated[str, Form(min_length=1, max_length=2000)],
    csrf: Annotated[str, Form()],
    due: Annotated[str, Form(pattern="^(today|overdue|week|all)$")] = "today",
) -> Response:
    from helix.playbooks.tasks import close_task

    who = _form_caller(request, platform, csrf, lambda p: p.can_write,
                       "this account may not change tasks")
    if who is None:
        return RedirectResponse("/login", status_code=303)
    with platform.store.session() as session:
        close_task(session, task_id, status, outcome, actor=who.name,  # type: ignore[arg-type]
                   book_owner=who.book_owner)
    # back to the list the task was closed from
    return RedirectResponse(f"/tasks?due={due}&message=Task+{task_id}+{status}", status_code=303)


def _unsubscribe_page(
    request: Request, platform: PlatformDep, token: str, opt_out: bool
) -> Response:
    """Check the token (and with ``opt_out`` opt its contact out); render the result."""
    from helix.errors import UserError
    from helix.playbooks.contacts import token_contact, unsubscribe

    try:
        with platform.store.session() as session:
            (unsubscribe if opt_out else token_contact)(session, token)
    except UserError as exc:
        return templates.TemplateResponse(request, "unsubscribe.html", {
            "token": token, "done": False, "error": str(exc), "who": None}, status_code=400)
    return templates.TemplateResponse(request, "unsubscribe.html",
                                      {"token": token, "done": opt_out, "error": None, "who": None})


@router.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_form(request: Request, platform: PlatformDep, token: str) -> Response:
    """The link in every email: a confirmation page (mail scanners follow GET links, so the
    opt-out itself is the POST, which is also RFC 8058's one-click request)."""
    return _unsubscribe_page(request, platform, token, opt_out=False)


@router.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_post(request: Request, platform: PlatformDep, token: str) -> Response:
    """Opt the contact out; the signed token is the only credential (no login)."""
    return _unsubscribe_page(request, platform, token, opt_out=True)


@router.get("/playbooks", response_class=HTMLResponse)
def playbooks_page(
    request: Request,
    platform: PlatformDep,
    message: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Every playbook with its funnel and measured uplift."""
    from helix.playbooks.catalog import list_records
    from helix.playbooks.impact import impact
    from helix.playbooks.service import latest_as_of

    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    rows = []
    for wh in get_warehouse(platform):
        today = latest_as_of(platform)
        with platform.store.session() as session:
            for rec in list_records(session):
                report = impact(wh, session, rec.name, today)
                rows.append({"name": rec.name, "title": rec.definition["title"],
                             "version": rec.version, "enabled": rec.enabled,
                             "trigger": rec.definition["trigger"]["type"],
                             "funnel": report["funnel"], "impact": report})
    return templates.TemplateResponse(request, "playbooks.html", {
        "playbooks": rows, "who": who, "csrf": _csrf(request), "message": message,
        "can_manage": who.role in (Role.ADMIN, Role.LEADER),
    })


@router.post("/playbooks/{name}/enabled")
def playbook_toggle_form(
    request: Request,
    platform: PlatformDep,
    name: str,
    enabled: Annotated[str, Form(pattern="^(true|false)$")],
    csrf: Annotated[str, Form()],
) -> Response:
    """Leaders and admins turn a playbook on or off."""
    from helix.playbooks.catalog import set_enabled

    who = _form_caller(request, platform, csrf, lambda p: p.role in (Role.ADMIN, Role.LEADER),
                       "only leaders and admins may change playbooks")
    if who is None:
        return RedirectResponse("/login", status_code=303)
    with platform.store.session() as session:
        set_enabled(session, name, enabled == "true", actor=who.name)
    state = "enabled" if enabled == "true" else "disabled"
    return RedirectResponse(f"/playbooks?message={name}+{state}", status_code=303)
