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

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    Unicode,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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
    "RenewalOverride",
    "StepStatus",
    "TaskStatus",
    "PlaybookRecord",
    "PlaybookVersion",
    "Enrolment",
    "PlaybookStep",
    "Task",
    "Notification",
    "Delivery",
    "ContactPreference",
    "AccountField",
    "SCHEDULER_JOBS",
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


# ---------------------------------------------------------------------------
# Playbooks (helix.playbooks): definitions, occurrences, steps, tasks, deliveries
# ---------------------------------------------------------------------------


class StepStatus(enum.StrEnum):
    """Life cycle of one action of one enrolment."""

    PENDING = "pending"  # decided, waiting for its due date
    SENDING = "sending"  # claimed: an attempt is in flight (or crashed mid-flight)
    DONE = "done"
    SKIPPED = "skipped"  # its ``unless`` held, or nobody could be reached
    FAILED = "failed"  # retry budget spent; ``last_error`` says why


class TaskStatus(enum.StrEnum):
    """A task is open until someone completes or dismisses it, with an outcome."""

    OPEN = "open"
    DONE = "done"
    DISMISSED = "dismissed"


class PlaybookRecord(Base):
    """The current definition of one playbook; every version is kept in ``playbook_versions``."""

    __tablename__ = "playbooks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(default=1)
    enabled: Mapped[bool] = mapped_column(default=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(ENUM_LENGTH), default="custom")  # library|custom
    evaluated_through: Mapped[date | None] = mapped_column(Date(), default=None)
    updated_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "name": self.name,
            "version": self.version,
            "enabled": self.enabled,
            "source": self.source,
            "definition": self.definition,
            "evaluated_through": self.evaluated_through.isoformat()
            if self.evaluated_through
            else None,
            "updated_at": _iso(self.updated_at),
            "updated_by": self.updated_by,
        }


class PlaybookVersion(Base):
    """One saved version of a playbook definition (never changed afterwards)."""

    __tablename__ = "playbook_versions"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column()
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))


class Enrolment(Base):
    """One trigger occurrence of one playbook for one account: decided exactly once
    (the unique key), held out or treated."""

    __tablename__ = "playbook_enrolments"
    __table_args__ = (
        UniqueConstraint("playbook", "account_id", "occurrence_key"),
        Index("ix_playbook_enrolments_account", "account_id", "occurred_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook: Mapped[str] = mapped_column(String(64), index=True)
    playbook_version: Mapped[int] = mapped_column()
    account_id: Mapped[str] = mapped_column(String(255))
    occurrence_key: Mapped[str] = mapped_column(String(255))
    occurred_on: Mapped[date] = mapped_column(Date())
    evidence: Mapped[str] = mapped_column(String(2000), default="")
    owner_email: Mapped[str | None] = mapped_column(String(EMAIL_LENGTH), default=None)
    held_out: Mapped[bool] = mapped_column(default=False)
    holdout_draw: Mapped[float] = mapped_column(default=1.0)
    decided_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    steps: Mapped[list[PlaybookStep]] = relationship(
        back_populates="enrolment", order_by="PlaybookStep.position"
    )

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "id": self.id,
            "playbook": self.playbook,
            "playbook_version": self.playbook_version,
            "account_id": self.account_id,
            "occurrence_key": self.occurrence_key,
            "occurred_on": self.occurred_on.isoformat(),
            "evidence": self.evidence,
            "owner_email": self.owner_email,
            "held_out": self.held_out,
            "decided_at": _iso(self.decided_at),
        }


class PlaybookStep(Base):
    """One action of one enrolment, executed at most once to completion. The action itself
    is the ``position``-th of the enrolment's playbook version (versions never change)."""

    __tablename__ = "playbook_steps"
    __table_args__ = (
        UniqueConstraint("enrolment_id", "position"),
        Index("ix_playbook_steps_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("playbook_enrolments.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column()  # the action's index in the playbook version
    status: Mapped[StepStatus] = mapped_column(_enum(StepStatus, "step_status"))
    due_on: Mapped[date | None] = mapped_column(Date(), default=None)  # None: after the previous
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(), default=None)
    last_error: Mapped[str | None] = mapped_column(String(2000), default=None)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(), default=None)
    enrolment: Mapped[Enrolment] = relationship(back_populates="steps")

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "id": self.id,
            "enrolment_id": self.enrolment_id,
            "position": self.position,
            "status": str(self.status),
            "due_on": self.due_on.isoformat() if self.due_on else None,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "result": self.result,
            "finished_at": _iso(self.finished_at),
        }


class Task(Base):
    """A call to action for a person: owner, due date, priority, reason and evidence."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_owner_status", "owner_email", "status", "due_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(String(255), index=True)
    title: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(2000), default="")
    evidence: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    owner_email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    due_date: Mapped[date] = mapped_column(Date())
    priority: Mapped[str] = mapped_column(String(ENUM_LENGTH), default="normal")
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus, "task_status"))
    outcome: Mapped[str | None] = mapped_column(String(2000), default=None)
    playbook: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    step_id: Mapped[int | None] = mapped_column(
        ForeignKey("playbook_steps.id", ondelete="SET NULL"), unique=True, default=None
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(), default=None)
    closed_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH), default=None)

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "id": self.id,
            "account_id": self.account_id,
            "title": self.title,
            "reason": self.reason,
            "evidence": self.evidence or [],
            "owner_email": self.owner_email,
            "due_date": self.due_date.isoformat(),
            "priority": self.priority,
            "status": str(self.status),
            "outcome": self.outcome,
            "playbook": self.playbook,
            "created_at": _iso(self.created_at),
            "created_by": self.created_by,
            "updated_at": _iso(self.updated_at),
            "closed_at": _iso(self.closed_at),
            "closed_by": self.closed_by,
        }


class Notification(Base):
    """An in-app message to one user."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("step_id", "user_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), index=True)
    message: Mapped[str] = mapped_column(String(2000))
    account_id: Mapped[str | None] = mapped_column(String(255), default=None)
    step_id: Mapped[int | None] = mapped_column(
        ForeignKey("playbook_steps.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(), default=None)

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "id": self.id,
            "user_email": self.user_email,
            "message": self.message,
            "account_id": self.account_id,
            "created_at": _iso(self.created_at),
            "read_at": _iso(self.read_at),
        }


class Delivery(Base):
    """One email or webhook of one step to one recipient; ``message_id`` is the idempotency
    key sent with it, the same on every retry."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("step_id", "recipient"),
        Index("ix_deliveries_recipient", "channel", "recipient", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("playbook_steps.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(ENUM_LENGTH))  # email | webhook
    recipient: Mapped[str] = mapped_column(String(ACTOR_LENGTH))  # contact id or webhook name
    address: Mapped[str] = mapped_column(String(1000))
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    status: Mapped[str] = mapped_column(String(ENUM_LENGTH))  # sending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(2000), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(), default=None)

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "id": self.id,
            "step_id": self.step_id,
            "channel": self.channel,
            "recipient": self.recipient,
            "address": self.address,
            "message_id": self.message_id,
            "status": self.status,
            "attempts": self.attempts,
            "error": self.error,
            "sent_at": _iso(self.sent_at),
        }


class ContactPreference(Base):
    """How a customer contact wants to be reached (seed 001, principle 4)."""

    __tablename__ = "contact_preferences"

    contact_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    email_opt_out: Mapped[bool] = mapped_column(default=False)
    channels: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["email"])
    max_emails_per_week: Mapped[int | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "contact_id": self.contact_id,
            "email_opt_out": self.email_opt_out,
            "channels": list(self.channels or []),
            "max_emails_per_week": self.max_emails_per_week,
            "updated_at": _iso(self.updated_at),
            "updated_by": self.updated_by,
        }


class AccountField(Base):
    """A field of an account set in Helix (by a playbook or a person); survives re-imports."""

    __tablename__ = "account_fields"

    account_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    field: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    set_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow, onupdate=utcnow)
    set_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "account_id": self.account_id,
            "field": self.field,
            "value": self.value,
            "set_at": _iso(self.set_at),
            "set_by": self.set_by,
        }


SCHEDULER_JOBS = Table(
    "scheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
"""APScheduler's job store table (its own layout), created by our migrations so that the
schema stays under Alembic; ``helix serve`` persists its scheduled jobs here."""


# ---------------------------------------------------------------------------
# Executive layer (helix.exec): scorecards over time, roadmap progress
# ---------------------------------------------------------------------------


class AssessmentRecord(Base):
    """One scorecard taken at one time: maturity, four imperatives or six pillars.

    ``scores`` maps each item key to 1..10; ``evidence`` keeps what Helix proposed
    from the data when it was taken (maturity only), so history shows both.
    """

    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_kind_taken", "kind", "taken_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    taken_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    taken_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    scores: Mapped[dict[str, int]] = mapped_column(JSON)
    notes: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    average: Mapped[float] = mapped_column(Float())
    priority: Mapped[list[str]] = mapped_column(JSON)
    evidence: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "id": self.id,
            "kind": self.kind,
            "taken_at": _iso(self.taken_at),
            "taken_by": self.taken_by,
            "scores": dict(self.scores),
            "notes": dict(self.notes or {}),
            "average": self.average,
            "priority": list(self.priority),
            "evidence": self.evidence,
        }


class RoadmapCheckpoint(Base):
    """The roadmap's phase-gate results at one time (progress is the series of these)."""

    __tablename__ = "roadmap_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow, index=True)
    taken_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    assessment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessments.id", ondelete="SET NULL"), default=None
    )
    phase: Mapped[str] = mapped_column(String(ENUM_LENGTH))
    gates: Mapped[dict[str, str]] = mapped_column(JSON)  # gate key -> done | not_done | unknown
    done: Mapped[int] = mapped_column()
    total: Mapped[int] = mapped_column()

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "id": self.id,
            "taken_at": _iso(self.taken_at),
            "taken_by": self.taken_by,
            "assessment_id": self.assessment_id,
            "phase": self.phase,
            "gates": dict(self.gates),
            "done": self.done,
            "total": self.total,
        }


class RoadmapMark(Base):
    """A person's record that a roadmap gate Helix cannot measure is met (or not)."""

    __tablename__ = "roadmap_marks"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    done: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(String(2000), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "key": self.key,
            "done": self.done,
            "note": self.note,
            "updated_at": _iso(self.updated_at),
            "updated_by": self.updated_by,
        }


__all__ += ["AssessmentRecord", "RoadmapCheckpoint", "RoadmapMark"]


# ---------------------------------------------------------------------------
# Customer 360 (helix.customer): notes and success plans
# ---------------------------------------------------------------------------


class GoalStatus(enum.StrEnum):
    """Where one success-plan goal stands."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    ACHIEVED = "achieved"
    MISSED = "missed"
    DROPPED = "dropped"


class MilestoneStatus(enum.StrEnum):
    """A milestone is open until someone completes (or drops) it."""

    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class Note(Base):
    """A person's note on an account. ``version`` grows on every edit (the ETag)."""

    __tablename__ = "notes"
    __table_args__ = (Index("ix_notes_account_created", "account_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(String(255))
    body: Mapped[str] = mapped_column(String(10000))
    author: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))

    def to_dict(self) -> dict[str, Any]:
        """All fields as JSON-ready values."""
        return {
            "id": self.id,
            "account_id": self.account_id,
            "body": self.body,
            "author": self.author,
            "version": self.version,
            "created_at": _iso(self.created_at),
            "updated_at": _iso(self.updated_at),
            "updated_by": self.updated_by,
        }


class SuccessPlan(Base):
    """One account's success plan: the customer's objective; goals and milestones hang off it.

    ``version`` grows on every change to the plan, its goals or its milestones, so one
    ETag guards the whole plan against a stale write.
    """

    __tablename__ = "success_plans"

    account_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    objective: Mapped[str] = mapped_column(String(2000), default="")
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    goals: Mapped[list[SuccessGoal]] = relationship(
        back_populates="plan",
        order_by="SuccessGoal.position, SuccessGoal.id",
        cascade="all, delete-orphan",
    )


class SuccessGoal(Base):
    """One goal of a success plan: what the customer wants, by when, and where it stands."""

    __tablename__ = "success_goals"
    __table_args__ = (Index("ix_success_goals_account", "account_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("success_plans.account_id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(String(2000), default="")
    target_date: Mapped[date | None] = mapped_column(Date(), default=None)
    status: Mapped[GoalStatus] = mapped_column(_enum(GoalStatus, "goal_status"))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(), default=None)
    plan: Mapped[SuccessPlan] = relationship(back_populates="goals")
    milestones: Mapped[list[SuccessMilestone]] = relationship(
        back_populates="goal",
        order_by="SuccessMilestone.due_date, SuccessMilestone.id",
        cascade="all, delete-orphan",
    )


class SuccessMilestone(Base):
    """One step towards a goal, with a due date."""

    __tablename__ = "success_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    goal_id: Mapped[int] = mapped_column(
        ForeignKey("success_goals.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    due_date: Mapped[date | None] = mapped_column(Date(), default=None)
    status: Mapped[MilestoneStatus] = mapped_column(_enum(MilestoneStatus, "milestone_status"))
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(ACTOR_LENGTH))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(), default=None)
    completed_by: Mapped[str | None] = mapped_column(String(ACTOR_LENGTH), default=None)
    goal: Mapped[SuccessGoal] = relationship(back_populates="milestones")


__all__ += [
    "GoalStatus",
    "MilestoneStatus",
    "Note",
    "SuccessPlan",
    "SuccessGoal",
    "SuccessMilestone",
]
