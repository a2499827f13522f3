"""The Reports pages: ``/reports`` (index), ``/reports/board`` (board slide preview) and
``/reports/qbr/{account_id}`` (QBR preview), with downloads from /api/v1/reports.

The downloads are the API's file routes, which accept the page's session
cookie, so the page and the API enforce the same rules: the board slide for
leaders, admins and viewers; a QBR for any signed-in reader, a CSM only for
the accounts of their own book.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from helix.api.deps import PlatformDep, get_warehouse
from helix.api.problems import Problem
from helix.web.pages import _csrf, _signed_in, templates

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class ReportLink:
    """A report page listed on /reports (shown only when the app serves its path)."""

    label: str
    path: str
    description: str


# Other report pages: add one ReportLink per page here (the index hides a link
# whose path the app does not serve, so a page can be listed before it lands).
REPORT_LINKS: list[ReportLink] = [
    # -- executive reports (helix.web.exec pages) ------------------------------------------
    ReportLink("Maturity assessment", "/assessment",
               "Six dimensions, four imperatives and six pillars scored 1-10 over time, "
               "with Helix's evidence-based proposals."),
    ReportLink("Benchmarks", "/benchmarks",
               "NRR, GRR, expansion, CSM ratios, cost-to-serve and time-to-value against "
               "the quartiles, with the gap to the next quartile in dollars."),
    ReportLink("Business case", "/business-case",
               "Three-year value of retention, expansion and efficiency: NPV, ROI, payback."),
    ReportLink("Transformation roadmap", "/roadmap",
               "Foundation, scaling, advanced, innovation: live phase gates and quick wins."),
    ReportLink("Voice of the customer", "/voice",
               "NPS and CSAT with intervals, themes and closed-loop follow-up."),
]


def _served(request: Request) -> set[str]:
    from helix.api.routing import iter_routes

    return {path for path, _, _ in iter_routes(request.app.routes)}


@router.get("/reports", response_class=HTMLResponse)
def reports_page(
    request: Request,
    platform: PlatformDep,
    period: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    from helix.api.routes.reports import board_allowed
    from helix.portfolio import list_accounts
    from helix.predict.service import data_as_of
    from helix.reports.periods import recent_quarters

    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    accounts: list[dict[str, Any]] = []
    for wh in get_warehouse(platform):
        day = data_as_of(wh)
        if wh.has_table("account_summary"):
            accounts = list_accounts(wh, owner_email=who.book_owner, limit=1000).items
    quarters = [q.label for q in recent_quarters(day)]
    served = _served(request)
    return templates.TemplateResponse(
        request,
        "reports.html",
        {
            "who": who,
            "csrf": _csrf(request),
            "quarters": quarters,
            "period": period or (quarters[0] if quarters else ""),
            "can_board": board_allowed(who),
            "accounts": accounts,
            "links": [link for link in REPORT_LINKS if link.path in served],
            "as_of": day,
        },
    )


@router.get("/reports/board", response_class=HTMLResponse)
def board_page(
    request: Request,
    platform: PlatformDep,
    period: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    from helix.api.routes.reports import board_allowed
    from helix.errors import UserError
    from helix.predict.service import data_as_of
    from helix.reports.board import board_report
    from helix.reports.periods import last_complete_quarter, parse_quarter

    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    if not board_allowed(who):
        raise Problem(
            403, "Forbidden", "the board slide covers every book: leaders, admins and viewers"
        )
    doc, error = None, None
    for wh in get_warehouse(platform):
        try:
            quarter = parse_quarter(period) if period else last_complete_quarter(data_as_of(wh))
            doc = board_report(platform, quarter).to_dict()
        except UserError as exc:
            error = exc.for_people()
    return templates.TemplateResponse(
        request,
        "reports_board.html",
        {"who": who, "csrf": _csrf(request), "doc": doc, "error": error, "period": period or ""},
        status_code=200 if error is None else 400,
    )


@router.get("/reports/qbr/{account_id}", response_class=HTMLResponse)
def qbr_page(request: Request, platform: PlatformDep, account_id: str) -> Response:
    from helix.api.routes.reports import qbr_allowed
    from helix.reports.qbr_deck import qbr_report

    who = _signed_in(request, platform)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    for wh in get_warehouse(platform):
        if not qbr_allowed(wh, who, account_id):
            raise Problem(403, "Forbidden", f"account {account_id!r} is not in your book")
        doc = qbr_report(platform, account_id).to_dict()
    return templates.TemplateResponse(
        request, "reports_qbr.html", {"who": who, "csrf": _csrf(request), "doc": doc}
    )


@router.get("/reports/qbr", response_class=HTMLResponse)
def qbr_pick(
    request: Request,
    platform: PlatformDep,
    account_id: Annotated[str | None, Query(max_length=255)] = None,
) -> Response:
    """The index's account picker submits here; it redirects to the account's QBR page."""
    from urllib.parse import quote

    if _signed_in(request, platform) is None:
        return RedirectResponse("/login", status_code=303)
    if not account_id:
        return RedirectResponse("/reports", status_code=303)
    return RedirectResponse(f"/reports/qbr/{quote(account_id, safe='')}", status_code=303)
