"""The `helix` command's promises: help for everything, exit codes, JSON on stdout only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HELIX = [sys.executable, "-c", "from helix.cli.main import run; run()"]


def _helix(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELIX_")}
    return subprocess.run([*HELIX, "--home", str(home), *args], capture_output=True, text=True, env=env, timeout=120)


def test_help_lists_every_command(tmp_path: Path) -> None:
    out = _helix("--help", home=tmp_path).stdout
    for command in ("init", "import", "run", "demo", "serve", "users", "keys"):
        assert command in out


def test_user_error_exits_1_without_traceback(tmp_path: Path) -> None:
    result = _helix("import", str(tmp_path / "missing"), "--json", home=tmp_path / "h")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "does not exist" in result.stderr and "Traceback" not in result.stderr


def test_usage_error_exits_1(tmp_path: Path) -> None:
    assert _helix("import", home=tmp_path).returncode == 1


def test_internal_error_exits_2(tmp_path: Path) -> None:
    (tmp_path / "h").mkdir()
    (tmp_path / "h" / "warehouse.duckdb").write_text("this is not a duckdb file")
    result = _helix("run", "--json", home=tmp_path / "h")
    assert result.returncode in (1, 2)  # a corrupt warehouse file is reported, not dumped
    assert "Traceback" not in result.stderr


def test_init_json(tmp_path: Path) -> None:
    result = _helix("init", "--json", home=tmp_path / "h")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"home", "warehouse", "app_store"}
    assert (tmp_path / "h" / "warehouse.duckdb").exists() and (tmp_path / "h" / "app.db").exists()
