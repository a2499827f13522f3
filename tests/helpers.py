"""Small helpers several test modules share."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from typer.testing import CliRunner


def cli_json(home: Path, *args: str) -> Any:
    """Run `helix --home HOME ARGS --json`, assert success, return the parsed document."""
    from helix.cli.main import app

    result = CliRunner().invoke(app, ["--home", str(home), *args, "--json"])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return json.loads(result.stdout)


def same_value(a: Any, b: Any) -> bool:
    """Equal, floats within 1e-9 (NaN equal to NaN): for comparing two backends' rows."""
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def assert_same_rows(
    first: list[list[dict[str, Any]]] | tuple[list[dict[str, Any]], ...],
    second: list[list[dict[str, Any]]] | tuple[list[dict[str, Any]], ...],
) -> None:
    """Each list of rows of ``first`` equals the one of ``second``, value by value
    (:func:`same_value`), and none is empty: two backends' results."""
    for a_rows, b_rows in zip(first, second, strict=True):
        assert len(a_rows) == len(b_rows) > 0
        for a, b in zip(a_rows, b_rows, strict=True):
            diff = {k for k in a if not same_value(a[k], b[k])}
            assert not diff, f"{a}: {sorted(diff)}"


def demo_home(base: Path, *, accounts: int, months: int, seed: int, end: Any) -> Path:
    """A data directory holding a generated company, imported and run as of ``end``."""
    from helix.config import Settings
    from helix.ingest.service import run_import
    from helix.pipeline import run_pipeline
    from helix.platform import Platform
    from helix.testing.demo import generate_company

    generate_company(base / "co", accounts=accounts, months=months, seed=seed, end=end)
    home = base / "home"
    with Platform(Settings.load(home)) as p:
        run_import(p, base / "co", actor="test")
        run_pipeline(p.warehouse, as_of=end, settings=p.settings)
    return home


_BUILT: dict[str, Any] = {}


def once(key: str, build: Any) -> Any:
    """``build()`` the first time ``key`` is asked for in this process, the same result after.

    A module-scoped fixture is set up again whenever pytest-xdist hands its worker a
    test of another module in between; a demo company built through ``once`` is not.
    """
    if key not in _BUILT:
        _BUILT[key] = build()
    return _BUILT[key]


def head_revision() -> str:
    """The newest packaged migration, which a migrated store must report."""
    from alembic.script import ScriptDirectory

    from helix.store.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head
