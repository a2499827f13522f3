"""What an import did, table by table, in the shape `helix import --json` promises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from helix.errors import RowError

MAX_ERRORS_SHOWN = 100


@dataclass
class TableReport:
    """Counts for one imported file. ``read == loaded + rejected + duplicates``."""

    table: str
    file: str
    read: int = 0
    loaded: int = 0
    rejected: int = 0
    duplicates: int = 0  # same record as another row of the file, or already in the warehouse
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantine: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "read": self.read,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "quarantine": self.quarantine,
        }


@dataclass
class ImportReport:
    """The outcome of one `helix import`."""

    import_id: str
    source: str
    tables: dict[str, TableReport] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS_SHOWN
    error_count: int = 0
    report_dir: str | None = None
    seconds: float = 0.0
    status: str = "succeeded"

    @property
    def changed_tables(self) -> list[str]:
        return [t for t, r in self.tables.items() if r.new or r.updated]

    def to_dict(self) -> dict[str, Any]:
        return {
            "import_id": self.import_id,
            "status": self.status,
            "source": self.source,
            "tables": {name: r.to_dict() for name, r in self.tables.items()},
            "errors": [e.to_dict() for e in self.errors[:MAX_ERRORS_SHOWN]],
            "error_count": self.error_count,
            "report_dir": self.report_dir,
            "seconds": round(self.seconds, 3),
        }
