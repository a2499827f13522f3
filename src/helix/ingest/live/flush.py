"""From the spool into the warehouse, through the importer.

A flush round takes up to ``flush_batch`` spooled messages and turns them into
contract rows (``accounts``, ``contacts``, ``events``, ``subscriptions``,
``payments``). Accounts, contacts, subscriptions and payments are written as
Parquet files and imported with :func:`helix.ingest.import_files`: the same
typing, checks, de-duplication and merge as ``helix import``. Events, typed and
checked when the API accepted them, go straight to the importer's merge (its
de-duplication by ``event_id``), in the same transaction. Only after the commit
are the messages marked loaded, so a crash in between makes the next round
import them again, which changes nothing (events are de-duplicated by
``event_id`` = ``messageId``; the other tables are upserted by key).

What resolves a message's account:

* a group call's ``groupId``, and the ``context.groupId`` of any call;
* otherwise the account an earlier identify or group call tied the
  ``userId`` (or ``anonymousId``) to, which the spool remembers.

A message whose account is not known yet waits in the spool and is tried again.
Live calls add accounts (from group calls) and contacts (from identify calls
with a name or email) that the warehouse does not have; they never change
accounts or contacts it already holds, which stay owned by your CRM import.

Only one process flushes a data directory at a time (a lock file), and the
server flushes under the same lock its requests use for the warehouse, in
rounds, so that readers are kept waiting for one round at most.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import logging
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from helix.errors import ConfigError, HelixError, WarehouseBusy
from helix.ingest.live import stripe_events as se
from helix.ingest.live.segment import event_fields, parse_time
from helix.ingest.live.spool import Spool, SpoolMessage, spool_path

if TYPE_CHECKING:
    from helix.platform import Platform
    from helix.warehouse import Warehouse

__all__ = ["LiveConfig", "FlushResult", "flush_round", "Flusher", "flush_spool", "open_spool"]

log = logging.getLogger("helix.live")

_MONEY = pa.decimal128(20, 6)
_SCHEMAS = {
    "accounts": pa.schema(
        [
            ("account_id", pa.string()),
            ("name", pa.string()),
            ("created_at", pa.timestamp("us")),
            ("industry", pa.string()),
            ("source", pa.string()),
        ]
    ),
    "contacts": pa.schema(
        [
            ("contact_id", pa.string()),
            ("account_id", pa.string()),
            ("name", pa.string()),
            ("email", pa.string()),
            ("title", pa.string()),
            ("started_at", pa.date32()),
        ]
    ),
    "events": pa.schema(
        [
            ("account_id", pa.string()),
            ("event_time", pa.timestamp("us")),
            ("event_type", pa.string()),
            ("user_id", pa.string()),
            ("value", pa.float64()),
            ("event_id", pa.string()),
        ]
    ),
    "subscriptions": pa.schema(
        [
            ("subscription_id", pa.string()),
            ("account_id", pa.string()),
            ("product", pa.string()),
            ("plan", pa.string()),
            ("start_date", pa.date32()),
            ("end_date", pa.date32()),
            ("mrr", _MONEY),
            ("quantity", _MONEY),
            ("currency", pa.string()),
            ("contract_end_date", pa.date32()),
        ]
    ),
    "payments": pa.schema(
        [
            ("account_id", pa.string()),
            ("due_date", pa.date32()),
            ("amount", _MONEY),
            ("status", pa.string()),
            ("paid_at", pa.timestamp("us")),
        ]
    ),
}


@dataclass(frozen=True)
class LiveConfig:
    """Live-ingestion settings, from the app store (``helix settings set live.<name> V``)."""

    max_backlog: int = 1_000_000
    """Pending messages past which the API answers 503 with Retry-After."""
    flush_interval_s: float = 2.0
    """How often the server flushes the spool into the warehouse."""
    flush_batch: int = 50_000
    """Messages per flush round (one warehouse transaction)."""
    retry_waiting_s: float = 60.0
    """How long a message whose account is unknown waits before it is tried again."""
    keep_days: float = 7.0
    """How long a loaded message's id is kept to de-duplicate a resend."""
    create_accounts: bool = True
    """Whether a group call for an account the warehouse lacks creates it."""

    _KEYS = {
        "live.max_backlog": ("max_backlog", int, 1, None),
        "live.flush_interval_seconds": ("flush_interval_s", float, 0.05, None),
        "live.flush_batch": ("flush_batch", int, 1, 1_000_000),
        "live.retry_waiting_seconds": ("retry_waiting_s", float, 0.0, None),
        "live.keep_days": ("keep_days", float, 0.0, None),
        "live.create_accounts": ("create_accounts", bool, None, None),
    }

    @classmethod
    def from_settings(cls, values: dict[str, Any]) -> LiveConfig:
        """The config in ``values`` (all app-store settings); a bad value is a ConfigError."""
        kwargs: dict[str, Any] = {}
        for key, (attr, kind, lo, hi) in cls._KEYS.items():
            if key not in values or values[key] is None:
                continue
            raw = values[key]
            ok = (
                isinstance(raw, bool)
                if kind is bool
                else (
                    isinstance(raw, int | float)
                    and not isinstance(raw, bool)
                    and (kind is float or float(raw).is_integer())
                )
            )
            if not ok or (lo is not None and raw < lo) or (hi is not None and raw > hi):
                bounds = (
                    "true or false"
                    if kind is bool
                    else (
                        f"a {'whole ' if kind is int else ''}number >= {lo}"
                        + (f" and <= {hi}" if hi else "")
                    )
                )
                raise ConfigError(
                    f"the setting {key} is {raw!r}",
                    hint=f"set it to {bounds}: helix settings set {key} ...",
                )
            kwargs[attr] = kind(raw)
        return cls(**kwargs)

    @classmethod
    def load(cls, platform: Platform) -> LiveConfig:
        """The config stored in ``platform``'s app store."""
        from helix.store.settings import all_settings

        with platform.store.session() as session:
            return cls.from_settings(all_settings(session))


def open_spool(home: Path) -> Spool:
    """The spool of the data directory ``home`` (created on first use)."""
    return Spool(spool_path(home))


@dataclass
class FlushResult:
    """What a flush did: messages taken from the spool and where each went."""

    taken: int = 0
    loaded: int = 0
    waiting: int = 0
    rejected: int = 0
    ignored: int = 0
    rows: dict[str, int] = field(default_factory=dict)  # contract rows new in the warehouse
    rounds: int = 0
    seconds: float = 0.0
    error: str | None = None

    def add(self, other: FlushResult) -> None:
        for name in ("taken", "loaded", "waiting", "rejected", "ignored", "rounds"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for table, n in other.rows.items():
            self.rows[table] = self.rows.get(table, 0) + n
        self.seconds += other.seconds
        self.error = other.error or self.error

    def to_dict(self) -> dict[str, Any]:
        return {
            "taken": self.taken,
            "loaded": self.loaded,
            "waiting": self.waiting,
            "rejected": self.rejected,
            "ignored": self.ignored,
            "rows": dict(self.rows),
            "rounds": self.rounds,
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


# ---------------------------------------------------------------------------
# One round
# ---------------------------------------------------------------------------


class _Round:
    """The rows one round builds, and which messages each came from."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in _SCHEMAS}
        self.origin: dict[str, list[int]] = {t: [] for t in _SCHEMAS}  # row -> message seq
        self.waiting: dict[int, str] = {}
        self.ignored: dict[int, str] = {}
        self.identities: dict[tuple[str, str], tuple[str, int]] = {}
        self.stripe_objects: dict[str, tuple[str | None, int, str]] = {}

    def add(self, table: str, row: dict[str, Any], seq: int) -> None:
        self.rows[table].append(row)
        self.origin[table].append(seq)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _group_of(p: dict[str, Any]) -> str | None:
    if p["type"] == "group":
        return _str(p.get("groupId"))
    return _str((p.get("context") or {}).get("groupId"))


def _existing(wh: Warehouse, table: str, column: str, ids: set[str]) -> set[str]:
    """Which of ``ids`` the warehouse ``table`` holds in ``column``."""
    if not ids:
        return set()
    t = wh.table(table)
    # a join with an in-memory table: a long IN (...) list costs more to compile than to run
    wanted = ibis.memtable(pa.table({"_id": pa.array(sorted(ids), pa.string())}))
    found = t.semi_join(wanted, t[column] == wanted._id).select(column).distinct().to_pyarrow()
    return set(found[column].to_pylist())


def _person_name(traits: dict[str, Any]) -> str | None:
    name = traits.get("name")
    if isinstance(name, str) and name.strip():
        return name.strip()
    parts = [traits.get(k) for k in ("firstName", "lastName", "first_name", "last_name")]
    joined = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    return joined or None


def _event_row(m: SpoolMessage, account: str) -> dict[str, Any]:
    if m.is_event:
        assert m.event_time is not None
        return {
            "account_id": account,
            "event_time": datetime.fromisoformat(m.event_time),
            "event_type": m.event_type,
            "user_id": m.user_id or m.anonymous_id,
            "value": m.value,
            "event_id": m.message_id,
        }
    return {"account_id": account, **event_fields(m.payload)}  # spooled without the columns


def _known_account(known: dict[tuple[str, str], str], p: dict[str, Any]) -> str | None:
    uid, aid = p.get("userId"), p.get("anonymousId")
    return (known.get(("user", str(uid))) if uid is not None else None) or (
        known.get(("anonymous", str(aid))) if aid is not None else None
    )


def _segment(
    wh: Warehouse, spool: Spool, msgs: list[SpoolMessage], rnd: _Round, config: LiveConfig
) -> None:
    # 1. who belongs to which account: what the spool knows, then this round's calls in order
    users = {str(m.payload["userId"]) for m in msgs if m.payload.get("userId") is not None}
    users |= {str(m.payload["previousId"]) for m in msgs if m.payload.get("previousId") is not None}
    anons = {
        str(m.payload["anonymousId"]) for m in msgs if m.payload.get("anonymousId") is not None
    }
    known = {("user", k): v for k, v in spool.identities("user", users).items()}
    known.update({("anonymous", k): v for k, v in spool.identities("anonymous", anons).items()})

    def learn(kind: str, ident: Any, account: str, seq: int) -> None:
        if ident is not None:
            known[(kind, str(ident))] = account
            rnd.identities[(kind, str(ident))] = (account, seq)

    account_of: dict[int, str | None] = {}
    for m in msgs:  # oldest first: a later call overrides an earlier one
        p = m.payload
        group = _group_of(p)
        if group is None and p["type"] == "identify":
            traits = p.get("traits") or {}
            company = traits.get("company")
            group = _str(traits.get("groupId")) or _str(
                company.get("id") if isinstance(company, dict) else None
            )
        if p["type"] == "alias":
            group = known.get(("user", str(p["userId"]))) or known.get(
                ("user", str(p["previousId"]))
            )
            if group is not None:
                learn("user", p["previousId"], group, m.seq)
                learn("user", p["userId"], group, m.seq)
        elif group is not None and p["type"] in ("group", "identify"):
            learn("user", p.get("userId"), group, m.seq)
            learn("anonymous", p.get("anonymousId"), group, m.seq)
        account_of[m.seq] = group if group is not None else _known_account(known, p)
    for m in msgs:  # tied to an account only by a later call of this round
        if account_of[m.seq] is None:
            account_of[m.seq] = _known_account(known, m.payload)

    # 2. which of those accounts exist; group calls create the missing ones
    wanted = {a for a in account_of.values() if a is not None}
    present = _existing(wh, "accounts", "account_id", wanted)
    created: dict[str, tuple[dict[str, Any], int]] = {}
    if config.create_accounts:
        for m in msgs:
            acc = account_of[m.seq]
            if m.payload["type"] != "group" or acc is None or acc in present:
                continue
            traits = m.payload.get("traits") or {}
            name = traits.get("name")
            created_at = None
            for key in ("createdAt", "created_at"):
                with contextlib.suppress(Exception):
                    created_at = parse_time(traits.get(key), key) if traits.get(key) else None
                if created_at:
                    break
            industry = traits.get("industry")
            created[acc] = (
                {
                    "account_id": acc,
                    "name": name.strip() if isinstance(name, str) and name.strip() else acc,
                    "created_at": created_at or datetime.fromisoformat(m.payload["timestamp"]),
                    "industry": industry if isinstance(industry, str) else None,
                    "source": "segment",
                },
                m.seq,
            )
    for row, seq in created.values():
        rnd.add("accounts", row, seq)
    available = present | set(created)

    # 3. contacts the warehouse lacks, from identify calls that name a person
    candidates = {
        str(m.payload["userId"]): m
        for m in msgs
        if m.payload["type"] == "identify"
        and m.payload.get("userId") is not None
        and account_of[m.seq] in available
    }
    have_contacts = _existing(wh, "contacts", "contact_id", set(candidates))
    for contact_id, m in candidates.items():
        traits = m.payload.get("traits") or {}
        email = traits.get("email") if isinstance(traits.get("email"), str) else None
        name = _person_name(traits) or email
        if contact_id in have_contacts or name is None:
            continue
        title = traits.get("title")
        rnd.add(
            "contacts",
            {
                "contact_id": contact_id,
                "account_id": account_of[m.seq],
                "name": name,
                "email": email,
                "title": title if isinstance(title, str) else None,
                "started_at": datetime.fromisoformat(m.payload["timestamp"]).date(),
            },
            m.seq,
        )

    # 4. events; a message without a known account waits
    for m in msgs:
        acc, kind = account_of[m.seq], m.payload["type"]
        if kind not in ("track", "page", "screen"):
            if kind == "group" and acc not in available:
                rnd.waiting[m.seq] = (
                    f"account {acc!r} is not in the warehouse (live.create_accounts is off)"
                )
            continue
        if acc is None:
            who = m.payload.get("userId") or m.payload.get("anonymousId")
            rnd.waiting[m.seq] = (
                f"no account: no context.groupId, and no identify or group call"
                f" has tied {who!r} to one"
            )
        elif acc not in available:
            rnd.waiting[m.seq] = f"account {acc!r} is not in the warehouse"
        else:
            rnd.add("events", _event_row(m, acc), m.seq)


# -- Stripe ---------------------------------------------------------------------


_SUB_COLUMNS = [f.name for f in _SCHEMAS["subscriptions"]]


def _sub_row_parts(row_id: str) -> tuple[str, str] | None:
    parts = row_id.rsplit(":", 2)
    return (parts[0], parts[1]) if len(parts) == 3 else None


def _load_sub_rows(wh: Warehouse, sub_ids: set[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """The warehouse rows of each Stripe subscription, by row id."""
    out: dict[str, dict[str, dict[str, Any]]] = {s: {} for s in sub_ids}
    if not sub_ids:
        return out
    t = wh.table("subscriptions")
    prefix = t.subscription_id.split(":")[0]
    rows = t.filter(prefix.isin(sorted(sub_ids))).select(*_SUB_COLUMNS).to_pyarrow().to_pylist()
    for row in rows:
        parts = _sub_row_parts(row["subscription_id"])
        if parts and parts[0] in out:
            out[parts[0]][row["subscription_id"]] = row
    return out


def _apply_subscription(
    rows: dict[str, dict[str, Any]], event: dict[str, Any], account: str
) -> set[str]:
    """Change ``rows`` (one subscription's, by id) to what ``event`` says; the ids changed."""
    sub_id = event["data"]["object"]["id"]
    day = se.event_day(event)
    desired = {t.item_id: t for t in se.subscription_terms(event)}
    open_rows: dict[str, dict[str, Any]] = {}
    for row in sorted(rows.values(), key=lambda r: r["start_date"]):
        if row["end_date"] is None or row["end_date"] > day:
            parts = _sub_row_parts(row["subscription_id"])
            if parts:
                open_rows[parts[1]] = row  # the latest-starting open row of each line
    changed: set[str] = set()
    for item, row in open_rows.items():
        terms = desired.get(item)
        current = se.Terms(
            item,
            row["product"],
            row["plan"],
            Decimal(row["mrr"]),
            None if row["quantity"] is None else Decimal(row["quantity"]),
            row["currency"],
            row["contract_end_date"],
        )
        if terms is not None and terms.same_terms(current):
            desired.pop(item)
            if row["contract_end_date"] != terms.contract_end_date or row["end_date"] is not None:
                row.update(contract_end_date=terms.contract_end_date, end_date=None)
                changed.add(row["subscription_id"])
            continue
        if row["start_date"] < day:
            row["end_date"] = day
        elif terms is None:  # a line that began today and ended today: no revenue, one day
            row.update(mrr=Decimal(0), end_date=se.next_day(row["start_date"]))
        changed.add(row["subscription_id"])
    for item, terms in desired.items():
        row_id = f"{sub_id}:{item}:{day:%Y%m%d}"
        rows[row_id] = {
            "subscription_id": row_id,
            "account_id": account,
            "product": terms.product,
            "plan": terms.plan,
            "start_date": day,
            "end_date": None,
            "mrr": terms.mrr,
            "quantity": terms.quantity,
            "currency": terms.currency,
            "contract_end_date": terms.contract_end_date,
        }
        changed.add(row_id)
    return changed


def _stripe(wh: Warehouse, spool: Spool, msgs: list[SpoolMessage], rnd: _Round) -> None:
    events = sorted(msgs, key=lambda m: (m.payload["created"], m.seq))
    objects = {se.customer_id(m.payload) for m in events}
    subs = {
        m.payload["data"]["object"]["id"]
        for m in events
        if m.kind.startswith("customer.subscription.")
    }
    known = spool.stripe_objects(objects | subs)
    hinted = {se.account_hint(m.payload) for m in events} | objects
    present = _existing(wh, "accounts", "account_id", {h for h in hinted if h})
    sub_rows = _load_sub_rows(wh, subs)
    changed: dict[str, tuple[set[str], int]] = {}  # subscription -> (row ids, last seq)
    for m in events:
        ev, customer = m.payload, se.customer_id(m.payload)
        account = se.account_hint(ev) or (known.get(customer) or (None, 0))[0]
        if account is None and customer in present:
            account = customer
        if account is None or account not in present:
            rnd.waiting[m.seq] = (
                f"no account for Stripe customer {customer!r}: set metadata.helix_account_id"
                " on the subscription, or import an account with that id"
                if account is None
                else f"account {account!r} is not in the warehouse"
            )
            continue
        known[customer] = (account, 0)
        rnd.stripe_objects[customer] = (account, 0, ev["id"])
        if m.kind == "invoice.payment_failed":
            rnd.add("payments", se.payment_row(ev, account), m.seq)
            continue
        sub_id = ev["data"]["object"]["id"]
        last = known.get(sub_id, (None, 0))[1]
        if ev["created"] < last:
            rnd.ignored[m.seq] = "older than a change already applied to this subscription"
            continue
        known[sub_id] = (account, ev["created"])
        rnd.stripe_objects[sub_id] = (account, ev["created"], ev["id"])
        ids = _apply_subscription(sub_rows[sub_id], ev, account)
        prior = changed.get(sub_id, (set(), m.seq))[0]
        changed[sub_id] = (prior | ids, m.seq)
    for sub_id, (ids, seq) in changed.items():
        for row_id in sorted(ids):
            rnd.add("subscriptions", sub_rows[sub_id][row_id], seq)


# -- writing ------------------------------------------------------------------------


def _rejections(report_dir: Path, table: str, origin: list[int]) -> dict[int, str]:
    path = report_dir / f"{table}.errors.csv"
    out: dict[int, str] = {}
    if not path.exists():
        return out
    with path.open(newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            seq = origin[int(rec["row"]) - 1]
            out.setdefault(seq, f"{table}.{rec['column']}: {rec['reason']}")
    return out


def _import(
    wh: Warehouse,
    work_root: Path,
    flush_id: str,
    tables: dict[str, list[dict[str, Any]]],
    rnd: _Round,
    result: FlushResult,
) -> dict[int, str]:
    """Import ``tables`` as contract files; return the messages whose rows were rejected."""
    from helix.ingest import import_files

    work = work_root / "work" / flush_id
    work.mkdir(parents=True, exist_ok=True)
    try:
        for table, rows in tables.items():
            path = work / f"{table}.parquet"
            pq.write_table(pa.Table.from_pylist(rows, schema=_SCHEMAS[table]), path)
        report = import_files(wh, work, imports_dir=work_root / "imports", import_id=flush_id)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report_dir = Path(report.report_dir or "")
    rejected: dict[int, str] = {}
    for table, rep in report.tables.items():
        result.rows[table] = rep.new + rep.updated
        if rep.rejected:
            rejected.update(_rejections(report_dir, table, rnd.origin[table]))
    if not rejected:  # nothing to look at later: keep the reports of rejections only
        shutil.rmtree(report_dir, ignore_errors=True)
    return rejected


def _merge_events(wh: Warehouse, rows: list[dict[str, Any]], flush_id: str) -> int:
    """Add events the warehouse lacks (by ``event_id``) with the importer's own merge.

    Their values were typed and checked when the API accepted them, and their
    accounts just now, so the importer's staging and checks would only repeat
    that, at a fixed cost of a second or so per round.
    """
    from helix.ingest.loader import merge
    from helix.warehouse.schema import ATTRIBUTES, EVENTS

    data = pa.Table.from_pylist(rows, schema=_SCHEMAS["events"])
    data = data.append_column(ATTRIBUTES, pa.nulls(len(rows), pa.string()))
    scratch = wh.scratch_name("live_events")
    wh.upload(scratch, data, temp=True)
    try:
        counts = merge(wh, EVENTS, wh.table(scratch), total=len(rows))
    finally:
        wh.drop(scratch)
    if counts.changed:
        wh.record_change("events", note=f"live {flush_id}")
    return counts.new


def flush_round(
    wh: Warehouse, spool: Spool, work_root: Path, config: LiveConfig, limit: int | None = None
) -> FlushResult:
    """Move up to ``limit`` (default ``config.flush_batch``) spooled messages into ``wh``."""
    from helix.ingest import new_import_id

    t0 = time.perf_counter()
    started = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    msgs = spool.take(limit or config.flush_batch)
    result = FlushResult(taken=len(msgs), rounds=1 if msgs else 0)
    if not msgs:
        return result
    rnd = _Round()
    _segment(wh, spool, [m for m in msgs if m.source == "segment"], rnd, config)
    _stripe(wh, spool, [m for m in msgs if m.source == "stripe"], rnd)
    rejected: dict[int, str] = {}
    others = {t: rows for t, rows in rnd.rows.items() if rows and t != "events"}
    if others or rnd.rows["events"]:
        flush_id = new_import_id()
        with wh.transaction():  # accounts, contacts ... and events commit together
            if others:
                rejected = _import(wh, work_root, flush_id, others, rnd, result)
            if rnd.rows["events"]:
                result.rows["events"] = _merge_events(wh, rnd.rows["events"], flush_id)
    loaded = [
        m.seq
        for m in msgs
        if m.seq not in rnd.waiting and m.seq not in rejected and m.seq not in rnd.ignored
    ]
    spool.settle(
        loaded=loaded,
        waiting=rnd.waiting,
        rejected=rejected,
        ignored=rnd.ignored,
        retry_in_s=config.retry_waiting_s,
        identities=[(k, i, acc, seq) for (k, i), (acc, seq) in rnd.identities.items()],
        stripe_objects=[(o, a, c, e) for o, (a, c, e) in rnd.stripe_objects.items()],
    )
    result.loaded, result.waiting = len(loaded), len(rnd.waiting)
    result.rejected, result.ignored = len(rejected), len(rnd.ignored)
    result.seconds = time.perf_counter() - t0
    spool.record_flush(
        started_at=started, seconds=result.seconds, counts=result.to_dict(), error=None
    )
    return result


# ---------------------------------------------------------------------------
# Flushing a data directory: the lock, rounds, and the server's background thread
# ---------------------------------------------------------------------------


@contextlib.contextmanager
def _flush_lock(home: Path, wait_s: float) -> Iterator[bool]:
    """The data directory's flush lock (one flushing process at a time); yields
    whether it was taken within ``wait_s`` seconds."""
    path = home / "live" / "flush.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.05)
        try:
            yield True
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


WarehouseOpener = Callable[[], AbstractContextManager["Warehouse"]]


class Flusher:
    """Flushes one data directory's spool, in rounds, as often as asked or in the background.

    ``open_warehouse`` gives the warehouse for one round (the server's holds its
    request lock and releases the file afterwards, so that other processes can
    use it between rounds).
    """

    def __init__(self, platform: Platform, open_warehouse: WarehouseOpener, spool: Spool) -> None:
        self.platform = platform
        self.open_warehouse = open_warehouse
        self.spool = spool
        self.home = platform.settings.home
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._limit: int | None = None  # smaller after a failed round, to isolate a bad message
        self._pruned_at = 0.0

    def flush(self, *, until_empty: bool = True, lock_wait_s: float = 0.0) -> FlushResult:
        """Flush pending messages (all of them with ``until_empty``). Returns what moved;
        a round that failed leaves its messages pending and says why in ``error``."""
        total = FlushResult()
        config = LiveConfig.load(self.platform)
        with _flush_lock(self.home, lock_wait_s) as locked:
            if not locked:
                total.error = "another process is flushing this data directory"
                return total
            while not self._stop.is_set():
                limit = self._limit or config.flush_batch
                try:
                    with self.open_warehouse() as wh:
                        result = flush_round(wh, self.spool, self.home / "live", config, limit)
                except WarehouseBusy as exc:
                    total.error = exc.for_people()
                    break
                except Exception as exc:  # noqa: BLE001 - a bad round must not stop the flusher
                    total.error = self._failed(exc, limit, config)
                    if self._limit is None:
                        break
                    continue
                self._limit = None
                total.add(result)
                if not until_empty or result.taken < limit:
                    break
            if time.monotonic() - self._pruned_at > 3600:
                self.spool.prune(config.keep_days)
                self._pruned_at = time.monotonic()
        return total

    def _failed(self, exc: Exception, limit: int, config: LiveConfig) -> str:
        """Note a failed round. Rounds then shrink to isolate the message that fails; a
        single message that fails on its own is set aside to wait (and be tried again
        later), so that it cannot hold up the rest."""
        text = exc.for_people() if isinstance(exc, HelixError) else f"{type(exc).__name__}: {exc}"
        log.exception("live flush round failed")
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
        self.spool.record_flush(started_at=now, seconds=0.0, counts={"taken": limit}, error=text)
        if limit > 1:
            self._limit = max(1, limit // 10)
        else:
            first = self.spool.take(1)
            if first:
                self.spool.settle(
                    waiting={first[0].seq: f"could not be loaded: {text}"[:1000]},
                    retry_in_s=config.retry_waiting_s,
                )
            self._limit = None
        return text

    # -- background -----------------------------------------------------------------
    def start(self) -> None:
        """Flush in a background thread every ``live.flush_interval_seconds`` (and at once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="helix-live-flush", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Ask the background thread to flush now (e.g. the backlog is growing)."""
        self._wake.set()

    def _run(self) -> None:
        interval = LiveConfig().flush_interval_s
        while not self._stop.is_set():
            try:
                interval = LiveConfig.load(self.platform).flush_interval_s
                if self.spool.backlog(max_age_s=0) or self._waiting_due():
                    result = self.flush()
                    if result.error and self._limit is None:
                        interval = max(interval, 5.0)  # the warehouse is busy elsewhere
            except Exception:  # noqa: BLE001 - keep flushing; the next round tries again
                log.exception("live flush failed")
                interval = max(interval, 5.0)
            self._wake.wait(interval)
            self._wake.clear()

    def _waiting_due(self) -> bool:
        return bool(self.spool.count("waiting")) and bool(self.spool.take(1))

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the background thread after the round in progress."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


def flush_spool(platform: Platform, *, lock_wait_s: float = 30.0) -> FlushResult | None:
    """Flush the data directory's spool into its warehouse (``helix live flush``, and
    ``helix run`` before it computes); ``None`` when there is no spool."""
    if not spool_path(platform.settings.home).exists():
        return None

    @contextlib.contextmanager
    def opener() -> Iterator[Warehouse]:
        yield platform.warehouse

    with open_spool(platform.settings.home) as spool:
        return Flusher(platform, opener, spool).flush(lock_wait_s=lock_wait_s)
