"""A demo company with a year of replayed playbook history, built once per process:
1,200 accounts, 18 months to 2026-06-01, seed 7, as `helix demo` builds it (no churn
model trained). The slow suites that read it share the xdist group ``demo_year``."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from ..helpers import once

END = date(2026, 6, 1)


def _build() -> dict[str, Any]:
    from helix.config import Settings
    from helix.demo_setup import DEMO_PASSWORD, setup_demo
    from helix.platform import Platform

    home = Path(tempfile.mkdtemp(prefix="helix-demo-year-")) / "home"
    with Platform(Settings.load(home)) as p:
        out = setup_demo(p, accounts=1200, months=18, seed=7, end=END, train=False)
    return {"home": home, "setup": out.to_dict(), "password": DEMO_PASSWORD}


def demo_year() -> dict[str, Any]:
    """The shared demo company: ``home``, the ``setup`` summary and the users' ``password``."""
    return once("demo_year", _build)
