"""`helix demo --no-serve`: generate, import, run and summarise in one command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helix.demo_setup import DEMO_ADMIN, DEMO_PASSWORD
from helix.platform import Platform
from helix.store import authenticate


def test_demo_without_serving_prints_a_summary_and_leaves_a_working_home(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELIX_")}
    home = tmp_path / "h"
    cmd = [
        sys.executable, "-c", "from helix.cli.main import run; run()", "--home", str(home),
        "demo", "--no-serve", "--accounts", "60", "--months", "6", "--end", "2025-01-15", "--json",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["company"]["accounts"] == 60 and doc["company"]["end"] == "2025-01-15"
    assert doc["import"]["accounts"]["loaded"] == 60
    assert all(t["rejected"] == 0 for t in doc["import"].values())
    assert {s["name"] for s in doc["pipeline"]["stages"]} >= {"checks", "account_summary"}
    assert all(s["status"] in ("ran", "skipped") for s in doc["pipeline"]["stages"])
    assert doc["portfolio"]["active_accounts"] > 0 and doc["portfolio"]["arr"] > 0
    # six months are too few for a 90-day model: the demo says so instead of failing
    models = {m["model"]: m for m in doc["models"]}
    assert set(models) == {"churn within 90 days", "expansion within 90 days", "time to churn"}
    assert all(("version" in m) != ("note" in m) for m in models.values())
    assert "not enough history" in models["churn within 90 days"]["note"]
    roles = {u["role"] for u in doc["users"]}
    assert roles == {"admin", "leader", "csm", "viewer"}
    assert doc["password"] == DEMO_PASSWORD
    with Platform.open(str(home)) as platform:
        assert platform.warehouse.count("accounts") == 60
        with platform.store.session() as session:
            assert authenticate(session, DEMO_ADMIN, DEMO_PASSWORD) is not None
