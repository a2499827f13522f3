"""RFC 9457 problem details: the one error shape of the API."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from helix.errors import HelixError, NotFoundError, PermissionDenied, UserError, WarehouseBusy

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An HTTP error rendered as ``application/problem+json``."""

    def __init__(self, status: int, title: str, detail: str = "", **extra: object) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


def _response(status: int, title: str, detail: str, **extra: object) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def install(app: FastAPI) -> None:
    """Render Problems, Helix errors and validation errors as problem+json."""

    @app.exception_handler(Problem)
    async def _problem(_: Request, exc: Problem) -> JSONResponse:
        return _response(exc.status, exc.title, exc.detail, **exc.extra)

    @app.exception_handler(HelixError)
    async def _helix(_: Request, exc: HelixError) -> JSONResponse:
        if isinstance(exc, WarehouseBusy):
            return _response(503, "Warehouse busy", exc.for_people())
        if isinstance(exc, NotFoundError):
            return _response(404, "Not found", exc.for_people())
        if isinstance(exc, PermissionDenied):
            return _response(403, "Forbidden", exc.for_people())
        if isinstance(exc, UserError):
            return _response(400, "Bad request", exc.for_people())
        return _response(500, "Internal error", "an internal error occurred")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return _response(422, "Invalid request", "the request does not match the API", errors=errors)


# Dates a query may name. Metrics walk every month (or day) up to the dates they are
# given, so a date in year 9999 would be a request for centuries of work.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_YEARS_AHEAD = 10
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def out_of_range_dates(query: Iterable[tuple[str, str]], today: date) -> list[str]:
    """The query parameters holding a date outside the range the API accepts."""
    latest = today.replace(year=today.year + LATEST_YEARS_AHEAD, day=min(today.day, 28))
    bad = []
    for name, value in query:
        m = _DAY.match(value)
        if m is None:
            continue
        try:
            day = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            continue  # not a date: the route's own validation says so
        if not EARLIEST_DATE <= day <= latest:
            bad.append(name)
    return bad


# Numbers a request may carry: ids fit a signed 64-bit column, and amounts of money
# stay below a quadrillion, beyond which exact decimal arithmetic gives up.
LARGEST_NUMBER = 1e15
_ID_SEGMENT = re.compile(r"^\d{19,}$")


def out_of_range_numbers(query: Iterable[tuple[str, str]], path: str) -> list[str]:
    """The query parameters (by name) and path segments holding a number too large."""
    bad = []
    for name, value in query:
        try:
            number = float(value)
        except ValueError:
            continue
        if not abs(number) < LARGEST_NUMBER:  # also NaN and infinities
            bad.append(name)
    bad += [f"path segment {seg}" for seg in path.split("/") if _ID_SEGMENT.match(seg)]
    return bad


def install_input_bounds(app: FastAPI) -> None:
    """Refuse (422) any query date before 1970 or more than ten years ahead, and any
    number beyond what the stores and the money arithmetic hold, naming the parameter."""

    @app.middleware("http")
    async def _bounded_inputs(request: Request, call_next: Any) -> Any:
        query = request.query_params.multi_items()
        dates = out_of_range_dates(query, date.today())
        if dates:
            return _response(
                422, "Invalid request",
                f"{', '.join(sorted(set(dates)))}: give a date from {EARLIEST_DATE} to "
                f"{LATEST_YEARS_AHEAD} years from today",
            )
        numbers = out_of_range_numbers(query, request.url.path)
        if numbers:
            return _response(
                422, "Invalid request",
                f"{', '.join(sorted(set(numbers)))}: give a number below {LARGEST_NUMBER:,.0f}",
            )
        return await call_next(request)
