"""One small demo company for the report tests, built once per process; tests that
change the app store work on a copy."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from ...helpers import demo_home, once

END = date(2025, 10, 6)  # 2025Q3 is complete, 2025Q4 is the forward quarter


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return once(
        "reports_demo",
        lambda: demo_home(
            tmp_path_factory.mktemp("reports"), accounts=50, months=24, seed=7, end=END
        ),
    )


@pytest.fixture
def home(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo company's data directory."""
    monkeypatch.delenv("HELIX_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("HELIX_DATABASE_URL", raising=False)
    target = tmp_path / "home"
    shutil.copytree(built, target)
    return target
