"""Playbook definitions in the app store: save (a new version when the content changes),
list, enable or disable, import and export YAML, and install the shipped library."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from helix.errors import NotFoundError, UserError
from helix.playbooks.definition import Playbook, load_yaml, parse_playbook, to_yaml
from helix.store.audit import record
from helix.store.models import PlaybookRecord, PlaybookVersion

LIBRARY_DIR = Path(__file__).resolve().parent / "library"
"""The shipped playbooks, one YAML file each."""


def library() -> list[Playbook]:
    """The shipped playbooks, validated, in file-name order."""
    return [
        load_yaml(path.read_text(), source=f"library/{path.name}")
        for path in sorted(LIBRARY_DIR.glob("*.yaml"))
    ]


def save_playbook(
    session: Session, playbook: Playbook, *, actor: str, source: str = "custom"
) -> tuple[PlaybookRecord, bool]:
    """Store ``playbook``; a changed definition becomes a new version (the old one is kept).
    Returns the record and whether anything changed."""
    content = playbook.content()
    rec = session.get(PlaybookRecord, playbook.name)
    if rec is not None and rec.definition == content:
        return rec, False
    version = 1 if rec is None else rec.version + 1
    if rec is None:
        rec = PlaybookRecord(name=playbook.name, source=source, updated_by=actor)
        session.add(rec)
    rec.version, rec.definition, rec.enabled, rec.updated_by = (
        version, content, playbook.enabled, actor,
    )
    session.add(PlaybookVersion(name=playbook.name, version=version, definition=content,
                                created_by=actor))
    record(session, actor=actor, action="playbook.save", target_type="playbook",
           target_id=playbook.name, detail={"version": version, "enabled": playbook.enabled})
    session.flush()
    return rec, True


def install_library(session: Session, *, actor: str, enabled: bool | None = None) -> list[str]:
    """Add the shipped playbooks that are not in the app store yet (an organisation's own
    edits are never overwritten). ``enabled`` overrides each file's own flag."""
    added = []
    for pb in library():
        if session.get(PlaybookRecord, pb.name) is not None:
            continue
        if enabled is not None:
            pb = pb.model_copy(update={"enabled": enabled})
        save_playbook(session, pb, actor=actor, source="library")
        added.append(pb.name)
    return added


def get_record(session: Session, name: str) -> PlaybookRecord:
    """The stored playbook ``name`` or :class:`NotFoundError`."""
    rec = session.get(PlaybookRecord, name)
    if rec is None:
        known = ", ".join(r.name for r in list_records(session)) or "none"
        raise NotFoundError(f"no playbook named {name!r} (known: {known})")
    return rec


def get_playbook(session: Session, name: str) -> Playbook:
    """The current definition of ``name``, validated."""
    return parse_playbook(get_record(session, name).definition, source=f"playbook {name}")


def list_records(session: Session) -> list[PlaybookRecord]:
    """Every stored playbook, by name."""
    return list(session.scalars(select(PlaybookRecord).order_by(PlaybookRecord.name)))


def versions(session: Session, name: str) -> list[PlaybookVersion]:
    """Every saved version of ``name``, oldest first."""
    get_record(session, name)
    q = select(PlaybookVersion).where(PlaybookVersion.name == name).order_by(
        PlaybookVersion.version
    )
    return list(session.scalars(q))


def set_enabled(session: Session, name: str, enabled: bool, *, actor: str) -> PlaybookRecord:
    """Turn a playbook on or off (a new version: the definition's ``enabled`` changes).

    Turned back on, it looks back only the first-run window again rather than catching up
    on every day it was off (occurrences it already decided stay decided)."""
    was = get_record(session, name)
    pb = get_playbook(session, name).model_copy(update={"enabled": enabled})
    rec, changed = save_playbook(session, pb, actor=actor, source=was.source)
    if enabled and changed:
        rec.evaluated_through = None
    return rec


def import_files(session: Session, paths: list[Path], *, actor: str) -> list[dict[str, object]]:
    """Validate every file first, then save them all (nothing is saved if one is invalid)."""
    parsed = []
    for path in paths:
        try:
            text = path.read_text()
        except OSError as exc:
            raise UserError(f"{path}: cannot read: {exc.strerror}") from None
        parsed.append(load_yaml(text, source=str(path)))
    names = [p.name for p in parsed]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise UserError(f"the files define {', '.join(dupes)} more than once")
    out = []
    for pb in parsed:
        rec, changed = save_playbook(session, pb, actor=actor)
        out.append({"name": rec.name, "version": rec.version, "changed": changed})
    return out


def export_yaml(session: Session, name: str) -> str:
    """The current definition of ``name`` as YAML."""
    return to_yaml(get_playbook(session, name))
