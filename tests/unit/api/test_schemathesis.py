"""Schemathesis against /openapi.json: generated requests never cause a server error.

Runs as an admin key (every route reachable) over a small demo company with trained
models, so the generated cases reach real code rather than "no data yet" answers.
The heavy operations (backtests, fitting, running playbooks) get fewer examples.
"""

from __future__ import annotations

import os
import re
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.helpers import once

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("schemathesis")]

EXAMPLES = int(os.environ.get("HELIX_SCHEMATHESIS_EXAMPLES", "3"))
HEAVY = r"backtest|proposal|/playbooks/run|drift|forensics/summary|/imports$"


def _build(base: Path) -> tuple[Path, str]:
    from helix.config import Settings
    from helix.demo_setup import setup_demo
    from helix.platform import Platform
    from helix.store import Scope, create_key

    home = base / "home"
    with Platform(Settings.load(home)) as p:
        setup_demo(p, accounts=40, months=15, end=date(2026, 10, 31))
        with p.store.session() as s:
            _, key = create_key(s, name="schemathesis", scope=Scope.ADMIN, actor="test")
    return home, key


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    from helix.api.app import create_app
    from helix.config import Settings

    home, key = once("schemathesis-home", lambda: _build(tmp_path_factory.mktemp("st")))
    return create_app(Settings.load(home)), key


SETTINGS: dict[str, Any] = {"deadline": None, "suppress_health_check": list(HealthCheck),
                            "database": None}


def _operations(app: Any) -> list[Any]:
    loaded = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in loaded.get_all_operations()]


def test_generated_requests_never_cause_a_server_error(served: tuple[Any, str]) -> None:
    # One loop over the operations rather than schemathesis' pytest plugin, which does
    # not support pytest 9 yet.
    app, key = served
    operations = _operations(app)
    assert len(operations) > 40
    failures: list[str] = []
    for op in operations:
        heavy = re.search(HEAVY, op.path) is not None

        @given(case=op.as_strategy())
        @settings(max_examples=1 if heavy else EXAMPLES, **SETTINGS)
        def run(case: Any) -> None:
            try:  # the in-process client re-raises what the app did not handle
                response = case.call(headers={"Authorization": f"Bearer {key}"})
            except Exception as exc:  # noqa: BLE001 - each one is a finding
                failures.append(f"{case.method} {case.formatted_path} {case.query}: {exc!r}"[:400])
                return
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query}: "
                                f"{response.status_code} {response.text[:300]}")

        started = time.perf_counter()
        run()
        print(f"{time.perf_counter() - started:6.1f}s {op.label}", file=sys.stderr)
    assert not failures, "\n".join(failures[:20])
