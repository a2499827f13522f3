"""The import use case: warehouse merge plus its record in the app store.

The import run, its report and the CSM assignments taken from
``accounts.owner_email`` are written to the app store after the warehouse
commit; a failed import is recorded as failed with its reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from helix.errors import HelixError
from helix.ingest.importer import Progress, import_files, new_import_id
from helix.ingest.mapping import load_mapping
from helix.ingest.report import ImportReport
from helix.store import finish_import, start_import, sync_from_import

if TYPE_CHECKING:
    from helix.platform import Platform


def run_import(
    platform: Platform,
    path: Path,
    *,
    table: str | None = None,
    mapping_path: Path | None = None,
    actor: str = "cli",
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``path`` into the platform's warehouse and record the run."""
    mapping = load_mapping(mapping_path)
    store, wh = platform.store, platform.warehouse
    import_id = new_import_id()
    with store.session() as session:
        run_id = start_import(session, str(path), actor).id
    try:
        report = import_files(
            wh,
            path,
            imports_dir=platform.settings.imports_dir,
            table=table,
            mapping=mapping,
            progress=progress,
            import_id=import_id,
        )
    except HelixError as exc:
        with store.session() as session:
            finish_import(session, run_id, "failed", {"error": exc.for_people()}, None)
        raise
    if "accounts" in report.changed_tables:
        accounts = wh.table("accounts").select("account_id", "owner_email").to_pyarrow()
        pairs = zip(
            accounts["account_id"].to_pylist(), accounts["owner_email"].to_pylist(), strict=True
        )
        with store.session() as session:
            sync_from_import(session, pairs, actor)
    with store.session() as session:
        finish_import(session, run_id, "succeeded", report.to_dict(), report.report_dir)
    return report
