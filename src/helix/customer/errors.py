"""The errors of concurrent edits."""

from __future__ import annotations

from helix.errors import UserError

__all__ = ["StaleWrite", "PreconditionRequired"]


class StaleWrite(UserError):
    """The object changed since the caller read it: their write would overwrite it.

    ``current`` is the version now stored (the ETag to read again)."""

    def __init__(self, what: str, expected: int, current: int) -> None:
        super().__init__(
            f"{what} changed since you read it (you had version {expected}, it is now {current})",
            hint="read it again and re-apply your change",
        )
        self.what, self.expected, self.current = what, expected, current


class PreconditionRequired(UserError):
    """A change to an existing object must say which version it was based on."""

    def __init__(self, what: str) -> None:
        super().__init__(
            f"changing {what} needs the version you read",
            hint='send If-Match: "<version>" (the ETag) or a version field',
        )
        self.what = what


def check_version(what: str, expected: int | None, current: int) -> None:
    """Raise unless ``expected`` (the version the caller read) is ``current``."""
    if expected is None:
        raise PreconditionRequired(what)
    if expected != current:
        raise StaleWrite(what, expected, current)
