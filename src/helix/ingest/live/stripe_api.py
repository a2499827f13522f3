"""``POST /webhooks/stripe``: Stripe's subscription and failed-payment events.

Configure the endpoint in Stripe (Developers > Webhooks) for
``customer.subscription.created``, ``customer.subscription.updated``,
``customer.subscription.deleted`` and ``invoice.payment_failed``, and store its
signing secret: ``helix settings set stripe_webhook_secret '"whsec_..."'`` (a
list of secrets is accepted while rolling one). Only a request whose
``Stripe-Signature`` verifies, with a timestamp within five minutes, is read.

A verified event is spooled durably before the 2xx, once per event id (a
resend answers 200 with ``duplicate: true``), and flushed into
``subscriptions`` / ``payments`` like live tracking messages.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from helix.api.problems import Problem
from helix.ingest.live import stripe_events as se
from helix.ingest.live.service import live_service
from helix.store.settings import get_setting

__all__ = ["router", "SECRET_SETTING"]

SECRET_SETTING = "stripe_webhook_secret"
MAX_BODY_BYTES = 1024 * 1024  # Stripe events are a few KB; a subscription with many items more

router = APIRouter(tags=["live ingestion"])


def _secrets(request: Request) -> list[str]:
    platform = request.app.state.platform
    with platform.store.session() as session:
        value = get_setting(session, SECRET_SETTING)
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str) and v]


def _receive(request: Request, body: bytes, header: str) -> dict[str, Any]:
    secrets = _secrets(request)
    if not secrets:
        # a 5xx, so that Stripe keeps retrying the event until the secret is set
        raise Problem(
            503,
            "Not configured",
            f"no Stripe signing secret is set: helix settings set {SECRET_SETTING} '\"whsec_...\"'",
        )
    try:
        se.verify_signature(body, header, secrets)
    except se.SignatureError as exc:
        raise Problem(401, "Bad signature", str(exc)) from None
    try:
        event = se.check_event(body)
    except ValueError as exc:
        field = str(exc).split(":", 1)[0]
        raise Problem(400, "Invalid event", str(exc), field=field) from None
    if event["type"] not in se.HANDLED:
        return {
            "received": True,
            "ignored": True,
            "reason": f"Helix does not use {event['type']} events",
        }
    service = live_service(request.app)
    accepted, _ = service.spool.append(
        "stripe", [(event["id"], event["type"], body.decode("utf-8"))]
    )
    return {"received": True, "duplicate": not accepted}


@router.post(
    "/webhooks/stripe",
    summary="Stripe webhook: subscription changes and failed payments",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"type": "object", "additionalProperties": True}}
            },
        }
    },
)
async def stripe_webhook(request: Request) -> JSONResponse:
    header = request.headers.get("stripe-signature")
    if not header:
        raise Problem(
            401, "Not authenticated", "a Stripe webhook needs its Stripe-Signature header"
        )
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise Problem(413, "Too large", "a Stripe event is at most 1 MB here")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise Problem(413, "Too large", "a Stripe event is at most 1 MB here")
    return JSONResponse(await run_in_threadpool(_receive, request, body, header))
