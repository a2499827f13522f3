"""The playbook engine, second half: execute the steps that are due, exactly once.

* Steps that only touch the app store (task, notify, update_account) are written in
  the same transaction that marks them done: a crash leaves either both or neither.
* Emails and webhooks leave the building, so each recipient gets a ``deliveries`` row
  (unique per step and recipient) committed *before* the send, and marked sent right
  after it. A re-run sends only what is not marked sent, under the same Message-ID /
  Idempotency-Key. The one window left is a crash after the server accepted a message
  and before the "sent" commit; the retry then carries the same id, so a receiver that
  deduplicates drops it (docs/playbooks.md).
* A failed send is retried on later runs with exponential backoff (``RETRY_MINUTES``
  doubling) and, after ``MAX_ATTEMPTS``, the step is recorded as failed with the reason.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from helix.platform import Platform
from helix.playbooks.contacts import reachable_contacts, unsubscribe_url
from helix.playbooks.definition import Action, fill
from helix.store.audit import record
from helix.store.models import (
    AccountField,
    AuditLog,
    Delivery,
    Enrolment,
    Notification,
    PlaybookStep,
    PlaybookVersion,
    Role,
    StepStatus,
    Task,
    TaskStatus,
    User,
    utcnow,
)
from helix.store.settings import get_setting
from helix.warehouse import Warehouse

MAX_ATTEMPTS = 5
RETRY_MINUTES = 15
FINISHED = (StepStatus.DONE, StepStatus.SKIPPED, StepStatus.FAILED)


@dataclass
class Outcome:
    """What happened to one step in this run."""

    status: StepStatus
    result: dict[str, Any]
    error: str | None = None
    retry: bool = False


class _SendFailed(Exception):
    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.permanent = permanent


def leader_email(session: Session) -> str | None:
    """The CS leader who receives escalations: setting ``playbooks.leader_email``, else the
    first active leader, else the first active admin."""
    chosen = get_setting(session, "playbooks.leader_email")
    if chosen:
        return str(chosen)
    for role in (Role.LEADER, Role.ADMIN):
        q = select(User.email).where(User.role == role, User.is_active.is_(True)).order_by(User.id)
        email = session.scalars(q).first()
        if email:
            return email
    return None


def _values(due: Due, facts: dict[str, Any]) -> dict[str, Any]:
    renewal = facts.get("next_renewal")
    return {
        "renewal_date": renewal.isoformat() if renewal else "",
        "days_to_renewal": (renewal - due.occurred_on).days if renewal else "",
        "account_name": facts.get("name") or due.account_id,
        "account_id": due.account_id,
        "evidence": due.evidence,
        "owner_email": due.owner_email or "",
        "arr": f"${facts.get('arr', 0):,.0f}",
        "occurred_on": due.occurred_on.isoformat(),
        "playbook": due.playbook,
    }


@dataclass(frozen=True)
class Due:
    """A step that may run now, with what it needs of its enrolment and its action."""

    id: int
    enrolment_id: int
    position: int
    attempts: int
    playbook: str
    version: int
    account_id: str
    occurred_on: date
    evidence: str
    owner_email: str | None
    action: Action


class Actions:
    """The actions of each (playbook, version), read once from the immutable versions."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._known: dict[tuple[str, int], list[Action]] = {}

    def get(self, playbook: str, version: int, position: int) -> Action:
        key = (playbook, version)
        if key not in self._known:
            definition = self.session.scalars(select(PlaybookVersion.definition).where(
                PlaybookVersion.name == playbook, PlaybookVersion.version == version)).one()
            self._known[key] = [Action.model_validate(a) for a in definition["actions"]]
        return self._known[key][position]


def due_steps(session: Session, today: date, now: datetime) -> list[Due]:
    """Steps that may run now: due, not waiting for a retry, and the first unfinished step
    of their enrolment (so the steps of one enrolment run in order)."""
    first_open = (
        select(PlaybookStep.enrolment_id, func.min(PlaybookStep.position).label("first"))
        .where(PlaybookStep.status.not_in(FINISHED))
        .group_by(PlaybookStep.enrolment_id)
        .subquery()
    )
    e, st = Enrolment, PlaybookStep
    q = (
        select(st.id, st.enrolment_id, st.position, st.attempts, e.playbook, e.playbook_version,
               e.account_id, e.occurred_on, e.evidence, e.owner_email)
        .join(e, e.id == st.enrolment_id)
        .join(first_open, (first_open.c.enrolment_id == st.enrolment_id)
              & (first_open.c.first == st.position))
        .where(st.status.in_([StepStatus.PENDING, StepStatus.SENDING]))
        .where(st.due_on <= today)
        .where((st.next_attempt_at.is_(None)) | (st.next_attempt_at <= now))
        .order_by(st.enrolment_id)
    )
    actions = Actions(session)
    return [Due(*row, action=actions.get(row[4], row[5], row[2])) for row in session.execute(q)]


def execute(
    platform: Platform,
    today: date,
    *,
    now: datetime | None = None,
    actor: str = "system",
    facts: dict[str, dict] | None = None,
) -> dict[str, int]:
    """Run every step that is due on ``today``; return counts by what happened.

    Steps run in rounds, so a step whose wait is zero runs right after the one before it.
    Steps that stay inside the app store (and steps skipped before any send) run in
    batches of ``BATCH`` per transaction; emails and webhooks one at a time."""
    from helix.playbooks.engine import account_facts

    now = now or utcnow()
    counts: dict[str, int] = defaultdict(int)
    while True:
        with platform.store.session() as session:
            steps = due_steps(session, today, now)
            if not steps:
                break
            known = facts if facts is not None else account_facts(
                platform.warehouse, session, {s.account_id for s in steps}
            )
            ctx = _Context.load(platform, session, steps)
        batched = [s for s in steps if ctx.in_batch(s)]
        one_by_one = [s for s in steps if not ctx.in_batch(s)]
        for i in range(0, len(batched), BATCH):
            with platform.store.session() as session:
                for status in _run_batch(session, batched[i:i + BATCH], today, actor, known, ctx):
                    counts[status] += 1
        progressed = bool(batched)
        for due in one_by_one:
            status = _run_step(platform, due, today, now, actor, known)
            counts[status] += 1
            progressed = progressed or status != "retry"
        if not progressed:
            break
    return dict(counts)


BATCH = 2000
LOCAL = ("task", "notify", "update_account")
NOBODY = "nobody to assign: the account has no owner and there is no leader or admin user"


@dataclass
class _Context:
    """What every step of a round needs, read once: the leader, inbound replies, and
    whether email and each webhook are configured."""

    leader: str | None
    replied: dict[str, datetime]
    smtp: bool
    webhooks: set[str]
    task_done: set[int]

    @classmethod
    def load(cls, platform: Platform, session: Session, steps: list[Due]) -> _Context:
        hooks = get_setting(session, "webhooks") or {}
        waiting = {s.enrolment_id for s in steps if s.action.unless == "task_done"}
        done = set(session.scalars(
            select(PlaybookStep.enrolment_id).join(Task, Task.step_id == PlaybookStep.id)
            .where(Task.status == TaskStatus.DONE)
        )) & waiting if waiting else set()
        return cls(
            leader=leader_email(session),
            replied=_replies(platform.warehouse, steps),
            smtp=bool(get_setting(session, "smtp")),
            webhooks={k for k, v in hooks.items() if isinstance(v, dict) and v.get("url")}
            if isinstance(hooks, dict) else set(),
            task_done=done,
        )

    def skip_reason(self, due: Due) -> str | None:
        """Why the step is skipped without running, or None."""
        action = due.action
        if action.unless == "task_done" and due.enrolment_id in self.task_done:
            return "the playbook's task is already done"
        last = self.replied.get(due.account_id)
        if action.unless == "replied" and last is not None and (
            last >= datetime.combine(due.occurred_on, datetime.min.time())
        ):
            return f"the customer replied (inbound on {last:%Y-%m-%d})"
        if action.type == "email" and not self.smtp:
            return "SMTP is not configured (helix settings set smtp ...)"
        if action.type == "webhook" and action.webhook not in self.webhooks:
            return (f"no webhook named {action.webhook!r} is configured "
                    f"(setting webhooks.{action.webhook}.url)")
        return None

    def in_batch(self, due: Due) -> bool:
        """Local actions and steps that will be skipped run in batches."""
        return due.action.type in LOCAL or self.skip_reason(due) is not None


def _replies(wh: Warehouse, steps: list[Due]) -> dict[str, datetime]:
    """The latest inbound activity of each account whose step waits for a reply."""
    waiting = {s.account_id: s.occurred_on for s in steps if s.action.unless == "replied"}
    if not waiting or not wh.has_table("activities"):
        return {}
    import ibis

    t = wh.table("activities")
    ids = ibis.memtable({"account_id": sorted(waiting)})
    since = datetime.combine(min(waiting.values()), datetime.min.time())
    q = t.filter((t.direction == "inbound") & (t.occurred_at >= since)).semi_join(
        ids, "account_id").group_by("account_id").aggregate(last=t.occurred_at.max())
    return {r["account_id"]: r["last"] for r in q.to_pyarrow().to_pylist()}


def _run_batch(
    session: Session, batch: list[Due], today: date, actor: str, facts: dict[str, dict],
    ctx: _Context,
) -> list[str]:
    """Finish a batch of local or skipped steps in the caller's one transaction: the
    tasks, notifications and field changes they make, their new status and their audit
    rows are committed together or not at all. A step another run finished meanwhile is
    left alone (and the unique step ids of tasks and notifications stop a race)."""
    still = set(session.scalars(select(PlaybookStep.id).where(
        PlaybookStep.id.in_([d.id for d in batch]),
        PlaybookStep.status.in_([StepStatus.PENDING, StepStatus.SENDING]))))
    outcomes: dict[int, Outcome] = {}
    tasks, notes = [], []
    for due in batch:
        if due.id not in still:
            continue
        reason = ctx.skip_reason(due)
        if reason:
            outcomes[due.id] = Outcome(StepStatus.SKIPPED, {"reason": reason})
            continue
        action = due.action
        values = _values(due, facts.get(due.account_id, {}))
        who = _recipient(action.to, due, ctx.leader)
        if action.type == "update_account":
            outcomes[due.id] = _set_field(session, due.account_id, action, actor)
        elif who is None:
            outcomes[due.id] = Outcome(StepStatus.SKIPPED, {"reason": NOBODY})
        elif action.type == "notify":
            notes.append({"user_email": who, "message": fill(action.message or "", values)[:2000],
                          "account_id": due.account_id, "step_id": due.id})
            outcomes[due.id] = Outcome(StepStatus.DONE, {"notified": who})
        else:
            tasks.append(_task_row(due, values, who, today, actor))
            outcomes[due.id] = Outcome(StepStatus.DONE, {"owner_email": who})
    # Core statements (no ORM bookkeeping): a batch is thousands of rows
    if tasks:
        t = Task.__table__
        task_ids = session.execute(
            insert(t).returning(t.c.id, sort_by_parameter_order=True), tasks).scalars().all()
        for row, task_id in zip(tasks, task_ids, strict=True):
            outcomes[row["step_id"]].result["task_id"] = task_id
    if notes:
        session.execute(insert(Notification.__table__), notes)
    finished = utcnow()
    by_id = {d.id: d for d in batch}
    if outcomes:
        st = PlaybookStep.__table__
        session.execute(
            update(st).where(st.c.id == bindparam("step_id")).values(
                status=bindparam("new_status"), result=bindparam("new_result"),
                last_error=bindparam("error"), finished_at=finished, next_attempt_at=None),
            [{"step_id": sid, "new_status": o.status, "new_result": o.result, "error": o.error}
             for sid, o in outcomes.items()],
        )
        session.execute(insert(AuditLog.__table__), [
            _audit_row(by_id[sid], o, actor, finished) for sid, o in outcomes.items()])
    return [str(o.status) for o in outcomes.values()]


def _recipient(rule: str | None, due: Due, leader: str | None) -> str | None:
    """The email an owner rule names (``account_owner``, ``leader`` or ``email:ADDRESS``);
    the leader stands in for an account without an owner."""
    rule = rule or "account_owner"
    if rule.startswith("email:"):
        return rule[len("email:"):].lower()
    if rule == "leader":
        return leader
    return (due.owner_email or leader or "").lower() or None


def _task_row(due: Due, values: dict[str, Any], who: str, today: date, actor: str) -> dict:
    account, action = due.account_id, due.action
    return {
        "account_id": account, "title": fill(action.title or "", values)[:300],
        "reason": fill(action.message or "{evidence}", values)[:2000],
        "evidence": [
            {"label": "Customer 360", "href": f"/accounts/{account}"},
            {"label": f"Playbook {due.playbook}", "href": f"/playbooks/{due.playbook}"},
            {"label": due.evidence, "href": f"/accounts/{account}#timeline"},
        ],
        "owner_email": who, "due_date": today + timedelta(days=action.due_days),
        "priority": action.priority, "status": TaskStatus.OPEN, "playbook": due.playbook,
        "step_id": due.id, "created_by": actor,
    }


def _set_field(session: Session, account_id: str, action: Action, actor: str) -> Outcome:
    assert action.field and action.value is not None
    row = session.get(AccountField, (account_id, action.field))
    if row is None:
        session.add(AccountField(account_id=account_id, field=action.field, value=action.value,
                                 set_by=actor))
    else:
        row.value, row.set_by = action.value, actor
    return Outcome(StepStatus.DONE, {"field": action.field, "value": action.value})


def _audit_row(due: Due, outcome: Outcome, actor: str, at: datetime) -> dict[str, Any]:
    return {
        "at": at, "actor": actor, "action": f"playbook.step_{outcome.status}",
        "target_type": "playbook_step", "target_id": str(due.id),
        "detail": {"playbook": due.playbook, "account_id": due.account_id,
                   "type": due.action.type, **outcome.result,
                   **({"error": outcome.error} if outcome.error else {})},
    }


def _run_step(
    platform: Platform, due: Due, today: date, now: datetime, actor: str,
    facts: dict[str, dict],
) -> str:
    """One email or webhook step: claim it (committed), send, then record the outcome."""
    store = platform.store
    with store.session() as session:
        step = session.get(PlaybookStep, due.id)
        assert step is not None
        if step.status not in (StepStatus.PENDING, StepStatus.SENDING):
            return "already finished"
        step.status, step.attempts = StepStatus.SENDING, step.attempts + 1
    values = _values(due, facts.get(due.account_id, {}))
    try:
        outcome = (
            _email(platform, due.id, due.action, values, today, now)
            if due.action.type == "email"
            else _webhook(platform, due.id, due.action, values, now)
        )
    except _SendFailed as exc:
        outcome = Outcome(StepStatus.FAILED, {}, str(exc), retry=not exc.permanent)
    with store.session() as session:
        step = session.get(PlaybookStep, due.id)
        assert step is not None
        if outcome.retry and step.attempts < MAX_ATTEMPTS:
            step.status = StepStatus.PENDING
            step.last_error = outcome.error
            step.next_attempt_at = now + timedelta(minutes=RETRY_MINUTES * 2 ** (step.attempts - 1))
            record(session, actor=actor, action="playbook.step_retry", target_type="playbook_step",
                   target_id=step.id, detail={"attempts": step.attempts, "error": outcome.error})
            return "retry"
        if outcome.retry:
            outcome.error = f"gave up after {step.attempts} attempts: {outcome.error}"
        step.status, step.result, step.last_error = outcome.status, outcome.result, outcome.error
        step.finished_at, step.next_attempt_at = utcnow(), None
        session.execute(insert(AuditLog.__table__), [_audit_row(due, outcome, actor, utcnow())])
        return str(outcome.status)


def message_id(step_id: int, recipient_key: str, domain: str = "helix.local") -> str:
    """The Message-ID / Idempotency-Key of one delivery: the same on every retry."""
    tag = hashlib.sha256(recipient_key.encode()).hexdigest()[:12]
    return f"<helix-step{step_id}-{tag}@{domain}>"


def _claim(session: Session, step_id: int, channel: str, key: str, address: str) -> Delivery:
    q = select(Delivery).where(Delivery.step_id == step_id, Delivery.recipient == key)
    found = session.scalars(q).first()
    if found is None:
        found = Delivery(step_id=step_id, channel=channel, recipient=key, address=address,
                         message_id=message_id(step_id, key), status="sending")
        session.add(found)
        session.flush()
    return found


def _email(
    platform: Platform, step_id: int, action: Action, values: dict[str, Any], today: date,
    now: datetime,
) -> Outcome:
    from helix.playbooks.email import (
        EmailSendError,
        SmtpSettings,
        build_message,
        render_email,
        send_message,
    )

    with platform.store.session() as session:
        smtp_value = get_setting(session, "smtp")
        if not smtp_value:
            return Outcome(StepStatus.SKIPPED, {"reason": "SMTP is not configured "
                                                "(helix settings set smtp ...)"})
        password = get_setting(session, "smtp.password")  # a key of its own: masked in logs
        smtp = SmtpSettings.from_mapping({**smtp_value, **({"password": password} if password
                                                            else {})})
        step = session.get(PlaybookStep, step_id)
        assert step is not None
        account_id = step.enrolment.account_id
        done = {d.recipient for d in step_deliveries(session, step_id) if d.status == "sent"}
        people, skipped = reachable_contacts(
            platform.warehouse, session, account_id, action.contact_roles, today, now,
            already=done,
        )
        claims = [(c, _claim(session, step_id, "email", c["contact_id"], c["email"]))
                  for c in people]
        pending = [(c, d.message_id) for c, d in claims if d.status == "sending"]
    if not done and not pending:
        return Outcome(StepStatus.SKIPPED, {"reason": "no contact could be emailed", **skipped})
    sent, errors, permanent = len(done), [], True
    for contact, mid in pending:
        url = unsubscribe_url(platform, contact["contact_id"])
        ctx = {**values, "contact_name": contact["name"], "unsubscribe_url": url,
               "owner_name": values["owner_email"]}
        rendered = render_email(action.template or "", ctx, extra_dir=_templates_dir(platform))
        msg = build_message(rendered, to_address=contact["email"], from_address=smtp.from_address,
                            message_id=mid, unsubscribe_url=url,
                            reply_to=values["owner_email"] or None)
        try:
            send_message(smtp, msg)
        except EmailSendError as exc:
            errors.append(f"{contact['contact_id']}: {exc}")
            permanent = permanent and exc.permanent
            _mark(platform, mid, "failed" if exc.permanent else "sending", str(exc), now)
            continue
        _mark(platform, mid, "sent", None, now)
        sent += 1
    result = {"sent": sent, **skipped}
    if errors and not permanent:
        raise _SendFailed("; ".join(errors), permanent=False)
    if errors and sent == 0:
        return Outcome(StepStatus.FAILED, result, "; ".join(errors))
    return Outcome(StepStatus.DONE, result | ({"errors": errors} if errors else {}))


def step_deliveries(session: Session, step_id: int) -> list[Delivery]:
    """The deliveries of one step."""
    return list(session.scalars(select(Delivery).where(Delivery.step_id == step_id)))


def _mark(platform: Platform, mid: str, status: str, error: str | None, now: datetime) -> None:
    """Record one delivery attempt (``now``: the run's clock, which frequency caps use)."""
    with platform.store.session() as session:
        d = session.scalars(select(Delivery).where(Delivery.message_id == mid)).one()
        d.status, d.error, d.attempts = status, error, d.attempts + 1
        if status == "sent":
            d.sent_at = now


def _templates_dir(platform: Platform) -> Any:
    path = platform.settings.home / "templates"
    return path if path.is_dir() else None


def _webhook(
    platform: Platform, step_id: int, action: Action, values: dict[str, Any], now: datetime
) -> Outcome:
    from helix.playbooks.webhooks import post_webhook, slack_payload

    name = action.webhook or ""
    with platform.store.session() as session:
        hooks = get_setting(session, "webhooks") or {}
        conf = hooks.get(name) if isinstance(hooks, dict) else None
        if not conf or not conf.get("url"):
            return Outcome(StepStatus.SKIPPED, {"reason": f"no webhook named {name!r} is "
                                                f"configured (setting webhooks.{name}.url)"})
        delivery = _claim(session, step_id, "webhook", name, str(conf["url"]))
        if delivery.status == "sent":
            return Outcome(StepStatus.DONE, {"webhook": name, "already_sent": True})
        mid = delivery.message_id
        secret = os.environ.get(f"HELIX_WEBHOOK_SECRET_{name.upper().replace('-', '_')}") or (
            get_setting(session, f"webhooks.{name}.secret"))
    text = fill(action.message or "{playbook}: {account_name}. {evidence}", values)
    payload: dict[str, Any] = (
        slack_payload(text, title=values["playbook"], link=f"/accounts/{values['account_id']}")
        if action.slack or conf.get("slack")
        else {"event": "playbook.action", "text": text, **values}
    )
    res = post_webhook(str(conf["url"]), payload, secret=secret, idempotency_key=mid)
    if not res.ok:
        _mark(platform, mid, "failed" if res.permanent else "sending", res.error, now)
        raise _SendFailed(f"webhook {name}: {res.error}", permanent=res.permanent)
    _mark(platform, mid, "sent", None, now)
    return Outcome(StepStatus.DONE, {"webhook": name, "status_code": res.status_code,
                                     "attempts": res.attempts})
