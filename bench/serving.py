"""A Helix server in its own process for the benchmarks that load one over loopback."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(args: list[str], url: str, ready_path: str, **popen: object) -> subprocess.Popen:
    """Start ``args`` (the server) with the stores of its own data directory (not those
    of the caller's environment), and return once ``url + ready_path`` answers 200."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("HELIX_WAREHOUSE_URL", "HELIX_DATABASE_URL")}
    server = subprocess.Popen(args, env=env, **popen)  # type: ignore[call-overload]
    for _ in range(600):
        try:
            if httpx.get(f"{url}{ready_path}", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.returncode}")
    server.terminate()
    raise RuntimeError(f"the server did not answer {url}{ready_path}")


@contextlib.contextmanager
def work_dir(prefix: str, given: Path | None) -> Iterator[Path]:
    """The benchmark's working directory: ``given`` (kept), or a temporary one removed
    at the end, also when the run is killed with SIGTERM (gigabytes at 100k accounts)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work = given or Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    finally:
        if given is None:
            shutil.rmtree(work, ignore_errors=True)
