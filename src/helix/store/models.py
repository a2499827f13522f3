"""The app store's tables as typed SQLAlchemy 2 declarative models.

Conventions:

* Timestamps are naive UTC (``utcnow()``), the same convention as the warehouse,
  so SQLite and PostgreSQL read back identical values.
* Enumerated columns are VARCHAR + CHECK (``native_enum=False``): adding a value
  later is a CHECK change, not a PostgreSQL ``ALTER TYPE``.
* Constraint names come from :data:`NAMING_CONVENTION`, so migrations can refer
  to them by name on every backend.

Any change here needs a new migration in ``helix/store/migrations/versions``;
``tests/unit/store/test_migrations.py`` fails when the two disagree.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Enum, ForeignKey, Index, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "NAMING_CONVENTION",
    "Base",
    "Role",
    "Scope",
    "ImportStatus",
    "AssignmentSource",
    "User",
    "ApiKey",
    "AccountAssignment",
    "AuditLog",
    "ImportRun",
    "Setting",
    "utcnow",
]

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names (used verbatim by the migrations)."""

EMAIL_LENGTH = 254
ACTOR_LENGTH = 320
ENUM_LENGTH = 16


def utcnow() -> datetime:
    """Current UTC time as a naive datetime (what the app store stores)."""
    return datetime.now(UTC).replace(tzinfo=None)


class Role(enum.StrEnum):
    """What a person may do in Helix, from most to least powerful."""

    ADMIN = "admin"
    LEADER = "leader"
    CSM = "csm"
    VIEWER = "viewer"


class Scope(enum.StrEnum):
    """What an API key may do."""

    INGEST = "ingest"
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


class ImportStatus(enum.StrEnum):
    """Life cycle of an import run."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class AssignmentSource(enum.StrEnum):
    """Where an account's owner came from; manual assignments survive re-imports."""

    IMPORT = "import"
    MANUAL = "manual"


def _enum(cls: type[enum.StrEnum], name: str) -> Enum:
    """A VARCHAR + CHECK column type storing the enum's values (not member names)."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=ENUM_LENGTH,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class Base(DeclarativeBase):
    """Declarative base of every app-store table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    """A person who can sign in to Helix."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(_enum(Role, "user_role"))
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow, onupdate=utcnow)

    def to_dict(self) -> dict[str, Any]:
        """Public fields (never the password hash)."""
        return {
            "id": self.id,
            "email": self.email,
            "name": self.name,
            "role": str(self.role),
            "is_active": self.is_active,
            "has_password": self.password_hash is not None,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
        }

    def __repr__(self) -> str:
        return f"User(id={self.id}, email={self.email!r}, role={self.role!s})"


class ApiKey(Base):
    """An API key: only its SHA-256 hash and a short, non-secret prefix are stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[Scope] = mapped_column(_enum(Scope, "api_key_scope"))
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(), default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(), default=None)

    @property
    def is_revoked(self) -> bool:
        """Whether the key has been revoked (and is therefore refused)."""
        return self.revoked_at is not None

    def to_dict(self) -> dict[str, Any]:
        """Public fields (never the hash, and the plaintext is never stored)."""
        return {
            "id": self.id,
            "name": self.name,
            "prefix": self.prefix,
            "scope": str(self.scope),
            "created_by": self.created_by,
            "created_at": _iso(self.created_at),
            "last_used_at": _iso(self.last_used_at),
            "revoked_at": _iso(self.revoked_at),
        }

    def __repr__(self) -> str:
        return (
            f"ApiKey(id={self.id}, name={self.name!r}, prefix={self.prefix!r}, scope={self.scope})"
        )


class AccountAssignment(Base):
    """Which CSM owns an account (``account_id`` is the warehouse's account key)."""

    __tablename__ = "account_assignments"

    account_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    owner_email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True, default=None
    )
    assigned_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    source: Mapped[AssignmentSource] = mapped_column(_enum(AssignmentSource, "assignment_source"))

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "account_id": self.account_id,
            "owner_email": self.owner_email,
            "user_id": self.user_id,
            "assigned_at": _iso(self.assigned_at),
            "source": str(self.source),
        }


class AuditLog(Base):
    """One write to the app store: who did what to which object."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(255), default=None)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "id": self.id,
            "at": _iso(self.at),
            "actor": self.actor,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "detail": self.detail,
        }


class ImportRun(Base):
    """One run of the importer and its report."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(), default=None)
    status: Mapped[ImportStatus] = mapped_column(_enum(ImportStatus, "import_status"))
    source: Mapped[str] = mapped_column(String(1000))
    started_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    quarantine_dir: Mapped[str | None] = mapped_column(String(1000), default=None)

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "id": self.id,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "status": str(self.status),
            "source": self.source,
            "started_by": self.started_by,
            "report": self.report,
            "quarantine_dir": self.quarantine_dir,
        }


class Setting(Base):
    """One organisation setting: a key and a JSON value."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "key": self.key,
            "value": self.value,
            "updated_at": _iso(self.updated_at),
            "updated_by": self.updated_by,
        }


class RenewalOverride(Base):
    """A person's call on one renewal's forecast bucket, with the reason (helix.predict.forecast).

    The latest override of an (account, renewal date) wins; older ones stay as history.
    """

    __tablename__ = "renewal_overrides"
    __table_args__ = (Index("ix_renewal_overrides_account", "account_id", "renewal_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(String(255))
    renewal_date: Mapped[date] = mapped_column(Date())
    bucket: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    reason: Mapped[str] = mapped_column(String(2000))
    actor: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    created_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow, index=True)

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "id": self.id,
            "account_id": self.account_id,
            "renewal_date": self.renewal_date.isoformat(),
            "bucket": self.bucket,
            "reason": self.reason,
            "actor": self.actor,
            "created_at": _iso(self.created_at),
        }
