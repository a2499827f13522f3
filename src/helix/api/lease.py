"""How a serving app holds an embedded (DuckDB file) warehouse between requests.

DuckDB lets one process at a time open a database file. Opening it costs far more
than most page queries (hundreds of milliseconds: the catalog, the views over the
Parquet parts, the schema checks), so a server that opened it for every request
would spend its time opening. A serving app therefore keeps it open while
requests keep coming (a *lease*) and lets go of it:

* after ``hold_seconds`` without a request (a background thread watches), so that
  `helix import`, `helix run` and other tools can open the file between bursts;
* at once when another process is waiting for it: a process that finds the file
  locked leaves a marker beside it while it waits
  (:func:`helix.warehouse.connection.open_warehouse`), and the next request, or the
  watcher, sees the marker, closes the file and waits its own turn. Writers come first.

With ``hold_seconds = 0`` (the default of :func:`helix.api.app.create_app`; `helix
serve` holds for :data:`SERVE_HOLD_SECONDS`) the file is released after every
request. Server warehouses (PostgreSQL ...) are never released; their connection
stays open either way.

Every use of the warehouse in a serving process (requests, the live flush, the
playbook schedule) goes through :data:`WAREHOUSE_LOCK`: an embedded DuckDB
connection is not safe to share between threads. Most take it alone; the pages that
only read through prepared queries (the portfolio, the Customer 360) share it, each
request on its own DuckDB cursor, so that they use every core.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Iterator

from helix.platform import Platform
from helix.warehouse import Warehouse
from helix.warehouse.connection import writer_waiting

__all__ = ["WAREHOUSE_LOCK", "SERVE_HOLD_SECONDS", "Lease", "lease_of", "release_all"]

class ReadWriteLock:
    """Many shared holders or one exclusive holder. Used as a context manager (or with
    ``acquire`` / ``release``) it is the exclusive side; :meth:`shared` is the other.
    Waiting writers block new readers, so that a flush round is not starved by pages."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        deadline = None if timeout < 0 else time.monotonic() + timeout
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writer or self._readers:
                    if not blocking:
                        return False
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return False
                    self._cond.wait(left)
                self._writer = True
                return True
            finally:
                self._writers_waiting -= 1

    def release(self) -> None:
        with self._cond:
            self._writer = False
            self._cond.notify_all()

    def __enter__(self) -> ReadWriteLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()


WAREHOUSE_LOCK = ReadWriteLock()
SERVE_HOLD_SECONDS = 2.0
"""How long `helix serve` keeps the warehouse file open after the last request."""
YIELD_SECONDS = 5.0
"""How long the server, having let go of the file for a waiting process, waits for that
process to take it before opening it again (the waiter gives up its marker once in)."""

_LEASES: weakref.WeakSet[Lease] = weakref.WeakSet()


class Lease:
    """The serving app's hold on its platform's warehouse."""

    def __init__(self, platform: Platform, hold_seconds: float = 0.0) -> None:
        self.platform = platform
        self.hold_seconds = hold_seconds
        self._last_used = 0.0
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        _LEASES.add(self)

    @contextlib.contextmanager
    def use(self) -> Iterator[Warehouse]:
        """The warehouse for one request (or one flush round), under the lock, alone."""
        with WAREHOUSE_LOCK:
            if self._waited_for():
                self._yield_to_writer()
            try:
                yield self.platform.warehouse
            finally:
                self._last_used = time.monotonic()
                if self.hold_seconds <= 0:
                    self.platform.release_warehouse()

    @contextlib.contextmanager
    def read(self) -> Iterator[Warehouse]:
        """The warehouse for a request that only reads through
        :meth:`~helix.warehouse.Warehouse.query` and :meth:`~helix.warehouse.Warehouse.run`:
        such requests run side by side, each on its own cursor. The file is opened
        (or let go of, for a waiting writer) alone first; without a hold (``hold_seconds``
        0) this is :meth:`use`."""
        if self.hold_seconds <= 0:
            with self.use() as wh:
                yield wh
            return
        while True:
            if not self.platform.holds_warehouse or self._waited_for():
                with self.use():
                    pass  # opened (after a waiting writer had its turn), and held
            with WAREHOUSE_LOCK.shared():
                if not self.platform.holds_warehouse:  # let go of meanwhile: again
                    continue
                wh = self.platform.warehouse
                wh.concurrent_reads = True
                try:
                    yield wh
                finally:
                    self._last_used = time.monotonic()
                return

    def _yield_to_writer(self) -> None:
        """Let go of the file and give the waiting process the time to take it (opening
        it again at once would win the race and starve the writer)."""
        self.platform.release_warehouse()
        url = self.platform.settings.warehouse_url
        deadline = time.monotonic() + YIELD_SECONDS
        while writer_waiting(url) and time.monotonic() < deadline:
            time.sleep(0.02)

    def _waited_for(self) -> bool:
        return self.platform.holds_warehouse and writer_waiting(
            self.platform.settings.warehouse_url
        )

    def release(self) -> None:
        """Close the warehouse file now (it opens again on the next use)."""
        with WAREHOUSE_LOCK:
            self.platform.release_warehouse()

    def start(self) -> None:
        """Start the watcher that lets go of the file when idle or waited for."""
        if self.hold_seconds <= 0 or self._watcher is not None:
            return
        self._stop.clear()
        self._watcher = threading.Thread(target=self._watch, name="helix-lease", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
            self._watcher = None

    def _watch(self) -> None:
        tick = min(0.25, self.hold_seconds / 4)
        while not self._stop.wait(tick):
            if not self.platform.holds_warehouse:
                continue
            idle = time.monotonic() - self._last_used > self.hold_seconds
            if (idle or self._waited_for()) and WAREHOUSE_LOCK.acquire(timeout=tick):
                try:
                    if self._waited_for():
                        self._yield_to_writer()
                    elif time.monotonic() - self._last_used > self.hold_seconds:
                        self.platform.release_warehouse()
                finally:
                    WAREHOUSE_LOCK.release()


def lease_of(platform: Platform) -> Lease:
    """The lease an app made for ``platform`` (a releasing one for a bare platform)."""
    for lease in list(_LEASES):
        if lease.platform is platform:
            return lease
    return Lease(platform)


def release_all() -> None:
    """Close every warehouse this process holds (before opening a home afresh in it)."""
    for lease in list(_LEASES):
        lease.platform.release_warehouse()
