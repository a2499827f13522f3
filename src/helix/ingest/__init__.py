"""Data in: the data contract's files, validated and merged into the warehouse."""

from helix.ingest.importer import import_files, new_import_id, plan_files
from helix.ingest.mapping import Mapping, load_mapping
from helix.ingest.report import ImportReport, TableReport

__all__ = [
    "import_files",
    "plan_files",
    "new_import_id",
    "Mapping",
    "load_mapping",
    "ImportReport",
    "TableReport",
]
