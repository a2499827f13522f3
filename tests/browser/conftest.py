"""A real Helix server over a demo company, driven by Debian's Chromium through Playwright.

The browser is the system's (``/usr/bin/chromium``, installed by ``.ci/run``);
Playwright never downloads one. Set ``HELIX_SCREENSHOTS=DIR`` (``make screenshots``)
to save a screenshot of each main page there.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
END = "2026-11-15"



@dataclass(frozen=True)
class Server:
    url: str
    home: Path
    password: str
    users: list[dict[str, str]]

    def email(self, role: str) -> str:
        return next(u["email"] for u in self.users if u["role"] == role)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _helix(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", "from helix.cli.main import run; run()", "--home", str(home), *args]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail("/usr/bin/chromium is missing: .ci/run installs Debian's chromium")
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    home = tmp_path_factory.mktemp("browser") / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELIX_")}
    demo = subprocess.run(
        _helix(home, "demo", "--no-serve", "--accounts", "80", "--months", "18", "--end", END, "--json"),
        capture_output=True, text=True, env=env, timeout=900,
    )
    assert demo.returncode == 0, demo.stderr
    doc: dict[str, Any] = json.loads(demo.stdout)
    port = _free_port()
    proc = subprocess.Popen(_helix(home, "serve", "--port", str(port)), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if httpx.get(f"{url}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read() if proc.stderr else "server exited")
            time.sleep(0.5)
        yield Server(url=url, home=home, password=doc["password"], users=doc["users"])
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.fixture(scope="session")
def browser(server: Server) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    p = context.new_page()
    p.set_default_timeout(15_000)
    yield p
    context.close()


def screenshot(page: Any, name: str) -> None:
    """Save the page as ``NAME.png`` under ``$HELIX_SCREENSHOTS``, when it is set."""
    target = os.environ.get("HELIX_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=False)


def sign_in(page: Any, server: Server, email: str) -> None:
    page.goto(f"{server.url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(server.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{server.url}/accounts*")


def sign_out(page: Any, server: Server) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{server.url}/login")
