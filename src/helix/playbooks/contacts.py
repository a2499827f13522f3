"""Customer communication preferences (seed 001, principle 4) and who may be emailed.

A contact is emailed only when they are current (no ``ended_at`` before today), have an
address, did not opt out, accept the email channel, and are under their frequency cap
(their own ``max_emails_per_week``, else the organisation's
``playbooks.max_emails_per_week``, default 3). Every email carries a signed one-click
unsubscribe link (``/unsubscribe/<token>``) that sets the opt-out.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helix.errors import UserError
from helix.platform import Platform
from helix.store.audit import record
from helix.store.models import ContactPreference, Delivery
from helix.store.settings import get_setting, set_setting
from helix.warehouse import Warehouse

DEFAULT_WEEKLY_CAP = 3
CHANNELS = ("email", "phone", "in_app")
_SECRET_KEY = "playbooks.unsubscribe_secret"


def get_preference(session: Session, contact_id: str) -> ContactPreference | None:
    """The stored preference of ``contact_id`` (None: the defaults apply)."""
    return session.get(ContactPreference, contact_id)


def set_preference(
    session: Session,
    contact_id: str,
    *,
    actor: str,
    email_opt_out: bool | None = None,
    channels: list[str] | None = None,
    max_emails_per_week: int | None = None,
    clear_cap: bool = False,
) -> ContactPreference:
    """Change a contact's preferences (only the fields given) and audit it."""
    if channels is not None:
        bad = sorted(set(channels) - set(CHANNELS))
        if bad:
            raise UserError(f"unknown channel {', '.join(bad)} (known: {', '.join(CHANNELS)})")
    if max_emails_per_week is not None and max_emails_per_week < 0:
        raise UserError("max_emails_per_week must be 0 or more")
    pref = session.get(ContactPreference, contact_id)
    if pref is None:
        pref = ContactPreference(contact_id=contact_id, email_opt_out=False, channels=["email"],
                                 updated_by=actor)
        session.add(pref)
    if email_opt_out is not None:
        pref.email_opt_out = email_opt_out
    if channels is not None:
        pref.channels = list(channels)
    if max_emails_per_week is not None or clear_cap:
        pref.max_emails_per_week = max_emails_per_week
    pref.updated_by = actor
    session.flush()
    record(session, actor=actor, action="contact.preferences", target_type="contact",
           target_id=contact_id, detail=pref.to_dict() | {"updated_at": None})
    return pref


def _serializer(session: Session) -> URLSafeSerializer:
    secret = get_setting(session, _SECRET_KEY)
    if not secret:
        secret = secrets.token_urlsafe(32)
        set_setting(session, _SECRET_KEY, secret, "system")
    return URLSafeSerializer(str(secret), salt="helix-unsubscribe")


def unsubscribe_token(session: Session, contact_id: str) -> str:
    """A signed token naming ``contact_id`` (the unsubscribe link's only credential)."""
    return str(_serializer(session).dumps(contact_id))


def unsubscribe_url(platform: Platform, contact_id: str) -> str:
    """The one-click unsubscribe link of ``contact_id`` (setting ``public_url`` is the base)."""
    with platform.store.session() as session:
        base = str(get_setting(session, "public_url") or "http://127.0.0.1:8000").rstrip("/")
        return f"{base}/unsubscribe/{unsubscribe_token(session, contact_id)}"


def token_contact(session: Session, token: str) -> str:
    """The contact an unsubscribe token names (UserError if it is forged or damaged)."""
    try:
        return str(_serializer(session).loads(token))
    except BadSignature:
        raise UserError("this unsubscribe link is not valid") from None


def unsubscribe(session: Session, token: str) -> str:
    """Opt the token's contact out of email; returns the contact id (UserError if forged)."""
    contact_id = token_contact(session, token)
    set_preference(session, str(contact_id), actor="unsubscribe-link", email_opt_out=True)
    return str(contact_id)


def reachable_contacts(
    wh: Warehouse,
    session: Session,
    account_id: str,
    roles: list[str],
    today: date,
    now: datetime,
    *,
    already: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The account's contacts with one of ``roles`` who may be emailed now, and counts of
    the others by reason (``opted_out``, ``channel``, ``capped``, ``no_email``)."""
    if not wh.has_table("contacts"):
        return [], {}
    t = wh.table("contacts")
    rows = t.filter(
        (t.account_id == account_id) & t.role.isin(roles)
        & (t.ended_at.isnull() | (t.ended_at > today))
    ).select("contact_id", "name", "email", "role").order_by("contact_id").to_pyarrow().to_pylist()
    default_cap = int(get_setting(session, "playbooks.max_emails_per_week", DEFAULT_WEEKLY_CAP))
    ids = [r["contact_id"] for r in rows]
    prefs = {p.contact_id: p for p in session.scalars(
        select(ContactPreference).where(ContactPreference.contact_id.in_(ids)))}
    week = now - timedelta(days=7)
    sent = dict(session.execute(
        select(Delivery.recipient, func.count()).where(
            Delivery.channel == "email", Delivery.status == "sent", Delivery.sent_at >= week,
            Delivery.recipient.in_(ids),
        ).group_by(Delivery.recipient)
    ).all())
    ok, skipped = [], {"opted_out": 0, "channel": 0, "capped": 0, "no_email": 0}
    for r in rows:
        if r["contact_id"] in already:
            continue
        pref = prefs.get(r["contact_id"])
        cap = pref.max_emails_per_week if pref and pref.max_emails_per_week is not None else (
            default_cap
        )
        reason = (
            "no_email" if not r["email"]
            else "opted_out" if pref and pref.email_opt_out
            else "channel" if pref and "email" not in (pref.channels or [])
            else "capped" if sent.get(r["contact_id"], 0) >= cap
            else None
        )
        if reason:
            skipped[reason] += 1
        else:
            ok.append(r)
    return ok, {k: v for k, v in skipped.items() if v}
