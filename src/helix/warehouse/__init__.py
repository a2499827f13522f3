"""The warehouse store: facts and derived tables, reached through Ibis."""

from helix.warehouse.connection import Warehouse, open_warehouse
from helix.warehouse.schema import ALL_TABLES, CONTRACT_TABLES, DERIVED_TABLES, TableSpec, spec

__all__ = [
    "Warehouse",
    "open_warehouse",
    "ALL_TABLES",
    "CONTRACT_TABLES",
    "DERIVED_TABLES",
    "TableSpec",
    "spec",
]
