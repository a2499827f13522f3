"""`helix playbooks`, `helix tasks`, `helix contacts` and `helix settings` on a crafted
home, through the JSON output (``tests.helpers.cli_json``)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from helix.playbooks.catalog import library
from helix.store.models import Enrolment, Task
from helix.store.settings import get_setting
from tests.helpers import cli_json

from .conftest import AS_OF, Home, account, turned
from .test_engine import RED, only

D = AS_OF.isoformat()
TURNED_ON = AS_OF - timedelta(days=1)
PLAYBOOK = RED | {
    "goal": {"metric": "health_recovery", "window_days": 30},
    "actions": [RED["actions"][0] | {"due_days": 0}, RED["actions"][1]],  # due on the day
}
OTHER = "other@x.io"


@pytest.fixture
def crafted(home: Home) -> Path:
    """A1 and A3 (csm@x.io) and A2 (other@x.io) turned red yesterday; only ``red`` is
    stored. Returns the data directory (the fixture's platform lets go of the warehouse)."""
    home.accounts([account(1), account(2, owner_email=OTHER), account(3)])
    home.put("health_events", [turned(a, TURNED_ON) for a in ("A1", "A2", "A3")])
    only(home, PLAYBOOK)
    home.platform.release_warehouse()
    return home.path


def count(home: Home, model: Any) -> int:
    with home.platform.store.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)))


def test_playbooks_list_installs_the_library(home: Home) -> None:
    home.platform.release_warehouse()
    rows = cli_json(home.path, "playbooks", "list")
    shipped = {p.name: p for p in library()}
    assert [r["name"] for r in rows] == sorted(shipped)
    for r in rows:
        assert {"name", "enabled", "version", "trigger", "funnel"} <= set(r)
        pb = shipped[r["name"]]
        assert (r["enabled"], r["version"], r["trigger"]) == (pb.enabled, 1, pb.trigger.type)
        assert r["funnel"]["triggered"] == 0
    assert cli_json(home.path, "playbooks", "list") == rows  # installed once


def test_dry_run_writes_nothing_then_run_creates_tasks(crafted: Path, home: Home) -> None:
    dry = cli_json(crafted, "playbooks", "run", "--as-of", D, "--dry-run")
    assert (dry["dry_run"], dry["enrolled"], dry["steps"]) == (True, 3, {})
    assert count(home, Enrolment) == 0 and count(home, Task) == 0
    report = cli_json(crafted, "playbooks", "run", "--as-of", D)
    assert (report["as_of"], report["enrolled"], report["steps"]) == (D, 3, {"done": 6})
    assert [p["playbook"] for p in report["playbooks"]] == ["red"]
    assert count(home, Task) == 3
    assert cli_json(crafted, "playbooks", "run", "--as-of", D)["enrolled"] == 0  # exactly once
    listed = cli_json(crafted, "playbooks", "list")
    assert [(r["name"], r["funnel"]["triggered"], r["funnel"]["tasks_open"]) for r in listed] == [
        ("red", 3, 3)]


def test_tasks_list_done_dismiss_and_reassign(crafted: Path, home: Home) -> None:
    cli_json(crafted, "playbooks", "run", "--as-of", D)
    rows = cli_json(crafted, "tasks", "list", "--owner", "csm@x.io", "--due", "today",
                    "--today", D)
    assert [r["account_id"] for r in rows] == ["A1", "A3"]
    first = rows[0]
    assert {"id", "account_id", "title", "due_date", "priority", "status", "owner_email",
            "reason", "evidence"} <= set(first)
    assert (first["title"], first["due_date"], first["priority"], first["status"],
            first["owner_email"]) == ("Save Account 1", D, "urgent", "open", "csm@x.io")
    assert "score 35" in first["reason"]
    assert first["evidence"][0] == {"label": "Customer 360", "href": "/accounts/A1"}
    yesterday = (AS_OF - timedelta(days=1)).isoformat()
    assert cli_json(crafted, "tasks", "list", "--owner", "csm@x.io", "--due", "today",
                    "--today", yesterday) == []  # not due yet

    done = cli_json(crafted, "tasks", "done", str(first["id"]), "--outcome", "called")
    assert (done["status"], done["outcome"]) == ("done", "called")
    dismissed = cli_json(crafted, "tasks", "dismiss", str(rows[1]["id"]), "--outcome", "dup")
    assert (dismissed["status"], dismissed["outcome"]) == ("dismissed", "dup")
    theirs = cli_json(crafted, "tasks", "list", "--owner", OTHER)
    moved = cli_json(crafted, "tasks", "reassign", str(theirs[0]["id"]), "--to", "lead@x.io")
    assert moved["owner_email"] == "lead@x.io"
    assert cli_json(crafted, "tasks", "list", "--owner", OTHER) == []
    assert cli_json(crafted, "tasks", "list", "--owner", "csm@x.io") == []
    closed = cli_json(crafted, "tasks", "list", "--status", "any", "--owner", "csm@x.io")
    assert sorted(r["status"] for r in closed) == ["dismissed", "done"]


def test_export_edit_import_gives_version_2(crafted: Path, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    written = cli_json(crafted, "playbooks", "export", "--out", str(out))["written"]
    assert written == [str(out / "red.yaml")]
    path = out / "red.yaml"
    data = yaml.safe_load(path.read_text())
    assert data["cooldown_days"] == 30
    path.write_text(yaml.safe_dump(data | {"cooldown_days": 7}, sort_keys=False))
    assert cli_json(crafted, "playbooks", "import", str(path)) == [
        {"name": "red", "version": 2, "changed": True}]
    assert cli_json(crafted, "playbooks", "import", str(path)) == [
        {"name": "red", "version": 2, "changed": False}]
    shown = cli_json(crafted, "playbooks", "show", "red")
    assert shown["definition"]["cooldown_days"] == 7
    assert [v["version"] for v in shown["versions"]] == [1, 2]


def test_disable_stops_it_firing(crafted: Path, home: Home) -> None:
    off = cli_json(crafted, "playbooks", "disable", "red")
    assert off == {"name": "red", "enabled": False, "version": 2}
    quiet = cli_json(crafted, "playbooks", "run", "--as-of", D)
    assert (quiet["playbooks"], quiet["enrolled"]) == ([], 0)
    assert count(home, Task) == 0
    assert cli_json(crafted, "playbooks", "enable", "red")["enabled"] is True
    assert cli_json(crafted, "playbooks", "run", "--as-of", D)["enrolled"] == 3


def test_impact(crafted: Path) -> None:
    cli_json(crafted, "playbooks", "run", "--as-of", D)
    report = cli_json(crafted, "playbooks", "impact", "red", "--as-of",
                      (TURNED_ON + timedelta(days=30)).isoformat())
    assert {"playbook", "funnel", "goal", "uplift", "ci_low", "ci_high", "treated",
            "held_out_group"} <= set(report)
    assert (report["playbook"], report["goal"]) == ("red", "health_recovery")
    # no health scores in the crafted home: nobody is seen to recover
    assert report["treated"] == {"n": 3, "met": 0, "rate": 0.0}
    assert report["held_out_group"]["n"] == 0 and report["uplift"] is None
    assert report["funnel"]["triggered"] == 3


def test_contact_preferences(crafted: Path) -> None:
    assert cli_json(crafted, "contacts", "prefs", "C1")["email_opt_out"] is False
    changed = cli_json(crafted, "contacts", "prefs", "C1", "--opt-out")
    assert changed["email_opt_out"] is True and changed["updated_by"].startswith("cli")
    shown = cli_json(crafted, "contacts", "prefs", "C1")
    assert (shown["contact_id"], shown["email_opt_out"], shown["channels"]) == (
        "C1", True, ["email"])
    assert cli_json(crafted, "contacts", "prefs", "C2")["email_opt_out"] is False


def test_settings_mask_secrets(crafted: Path, home: Home) -> None:
    smtp = {"host": "127.0.0.1", "port": 2525}
    assert cli_json(crafted, "settings", "set", "smtp",
                    '{"host": "127.0.0.1", "port": 2525}') == {"key": "smtp", "value": smtp}
    assert cli_json(crafted, "settings", "get", "smtp") == {"key": "smtp", "value": smtp}
    assert cli_json(crafted, "settings", "set", "smtp.password", "s3cret") == {
        "key": "smtp.password", "value": "***"}
    listed = cli_json(crafted, "settings", "list")
    assert listed["smtp"] == smtp and listed["smtp.password"] == "***"
    assert "s3cret" not in str(listed)
    with home.platform.store.session() as s:
        assert get_setting(s, "smtp.password") == "s3cret"  # stored, only shown masked


def test_helix_run_includes_the_playbooks(crafted: Path) -> None:
    report = cli_json(crafted, "run", "--as-of", D)
    assert report["playbooks"]["as_of"] == D
    assert [p["playbook"] for p in report["playbooks"]["playbooks"]] == ["red"]
    assert "playbooks" not in cli_json(crafted, "run", "--as-of", D, "--no-playbooks")
