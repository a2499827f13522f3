"""Scorecards and roadmap progress in the app store: save one, read the history.

Each function works inside the caller's session (the caller owns the
transaction); every write is audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from helix.errors import NotFoundError
from helix.exec.frameworks import Scorecard, evaluate, framework
from helix.store.audit import check_actor, record
from helix.store.models import AssessmentRecord, RoadmapCheckpoint, RoadmapMark

__all__ = [
    "save_scorecard",
    "history",
    "latest",
    "scorecard_of",
    "get_scorecard",
    "history_document",
    "save_checkpoint",
    "checkpoints",
    "set_mark",
    "marks",
]


def save_scorecard(
    session: Session, card: Scorecard, *, actor: str, evidence: dict[str, Any] | None = None
) -> AssessmentRecord:
    """Store ``card`` (with the evidence Helix proposed, if any) as taken now."""
    row = AssessmentRecord(
        kind=card.kind,
        taken_by=check_actor(actor),
        scores=dict(card.scores),
        notes=dict(card.notes) or None,
        average=card.average,
        priority=list(card.priority),
        evidence=evidence,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action="assessment.take",
        target_type="assessment",
        target_id=row.id,
        detail={"kind": card.kind, "scores": dict(card.scores)},
    )
    return row


def history(session: Session, kind: str) -> list[AssessmentRecord]:
    """Every stored scorecard of ``kind``, oldest first."""
    framework(kind)
    q = select(AssessmentRecord).where(AssessmentRecord.kind == kind)
    return list(session.scalars(q.order_by(AssessmentRecord.taken_at, AssessmentRecord.id)))


def latest(session: Session, kind: str) -> AssessmentRecord | None:
    """The newest stored scorecard of ``kind``, or None."""
    rows = history(session, kind)
    return rows[-1] if rows else None


def scorecard_of(row: AssessmentRecord) -> Scorecard:
    """The evaluated scorecard of a stored row."""
    return evaluate(row.kind, row.scores, row.notes or {})


def _entry(row: AssessmentRecord) -> dict[str, Any]:
    return {
        **scorecard_of(row).to_dict(),
        "id": row.id,
        "taken_at": row.taken_at.isoformat(),
        "taken_by": row.taken_by,
        "evidence": row.evidence,
    }


def history_document(session: Session, kind: str) -> dict[str, Any]:
    """The history of ``kind``: every scorecard, and the change of each item since the first.

    ``progress`` compares the newest with the one before it (``since_previous``)
    and with the first (``since_first``): score deltas per item and of the average.
    """
    rows = history(session, kind)
    entries = [_entry(r) for r in rows]
    progress: dict[str, Any] | None = None
    if len(rows) >= 2:
        last, prev, first = rows[-1], rows[-2], rows[0]

        def delta(a: AssessmentRecord, b: AssessmentRecord) -> dict[str, Any]:
            return {
                "items": {k: b.scores[k] - a.scores[k] for k in framework(kind).item_keys()},
                "average": round(b.average - a.average, 2),
            }

        progress = {"since_previous": delta(prev, last), "since_first": delta(first, last)}
    return {
        "kind": kind,
        "title": framework(kind).title,
        "count": len(entries),
        "entries": entries,
        "progress": progress,
    }


def get_scorecard(session: Session, kind: str, assessment_id: int) -> AssessmentRecord:
    """The stored scorecard ``assessment_id`` of ``kind`` (NotFoundError otherwise)."""
    row = session.get(AssessmentRecord, assessment_id)
    if row is None or row.kind != kind:
        raise NotFoundError(f"no {kind} assessment {assessment_id}")
    return row


def save_checkpoint(session: Session, roadmap: dict[str, Any], *, actor: str) -> RoadmapCheckpoint:
    """Store the gate results of a roadmap document (:func:`helix.exec.roadmap.roadmap`)."""
    gates = {g["key"]: g["status"] for p in roadmap["phases"] for g in p["gates"]}
    row = RoadmapCheckpoint(
        taken_by=check_actor(actor),
        assessment_id=(roadmap.get("assessment") or {}).get("id"),
        phase=roadmap["current_phase"],
        gates=gates,
        done=sum(1 for s in gates.values() if s == "done"),
        total=len(gates),
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action="roadmap.checkpoint",
        target_type="roadmap",
        target_id=row.id,
        detail={"phase": row.phase, "done": row.done, "total": row.total},
    )
    return row


def checkpoints(session: Session) -> list[RoadmapCheckpoint]:
    """Every stored roadmap checkpoint, oldest first."""
    q = select(RoadmapCheckpoint).order_by(RoadmapCheckpoint.taken_at, RoadmapCheckpoint.id)
    return list(session.scalars(q))


def set_mark(session: Session, key: str, done: bool, *, note: str = "", actor: str) -> RoadmapMark:
    """Record that the manual gate ``key`` is met (or no longer met)."""
    from helix.exec.roadmap import manual_gate_keys

    if key not in manual_gate_keys():
        raise NotFoundError(
            f"no manual roadmap gate {key!r}",
            hint="manual gates: " + ", ".join(sorted(manual_gate_keys())),
        )
    row = session.get(RoadmapMark, key)
    if row is None:
        row = RoadmapMark(key=key, done=done, note=note[:2000], updated_by=check_actor(actor))
        session.add(row)
    else:
        row.done, row.note, row.updated_by = done, note[:2000], check_actor(actor)
    session.flush()
    record(
        session,
        actor=actor,
        action="roadmap.mark",
        target_type="roadmap_gate",
        target_id=key,
        detail={"done": done, "note": note[:200]},
    )
    return row


def marks(session: Session) -> dict[str, RoadmapMark]:
    """Every manual gate mark by key."""
    return {m.key: m for m in session.scalars(select(RoadmapMark))}
