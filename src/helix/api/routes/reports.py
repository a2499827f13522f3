"""/api/v1/reports: the board slide and QBR decks, as JSON numbers or files.

* ``GET /reports/board?period=2025Q3``: the numbers placed on the board slide
  (the document of ``helix report board --json``); ``/reports/board.pptx`` and
  ``/reports/board.pdf`` the files. The board slide covers every book and names
  accounts across them: leaders, admins, viewers and API keys with read scope;
  a CSM gets 403.
* ``GET /reports/qbr/{account_id}``: an account's QBR facts and narrative;
  ``/reports/qbr/{account_id}.pptx`` (and ``.pdf``) the deck. Anyone who may
  read; a CSM only for the accounts of their own book (403 otherwise).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from helix.api.deps import PlatformDep, Principal, ReadAccess, WarehouseDep
from helix.api.problems import Problem
from helix.platform import Platform
from helix.reports.formats import plain
from helix.warehouse import Warehouse

router = APIRouter(tags=["reports"])

PPTX_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
PDF_TYPE = "application/pdf"

PeriodQuery = Annotated[str, Query(min_length=1, max_length=20, description="A quarter: 2025Q3.")]


def board_allowed(who: Principal) -> bool:
    """Who may see the board slide: everyone who may read, except a CSM (limited to a book)."""
    return who.can_read and who.book_owner is None


def _board_check(who: Principal) -> None:
    if not board_allowed(who):
        raise Problem(
            403, "Forbidden", "the board slide covers every book: leaders, admins and viewers"
        )


def qbr_allowed(wh: Warehouse, who: Principal, account_id: str) -> bool:
    """A CSM may prepare the QBR of an account of their own book; other readers of any."""
    from helix.predict.expansion import account_visible

    if who.book_owner is None:
        return True
    return account_visible(wh, account_id, who.book_owner)


def _qbr_check(wh: Warehouse, who: Principal, account_id: str) -> None:
    if not qbr_allowed(wh, who, account_id):
        raise Problem(403, "Forbidden", f"account {account_id!r} is not in your book")


def _file(content: bytes, media_type: str, filename: str) -> Response:
    filename = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _board(platform: Platform, period: str) -> Any:
    from helix.reports.board import board_report
    from helix.reports.periods import parse_quarter

    return board_report(platform, parse_quarter(period))


@router.get("/reports/board", summary="The numbers on the board slide of a quarter")
def board_route(
    platform: PlatformDep, wh: WarehouseDep, who: ReadAccess, period: PeriodQuery
) -> dict[str, Any]:
    _board_check(who)
    return plain(_board(platform, period).to_dict())  # type: ignore[no-any-return]


@router.get("/reports/board.pptx", summary="The board slide and its appendix as PowerPoint")
def board_pptx_route(
    platform: PlatformDep, wh: WarehouseDep, who: ReadAccess, period: PeriodQuery
) -> Response:
    from helix.reports.board_deck import board_deck
    from helix.reports.slides import pptx_bytes

    _board_check(who)
    report = _board(platform, period)
    return _file(pptx_bytes(board_deck(report)), PPTX_TYPE, f"board-{report.period.label}.pptx")


@router.get("/reports/board.pdf", summary="The board slide and its appendix as PDF")
def board_pdf_route(
    platform: PlatformDep, wh: WarehouseDep, who: ReadAccess, period: PeriodQuery
) -> Response:
    from helix.reports.board_deck import board_deck
    from helix.reports.pdf import pdf_bytes

    _board_check(who)
    report = _board(platform, period)
    return _file(pdf_bytes(board_deck(report)), PDF_TYPE, f"board-{report.period.label}.pdf")


def _qbr(platform: Platform, wh: Warehouse, who: Principal, account_id: str) -> Any:
    from helix.reports.qbr_deck import qbr_report

    _qbr_check(wh, who, account_id)
    return qbr_report(platform, account_id)


# The file routes come first: "{account_id}" would also match "A1.pptx".
@router.get("/reports/qbr/{account_id}.pptx", summary="An account's QBR deck as PowerPoint")
def qbr_pptx_route(
    account_id: str, platform: PlatformDep, wh: WarehouseDep, who: ReadAccess
) -> Response:
    from helix.reports.qbr_deck import qbr_deck
    from helix.reports.slides import pptx_bytes

    report = _qbr(platform, wh, who, account_id)
    return _file(pptx_bytes(qbr_deck(report)), PPTX_TYPE, f"qbr-{account_id}.pptx")


@router.get("/reports/qbr/{account_id}.pdf", summary="An account's QBR deck as PDF")
def qbr_pdf_route(
    account_id: str, platform: PlatformDep, wh: WarehouseDep, who: ReadAccess
) -> Response:
    from helix.reports.pdf import pdf_bytes
    from helix.reports.qbr_deck import qbr_deck

    report = _qbr(platform, wh, who, account_id)
    return _file(pdf_bytes(qbr_deck(report)), PDF_TYPE, f"qbr-{account_id}.pdf")


@router.get("/reports/qbr/{account_id}", summary="An account's QBR facts and narrative")
def qbr_route(
    account_id: str, platform: PlatformDep, wh: WarehouseDep, who: ReadAccess
) -> dict[str, Any]:
    return plain(_qbr(platform, wh, who, account_id).to_dict())  # type: ignore[no-any-return]
