"""Column mapping: a company's own file and column names onto the data contract.

A mapping file is YAML::

    tables:
      accounts:
        file: crm_accounts.csv        # optional; default accounts.csv / accounts.parquet
        columns:                      # contract column: the file's column
          account_id: "Account ID"
          name: "Account Name"
          owner_email: "CSM Email"

Columns not named in the mapping keep their names: a contract name is used as
that column, anything else becomes a custom attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from helix.errors import ConfigError
from helix.warehouse.schema import CONTRACT_TABLES


@dataclass(frozen=True)
class TableMapping:
    file: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # contract name -> source name

    def source_to_contract(self) -> dict[str, str]:
        return {src: dst for dst, src in self.columns.items()}


@dataclass(frozen=True)
class Mapping:
    tables: dict[str, TableMapping] = field(default_factory=dict)

    def for_table(self, table: str) -> TableMapping:
        return self.tables.get(table, TableMapping())


def load_mapping(path: Path | None) -> Mapping:
    """Read and check a mapping file (an empty mapping when ``path`` is None)."""
    if path is None:
        return Mapping()
    where = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"mapping file {where} does not exist") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"mapping file {where} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("tables", {}), dict):
        raise ConfigError(
            f"mapping file {where} must have a 'tables:' section",
            hint="see docs/import.md for the mapping format",
        )
    tables: dict[str, TableMapping] = {}
    for table, body in (doc.get("tables") or {}).items():
        if table not in CONTRACT_TABLES:
            raise ConfigError(
                f"mapping file {where} names the table {table!r}, which the contract does not have",
                hint=f"use one of: {', '.join(CONTRACT_TABLES)}",
            )
        body = body or {}
        columns = body.get("columns") or {}
        if not isinstance(columns, dict):
            raise ConfigError(f"mapping file {where}: tables.{table}.columns must be a mapping")
        spec = CONTRACT_TABLES[table]
        for contract_col, source_col in columns.items():
            if contract_col not in spec.column_names:
                raise ConfigError(
                    f"mapping file {where}: {table} has no contract column {contract_col!r}",
                    hint=f"{table} columns are: {', '.join(spec.column_names)}",
                )
            if not isinstance(source_col, str):
                raise ConfigError(
                    f"mapping file {where}: tables.{table}.columns.{contract_col} must be a column name"
                )
        file = body.get("file")
        tables[table] = TableMapping(file=str(file) if file else None, columns=dict(columns))
    return Mapping(tables=tables)
