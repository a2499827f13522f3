"""The Customer 360 page (``GET /accounts/{id}``) and its forms.

One account seen whole: the header (ARR, plan, owner, renewal, health and churn risk
with their drivers), the health history chart with the colour bands, weekly usage,
subscriptions and MRR movements, contacts and the stakeholder map, the timeline (more
of it through ``GET /accounts/{id}/timeline``, an HTMX partial), the success plan and
the notes.

Forms (POST, CSRF-checked): add a note; set the plan's objective; add a goal; add a
milestone; complete a goal or a milestone. Writing needs a role that may write (not a
viewer: 403); a CSM sees and writes only their own book, and any other account is a
404 whether or not it exists. Plan forms carry the version the page showed, so a
change made meanwhile by someone else is refused (the page says so) instead of lost.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from helix.api.deps import PlatformDep, Principal, read_warehouse
from helix.customer import (
    PreconditionRequired,
    StaleWrite,
    add_goal,
    add_milestone,
    add_note,
    contacts,
    customer_header,
    find_account,
    get_goal,
    get_milestone,
    health_history,
    list_notes,
    mrr_movements,
    plan_dict,
    put_plan,
    stakeholder_map,
    subscriptions,
    timeline,
    update_goal,
    update_milestone,
    usage_summary,
)
from helix.errors import NotFoundError, UserError
from helix.web.pages import _csrf, _form_caller, _signed_in, templates

router = APIRouter(include_in_schema=False)

TIMELINE_PAGE = 30




def health_driver(d: dict[str, Any]) -> str:
    """One driver of a health change in words: "champion present (relationship): -18.0
    points, measure 100 → 0". A measure missing at either end says "missing"."""

    def points(value: Any) -> str:
        return "missing" if value is None else f"{float(value):.0f}"

    text = f"{str(d.get('signal', '')).replace('_', ' ')} ({d.get('group')})"
    delta = d.get("delta")
    text += f": {float(delta):+.1f} points" if delta is not None else ": moved"
    if "points_from" in d and "points_to" in d:
        text += f", measure {points(d['points_from'])} → {points(d['points_to'])}"
    return text


templates.env.filters["health_driver"] = health_driver


def _bands(platform: PlatformDep) -> tuple[float, float]:
    """The active health model's colour thresholds: (red below, green from)."""
    from helix.health.active import active_model

    model = active_model(platform.store)
    return model.red_below, model.green_from


def health_chart(
    history: list[dict[str, Any]], red_below: float, green_from: float
) -> dict[str, Any]:
    """The daily health score as a line over red / yellow / green bands."""
    bands = [
        {"from": 0, "to": red_below, "band": "red"},
        {"from": red_below, "to": green_from, "band": "yellow"},
        {"from": green_from, "to": 100, "band": "green"},
    ]
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container",
        "height": 200,
        "layer": [
            {
                "data": {"values": bands},
                "mark": {"type": "rect", "opacity": 0.18},
                "encoding": {
                    "y": {
                        "field": "from",
                        "type": "quantitative",
                        "scale": {"domain": [0, 100]},
                        "title": "health score",
                    },
                    "y2": {"field": "to"},
                    "color": {
                        "field": "band",
                        "type": "nominal",
                        "legend": None,
                        "scale": {
                            "domain": ["red", "yellow", "green"],
                            "range": ["#d92d20", "#f79009", "#12b76a"],
                        },
                    },
                },
            },
            {
                "data": {"values": history},
                "mark": {"type": "line", "color": "#1d2330"},
                "encoding": {
                    "x": {
                        "field": "score_date",
                        "type": "temporal",
                        "title": None,
                        "axis": {"format": "%b %Y", "tickCount": "month"},
                    },
                    "y": {"field": "score", "type": "quantitative"},
                    "tooltip": [
                        {"field": "score_date", "type": "temporal"},
                        {"field": "score"},
                        {"field": "color"},
                    ],
                },
            },
        ],
    }


def usage_chart(weeks: list[dict[str, Any]]) -> dict[str, Any]:
    """Events per week as bars."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": "container",
        "height": 160,
        "data": {"values": weeks},
        "mark": {"type": "bar", "color": "#2f5bea"},
        "encoding": {
            "x": {
                "field": "week",
                "type": "temporal",
                "timeUnit": "yearmonthdate",
                "title": "week starting",
            },
            "y": {"field": "events", "type": "quantitative", "title": "events"},
            "tooltip": [{"field": "week"}, {"field": "events"}, {"field": "users"}],
        },
    }


def _weekly_sample(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every 7th day of the history, ending on the latest: the table beside the chart."""
    return list(reversed(history[::-1][::7]))


def _may_write(who: Principal) -> bool:
    return who.can_write


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
def customer_page(
    request: Request,
    platform: PlatformDep,
    account_id: str,
    message: Annotated[str | None, Query(max_length=300)] = None,
) -> Response:
    """The Customer 360 of one account (404 outside a CSM's book)."""
    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    try:
        for wh in read_warehouse(platform):
            account = find_account(wh, account_id, who.book_owner)
            header = customer_header(wh, account)
            as_of = date.fromisoformat(header["as_of"]) if header.get("as_of") else None
            history = health_history(wh, account_id)
            usage = (
                usage_summary(wh, account_id, as_of, days=TIMELINE_PAGE + 1) if as_of else None
            )
            weeks = usage.weeks if usage else []
            subs = subscriptions(wh, account_id)
            movements = mrr_movements(wh, account_id)
            people = contacts(wh, account_id)
            with platform.store.session() as s:
                events = timeline(
                    wh, s, account_id, limit=TIMELINE_PAGE,
                    usage=(usage.days, usage.types) if usage else None,
                )  # fmt: skip
                notes = [n.to_dict() for n in list_notes(s, account_id, limit=50)]
                plan = plan_dict(s, account_id, today=as_of)
    except NotFoundError:
        return templates.TemplateResponse(
            request,
            "customer_missing.html",
            {"who": who, "csrf": _csrf(request), "account_id": account_id},
            status_code=404,
        )
    red_below, green_from = _bands(platform)
    return templates.TemplateResponse(
        request,
        "customer.html",
        {
            "who": who,
            "csrf": _csrf(request),
            "charts": True,
            "a": header,
            "message": message,
            "history": history,
            "history_table": _weekly_sample(history),
            "health_spec": health_chart(history, red_below, green_from),
            "weeks": weeks,
            "usage_spec": usage_chart(weeks),
            "subs": subs,
            "movements": movements,
            "people": people,
            "stakeholders": stakeholder_map(people, as_of),
            "timeline": events,
            "notes": notes,
            "plan": plan,
            "can_write": _may_write(who),
            "today": as_of,
            "red_below": red_below,
            "green_from": green_from,
        },
    )


@router.get("/accounts/{account_id}/timeline", response_class=HTMLResponse)
def customer_timeline(
    request: Request,
    platform: PlatformDep,
    account_id: str,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    """More of the timeline (the rows after ``cursor``), as an HTMX partial."""
    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    try:
        for wh in read_warehouse(platform):
            find_account(wh, account_id, who.book_owner)
            with platform.store.session() as s:
                events = timeline(wh, s, account_id, limit=TIMELINE_PAGE, cursor=cursor)
    except NotFoundError:
        return HTMLResponse("Not found", status_code=404)
    except UserError as exc:
        return HTMLResponse(str(exc), status_code=400)
    return templates.TemplateResponse(
        request, "customer_timeline.html", {"timeline": events, "account_id": account_id}
    )


# -- forms ------------------------------------------------------------------------------


def _back(account_id: str, message: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(
        f"/accounts/{quote(account_id, safe='')}?message={quote(message[:200])}#{anchor}",
        status_code=303,
    )


def _writer(
    request: Request, platform: PlatformDep, csrf: str, account_id: str
) -> Principal | None:
    """The caller of a form on ``account_id``: CSRF, signed in, may write (else 403), and
    the account is in their book (else 404, as on the page)."""
    who = _form_caller(request, platform, csrf, _may_write, "this account may only read")
    if who is None:
        return None
    for wh in read_warehouse(platform):
        find_account(wh, account_id, who.book_owner)
    return who


def _missing(request: Request, account_id: str, who: Principal | None) -> Response:
    return templates.TemplateResponse(
        request,
        "customer_missing.html",
        {"who": who, "csrf": _csrf(request), "account_id": account_id},
        status_code=404,
    )


@router.post("/accounts/{account_id}/notes")
def note_form(
    request: Request,
    platform: PlatformDep,
    account_id: str,
    text: Annotated[str, Form(min_length=1, max_length=10_000)],
    csrf: Annotated[str, Form()],
) -> Response:
    """Add a note to the account."""
    try:
        who = _writer(request, platform, csrf, account_id)
    except NotFoundError:
        return _missing(request, account_id, _signed_in(request, platform))
    if who is None:
        return RedirectResponse("/login", status_code=303)
    try:
        with platform.store.session() as s:
            add_note(s, account_id, text, actor=who.name)
    except UserError as exc:
        return _back(account_id, str(exc), "notes")
    return _back(account_id, "Note added.", "notes")


def _plan_write(
    request: Request,
    platform: PlatformDep,
    csrf: str,
    account_id: str,
    anchor: str,
    done: str,
    write: Any,
) -> Response:
    try:
        who = _writer(request, platform, csrf, account_id)
    except NotFoundError:
        return _missing(request, account_id, _signed_in(request, platform))
    if who is None:
        return RedirectResponse("/login", status_code=303)
    try:
        with platform.store.session() as s:
            write(s, who)
    except (StaleWrite, PreconditionRequired):
        return _back(
            account_id,
            "Someone changed the success plan meanwhile: your change was not "
            "saved. Here is the current plan; apply it again if still needed.",
            anchor,
        )
    except UserError as exc:
        return _back(account_id, str(exc), anchor)
    return _back(account_id, done, anchor)


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{value!r} is not a date (YYYY-MM-DD)") from None


@router.post("/accounts/{account_id}/plan")
def plan_form(
    request: Request,
    platform: PlatformDep,
    account_id: str,
    objective: Annotated[str, Form(max_length=2000)],
    version: Annotated[int, Form(ge=0)],
    csrf: Annotated[str, Form()],
) -> Response:
    """Set the success plan's objective."""
    return _plan_write(
        request,
        platform,
        csrf,
        account_id,
        "plan",
        "Objective saved.",
        lambda s, who: put_plan(s, account_id, objective, version=version, actor=who.name),
    )


@router.post("/accounts/{account_id}/goals")
def goal_form(
    request: Request,
    platform: PlatformDep,
    account_id: str,
    title: Annotated[str, Form(min_length=1, max_length=300)],
    csrf: Annotated[str, Form()],
    target_date: Annotated[str, Form(max_length=10)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Add a goal to the success plan."""
    return _plan_write(
        request,
        platform,
        csrf,
        account_id,
        "plan",
        "Goal added.",
        lambda s, who: add_goal(
            s,
            account_id,
            title,
            actor=who.name,
            description=description,
            target_date=_date(target_date),
        ),
    )


def _goal_of(s: Any, goal_id: int, account_id: str) -> Any:
    goal = get_goal(s, goal_id)
    if goal.account_id != account_id:
        raise UserError(f"goal {goal_id} is not on this account's plan")
    return goal


@router.post("/accounts/{account_id}/goals/{goal_id}/milestones")
def milestone_form(
    request: Request,
    platform: PlatformDep,
    account_id: str,
    goal_id: int,
    title: Annotated[str, Form(min_length=1, max_length=300)],
    csrf: Annotated[str, Form()],
    due_date: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Add a milestone to one of the plan's goals."""

    def write(s: Any, who: Principal) -> None:
        _goal_of(s, goal_id, account_id)
        add_milestone(s, goal_id, title, actor=who.name, due_date=_date(due_date))

    return _plan_write(request, platform, csrf, account_id, "plan", "Milestone added.", write)


@router.post("/accounts/{account_id}/goals/{goal_id}/status")
def goal_status_form(
    request: Request,
    platform: PlatformDep,
    account_id: str,
    goal_id: int,
    status: Annotated[str, Form(pattern="^(planned|in_progress|achieved|missed|dropped)$")],
    version: Annotated[int, Form(ge=0)],
    csrf: Annotated[str, Form()],
) -> Response:
    """Set a goal's status (``achieved`` completes it)."""

    def write(s: Any, who: Principal) -> None:
        _goal_of(s, goal_id, account_id)
        update_goal(s, goal_id, version=version, actor=who.name, status=status)

    return _plan_write(
        request,
        platform,
        csrf,
        account_id,
        "plan",
        f"Goal marked {status.replace('_', ' ')}.",
        write,
    )


@router.post("/accounts/{account_id}/milestones/{milestone_id}/done")
def milestone_done_form(
    request: Request,
    platform: PlatformDep,
    account_id: str,
    milestone_id: int,
    version: Annotated[int, Form(ge=0)],
    csrf: Annotated[str, Form()],
) -> Response:
    """Complete a milestone."""

    def write(s: Any, who: Principal) -> None:
        m = get_milestone(s, milestone_id)
        _goal_of(s, m.goal_id, account_id)
        update_milestone(s, milestone_id, version=version, actor=who.name, status="done")

    return _plan_write(request, platform, csrf, account_id, "plan", "Milestone done.", write)
