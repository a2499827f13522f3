"""Segment's HTTP Tracking API, served by Helix.

``POST /v1/track``, ``/v1/identify``, ``/v1/group``, ``/v1/page``, ``/v1/screen``,
``/v1/alias`` and ``/v1/batch``.

Point any Segment library or source at Helix (its ``host`` setting) with a
Helix API key of scope ``ingest`` as the write key. The key is read the ways
Segment clients send it: HTTP basic auth with the key as user name, the
``writeKey`` body field, or ``Authorization: Bearer <key>``.

A 200 means the messages are on disk in the spool (fsynced); the warehouse
gets them from the background flush. Errors are problem+json documents that
also carry Segment's ``code`` and ``message`` fields, which its clients log.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from helix.api.problems import Problem
from helix.ingest.live.segment import (
    MAX_BATCH_BYTES,
    PayloadError,
    check_request,
    decode_body,
)
from helix.ingest.live.service import lifespan, live_service
from helix.store import Scope, verify_key

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["live ingestion"], lifespan=lifespan)

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "A Segment message (Segment HTTP Tracking API spec).",
                    "additionalProperties": True,
                }
            }
        },
    }
}
_BATCH_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["batch"],
                    "properties": {"batch": {"type": "array", "items": {"type": "object"}}},
                    "additionalProperties": True,
                }
            }
        },
    }
}


def _problem(status: int, title: str, detail: str, code: str, **extra: object) -> Problem:
    return Problem(status, title, detail, code=code, message=detail, **extra)


def _header_key(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, credential = header.partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer":
        return credential or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credential, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, password = decoded.partition(":")
        return user or password or None  # Segment sends "<key>:"; some tools send ":<key>"
    return None


def _check_key(request: Request, key: str | None) -> None:
    if not key:
        raise _problem(
            401,
            "Not authenticated",
            "send a Helix API key of scope 'ingest' as the Segment write key (HTTP basic user"
            " name) or as 'Authorization: Bearer <key>'",
            "unauthorized",
        )
    platform = request.app.state.platform
    with platform.store.session() as session:
        found = verify_key(session, key)
        scope = None if found is None else Scope(found.scope)
    if scope is None:
        raise _problem(
            401, "Not authenticated", "the write key is unknown or revoked", "unauthorized"
        )
    if scope != Scope.INGEST:
        raise _problem(
            403,
            "Forbidden",
            f"this key has scope {scope.value!r}; the tracking API takes keys of scope 'ingest'"
            " (helix keys create --name segment --scope ingest)",
            "forbidden",
        )


async def _body(request: Request) -> bytes:
    """The raw body, refused as soon as it passes Segment's 500 KB limit."""
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BATCH_BYTES:
        raise _problem(
            413,
            "Too large",
            "the request is larger than 500 KB; send smaller batches",
            "too_large",
            field="body",
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BATCH_BYTES:
            raise _problem(
                413,
                "Too large",
                "the request is larger than 500 KB; send smaller batches",
                "too_large",
                field="body",
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _accept(
    request: Request, raw: bytes, kind: str | None, header_key: str | None
) -> dict[str, Any]:
    """Check the request, authenticate it, and spool it (blocking: run in a worker thread)."""
    service = live_service(request.app)
    if header_key is not None:
        _check_key(request, header_key)
    try:
        checked = check_request(decode_body(raw, request.headers.get("content-encoding")), kind)
    except PayloadError as exc:
        if header_key is None:  # no credential: say that first, not what is wrong with the body
            _check_key(request, None)
        title = {413: "Too large", 415: "Unsupported encoding"}.get(exc.status, "Invalid payload")
        raise _problem(
            exc.status, title, f"{exc.field}: {exc.message}", "invalid_request", field=exc.field
        ) from None
    if header_key is None:
        _check_key(request, checked.write_key)
    config = service.config
    backlog = service.spool.backlog()
    if backlog >= config.max_backlog:
        service.flusher.wake()
        retry = max(1, round(config.flush_interval_s * 2))
        raise _problem(
            503,
            "Backlog full",
            f"{backlog:,} messages are waiting to be flushed (limit live.max_backlog ="
            f" {config.max_backlog:,}); retry after {retry} s",
            "backlog_full",
            retry_after=retry,
        )
    accepted, duplicates = service.spool.append("segment", checked.rows)
    if backlog + accepted >= config.flush_batch:
        service.flusher.wake()
    return {"success": True, "accepted": accepted, "duplicates": duplicates}


async def _handle(request: Request, kind: str | None) -> JSONResponse:
    header_key = _header_key(request)
    if header_key is None and request.headers.get("authorization"):
        raise _problem(
            401,
            "Not authenticated",
            "the Authorization header is not Basic or Bearer",
            "unauthorized",
        )
    raw = await _body(request)
    try:
        result = await run_in_threadpool(_accept, request, raw, kind, header_key)
    except Problem as exc:
        if exc.status == 503:
            retry = str(exc.extra.get("retry_after", 5))
            body = {
                "type": "about:blank",
                "title": exc.title,
                "status": 503,
                "detail": exc.detail,
                **exc.extra,
            }
            return JSONResponse(
                body,
                status_code=503,
                media_type="application/problem+json",
                headers={"Retry-After": retry},
            )
        raise
    return JSONResponse(result)


@router.post("/track", summary="Record what a user did (Segment track)", openapi_extra=_BODY_DOC)
async def track(request: Request) -> JSONResponse:
    return await _handle(request, "track")


@router.post("/identify", summary="Say who a user is (Segment identify)", openapi_extra=_BODY_DOC)
async def identify(request: Request) -> JSONResponse:
    return await _handle(request, "identify")


@router.post("/group", summary="Tie a user to an account (Segment group)", openapi_extra=_BODY_DOC)
async def group(request: Request) -> JSONResponse:
    return await _handle(request, "group")


@router.post("/page", summary="Record a page view (Segment page)", openapi_extra=_BODY_DOC)
async def page(request: Request) -> JSONResponse:
    return await _handle(request, "page")


@router.post("/screen", summary="Record a screen view (Segment screen)", openapi_extra=_BODY_DOC)
async def screen(request: Request) -> JSONResponse:
    return await _handle(request, "screen")


@router.post("/alias", summary="Merge two user ids (Segment alias)", openapi_extra=_BODY_DOC)
async def alias(request: Request) -> JSONResponse:
    return await _handle(request, "alias")


@router.post(
    "/batch", summary="Send many messages at once (Segment batch)", openapi_extra=_BATCH_DOC
)
async def batch(request: Request) -> JSONResponse:
    return await _handle(request, None)
