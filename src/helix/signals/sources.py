"""Access to the source tables of the signals, knowing which are present and non-empty."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING

import ibis.expr.types as ir

from helix.signals.config import SignalConfig
from helix.signals.event_summary import EventSummary, event_summary

if TYPE_CHECKING:
    from helix.warehouse import Warehouse

__all__ = ["Sources"]


class Sources:
    """The warehouse tables signals read; an absent or empty table counts as unavailable."""

    def __init__(self, wh: Warehouse, *, cache: bool = False, use_event_summary: bool = True) -> None:
        self.wh = wh
        self.cache = cache
        self.use_event_summary = use_event_summary

    def event_summary(self, cfg: SignalConfig) -> EventSummary | None:
        """The whole-history event aggregates kept per events part, when they are current
        (:mod:`helix.signals.event_summary`); None: compute them from the events."""
        return event_summary(self.wh, cfg) if self.use_event_summary else None

    @cached_property
    def _tables(self) -> set[str]:
        return set(self.wh.list_tables())

    @cached_property
    def _available(self) -> dict[str, bool]:
        return {}

    def available(self, name: str) -> bool:
        """True when table ``name`` exists and has at least one row."""
        if name not in self._available:
            ok = name in self._tables and int(self.wh.table(name).limit(1).count().execute()) > 0
            self._available[name] = ok
        return self._available[name]

    def all_available(self, names: tuple[str, ...]) -> bool:
        """True when every table in ``names`` is available."""
        return all(self.available(n) for n in names)

    def table(self, name: str) -> ir.Table:
        """The Ibis table ``name``."""
        return self.wh.table(name)

    @cached_property
    def _cache(self) -> dict[str, ir.Table]:
        return {}

    def cached(self, key: str, build: Callable[[], ir.Table]) -> ir.Table:
        """``build()``; with ``cache=True`` computed once and kept on the backend (Ibis
        ``cache``: a temporary table) until :meth:`release`.

        For whole-history aggregates that every batch of scoring dates needs.
        """
        if not self.cache:
            return build()
        if key not in self._cache:
            self._cache[key] = build().cache()
        return self._cache[key]

    def release(self) -> None:
        """Drop the cached tables."""
        for t in self._cache.values():
            t.release()  # type: ignore[attr-defined]
        self._cache.clear()

    def __enter__(self) -> Sources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
