"""Reports over HTTP: who may get the board slide and which QBRs, and the pages."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pptx import Presentation

from helix.api.app import create_app
from helix.config import Settings
from helix.platform import Platform
from helix.store import Role, Scope, create_key, create_user

from ...helpers import cli_json

PASSWORD = "correct horse battery"
OWNER = "kwame.sun@helix-demo.io"  # owns acct-000037 in the demo company
MINE, THEIRS = "acct-000037", "acct-000030"


@pytest.fixture(scope="module")
def served(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    home = tmp_path_factory.mktemp("api") / "home"
    shutil.copytree(built, home)
    with Platform(Settings.load(home)) as p, p.store.session() as s:
        for email, role in [
            ("admin@x.io", Role.ADMIN),
            ("viewer@x.io", Role.VIEWER),
            ("leader@x.io", Role.LEADER),
            (OWNER, Role.CSM),
        ]:
            create_user(s, email=email, name=email, role=role, password=PASSWORD, actor="test")
    return home


def _client(home: Path, email: str | None = None) -> TestClient:
    client = TestClient(create_app(Settings.load(home)))
    if email is not None:
        page = client.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        r = client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf": csrf},
            follow_redirects=False,
        )
        assert r.status_code == 303
    return client


def test_the_board_numbers_over_the_api(served: Path) -> None:
    viewer = _client(served, "viewer@x.io")
    r = viewer.get("/api/v1/reports/board", params={"period": "2025Q3"})
    assert r.status_code == 200
    body = r.json()
    assert body["retention"] == cli_json(
        served, "metrics", "retention", "--start", "2025-07-01", "--end", "2025-10-01"
    )
    bad = viewer.get("/api/v1/reports/board", params={"period": "2025Q9"})
    assert bad.status_code == 400 and "quarters 1 to 4" in bad.json()["detail"]


def test_the_board_file_and_who_may_have_it(served: Path) -> None:
    with Platform(Settings.load(served)) as p, p.store.session() as s:
        _, read_key = create_key(s, name="k-read", scope=Scope.READ, actor="test")
    anonymous = _client(served)
    assert anonymous.get("/api/v1/reports/board.pptx?period=2025Q3").status_code == 401
    csm = _client(served, OWNER)
    for path in (
        "/api/v1/reports/board?period=2025Q3",
        "/api/v1/reports/board.pptx?period=2025Q3",
        "/reports/board?period=2025Q3",
    ):
        assert csm.get(path).status_code == 403, path
    r = anonymous.get(
        "/api/v1/reports/board.pptx",
        params={"period": "2025Q3"},
        headers={"Authorization": f"Bearer {read_key}"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument")
    assert 'filename="board-2025Q3.pptx"' in r.headers["content-disposition"]
    assert len(Presentation(io.BytesIO(r.content)).slides) == 2
    pdf = _client(served, "leader@x.io").get("/api/v1/reports/board.pdf?period=2025Q3")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_csm_gets_qbrs_of_their_own_book_only(served: Path) -> None:
    csm = _client(served, OWNER)
    r = csm.get(f"/api/v1/reports/qbr/{MINE}")
    assert r.status_code == 200 and r.json()["account"]["account_id"] == MINE
    deck = csm.get(f"/api/v1/reports/qbr/{MINE}.pptx")
    assert deck.status_code == 200 and len(Presentation(io.BytesIO(deck.content)).slides) == 5
    for path in (
        f"/api/v1/reports/qbr/{THEIRS}",
        f"/api/v1/reports/qbr/{THEIRS}.pptx",
        f"/reports/qbr/{THEIRS}",
        "/api/v1/reports/qbr/no-such-account",
    ):
        assert csm.get(path).status_code == 403, path
    admin = _client(served, "admin@x.io")
    assert admin.get(f"/api/v1/reports/qbr/{THEIRS}").status_code == 200
    assert admin.get("/api/v1/reports/qbr/no-such-account").status_code == 404
    assert _client(served).get(f"/api/v1/reports/qbr/{MINE}").status_code == 401


def test_the_reports_pages(served: Path) -> None:
    assert _client(served).get("/reports", follow_redirects=False).headers["location"] == "/login"
    leader = _client(served, "leader@x.io")
    index = leader.get("/reports")
    assert index.status_code == 200
    assert '<option value="2025Q3" selected>' in index.text and "/reports/board" in index.text
    assert 'href="/reports"' in index.text  # the Reports section is in the navigation
    page = leader.get("/reports/board", params={"period": "2025Q3"})
    assert page.status_code == 200
    m = cli_json(served, "metrics", "retention", "--start", "2025-07-01", "--end", "2025-10-01")
    assert f'data-metric="nrr">{m["nrr"] * 100:.1f}%' in page.text
    assert "/api/v1/reports/board.pptx?period=2025Q3" in page.text
    bad = leader.get("/reports/board", params={"period": "nope"})
    assert bad.status_code == 400 and "cannot read" in bad.text
    csm = _client(served, OWNER)
    mine = csm.get("/reports")
    assert MINE in mine.text and THEIRS not in mine.text  # only their book to pick from
    assert "it is for leaders, admins and viewers" in mine.text
    picked = csm.get("/reports/qbr", params={"account_id": MINE}, follow_redirects=False)
    assert picked.headers["location"] == f"/reports/qbr/{MINE}"
    qbr = csm.get(f"/reports/qbr/{MINE}")
    assert qbr.status_code == 200 and f"/api/v1/reports/qbr/{MINE}.pptx" in qbr.text
    assert "Narrative written by Helix templates" in qbr.text

# builds a demo company or a live server: run by `make test-slow`
pytestmark = pytest.mark.slow
