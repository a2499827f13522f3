"""Wires settings and the two stores together. Holds no business logic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from helix.config import Settings

if TYPE_CHECKING:
    from helix.store import AppStore
    from helix.warehouse import Warehouse


@dataclass
class Platform:
    """The stores of one Helix data directory, opened lazily and closed together."""

    settings: Settings
    _warehouse: Warehouse | None = field(default=None, repr=False)
    _store: AppStore | None = field(default=None, repr=False)

    @classmethod
    def open(cls, home: str | None = None) -> Platform:
        """Platform for ``home`` (or ``HELIX_HOME`` / ``./helix-data``)."""
        return cls(Settings.load(home))

    @property
    def warehouse(self) -> Warehouse:
        """The warehouse, created (tables included) on first use."""
        if self._warehouse is None:
            from helix.warehouse import open_warehouse

            self.settings.ensure_home()
            self._warehouse = open_warehouse(self.settings.warehouse_url)
        return self._warehouse

    @property
    def store(self) -> AppStore:
        """The app store, migrated to the latest schema on first use."""
        if self._store is None:
            from helix.store import open_store

            self.settings.ensure_home()
            self._store = open_store(self.settings.database_url)
        return self._store

    def init(self) -> dict[str, str]:
        """Create or migrate both stores; return what each is (for `helix init`)."""
        wh = self.warehouse
        store = self.store
        return {"warehouse": repr(wh), "app_store": repr(store), "home": str(self.settings.home)}

    @property
    def holds_warehouse(self) -> bool:
        """Whether the warehouse is open in this process now."""
        return self._warehouse is not None

    def release_warehouse(self) -> None:
        """Close an embedded (DuckDB file) warehouse so that other processes can open it.

        DuckDB lets one process at a time write a database file; a long-running
        server therefore holds it only while it answers a request. Server
        warehouses (PostgreSQL ...) stay connected.
        """
        if self._warehouse is not None and self._warehouse.backend == "duckdb":
            self._warehouse.close()
            self._warehouse = None

    def close(self) -> None:
        if self._warehouse is not None:
            self._warehouse.close()
            self._warehouse = None
        if self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
