"""Import runs: one row per run of the importer, with its report and quarantine folder."""

from __future__ import annotations

from os import PathLike
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helix.errors import NotFoundError, UserError
from helix.store.audit import check_actor, record
from helix.store.models import ImportRun, ImportStatus, utcnow

__all__ = ["start_import", "finish_import", "get_import", "list_imports"]


def start_import(session: Session, source: str | PathLike[str], actor: str) -> ImportRun:
    """Record that an import of ``source`` (a path or a description) has started."""
    actor = check_actor(actor)
    label = str(source).strip()
    if not label:
        raise UserError("an import needs a source")
    run = ImportRun(status=ImportStatus.RUNNING, source=label[:1000], started_by=actor)
    session.add(run)
    session.flush()
    record(
        session,
        actor=actor,
        action="import.start",
        target_type="import_run",
        target_id=run.id,
        detail={"source": run.source},
    )
    return run


def get_import(session: Session, run_id: int) -> ImportRun:
    """The import run ``run_id``; :class:`NotFoundError` if there is none."""
    run = session.get(ImportRun, run_id)
    if run is None:
        raise NotFoundError(f"no import run with id {run_id}")
    return run


def finish_import(
    session: Session,
    run_id: int,
    status: str | ImportStatus,
    report: dict[str, Any],
    quarantine_dir: str | PathLike[str] | None,
    *,
    actor: str | None = None,
) -> ImportRun:
    """Close a running import as ``succeeded`` or ``failed``, with its report.

    The audit actor defaults to whoever started the run.
    """
    try:
        final = ImportStatus(str(status))
    except ValueError:
        raise UserError(f"unknown import status {status!r}") from None
    if final == ImportStatus.RUNNING:
        raise UserError("an import finishes as 'succeeded' or 'failed', not 'running'")
    run = get_import(session, run_id)
    if run.status != ImportStatus.RUNNING:
        raise UserError(f"import run {run_id} already finished ({run.status})")
    run.status = final
    run.finished_at = utcnow()
    run.report = dict(report)
    run.quarantine_dir = str(quarantine_dir) if quarantine_dir is not None else None
    session.flush()
    record(
        session,
        actor=actor if actor is not None else run.started_by,
        action="import.finish",
        target_type="import_run",
        target_id=run.id,
        detail={"status": final.value, "quarantine_dir": run.quarantine_dir},
    )
    return run


def list_imports(session: Session, limit: int = 50) -> list[ImportRun]:
    """The latest import runs, newest first."""
    query = select(ImportRun).order_by(ImportRun.id.desc()).limit(max(0, limit))
    return list(session.scalars(query))
