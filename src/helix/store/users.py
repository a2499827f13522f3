"""People who use Helix: creation, roles, password sign-in.

Passwords are hashed with Argon2id (argon2-cffi); the hash is upgraded on the
next successful sign-in whenever the hashing parameters change.
"""

from __future__ import annotations

import re
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from helix.errors import NotFoundError, UserError
from helix.store.audit import record
from helix.store.models import EMAIL_LENGTH, AccountAssignment, Role, User

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "normalize_email",
    "parse_role",
    "create_user",
    "authenticate",
    "get_user_by_email",
    "list_users",
    "set_role",
    "deactivate_user",
]

MIN_PASSWORD_LENGTH = 8
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_hasher = PasswordHasher()


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash to verify against when the user does not exist (same work, no timing leak)."""
    return _hasher.hash("helix-no-such-user-password")


def normalize_email(email: str) -> str:
    """Lower-cased, trimmed ``email``; :class:`UserError` if it is not a plausible address."""
    value = (email or "").strip().lower()
    if not value or len(value) > EMAIL_LENGTH or not _EMAIL.match(value):
        raise UserError(
            f"not a valid email address: {email!r}", hint="use the form name@example.com"
        )
    return value


def parse_role(role: str | Role) -> Role:
    """``role`` as a :class:`Role`; :class:`UserError` listing the valid roles otherwise."""
    try:
        return Role(str(role).strip().lower())
    except ValueError:
        valid = ", ".join(r.value for r in Role)
        raise UserError(f"unknown role {role!r}", hint=f"use one of: {valid}") from None


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def get_user_by_email(session: Session, email: str) -> User | None:
    """The user with ``email`` (any case), or ``None``."""
    value = (email or "").strip().lower()
    return session.scalar(select(User).where(User.email == value))


def _require_user(session: Session, email: str) -> User:
    user = get_user_by_email(session, email)
    if user is None:
        raise NotFoundError(f"no user with email {email!r}", hint="see `helix users list`")
    return user


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    role: str | Role,
    password: str | None = None,
    actor: str,
) -> User:
    """Create a user (email stored lower-cased); :class:`UserError` if the email is taken.

    Without ``password`` the user cannot sign in with a password until one is set.
    Account assignments already made to this email are linked to the new user.
    """
    address = normalize_email(email)
    parsed_role = parse_role(role)
    if password is not None:
        _check_password(password)
    if get_user_by_email(session, address) is not None:
        raise UserError(f"a user with email {address} already exists")
    user = User(
        email=address,
        name=(name or "").strip(),
        role=parsed_role,
        password_hash=_hasher.hash(password) if password is not None else None,
        is_active=True,
    )
    session.add(user)
    session.flush()
    session.execute(
        update(AccountAssignment)
        .where(AccountAssignment.owner_email == address)
        .values(user_id=user.id)
    )
    record(
        session,
        actor=actor,
        action="user.create",
        target_type="user",
        target_id=user.id,
        detail={"email": address, "role": parsed_role.value, "has_password": password is not None},
    )
    return user


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user whose ``email`` and ``password`` match, else ``None``.

    Does one Argon2 verification whether or not the user exists, and rehashes the
    stored hash (in the caller's transaction) when its parameters are outdated.
    """
    user = get_user_by_email(session, email)
    stored = user.password_hash if user is not None else None
    try:
        _hasher.verify(stored or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or stored is None or not user.is_active:
        return None
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return user


def list_users(session: Session, *, include_inactive: bool = True) -> list[User]:
    """All users ordered by email (inactive ones too unless ``include_inactive=False``)."""
    query = select(User).order_by(User.email)
    if not include_inactive:
        query = query.where(User.is_active.is_(True))
    return list(session.scalars(query))


def _ensure_other_admin(session: Session, user: User, doing: str) -> None:
    """Refuse to leave Helix without an active admin."""
    if user.role != Role.ADMIN or not user.is_active:
        return
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN, User.is_active.is_(True), User.id != user.id)
    )
    if not others:
        raise UserError(
            f"cannot {doing} {user.email}: it is the last active admin",
            hint="make another user admin first",
        )


def set_role(session: Session, email: str, role: str | Role, actor: str) -> User:
    """Change a user's role; :class:`NotFoundError` if there is no such user."""
    new_role = parse_role(role)
    user = _require_user(session, email)
    old_role = user.role
    if old_role == new_role:
        return user
    if new_role != Role.ADMIN:
        _ensure_other_admin(session, user, "demote")
    user.role = new_role
    session.flush()
    record(
        session,
        actor=actor,
        action="user.set_role",
        target_type="user",
        target_id=user.id,
        detail={"email": user.email, "from": str(old_role), "to": new_role.value},
    )
    return user


def deactivate_user(session: Session, email: str, actor: str) -> User:
    """Stop a user from signing in (kept for history); :class:`NotFoundError` if unknown."""
    user = _require_user(session, email)
    if not user.is_active:
        return user
    _ensure_other_admin(session, user, "deactivate")
    user.is_active = False
    session.flush()
    record(
        session,
        actor=actor,
        action="user.deactivate",
        target_type="user",
        target_id=user.id,
        detail={"email": user.email},
    )
    return user
