"""Segment's tracking API payloads: read, checked, and turned into spool messages.

The format is Segment's HTTP Tracking API spec (track, identify, group, page,
screen, alias, and batch with ``batch: [...]``). A request is checked as a whole
before anything is spooled: one bad message rejects its batch with a problem
naming the field (``batch[3].event``), so a client never has half a batch
accepted. Limits are Segment's: 500 KB per request, 32 KB per message.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = [
    "KINDS",
    "EVENT_KINDS",
    "MAX_BATCH_BYTES",
    "MAX_MESSAGE_BYTES",
    "PayloadError",
    "Checked",
    "decode_body",
    "check_request",
    "parse_time",
    "event_fields",
]

MAX_BATCH_BYTES = 500 * 1024
MAX_MESSAGE_BYTES = 32 * 1024
KINDS = ("track", "identify", "group", "page", "screen", "alias")
EVENT_KINDS = ("track", "page", "screen")  # the calls that are events
_MAX_ID = 255  # ids are account ids, user ids and message ids: keep them sane
_MAX_EVENT = 200


class PayloadError(ValueError):
    """A request Helix cannot accept: ``field`` says where, ``status`` which HTTP answer."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.status = field, message, status


@dataclass(frozen=True)
class Checked:
    """A checked request: spool rows (:data:`helix.ingest.live.spool.SpoolRow`) and the
    write key given in the body, if any."""

    rows: list[tuple[Any, ...]]
    write_key: str | None


def decode_body(raw: bytes, encoding: str | None) -> bytes:
    """The request body, un-gzipped when ``Content-Encoding`` says so, within the limit."""
    enc = (encoding or "identity").strip().lower()
    if enc in ("", "identity"):
        return raw
    if enc not in ("gzip", "deflate"):
        raise PayloadError(
            "Content-Encoding", f"unsupported encoding {enc!r}; send gzip or none", 415
        )
    try:
        if enc == "gzip":
            # read at most one byte past the limit: a small bomb cannot blow up memory
            with gzip.GzipFile(fileobj=_Reader(raw)) as fh:
                data = fh.read(MAX_BATCH_BYTES + 1)
        else:
            data = zlib.decompressobj().decompress(raw, MAX_BATCH_BYTES + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise PayloadError("body", f"not valid {enc} data ({exc})") from None
    if len(data) > MAX_BATCH_BYTES:
        raise PayloadError(
            "body", "larger than 500 KB once decompressed; send smaller batches", 413
        )
    return data


class _Reader:
    """A minimal file object over bytes (GzipFile wants ``read``)."""

    def __init__(self, data: bytes) -> None:
        self._data, self._pos = data, 0

    def read(self, n: int = -1) -> bytes:
        end = len(self._data) if n is None or n < 0 else self._pos + n
        chunk = self._data[self._pos : end]
        self._pos += len(chunk)
        return chunk


def parse_time(value: Any, field: str) -> datetime:
    """An ISO-8601 timestamp as naive UTC (a value without a zone is UTC)."""
    if not isinstance(value, str) or not value:
        raise PayloadError(field, "must be an ISO-8601 timestamp string, e.g. 2024-05-01T12:00:00Z")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PayloadError(field, f"{value[:40]!r} is not an ISO-8601 timestamp") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _id(value: Any, field: str) -> str | None:
    """A Segment id: a string or a number (clients send both), as a string."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PayloadError(field, "must be a string")
    text = value if isinstance(value, str) else str(value)
    if not text.strip():
        raise PayloadError(field, "must not be empty")
    if len(text) > _MAX_ID:
        raise PayloadError(field, f"longer than {_MAX_ID} characters")
    return text


def _obj(msg: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = msg.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PayloadError(f"{where}{key}", "must be an object")
    return value


def _derived_message_id(msg: dict[str, Any]) -> str:
    """A message id for a message sent without one: a hash of what it says, so that
    the same message sent again is still recognised (``sentAt`` aside)."""
    body = {k: v for k, v in msg.items() if k not in ("sentAt", "writeKey", "receivedAt")}
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return f"helix-{digest[:40]}"


def _check_message(
    msg: Any,
    kind: str | None,
    where: str,
    received: datetime,
    received_iso: str,
    sent_at: datetime | None,
    defaults: dict[str, Any],
) -> tuple[Any, ...]:
    if not isinstance(msg, dict):
        raise PayloadError(where.rstrip(".") or "body", "must be a JSON object")
    for key, value in defaults.items():  # a batch's shared context and integrations
        msg.setdefault(key, value)
    mtype = msg.get("type", kind)
    if kind is not None and mtype != kind:
        raise PayloadError(f"{where}type", f"is {mtype!r}, but this is the /v1/{kind} endpoint")
    if mtype not in KINDS:
        raise PayloadError(f"{where}type", f"must be one of {', '.join(KINDS)} (got {mtype!r})")
    msg["type"] = mtype
    user_id = _id(msg.get("userId"), f"{where}userId")
    anonymous_id = _id(msg.get("anonymousId"), f"{where}anonymousId")
    if mtype != "alias" and user_id is None and anonymous_id is None:
        raise PayloadError(f"{where}userId", "a message needs a userId or an anonymousId")
    context = _obj(msg, "context", where)
    for key in ("properties", "traits", "integrations"):
        _obj(msg, key, where)
    if mtype == "track":
        event = msg.get("event")
        if not isinstance(event, str) or not event.strip():
            raise PayloadError(f"{where}event", "a track call needs the event name (a string)")
        if len(event) > _MAX_EVENT:
            raise PayloadError(f"{where}event", f"longer than {_MAX_EVENT} characters")
    if mtype == "group" and _id(msg.get("groupId"), f"{where}groupId") is None:
        raise PayloadError(f"{where}groupId", "a group call needs the groupId of the account")
    if mtype == "alias":
        if _id(msg.get("previousId"), f"{where}previousId") is None:
            raise PayloadError(f"{where}previousId", "an alias call needs the previousId")
        if user_id is None:
            raise PayloadError(f"{where}userId", "an alias call needs the userId")
    _id(context.get("groupId"), f"{where}context.groupId")
    # When the event happened: `timestamp` as given; else the client's
    # originalTimestamp corrected for its clock by sentAt (Segment's rule); else now.
    if msg.get("timestamp") is not None:
        when = parse_time(msg["timestamp"], f"{where}timestamp")
    elif msg.get("originalTimestamp") is not None:
        original = parse_time(msg["originalTimestamp"], f"{where}originalTimestamp")
        sent = parse_time(msg["sentAt"], f"{where}sentAt") if msg.get("sentAt") else sent_at
        when = received - (sent - original) if sent is not None else original
    else:
        when = received
    if when > received + timedelta(days=1):
        raise PayloadError(f"{where}timestamp", "is more than a day in the future; check the clock")
    message_id = _id(msg.get("messageId"), f"{where}messageId") or _derived_message_id(msg)
    msg["messageId"] = message_id
    msg["timestamp"] = when.isoformat()
    msg["receivedAt"] = received_iso
    msg.pop("writeKey", None)
    payload = json.dumps(msg, separators=(",", ":"), ensure_ascii=False, default=str)
    if len(payload.encode("utf-8")) > MAX_MESSAGE_BYTES:
        raise PayloadError(
            where.rstrip(".") or "body", "larger than 32 KB; send less per message", 413
        )
    group = msg.get("groupId") if mtype == "group" else context.get("groupId")
    event_type, value = (None, None)
    if mtype in EVENT_KINDS:
        fields = event_fields(msg)
        event_type, value = fields["event_type"], fields["value"]
    return (
        message_id,
        mtype,
        payload,
        user_id,
        anonymous_id,
        None if group is None else str(group),
        event_type,
        msg["timestamp"],
        value,
    )


def check_request(body: bytes, kind: str | None, *, received: datetime | None = None) -> Checked:
    """Check a tracking request (``kind`` is the endpoint's call type, ``None`` for batch).

    Raises :class:`PayloadError` naming the first bad field; nothing of a bad
    request is kept.
    """
    if len(body) > MAX_BATCH_BYTES:
        raise PayloadError("body", "larger than 500 KB; send smaller batches", 413)
    received = received or datetime.now(UTC).replace(tzinfo=None)
    received_iso = received.isoformat()
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PayloadError("body", f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PayloadError("body", "must be a JSON object")
    write_key = data.get("writeKey") if isinstance(data.get("writeKey"), str) else None
    sent_at = parse_time(data["sentAt"], "sentAt") if data.get("sentAt") else None
    if kind is not None:
        return Checked(
            [_check_message(data, kind, "", received, received_iso, sent_at, {})], write_key
        )
    batch = data.get("batch")
    if not isinstance(batch, list):
        raise PayloadError("batch", "a batch request needs `batch`, a list of messages")
    if not batch:
        raise PayloadError("batch", "is empty")
    defaults = {k: data[k] for k in ("context", "integrations") if isinstance(data.get(k), dict)}
    rows = [
        _check_message(m, None, f"batch[{i}].", received, received_iso, sent_at, defaults)
        for i, m in enumerate(batch)
    ]
    return Checked(rows, write_key)


def event_fields(msg: dict[str, Any]) -> dict[str, Any]:
    """What a track, page or screen message says as an ``events`` row (no account yet)."""
    props = msg.get("properties") or {}
    if msg["type"] == "track":
        event_type = msg["event"]
    else:  # page and screen calls: the call type, with the page's name when it has one
        name = msg.get("name") or props.get("name")
        event_type = f"{msg['type']}:{name}" if isinstance(name, str) and name else msg["type"]
    value = None
    for key in ("value", "revenue"):
        v = props.get(key)
        if isinstance(v, int | float) and not isinstance(v, bool):
            value = float(v)
            break
    return {
        "event_time": datetime.fromisoformat(msg["timestamp"]),
        "event_type": event_type[:_MAX_EVENT],
        "user_id": _text(msg.get("userId")) or _text(msg.get("anonymousId")),
        "value": value,
        "event_id": msg["messageId"],
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
