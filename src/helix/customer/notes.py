"""Notes on accounts: add, list, edit and delete, audited, with a version check on edits.

Each note carries a ``version`` (its ETag) that grows on every edit; an edit or a
delete names the version it was based on and is refused with :class:`StaleWrite` when
someone changed the note in between. Who may write (and on which accounts) is the
caller's business (:func:`helix.customer.access.find_account`).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from helix.customer.errors import check_version
from helix.errors import NotFoundError, UserError
from helix.store.audit import record
from helix.store.models import Note, utcnow

__all__ = ["add_note", "list_notes", "get_note", "update_note", "delete_note", "MAX_NOTE"]

MAX_NOTE = 10_000


def _body(text: str) -> str:
    body = (text or "").strip()
    if not body:
        raise UserError("a note needs some text")
    if len(body) > MAX_NOTE:
        raise UserError(
            f"a note holds at most {MAX_NOTE:,} characters (this one has {len(body):,})"
        )
    return body


def add_note(session: Session, account_id: str, text: str, *, actor: str) -> Note:
    """Add a note to ``account_id`` (version 1), audited as ``note.create``."""
    now = utcnow()
    note = Note(
        account_id=account_id,
        body=_body(text),
        author=actor,
        version=1,
        created_at=now,
        updated_at=now,
        updated_by=actor,
    )
    session.add(note)
    session.flush()
    record(
        session,
        actor=actor,
        action="note.create",
        target_type="note",
        target_id=note.id,
        detail={"account_id": account_id, "chars": len(note.body)},
    )
    return note


def list_notes(session: Session, account_id: str, *, limit: int = 200) -> list[Note]:
    """The account's notes, newest first."""
    q = (
        select(Note)
        .where(Note.account_id == account_id)
        .order_by(Note.created_at.desc(), Note.id.desc())
        .limit(limit)
    )
    return list(session.scalars(q))


def get_note(session: Session, note_id: int) -> Note:
    """One note, or :class:`NotFoundError`."""
    note = session.get(Note, note_id)
    if note is None:
        raise NotFoundError(f"no note {note_id}")
    return note


def update_note(
    session: Session, note_id: int, text: str, *, version: int | None, actor: str
) -> Note:
    """Replace the note's text if it is still at ``version``; the version then grows by one."""
    note = get_note(session, note_id)
    check_version(f"note {note_id}", version, note.version)
    before = note.version
    note.body = _body(text)
    note.version = before + 1
    note.updated_at, note.updated_by = utcnow(), actor
    record(
        session,
        actor=actor,
        action="note.update",
        target_type="note",
        target_id=note.id,
        detail={"account_id": note.account_id, "from_version": before, "to_version": note.version},
    )
    return note


def delete_note(session: Session, note_id: int, *, version: int | None, actor: str) -> None:
    """Delete the note if it is still at ``version`` (its text is kept in the audit log)."""
    note = get_note(session, note_id)
    check_version(f"note {note_id}", version, note.version)
    record(
        session,
        actor=actor,
        action="note.delete",
        target_type="note",
        target_id=note.id,
        detail={
            "account_id": note.account_id,
            "version": note.version,
            "body": note.body,
            "author": note.author,
        },
    )
    session.delete(note)
