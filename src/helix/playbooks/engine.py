"""The playbook engine, first half: decide who enters which playbook.

For every enabled playbook, the trigger's occurrences since the playbook was last
evaluated are read from the warehouse (one Ibis query each), joined with the facts the
filter needs, thinned by the cooldown, split into treated and held-out accounts by a
stable random draw, and written to the app store as enrolments (one per
(playbook, account, occurrence): the unique key makes a re-run or a concurrent run a
no-op) with their steps. :mod:`helix.playbooks.steps` then executes the steps.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from helix.platform import Platform
from helix.playbooks.catalog import install_library, list_records
from helix.playbooks.definition import Playbook, parse_playbook, touch_model
from helix.playbooks.triggers import occurrences
from helix.store.audit import record
from helix.store.models import (
    AccountAssignment,
    AccountField,
    Enrolment,
    PlaybookStep,
    StepStatus,
)
from helix.store.settings import get_setting, set_setting
from helix.warehouse import Warehouse

LOOKBACK_DAYS = 14
"""How far back a playbook's first evaluation looks (older occurrences are history)."""
SALT_KEY = "playbooks.holdout_salt"
LIBRARY_KEY = "playbooks.library_installed"


@dataclass
class Decision:
    """What one playbook's evaluation decided (the run report shows these counts)."""

    playbook: str
    start: date
    end: date
    occurrences: int = 0
    filtered_out: int = 0
    in_cooldown: int = 0
    already_decided: int = 0
    held_out: int = 0
    enrolled: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready counts and up to five examples."""
        return {**self.__dict__, "start": self.start.isoformat(), "end": self.end.isoformat()}


OccurrenceSource = Callable[[Warehouse, Playbook, date, date], list[dict[str, Any]]]
"""Gives the occurrences of a playbook's trigger in ``[start, end]``."""


def trigger_occurrences(wh: Warehouse, pb: Playbook, start: date, end: date) -> list[dict]:
    """The occurrences of ``pb``'s trigger in ``[start, end]``, read from the warehouse."""
    return occurrences(wh, pb.trigger.type, start, end, pb.trigger.params).to_pyarrow().to_pylist()


def holdout_draw(salt: str, playbook: str, account_id: str) -> float:
    """A uniform number in [0, 1) fixed for (organisation, playbook, account): an account
    is held out of a playbook consistently, and which accounts are is random."""
    digest = hashlib.sha256(f"{salt}:{playbook}:{account_id}".encode()).hexdigest()
    return int(digest[:15], 16) / 16**15


def ensure_setup(session: Session, *, actor: str) -> str:
    """Install the shipped library once per organisation and create the holdout salt;
    returns the salt."""
    if not get_setting(session, LIBRARY_KEY, False):
        install_library(session, actor=actor)
        set_setting(session, LIBRARY_KEY, True, actor)
    salt = get_setting(session, SALT_KEY)
    if not salt:
        salt = secrets.token_hex(16)
        set_setting(session, SALT_KEY, salt, actor)
    return str(salt)


ARR_AS_OF_DAYS = 31
"""A decision dated in the past reads each account's MRR from its latest signal row this
many days back at most."""


def past_arr(wh: Warehouse, ids: Any, as_of: date) -> dict[str, float]:
    """ARR (12 x MRR) of the accounts in ``ids`` on their latest ``account_signals`` row on
    or before ``as_of``: what the filter of a decision dated ``as_of`` would have seen."""
    import ibis

    if not wh.has_table("account_signals"):
        return {}
    s = wh.table("account_signals")
    s = s.filter(s.score_date.between(as_of - timedelta(days=ARR_AS_OF_DAYS), as_of))
    s = s.semi_join(ids, "account_id").select("account_id", "score_date", "mrr")
    latest = s.mutate(n=ibis.row_number().over(group_by="account_id",
                                                order_by=ibis.desc("score_date")))
    rows = latest.filter(latest.n == 0).select("account_id", "mrr").to_pyarrow().to_pylist()
    return {r["account_id"]: 12 * float(r["mrr"] or 0) for r in rows}


def _summary_facts(wh: Warehouse) -> tuple[date | None, dict[str, dict[str, Any]]]:
    """The last pipeline run's date and every account's summary facts with its custom
    attributes (kept until the warehouse's next write on an embedded file: a replay asks
    for them every simulated week)."""

    def compute() -> tuple[date | None, dict[str, dict[str, Any]]]:
        summary = wh.table("account_summary")
        as_of = summary.as_of.max().to_pyarrow().as_py()
        if isinstance(as_of, datetime):
            as_of = as_of.date()
        cols = ["account_id", "name", "segment", "owner_email", "arr", "mrr", "next_renewal"]
        t = summary.select(*cols)
        if wh.has_table("accounts") and "attributes" in wh.table("accounts").columns:
            acc = wh.table("accounts").select("account_id", "attributes")
            t = t.left_join(acc, "account_id").select(*cols, "attributes")
        rows = {}
        for row in t.to_pyarrow().to_pylist():
            row["attributes"] = _attributes(row.pop("attributes", None))
            row["arr"] = float(row["arr"] or 0)
            rows[row["account_id"]] = row
        return as_of, rows

    return wh.memo("playbooks.summary_facts", compute)


def account_facts(
    wh: Warehouse, session: Session, account_ids: set[str], as_of: date | None = None
) -> dict[str, dict]:
    """Name, segment, ARR, owner, touch model, next renewal and custom attributes of each
    account, with the fields set in Helix (``account_fields``) and manual owners on top.

    With ``as_of`` before the last pipeline run (a run dated in the past, such as a
    replay), ARR and the touch model are those of that day (:func:`past_arr`)."""
    if not account_ids or not wh.has_table("account_summary"):
        return {}
    import ibis

    summary_as_of, every = _summary_facts(wh)
    wanted = sorted(a for a in account_ids if a in every)
    earlier = past_arr(wh, ibis.memtable({"account_id": wanted}), as_of) if (
        wanted and as_of is not None and summary_as_of is not None and as_of < summary_as_of
    ) else None
    facts: dict[str, dict] = {}
    for account_id in wanted:
        row = dict(every[account_id])
        if earlier is not None:
            row["arr"] = earlier.get(account_id, 0.0)
        row["touch_model"] = touch_model(row["arr"])
        facts[account_id] = row
    # every row, filtered here: an IN list of 100k ids exceeds SQLite's variable limit
    for account_id, name, value in session.execute(
        select(AccountField.account_id, AccountField.field, AccountField.value)
    ):
        if account_id in facts:
            facts[account_id][name] = value
    owners = select(AccountAssignment.account_id, AccountAssignment.owner_email)
    for account_id, email in session.execute(owners):
        if account_id in facts:
            facts[account_id]["owner_email"] = email
    return facts


def _attributes(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def passes(pb: Playbook, facts: dict[str, Any] | None) -> bool:
    """Whether an account with ``facts`` is in the playbook's filter (no facts: not in it)."""
    if facts is None:
        return False
    f = pb.filter
    arr = facts["arr"]
    checks = [
        f.segments is None or facts.get("segment") in f.segments,
        f.touch is None or facts.get("touch_model") in f.touch,
        f.min_arr is None or arr >= f.min_arr,
        f.max_arr is None or arr <= f.max_arr,
        f.owners is None
        or (facts.get("owner_email") or "").lower() in {o.lower() for o in f.owners},
        all(str(facts["attributes"].get(k)) == str(v) for k, v in f.attributes.items()),
    ]
    return all(checks)


def _known(session: Session, playbook: str) -> tuple[set[tuple[str, str]], dict[str, list[date]]]:
    """The (account, occurrence) pairs already decided for ``playbook`` and each account's
    decided dates (for the cooldown)."""
    q = select(Enrolment.account_id, Enrolment.occurrence_key, Enrolment.occurred_on).where(
        Enrolment.playbook == playbook
    )
    keys: set[tuple[str, str]] = set()
    dates: dict[str, list[date]] = defaultdict(list)
    for account_id, key, on in session.execute(q):
        keys.add((account_id, key))
        dates[account_id].append(on)
    return keys, dates


def _in_cooldown(dates: list[date], on: date, days: int) -> bool:
    return any(abs((on - d).days) < days for d in dates) if days > 0 else False


def _step_rows(pb: Playbook, decided_on: date) -> list[dict[str, Any]]:
    """The steps of one enrolment (without its id): each due ``wait_days`` after the one
    before, the first on the decision date."""
    due, out = decided_on, []
    for i, action in enumerate(pb.actions):
        due = due + timedelta(days=action.wait_days)
        out.append({"position": i, "status": StepStatus.PENDING, "due_on": due, "attempts": 0})
    return out


def _write(session: Session, enrolments: list[dict[str, Any]], steps: list[dict[str, Any]]) -> None:
    """Insert the enrolments (bulk, ids returned in order), then the treated ones' steps."""
    if not enrolments:
        return
    # Core inserts (no ORM bookkeeping): tens of thousands of rows on a busy day
    table = Enrolment.__table__
    ids = session.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), enrolments
    ).scalars().all()
    rows = []
    for enrolment_id, row in zip(ids, enrolments, strict=True):
        if not row["held_out"]:
            rows.extend({**step, "enrolment_id": enrolment_id} for step in steps)
    for i in range(0, len(rows), 5000):
        session.execute(insert(PlaybookStep.__table__), rows[i:i + 5000])


def decide(
    platform: Platform,
    as_of: date,
    *,
    dry_run: bool = False,
    names: list[str] | None = None,
    actor: str = "system",
    lookback_days: int = LOOKBACK_DAYS,
    source: OccurrenceSource | None = None,
) -> list[Decision]:
    """Evaluate the enabled playbooks (or ``names``) up to ``as_of`` and enrol accounts.

    With ``dry_run`` nothing is written: the decisions are only counted. ``source`` gives
    a playbook's occurrences in a window (default: its trigger's query on the warehouse;
    a replay passes one that queries a long window once and slices it)."""
    source = source or trigger_occurrences
    wh = platform.warehouse
    out = []
    with platform.store.session() as session:
        salt = (get_setting(session, SALT_KEY) or "dry-run") if dry_run else ensure_setup(
            session, actor=actor
        )
        records = [r for r in list_records(session) if (r.name in names if names else r.enabled)]
        found: dict[str, list[dict[str, Any]]] = {}
        for rec in records:  # every trigger first, so that account facts are read once
            pb = parse_playbook(rec.definition, source=f"playbook {rec.name}")
            start = (rec.evaluated_through + timedelta(days=1)) if rec.evaluated_through else (
                as_of - timedelta(days=lookback_days)
            )
            found[rec.name] = [] if start > as_of else source(wh, pb, start, as_of)
        facts = account_facts(wh, session, {r["account_id"] for rows in found.values()
                                            for r in rows}, as_of)
        for rec in records:
            pb = parse_playbook(rec.definition, source=f"playbook {rec.name}")
            start = (rec.evaluated_through + timedelta(days=1)) if rec.evaluated_through else (
                as_of - timedelta(days=lookback_days)
            )
            decision = Decision(rec.name, start, as_of)
            _decide_one(session, pb, rec.version, decision, found[rec.name], facts, salt, as_of,
                        dry_run)
            if not dry_run:
                rec.evaluated_through = max(as_of, rec.evaluated_through or as_of)
                record(session, actor=actor, action="playbook.evaluate", target_type="playbook",
                       target_id=rec.name, detail=decision.to_dict() | {"examples": None})
            out.append(decision)
        if dry_run:
            session.rollback()
    return out


def _decide_one(
    session: Session, pb: Playbook, version: int, decision: Decision,
    rows: list[dict[str, Any]], facts: dict[str, dict], salt: str, as_of: date, dry_run: bool,
) -> None:
    found = sorted(rows, key=lambda r: (r["occurred_on"], r["account_id"]))
    decision.occurrences = len(found)
    keys, dates = _known(session, pb.name)
    steps = _step_rows(pb, as_of)
    new: list[dict[str, Any]] = []
    for occ in found:
        acc, key, on = occ["account_id"], occ["occurrence_key"], occ["occurred_on"]
        if (acc, key) in keys:
            decision.already_decided += 1
            continue
        if not passes(pb, facts.get(acc)):
            decision.filtered_out += 1
            continue
        if _in_cooldown(dates[acc], on, pb.cooldown_days):
            decision.in_cooldown += 1
            continue
        draw = holdout_draw(salt, pb.name, acc)
        held = draw < pb.holdout
        owner = facts[acc].get("owner_email")
        keys.add((acc, key))
        dates[acc].append(on)
        if held:
            decision.held_out += 1
        else:
            decision.enrolled += 1
        if len(decision.examples) < 5:
            decision.examples.append({"account_id": acc, "occurred_on": on.isoformat(),
                                      "evidence": occ["evidence"], "held_out": held})
        new.append({
            "playbook": pb.name, "playbook_version": version, "account_id": acc,
            "occurrence_key": key, "occurred_on": on, "evidence": (occ["evidence"] or "")[:2000],
            "owner_email": (owner or "").lower() or None, "held_out": held, "holdout_draw": draw,
        })
    if not dry_run:
        _write(session, new, steps)
