"""The durable spool: every accepted live message, on disk before the 200.

A SQLite database in WAL mode with ``synchronous=FULL`` under
``<home>/live/spool.db``: a commit returns only once the write-ahead log is
fsynced, so a message the API acknowledged survives the process being killed
(or the machine losing power) right after the answer. It lives outside the app
store on purpose: it is written on every tracking request, must not contend
with the app's own transactions, and must keep working when the app store is a
remote PostgreSQL.

Each message has a state:

* ``pending``: accepted, not yet in the warehouse;
* ``waiting``: tried, but its account is not known yet (a track with no groupId
  from a user no identify/group call has tied to an account, or an account the
  warehouse does not have); tried again later, never dropped;
* ``loaded``: in the warehouse (its payload is dropped, its id kept for dedupe);
* ``rejected``: the warehouse refused it (the reason is kept, with the payload);
* ``ignored``: nothing to do (e.g. a Stripe event older than one already applied).

The pair ``(source, message_id)`` is unique: a resent message adds nothing.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from itertools import islice
from pathlib import Path
from typing import Any

__all__ = ["Spool", "SpoolMessage", "spool_path", "STATES"]

STATES = ("pending", "waiting", "loaded", "rejected", "ignored")
_PAD = (None,) * 6
_CHUNK = 500  # ids per IN (...) list, well under SQLite's bind limit

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    message_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    received_at TEXT NOT NULL,
    payload TEXT,
    user_id TEXT,
    anonymous_id TEXT,
    group_id TEXT,
    event_type TEXT,
    event_time TEXT,
    value REAL,
    state TEXT NOT NULL DEFAULT 'pending',
    next_try REAL,
    reason TEXT,
    done_at TEXT,
    UNIQUE (source, message_id)
);
CREATE INDEX IF NOT EXISTS messages_by_state ON messages (state, seq);
CREATE TABLE IF NOT EXISTS identities (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE TABLE IF NOT EXISTS stripe_objects (
    object_id TEXT PRIMARY KEY,
    account_id TEXT,
    last_created INTEGER NOT NULL,
    last_event TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS flushes (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    seconds REAL NOT NULL,
    taken INTEGER NOT NULL,
    loaded INTEGER NOT NULL,
    waiting INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    ignored INTEGER NOT NULL,
    error TEXT
);
"""


def spool_path(home: Path) -> Path:
    """Where the spool of the data directory ``home`` lives."""
    return home / "live" / "spool.db"


def _now_iso() -> str:
    return datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[list[Any]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


_EVENT_KINDS = ("track", "page", "screen")
_COLUMNS = (
    "seq, source, message_id, kind, received_at, payload, state,"
    " user_id, anonymous_id, group_id, event_type, event_time, value"
)


@dataclass(frozen=True)
class SpoolMessage:
    """One spooled message, as the flush reads it.

    A Segment event keeps what its ``events`` row needs in columns, so that the
    flush need not parse its JSON; other messages are parsed when read.
    """

    seq: int
    source: str
    message_id: str
    kind: str
    received_at: str
    text: str
    state: str
    user_id: str | None = None
    anonymous_id: str | None = None
    group_id: str | None = None
    event_type: str | None = None
    event_time: str | None = None
    value: float | None = None

    @property
    def is_event(self) -> bool:
        return (
            self.source == "segment" and self.kind in _EVENT_KINDS and self.event_time is not None
        )

    @cached_property
    def payload(self) -> dict[str, Any]:
        """The message (for an event, the parts the flush reads, from the columns)."""
        if self.is_event:
            return {
                "type": self.kind,
                "userId": self.user_id,
                "anonymousId": self.anonymous_id,
                "context": {"groupId": self.group_id} if self.group_id is not None else {},
                "timestamp": self.event_time,
                "messageId": self.message_id,
            }
        loaded: dict[str, Any] = json.loads(self.text)
        return loaded


SpoolRow = tuple[Any, ...]
"""``(message_id, kind, payload_json)``, optionally followed by ``user_id, anonymous_id,
group_id, event_type, event_time, value`` (what :mod:`.segment` extracts)."""


class Spool:
    """The spool of one data directory; safe to share between threads of a process,
    and between processes (SQLite's own locking, with a busy timeout)."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 30.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._con = sqlite3.connect(
            str(path), timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        self._con.execute("PRAGMA journal_mode=WAL")
        # FULL: every commit fsyncs the WAL, which is what makes an acknowledged
        # message survive a crash (NORMAL would only protect against corruption)
        self._con.execute("PRAGMA synchronous=FULL")
        self._con.executescript(_SCHEMA)
        self._pending: tuple[float, int] | None = None  # (when counted, count)

    # -- accepting -----------------------------------------------------------------
    def append(self, source: str, messages: Iterable[SpoolRow]) -> tuple[int, int]:
        """Store messages (:data:`SpoolRow`) durably, in one transaction.

        Returns ``(accepted, duplicates)``: a message whose id the spool already
        holds (from any earlier request, or earlier in this one) is a duplicate.
        When this returns, the accepted messages are on disk.
        """
        now = _now_iso()
        rows = [(source, m[0], m[1], now, m[2], *m[3:], *_PAD[len(m) - 3 :]) for m in messages]
        if not rows:
            return 0, 0
        with self._lock:
            cur = self._con.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                before = self._con.total_changes
                cur.executemany(
                    "INSERT OR IGNORE INTO messages (source, message_id, kind, received_at,"
                    " payload, user_id, anonymous_id, group_id, event_type, event_time, value)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
                accepted = self._con.total_changes - before
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            if self._pending is not None:
                self._pending = (self._pending[0], self._pending[1] + accepted)
        return accepted, len(rows) - accepted

    def backlog(self, max_age_s: float = 1.0) -> int:
        """Messages waiting to be flushed (pending), counted at most every ``max_age_s``."""
        cached = self._pending
        if cached is not None and time.monotonic() - cached[0] < max_age_s:
            return cached[1]
        count = self.count("pending")
        self._pending = (time.monotonic(), count)
        return count

    # -- flushing --------------------------------------------------------------------
    def take(self, limit: int, *, now: float | None = None) -> list[SpoolMessage]:
        """Up to ``limit`` messages to flush, oldest first: pending ones, and waiting ones
        whose next try is due."""
        now = time.time() if now is None else now
        with self._lock:
            rows = self._con.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE state = 'pending' ORDER BY seq LIMIT ?",
                (limit,),
            ).fetchall()
            if len(rows) < limit:
                rows += self._con.execute(
                    f"SELECT {_COLUMNS} FROM messages"
                    " WHERE state = 'waiting' AND next_try <= ? ORDER BY seq LIMIT ?",
                    (now, limit - len(rows)),
                ).fetchall()
        rows.sort(key=lambda r: r[0])
        return [SpoolMessage(*r) for r in rows]

    def settle(
        self,
        *,
        loaded: Sequence[int] = (),
        waiting: dict[int, str] | None = None,
        rejected: dict[int, str] | None = None,
        ignored: dict[int, str] | None = None,
        retry_in_s: float = 60.0,
        identities: Sequence[tuple[str, str, str, int]] = (),
        stripe_objects: Sequence[tuple[str, str | None, int, str]] = (),
    ) -> None:
        """Record the outcome of a flush in one transaction: the new state of each
        message, the identities learned (``(kind, id, account_id, seq)``) and the
        Stripe objects applied (``(object_id, account_id, created, event_id)``)."""
        now_iso, retry_at = _now_iso(), time.time() + retry_in_s
        with self._lock:
            cur = self._con.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                for chunk in _chunks(list(loaded)):
                    marks = ",".join("?" * len(chunk))
                    cur.execute(
                        "UPDATE messages SET state = 'loaded', payload = NULL, reason = NULL,"
                        f" next_try = NULL, done_at = ? WHERE seq IN ({marks})",
                        [now_iso, *chunk],
                    )
                cur.executemany(
                    "UPDATE messages SET state = 'waiting', reason = ?, next_try = ? WHERE seq = ?",
                    [(reason, retry_at, seq) for seq, reason in (waiting or {}).items()],
                )
                for state, outcome in (("rejected", rejected), ("ignored", ignored)):
                    cur.executemany(
                        f"UPDATE messages SET state = '{state}', reason = ?, next_try = NULL,"
                        " done_at = ? WHERE seq = ?",
                        [(reason, now_iso, seq) for seq, reason in (outcome or {}).items()],
                    )
                cur.executemany(
                    "INSERT INTO identities (kind, id, account_id, seq) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (kind, id) DO UPDATE SET account_id = excluded.account_id,"
                    " seq = excluded.seq WHERE excluded.seq >= identities.seq",
                    identities,
                )
                cur.executemany(
                    "INSERT INTO stripe_objects (object_id, account_id, last_created, last_event)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (object_id) DO UPDATE SET"
                    " account_id = excluded.account_id, last_created = excluded.last_created,"
                    " last_event = excluded.last_event",
                    stripe_objects,
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._pending = None

    def identities(self, kind: str, ids: Iterable[str]) -> dict[str, str]:
        """The account each of ``ids`` (user or anonymous ids) is tied to, where known."""
        wanted = sorted(set(ids))
        found: dict[str, str] = {}
        with self._lock:
            for chunk in _chunks(wanted):
                marks = ",".join("?" * len(chunk))
                found.update(
                    self._con.execute(
                        f"SELECT id, account_id FROM identities WHERE kind = ? AND id IN ({marks})",
                        [kind, *chunk],
                    ).fetchall()
                )
        return found

    def stripe_objects(self, ids: Iterable[str]) -> dict[str, tuple[str | None, int]]:
        """``object_id -> (account_id, created of the last applied event)``."""
        wanted = sorted(set(ids))
        found: dict[str, tuple[str | None, int]] = {}
        with self._lock:
            for chunk in _chunks(wanted):
                marks = ",".join("?" * len(chunk))
                for oid, acc, created in self._con.execute(
                    "SELECT object_id, account_id, last_created FROM stripe_objects"
                    f" WHERE object_id IN ({marks})",
                    chunk,
                ):
                    found[oid] = (acc, int(created))
        return found

    def record_flush(
        self, *, started_at: str, seconds: float, counts: dict[str, int], error: str | None
    ) -> None:
        """Keep the outcome of a flush (the last 1,000 are kept)."""
        with self._lock:
            self._con.execute(
                "INSERT INTO flushes (started_at, seconds, taken, loaded, waiting, rejected,"
                " ignored, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    started_at,
                    seconds,
                    counts.get("taken", 0),
                    counts.get("loaded", 0),
                    counts.get("waiting", 0),
                    counts.get("rejected", 0),
                    counts.get("ignored", 0),
                    error,
                ),
            )
            self._con.execute(
                "DELETE FROM flushes WHERE id <= (SELECT max(id) FROM flushes) - 1000"
            )

    def prune(self, older_than_days: float) -> int:
        """Forget loaded and ignored messages settled more than ``older_than_days`` ago.

        Their ids then no longer de-duplicate here; the warehouse still does for
        events (their ``event_id`` is the message id). Returns how many were removed.
        """
        cutoff = datetime.fromtimestamp(time.time() - older_than_days * 86400, UTC)
        with self._lock:
            cur = self._con.execute(
                "DELETE FROM messages WHERE state IN ('loaded', 'ignored') AND done_at < ?",
                (cutoff.replace(tzinfo=None).isoformat(timespec="microseconds"),),
            )
            return cur.rowcount

    def retry_waiting(self, include_rejected: bool = False) -> int:
        """Make every waiting message (and rejected ones, if asked) due for the next flush."""
        states = ("waiting", "rejected") if include_rejected else ("waiting",)
        marks = ",".join("?" * len(states))
        with self._lock:
            cur = self._con.execute(
                f"UPDATE messages SET state = 'waiting', next_try = 0 WHERE state IN ({marks})",
                states,
            )
            return cur.rowcount

    # -- looking -----------------------------------------------------------------------
    def count(self, state: str) -> int:
        """How many messages are in ``state``."""
        with self._lock:
            row = self._con.execute("SELECT count(*) FROM messages WHERE state = ?", (state,))
            return int(row.fetchone()[0])

    def status(self) -> dict[str, Any]:
        """Counts by state, the oldest unflushed message and the last flushes."""
        with self._lock:
            counts = dict(
                self._con.execute("SELECT state, count(*) FROM messages GROUP BY state").fetchall()
            )
            oldest = self._con.execute(
                "SELECT min(received_at) FROM messages WHERE state = 'pending'"
            ).fetchone()[0]
            last = self._con.execute(
                "SELECT started_at, seconds, taken, loaded, waiting, rejected, ignored, error"
                " FROM flushes ORDER BY id DESC LIMIT 1"
            ).fetchone()
            last_ok = self._con.execute(
                "SELECT started_at FROM flushes WHERE error IS NULL ORDER BY id DESC LIMIT 1"
            ).fetchone()
            reasons = self._con.execute(
                "SELECT reason, count(*) FROM messages WHERE state IN ('waiting', 'rejected')"
                " GROUP BY reason ORDER BY count(*) DESC LIMIT 10"
            ).fetchall()
        keys = (
            "started_at",
            "seconds",
            "taken",
            "loaded",
            "waiting",
            "rejected",
            "ignored",
            "error",
        )
        return {
            "spool": str(self.path),
            "messages": {s: int(counts.get(s, 0)) for s in STATES},
            "oldest_pending_received_at": oldest,
            "last_flush": dict(zip(keys, last, strict=True)) if last else None,
            "last_successful_flush_at": last_ok[0] if last_ok else None,
            "unsettled_reasons": [{"reason": r, "messages": int(n)} for r, n in reasons],
        }

    def messages(self, state: str, limit: int = 100) -> list[dict[str, Any]]:
        """Up to ``limit`` messages in ``state`` (oldest first), with their reason."""
        with self._lock:
            rows = self._con.execute(
                "SELECT seq, source, message_id, kind, received_at, reason, payload FROM messages"
                " WHERE state = ? ORDER BY seq LIMIT ?",
                (state, limit),
            ).fetchall()
        keys = ("seq", "source", "message_id", "kind", "received_at", "reason", "payload")
        out = [dict(zip(keys, r, strict=True)) for r in rows]
        for row in out:
            row["payload"] = json.loads(row["payload"]) if row["payload"] else None
        return out

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
