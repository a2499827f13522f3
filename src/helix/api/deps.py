"""Request dependencies: the platform, the warehouse, and who is asking.

Every route depends on one of the access aliases below, so nothing is reachable
without authentication. Machines send ``Authorization: Bearer <api key>``;
people use the session cookie set by the login page.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from helix.api.lease import WAREHOUSE_LOCK, lease_of
from helix.api.problems import Problem
from helix.platform import Platform
from helix.store import Role, Scope, get_user_by_email, verify_key
from helix.warehouse import Warehouse

SESSION_USER = "user_email"


def get_platform(request: Request) -> Platform:
    platform = request.app.state.platform
    assert isinstance(platform, Platform)
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]

_WAREHOUSE_LOCK = WAREHOUSE_LOCK  # the name the live service and the scheduler import


def get_warehouse(platform: PlatformDep) -> Iterator[Warehouse]:
    """The warehouse, used by one request at a time (an embedded DuckDB connection is not
    safe to share between threads), and let go of between bursts of requests or when
    another process waits for it (:mod:`helix.api.lease`), so that `helix import` and
    `helix run` can write while the app is serving."""
    with lease_of(platform).use() as wh:
        yield wh


def read_warehouse(platform: Platform) -> Iterator[Warehouse]:
    """The warehouse for a page that reads only through ``Warehouse.query`` /
    ``Warehouse.run``: such requests share it, each on its own cursor."""
    with lease_of(platform).read() as wh:
        yield wh


WarehouseDep = Annotated[Warehouse, Depends(get_warehouse)]


@dataclass(frozen=True)
class Principal:
    """The authenticated caller: a user (by session) or an API key."""

    kind: str  # "user" or "key"
    name: str  # email, or "key:<id>"
    role: Role | None = None
    scope: Scope | None = None

    @property
    def can_read(self) -> bool:
        if self.kind == "user":
            return self.role is not None
        return self.scope in (Scope.READ, Scope.WRITE, Scope.ADMIN)

    @property
    def can_write(self) -> bool:
        if self.kind == "user":
            return self.role in (Role.ADMIN, Role.LEADER, Role.CSM)
        return self.scope in (Scope.WRITE, Scope.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN if self.kind == "user" else self.scope == Scope.ADMIN

    @property
    def book_owner(self) -> str | None:
        """The email whose book this caller is limited to (CSMs), or None for all accounts."""
        return self.name if self.kind == "user" and self.role == Role.CSM else None


def _from_api_key(platform: Platform, header: str) -> Principal | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    with platform.store.session() as session:
        key = verify_key(session, token.strip())
        if key is None:
            return None
        return Principal(kind="key", name=f"key:{key.id}", scope=Scope(key.scope))


def _from_session(platform: Platform, request: Request) -> Principal | None:
    email = request.session.get(SESSION_USER) if "session" in request.scope else None
    if not email:
        return None
    with platform.store.session() as session:
        user = get_user_by_email(session, email)
        if user is None or not user.is_active:
            return None
        return Principal(kind="user", name=user.email, role=Role(user.role))


def current_principal(request: Request, platform: PlatformDep) -> Principal:
    """The caller, or a 401 problem when there is no valid key or session."""
    header = request.headers.get("authorization")
    principal = _from_api_key(platform, header) if header else _from_session(platform, request)
    if principal is None:
        raise Problem(401, "Not authenticated", "send a valid API key as 'Authorization: Bearer <key>' or log in")
    return principal


def require_read(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.can_read:
        raise Problem(403, "Forbidden", "this credential may not read data")
    return principal


def require_write(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.can_write:
        raise Problem(403, "Forbidden", "this credential may not change data")
    return principal


def require_admin(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.is_admin:
        raise Problem(403, "Forbidden", "only admins may do this")
    return principal


ReadAccess = Annotated[Principal, Depends(require_read)]
WriteAccess = Annotated[Principal, Depends(require_write)]
AdminAccess = Annotated[Principal, Depends(require_admin)]
