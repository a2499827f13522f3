"""Settings: where the data directory is and which backends the two stores use.

Nothing here opens a connection; the stores are created by factories
(:func:`helix.warehouse.open_warehouse`, :func:`helix.store.open_store`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from helix.errors import ConfigError

DEFAULT_HOME = "./helix-data"


@dataclass(frozen=True)
class Settings:
    """Resolved settings for one Helix data directory.

    ``warehouse_url`` and ``database_url`` default to files inside ``home``:
    a DuckDB warehouse and a SQLite app store.
    """

    home: Path
    warehouse_url: str
    database_url: str

    @classmethod
    def load(cls, home: str | os.PathLike[str] | None = None) -> Settings:
        """Build settings from an explicit home, else ``HELIX_HOME``, else ``./helix-data``.

        ``HELIX_WAREHOUSE_URL`` and ``HELIX_DATABASE_URL`` override the stores.
        """
        raw_home = home if home is not None else os.environ.get("HELIX_HOME") or DEFAULT_HOME
        resolved = Path(raw_home).expanduser().resolve()
        if resolved.exists() and not resolved.is_dir():
            raise ConfigError(
                f"the data directory {resolved} is a file",
                hint="pass --home with a directory path (it is created if missing)",
            )
        warehouse_url = os.environ.get("HELIX_WAREHOUSE_URL") or (
            f"duckdb://{resolved / 'warehouse.duckdb'}"
        )
        database_url = os.environ.get("HELIX_DATABASE_URL") or (
            f"sqlite:///{resolved / 'app.db'}"
        )
        return cls(home=resolved, warehouse_url=warehouse_url, database_url=database_url)

    @property
    def imports_dir(self) -> Path:
        """Where import reports and quarantine files are written."""
        return self.home / "imports"

    def ensure_home(self) -> None:
        """Create the data directory if it does not exist."""
        self.home.mkdir(parents=True, exist_ok=True)


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (safe to log or print)."""
    if "://" not in url or "@" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    if ":" in creds:
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url
