"""Access to the source tables of the signals, knowing which are present and non-empty."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

import ibis.expr.types as ir

if TYPE_CHECKING:
    from helix.warehouse import Warehouse

__all__ = ["Sources"]


class Sources:
    """The warehouse tables signals read; an absent or empty table counts as unavailable."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh

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
