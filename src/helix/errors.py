"""Helix's exceptions: one root, a small family, each carrying the data a person needs.

    HelixError                     root of everything Helix raises on purpose
    ├── UserError                  the user can fix it (CLI exit code 1, API 4xx)
    │   ├── ConfigError            bad setting, URL or configuration file
    │   ├── NotFoundError          a named thing (account, user, key) does not exist
    │   ├── ContractError          an input file cannot be imported at all (file-level)
    │   └── PermissionDenied       the caller's role does not allow the action
    └── InternalError              a bug or an unexpected state (CLI exit code 2)

Row-level problems in an import are not exceptions: they are collected as
:class:`RowError` records, quarantined, and reported, while valid rows load.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = [
    "HelixError",
    "UserError",
    "ConfigError",
    "NotFoundError",
    "ContractError",
    "PermissionDenied",
    "WarehouseBusy",
    "InternalError",
    "RowError",
]


class HelixError(Exception):
    """Root of all errors Helix raises deliberately."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def for_people(self) -> str:
        """The message as shown to a person: what went wrong, then how to fix it."""
        return f"{self.message}\n  fix: {self.hint}" if self.hint else self.message


class UserError(HelixError):
    """Something the user can correct: bad input, bad option, missing data."""

    exit_code = 1


class ConfigError(UserError):
    """A setting, URL or configuration file is invalid."""


class WarehouseBusy(ConfigError):
    """Another process has the embedded warehouse open for writing (DuckDB allows one)."""


class NotFoundError(UserError):
    """A named object does not exist."""


class PermissionDenied(UserError):
    """The caller is not allowed to do this."""


class ContractError(UserError):
    """An input file cannot be imported at all (unknown table, unreadable, missing column)."""

    def __init__(self, message: str, *, file: str, hint: str | None = None) -> None:
        super().__init__(f"{file}: {message}", hint=hint)
        self.file = file


class InternalError(HelixError):
    """An unexpected state: a bug in Helix."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class RowError:
    """One rejected row of an import: where it is and what a person should do about it."""

    file: str
    row: int
    column: str | None
    reason: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)
