"""Uploaded contract files, unpacked safely into a directory that `helix import` can read.

An upload is either a zip of contract files or several files sent one by one
(the API's ``POST /imports``). Nothing an uploader sends decides where a byte is
written: every name is reduced to a plain file name (a name with a directory
part that climbs, an absolute path or a drive is refused), only data files
(``.csv``, ``.parquet``, ``.pq``) are kept, and sizes are counted as bytes are
written, so a zip whose members claim small sizes but inflate far beyond them
(a zip bomb) is stopped at the limit, not after filling the disk.

    limits = UploadLimits(max_bytes=50 * 2**20)
    with UploadDir(settings.home) as target:
        target.add_zip(path_to_zip, limits)   # or target.add_file(name, stream, limits)
        run_import(platform, target.path, actor="api:...")
"""

from __future__ import annotations

import secrets
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from types import TracebackType
from typing import BinaryIO

from helix.errors import ContractError, UserError
from helix.ingest.sources import SUFFIXES

__all__ = [
    "DEFAULT_MAX_MB",
    "MAX_UPLOAD_SETTING",
    "UploadLimits",
    "UploadTooLarge",
    "UploadDir",
    "safe_name",
]

MAX_UPLOAD_SETTING = "imports.max_upload_mb"
DEFAULT_MAX_MB = 50
_CHUNK = 1 << 16


class UploadTooLarge(UserError):
    """The upload, or what it unpacks to, is larger than the limit."""


@dataclass(frozen=True)
class UploadLimits:
    """How much one upload may bring.

    ``max_bytes`` bounds what is sent; ``max_unpacked_bytes`` what a zip inflates
    to (default 10x ``max_bytes``), ``max_files`` the number of data files, and
    ``max_ratio`` the compression ratio of any one zip member.
    """

    max_bytes: int
    max_files: int = 50
    max_unpacked_bytes: int | None = None
    max_ratio: int = 200

    @property
    def unpacked(self) -> int:
        return (
            self.max_unpacked_bytes if self.max_unpacked_bytes is not None else 10 * self.max_bytes
        )


def safe_name(name: str) -> str:
    """The plain file name of an uploaded ``name``; :class:`ContractError` if it is unsafe.

    ``accounts.csv`` and ``export/accounts.csv`` give ``accounts.csv``; names with
    ``..`` parts, absolute paths, drive letters, NUL bytes or no name are refused.
    """
    raw = name or ""
    if "\x00" in raw or not raw.strip():
        raise ContractError("is not an acceptable file name", file=repr(raw))
    for pure in (PurePosixPath(raw), PureWindowsPath(raw)):
        if pure.is_absolute() or pure.drive or pure.anchor or ".." in pure.parts:
            raise ContractError(
                "has a path that leaves the upload (absolute, or with '..')",
                file=raw,
                hint="send the files by their plain names, e.g. accounts.csv",
            )
    base = PureWindowsPath(raw).name  # splits on both / and \
    if not base or base.startswith(".") or base in (".", ".."):
        raise ContractError("is not an acceptable file name", file=raw)
    return base


def _is_data(name: str) -> bool:
    return Path(name).suffix.lower() in SUFFIXES


class UploadDir:
    """A fresh private directory under ``<home>/uploads`` holding one upload; removed on exit."""

    def __init__(self, home: Path) -> None:
        root = Path(home) / "uploads"
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path = root / f"upload-{secrets.token_hex(6)}"
        self.path.mkdir(mode=0o700)
        self.files: list[str] = []
        self.ignored: list[str] = []
        self._counted = {"sent": 0, "unpacked": 0}

    def __enter__(self) -> UploadDir:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def _target(self, name: str, limits: UploadLimits) -> Path | None:
        base = safe_name(name)
        if not _is_data(base):
            self.ignored.append(name)
            return None
        if base in self.files:
            raise ContractError(
                "appears twice in the upload", file=base, hint="send each file once"
            )
        if len(self.files) >= limits.max_files:
            raise UploadTooLarge(f"the upload holds more than {limits.max_files} data files")
        self.files.append(base)
        return self.path / base

    def _copy(self, src: BinaryIO, dest: Path, limit: int, counter: str) -> int:
        what = "the upload" if counter == "sent" else "the unpacked zip"
        n = 0
        with open(dest, "xb") as out:
            while chunk := src.read(_CHUNK):
                n += len(chunk)
                self._counted[counter] += len(chunk)
                if self._counted[counter] > limit:
                    raise UploadTooLarge(
                        f"{what} is larger than the limit of {limit / 2**20:.0f} MB",
                        hint=f"split the import, or raise the setting {MAX_UPLOAD_SETTING}",
                    )
                out.write(chunk)
        return n

    def add_file(self, name: str, stream: BinaryIO, limits: UploadLimits) -> str | None:
        """Copy one uploaded file in (a zip is unpacked); its stored name, None if ignored."""
        if safe_name(name).lower().endswith(".zip"):
            spool = self.path / f".{secrets.token_hex(4)}.zip"
            try:
                self._copy(stream, spool, limits.max_bytes, "sent")
                self.add_zip(spool, limits)
            finally:
                spool.unlink(missing_ok=True)
            return None
        dest = self._target(name, limits)
        if dest is None:
            return None
        self._copy(stream, dest, limits.max_bytes, "sent")
        return dest.name

    def add_zip(self, archive: Path, limits: UploadLimits) -> list[str]:
        """Unpack the data files of a zip (only plain files; nothing outside this directory)."""
        try:
            zf = zipfile.ZipFile(archive)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ContractError(f"is not a readable zip file ({exc})", file="upload.zip") from exc
        added: list[str] = []
        with zf:
            members = [m for m in zf.infolist() if not m.is_dir()]
            declared = sum(m.file_size for m in members)
            if declared > limits.unpacked:
                raise UploadTooLarge(
                    f"the zip unpacks to {declared / 2**20:.0f} MB, over the limit of "
                    f"{limits.unpacked / 2**20:.0f} MB"
                )
            for m in members:
                if m.filename.startswith("__MACOSX/"):
                    continue
                if m.flag_bits & 0x1:
                    raise ContractError(
                        "is encrypted", file=m.filename, hint="send an unencrypted zip"
                    )
                if m.compress_size and m.file_size / m.compress_size > limits.max_ratio:
                    raise UploadTooLarge(
                        f"{m.filename} inflates {m.file_size // max(1, m.compress_size)}x "
                        "(a zip bomb?); refused"
                    )
                dest = self._target(m.filename, limits)
                if dest is None:
                    continue
                try:
                    with zf.open(m) as src:
                        self._copy(src, dest, limits.unpacked, "unpacked")
                except zipfile.BadZipFile as exc:
                    raise ContractError(f"cannot be unpacked ({exc})", file=m.filename) from exc
                added.append(dest.name)
        return added

    def display(self, text: str) -> str:
        """``text`` with this directory's path removed (messages name the uploaded files)."""
        return text.replace(str(self.path) + "/", "").replace(str(self.path), "upload")
