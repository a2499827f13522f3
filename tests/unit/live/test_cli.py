"""`helix live ...` and the flush that `helix run` does first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from helix.cli.main import app
from helix.errors import UserError
from helix.ingest.live.segment import check_request
from helix.ingest.live.spool import Spool, spool_path

from ...helpers import cli_json


def spool_tracks(home: Path, *groups: str | None) -> None:
    batch = [
        {
            "type": "track",
            "userId": f"u{i}",
            "event": "login",
            "messageId": f"c{i}",
            "timestamp": "2024-05-01T10:00:00Z",
            **({"context": {"groupId": g}} if g else {}),
        }
        for i, g in enumerate(groups)
    ]
    with Spool(spool_path(home)) as spool:
        spool.append("segment", check_request(json.dumps({"batch": batch}).encode(), None).rows)


def test_status_flush_messages_and_retry(live_home: Path) -> None:
    spool_tracks(live_home, "A1", "A2", None)
    status = cli_json(live_home, "live", "status")
    assert status["messages"]["pending"] == 3 and status["last_flush"] is None
    flushed = cli_json(live_home, "live", "flush")
    assert (flushed["loaded"], flushed["waiting"], flushed["rows"]) == (2, 1, {"events": 2})
    status = cli_json(live_home, "live", "status")
    assert status["messages"]["loaded"] == 2 and status["last_flush"]["loaded"] == 2
    (waiting,) = cli_json(live_home, "live", "messages", "--state", "waiting")
    assert waiting["message_id"] == "c2" and "no account" in waiting["reason"]
    assert cli_json(live_home, "live", "retry") == {"retried": 1}
    again = cli_json(live_home, "live", "flush")
    assert again["taken"] == 1 and again["waiting"] == 1  # still no account for u2


def test_helix_run_flushes_first(live_home: Path) -> None:
    spool_tracks(live_home, "A3")
    report = cli_json(live_home, "run", "--as-of", "2024-06-01", "--no-playbooks")
    assert report["live_flush"]["loaded"] == 1


def test_flush_without_a_spool_says_so(live_home: Path) -> None:
    result = CliRunner().invoke(app, ["--home", str(live_home), "live", "flush"])
    assert isinstance(result.exception, UserError)  # `helix` prints it and exits with 1
    assert "nothing was ever received live" in str(result.exception)
    bad = CliRunner().invoke(app, ["--home", str(live_home), "live", "messages", "--state", "lost"])
    assert bad.exit_code != 0

# builds a demo company or a live server: run by `make test-slow`
pytestmark = pytest.mark.slow
