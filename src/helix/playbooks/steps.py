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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from helix.platform import Platform
from helix.playbooks.contacts import reachable_contacts, unsubscribe_url
from helix.playbooks.definition import Action, fill
from helix.store.audit import record
from helix.store.models import (
    AccountField,
    Delivery,
    Enrolment,
    Notification,
    PlaybookStep,
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


def recipient(session: Session, rule: str | None, enrolment: Enrolment, default: str) -> str | None:
    """The email an owner rule names for ``enrolment`` (``account_owner``, ``leader`` or
    ``email:ADDRESS``); the leader stands in for an account without an owner."""
    rule = rule or default
    if rule.startswith("email:"):
        return rule[len("email:"):]
    if rule == "leader":
        return leader_email(session)
    return enrolment.owner_email or leader_email(session)


def _values(enrolment: Enrolment, facts: dict[str, Any]) -> dict[str, Any]:
    renewal = facts.get("next_renewal")
    return {
        "renewal_date": renewal.isoformat() if renewal else "",
        "days_to_renewal": (renewal - enrolment.occurred_on).days if renewal else "",
        "account_name": facts.get("name") or enrolment.account_id,
        "account_id": enrolment.account_id,
        "evidence": enrolment.evidence,
        "owner_email": enrolment.owner_email or "",
        "arr": f"${facts.get('arr', 0):,.0f}",
        "occurred_on": enrolment.occurred_on.isoformat(),
        "playbook": enrolment.playbook,
    }


def due_steps(session: Session, today: date, now: datetime) -> list[PlaybookStep]:
    """Steps that may run now: due, not waiting for a retry, and every earlier step of
    their enrolment finished."""
    q = (
        select(PlaybookStep)
        .where(PlaybookStep.status.in_([StepStatus.PENDING, StepStatus.SENDING]))
        .where(PlaybookStep.due_on <= today)
        .where((PlaybookStep.next_attempt_at.is_(None)) | (PlaybookStep.next_attempt_at <= now))
        .order_by(PlaybookStep.enrolment_id, PlaybookStep.position)
    )
    candidates = list(session.scalars(q))
    if not candidates:
        return []
    ids = {s.enrolment_id for s in candidates}
    open_before: dict[int, int] = {}
    rows = session.execute(
        select(PlaybookStep.enrolment_id, func.min(PlaybookStep.position))
        .where(PlaybookStep.enrolment_id.in_(ids))
        .where(PlaybookStep.status.not_in(FINISHED))
        .group_by(PlaybookStep.enrolment_id)
    )
    for enrolment_id, first_open in rows:
        open_before[enrolment_id] = first_open
    return [s for s in candidates if s.position == open_before.get(s.enrolment_id)]


def execute(
    platform: Platform,
    today: date,
    *,
    now: datetime | None = None,
    actor: str = "system",
    facts: dict[str, dict] | None = None,
) -> dict[str, int]:
    """Run every step that is due on ``today``; return counts by what happened.

    Steps run in rounds, so a step whose wait is zero runs right after the one before it."""
    from helix.playbooks.engine import account_facts

    now = now or utcnow()
    counts: dict[str, int] = defaultdict(int)
    while True:
        with platform.store.session() as session:
            steps = due_steps(session, today, now)
            ids = [s.id for s in steps]
            accounts = {s.enrolment.account_id for s in steps}
            known = facts if facts is not None else account_facts(
                platform.warehouse, session, accounts
            )
        if not ids:
            break
        progressed = False
        for step_id in ids:
            status = _run_step(platform, step_id, today, now, actor, known)
            counts[status] += 1
            progressed = progressed or status != "retry"
        if not progressed:
            break
    return dict(counts)


def _run_step(
    platform: Platform, step_id: int, today: date, now: datetime, actor: str,
    facts: dict[str, dict],
) -> str:
    store = platform.store
    with store.session() as session:
        step = session.get(PlaybookStep, step_id)
        assert step is not None
        action = Action.model_validate(step.action)
        enrolment = step.enrolment
        values = _values(enrolment, facts.get(enrolment.account_id, {}))
        skip = _unless(platform.warehouse, session, action, enrolment)
        if skip:
            return _finish(session, step, Outcome(StepStatus.SKIPPED, {"reason": skip}), actor)
        if action.type in ("task", "notify", "update_account"):
            outcome = _local(session, step, action, enrolment, values, today, actor)
            return _finish(session, step, outcome, actor)
        step.status, step.attempts = StepStatus.SENDING, step.attempts + 1
    # external: the claim above is committed; send outside any open transaction
    try:
        outcome = (
            _email(platform, step_id, action, values, today, now)
            if action.type == "email"
            else _webhook(platform, step_id, action, values)
        )
    except _SendFailed as exc:
        outcome = Outcome(StepStatus.FAILED, {}, str(exc), retry=not exc.permanent)
    with store.session() as session:
        step = session.get(PlaybookStep, step_id)
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
        return _finish(session, step, outcome, actor)


def _finish(session: Session, step: PlaybookStep, outcome: Outcome, actor: str) -> str:
    step.status, step.result, step.last_error = outcome.status, outcome.result, outcome.error
    step.finished_at, step.next_attempt_at = utcnow(), None
    record(session, actor=actor, action=f"playbook.step_{outcome.status}",
           target_type="playbook_step", target_id=step.id,
           detail={"playbook": step.enrolment.playbook, "account_id": step.enrolment.account_id,
                   "type": step.action.get("type"), **outcome.result,
                   **({"error": outcome.error} if outcome.error else {})})
    return str(outcome.status)


def _unless(wh: Warehouse, session: Session, action: Action, enrolment: Enrolment) -> str | None:
    """Why the step is skipped (its ``unless`` holds), or None."""
    if action.unless == "task_done":
        q = select(func.count()).select_from(Task).join(
            PlaybookStep, Task.step_id == PlaybookStep.id
        ).where(PlaybookStep.enrolment_id == enrolment.id, Task.status == TaskStatus.DONE)
        return "the playbook's task is already done" if session.scalar(q) else None
    if action.unless == "replied" and wh.has_table("activities"):
        t = wh.table("activities")
        since = datetime.combine(enrolment.occurred_on, datetime.min.time())
        hits = t.filter(
            (t.account_id == enrolment.account_id) & (t.direction == "inbound")
            & (t.occurred_at >= since)
        ).count().to_pyarrow().as_py()
        return f"the customer replied ({hits} inbound since {enrolment.occurred_on})" if hits else None
    return None


def _local(
    session: Session, step: PlaybookStep, action: Action, enrolment: Enrolment,
    values: dict[str, Any], today: date, actor: str,
) -> Outcome:
    who = recipient(session, action.to, enrolment, "account_owner")
    if action.type == "update_account":
        assert action.field and action.value is not None
        row = session.get(AccountField, (enrolment.account_id, action.field))
        if row is None:
            row = AccountField(account_id=enrolment.account_id, field=action.field,
                               value=action.value, set_by=actor)
            session.add(row)
        row.value, row.set_by = action.value, actor
        return Outcome(StepStatus.DONE, {"field": action.field, "value": action.value})
    if who is None:
        return Outcome(StepStatus.SKIPPED, {"reason": "nobody to assign: the account has no "
                                            "owner and there is no leader or admin user"})
    if action.type == "notify":
        note = Notification(user_email=who, message=fill(action.message or "", values),
                            account_id=enrolment.account_id, step_id=step.id)
        session.add(note)
        return Outcome(StepStatus.DONE, {"notified": who})
    task = Task(
        account_id=enrolment.account_id,
        title=fill(action.title or "", values)[:300],
        reason=fill(action.message or "{evidence}", values)[:2000],
        evidence=[
            {"label": "Customer 360", "href": f"/accounts/{enrolment.account_id}"},
            {"label": f"Playbook {enrolment.playbook}", "href": f"/playbooks/{enrolment.playbook}"},
            {"label": enrolment.evidence, "href": f"/accounts/{enrolment.account_id}#timeline"},
        ],
        owner_email=who, due_date=today + timedelta(days=action.due_days),
        priority=action.priority, status=TaskStatus.OPEN, playbook=enrolment.playbook,
        step_id=step.id, created_by=actor,
    )
    session.add(task)
    session.flush()
    return Outcome(StepStatus.DONE, {"task_id": task.id, "owner_email": who})


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
            _mark(platform, mid, "failed" if exc.permanent else "sending", str(exc))
            continue
        _mark(platform, mid, "sent", None)
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


def _mark(platform: Platform, mid: str, status: str, error: str | None) -> None:
    with platform.store.session() as session:
        d = session.scalars(select(Delivery).where(Delivery.message_id == mid)).one()
        d.status, d.error, d.attempts = status, error, d.attempts + 1
        if status == "sent":
            d.sent_at = utcnow()


def _templates_dir(platform: Platform) -> Any:
    path = platform.settings.home / "templates"
    return path if path.is_dir() else None


def _webhook(platform: Platform, step_id: int, action: Action, values: dict[str, Any]) -> Outcome:
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
        _mark(platform, mid, "failed" if res.permanent else "sending", res.error)
        raise _SendFailed(f"webhook {name}: {res.error}", permanent=res.permanent)
    _mark(platform, mid, "sent", None)
    return Outcome(StepStatus.DONE, {"webhook": name, "status_code": res.status_code,
                                     "attempts": res.attempts})
