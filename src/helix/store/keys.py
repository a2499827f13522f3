"""API keys: created once, shown once, stored only as a hash.

A key looks like ``hx_<43 url-safe characters>`` (32 random bytes). The store
keeps its SHA-256 hash and a short prefix for listings; the plaintext is
returned by :func:`create_key` and never stored or logged.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from helix.errors import NotFoundError, UserError
from helix.store.audit import check_actor, record
from helix.store.models import ApiKey, Scope, utcnow

__all__ = [
    "KEY_PREFIX",
    "parse_scope",
    "hash_key",
    "create_key",
    "verify_key",
    "revoke_key",
    "get_key",
    "list_keys",
]

KEY_PREFIX = "hx_"
_RANDOM_BYTES = 32
_SHOWN_CHARS = len(KEY_PREFIX) + 8  # "hx_" plus 8 random characters, enough to tell keys apart
_LAST_USED_RESOLUTION = timedelta(minutes=1)  # avoid a write on every single request


def parse_scope(scope: str | Scope) -> Scope:
    """``scope`` as a :class:`Scope`; :class:`UserError` listing the valid scopes otherwise."""
    try:
        return Scope(str(scope).strip().lower())
    except ValueError:
        valid = ", ".join(s.value for s in Scope)
        raise UserError(f"unknown key scope {scope!r}", hint=f"use one of: {valid}") from None


def hash_key(plaintext: str) -> str:
    """The stored form of a key: hex SHA-256.

    A key carries 256 random bits, so it cannot be guessed or brute-forced from
    its hash; a slow password hash (Argon2) adds nothing here and would make
    every API request pay for it. A plain, indexed SHA-256 lookup is enough.
    """
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def create_key(
    session: Session, *, name: str, scope: str | Scope, actor: str
) -> tuple[ApiKey, str]:
    """Create a key; returns it and its plaintext, which is never available again."""
    label = (name or "").strip()
    if not label:
        raise UserError(
            "an API key needs a name", hint="say what uses it, e.g. --name nightly-sync"
        )
    if len(label) > 100:
        raise UserError("an API key name must have at most 100 characters")
    parsed = parse_scope(scope)
    plaintext = KEY_PREFIX + secrets.token_urlsafe(_RANDOM_BYTES)
    key = ApiKey(
        name=label,
        prefix=plaintext[:_SHOWN_CHARS],
        key_hash=hash_key(plaintext),
        scope=parsed,
        created_by=check_actor(actor),
    )
    session.add(key)
    session.flush()
    record(
        session,
        actor=actor,
        action="key.create",
        target_type="api_key",
        target_id=key.id,
        detail={"name": label, "scope": parsed.value, "prefix": key.prefix},
    )
    return key, plaintext


def verify_key(session: Session, plaintext: str) -> ApiKey | None:
    """The live key matching ``plaintext``, or ``None`` (unknown, malformed or revoked).

    Records the use in ``last_used_at`` (at most once a minute per key); this is
    bookkeeping, not an audited write.
    """
    if not plaintext or not plaintext.startswith(KEY_PREFIX) or len(plaintext) > 200:
        return None
    key = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(plaintext)))
    if key is None or key.revoked_at is not None:
        return None
    now = utcnow()
    if key.last_used_at is None or now - key.last_used_at >= _LAST_USED_RESOLUTION:
        key.last_used_at = now
    return key


def get_key(session: Session, key_id: int) -> ApiKey:
    """The key with ``key_id``; :class:`NotFoundError` if there is none."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFoundError(f"no API key with id {key_id}", hint="see `helix keys list`")
    return key


def revoke_key(session: Session, key_id: int, actor: str) -> ApiKey:
    """Revoke a key for good (revoking a revoked key changes nothing)."""
    key = get_key(session, key_id)
    if key.revoked_at is not None:
        return key
    key.revoked_at = utcnow()
    session.flush()
    record(
        session,
        actor=actor,
        action="key.revoke",
        target_type="api_key",
        target_id=key.id,
        detail={"name": key.name, "prefix": key.prefix},
    )
    return key


def list_keys(session: Session, *, include_revoked: bool = True) -> list[ApiKey]:
    """All keys, oldest first (revoked ones too unless ``include_revoked=False``)."""
    query = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(query))
