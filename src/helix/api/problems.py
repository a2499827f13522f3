"""RFC 9457 problem details: the one error shape of the API."""

from __future__ import annotations

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
