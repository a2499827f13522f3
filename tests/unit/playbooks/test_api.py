"""The playbook API, tasks, notifications, contact preferences and the web pages
(``/tasks``, ``/unsubscribe/<token>``) on a crafted home, with the roles each allows.

Users: admin, leader (lead@x.io), csm@x.io (owns A1), other@x.io (a CSM, owns A2) and a
viewer. One playbook, ``red``, turns each red account into a task for its owner and a
notification for the leader.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from helix.api.app import create_app
from helix.config import Settings
from helix.playbooks.catalog import get_record, install_library, library
from helix.playbooks.contacts import get_preference, unsubscribe_token
from helix.store import Role, Scope, create_key, create_user
from helix.store.models import Task

from .conftest import AS_OF, Home, account, contact, turned
from .test_engine import RED, only

PASSWORD = "pw-123456789"
ADMIN, LEADER, CSM, OTHER, VIEWER = (
    "admin@x.io", "lead@x.io", "csm@x.io", "other@x.io", "viewer@x.io",
)
PLAYBOOK = RED | {"goal": {"metric": "health_recovery", "window_days": 30}}
TURNED_ON = AS_OF - timedelta(days=1)


@pytest.fixture
def client(home: Home) -> Iterator[TestClient]:
    """The app over the crafted home: A1 (csm) and A2 (other) turned red yesterday;
    A1 is green 30 days later, A2 still red."""
    with home.platform.store.session() as s:
        for email, role in [(ADMIN, Role.ADMIN), (OTHER, Role.CSM), (VIEWER, Role.VIEWER)]:
            create_user(s, email=email, name=email, role=role, password=PASSWORD, actor="test")
    home.accounts([account(1), account(2, owner_email=OTHER)])
    home.put("health_events", [turned("A1", TURNED_ON), turned("A2", TURNED_ON)])
    end = TURNED_ON + timedelta(days=30)
    home.put("health_scores", [
        {"account_id": a, "score_date": d, "score": 50.0, "color": c}
        for a, d, c in [("A1", TURNED_ON, "red"), ("A1", end, "green"),
                        ("A2", TURNED_ON, "red"), ("A2", end, "red")]
    ])
    home.put("contacts", [contact(1), contact(2, "A2")])
    only(home, PLAYBOOK)
    home.platform.release_warehouse()  # the app opens it per request
    with TestClient(create_app(Settings.load(home.path))) as c:
        yield c


def login(client: TestClient, email: str) -> None:
    """Sign ``client`` in as ``email`` (a new login replaces the previous session)."""
    page = client.get("/login").text
    csrf = _csrf(page)
    r = client.post("/login", data={"email": email, "password": PASSWORD, "csrf": csrf},
                    follow_redirects=False)
    assert r.status_code == 303, r.text


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def run(client: TestClient) -> dict[str, Any]:
    """Evaluate the playbooks as the leader (as of the crafted date)."""
    login(client, LEADER)
    r = client.post("/api/v1/playbooks/run", json={"as_of": AS_OF.isoformat()})
    assert r.status_code == 200, r.text
    return dict(r.json())


def task_of(client: TestClient, owner: str) -> dict[str, Any]:
    """The one open task of ``owner`` (read as the leader)."""
    login(client, LEADER)
    rows = client.get("/api/v1/tasks", params={"owner": owner, "today": AS_OF.isoformat()}).json()
    assert len(rows) == 1, rows
    return dict(rows[0])


def problem(r: Response, status: int) -> dict[str, Any]:
    """The problem+json body of ``r``, after checking its status."""
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    return dict(r.json())


def key(home: Home, scope: Scope) -> dict[str, str]:
    with home.platform.store.session() as s:
        _, plaintext = create_key(s, name=f"k-{scope}", scope=scope, actor="test")
    return {"Authorization": f"Bearer {plaintext}"}


# --------------------------------------------------------------------------- playbooks


def test_the_library_is_listed(client: TestClient, home: Home) -> None:
    with home.platform.store.session() as s:
        install_library(s, actor="test")
    login(client, VIEWER)
    rows = client.get("/api/v1/playbooks").json()
    assert [r["name"] for r in rows] == sorted([p.name for p in library()] + ["red"])
    red = next(r for r in rows if r["name"] == "red")
    assert (red["version"], red["enabled"], red["source"]) == (1, True, "custom")
    assert red["definition"]["trigger"] == {"type": "health_turned", "params": {"color": "red"}}
    assert red["funnel"]["triggered"] == 0


def test_get_one_with_its_yaml_and_versions(client: TestClient) -> None:
    login(client, VIEWER)
    body = client.get("/api/v1/playbooks/red").json()
    assert body["name"] == "red" and body["version"] == 1
    assert yaml.safe_load(body["yaml"])["actions"][0]["title"] == "Save {account_name}"
    assert [(v["version"], v["created_by"]) for v in body["versions"]] == [(1, "test")]
    assert problem(client.get("/api/v1/playbooks/nope"), 404)["detail"].startswith(
        "no playbook named 'nope'")


def test_a_leader_puts_yaml_then_json(client: TestClient) -> None:
    login(client, LEADER)
    text = yaml.safe_dump(PLAYBOOK | {"cooldown_days": 7}, sort_keys=False)
    r = client.put("/api/v1/playbooks/red", content=text,
                   headers={"Content-Type": "application/yaml"})
    assert r.status_code == 200, r.text
    assert (r.json()["version"], r.json()["changed"]) == (2, True)
    assert r.json()["definition"]["cooldown_days"] == 7
    r = client.put("/api/v1/playbooks/red", json=PLAYBOOK | {"cooldown_days": 7, "title": "Red!"})
    assert (r.json()["version"], r.json()["definition"]["title"]) == (3, "Red!")
    again = client.put("/api/v1/playbooks/red", json=PLAYBOOK | {"cooldown_days": 7,
                                                                 "title": "Red!"})
    assert (again.json()["version"], again.json()["changed"]) == (3, False)
    body = client.get("/api/v1/playbooks/red").json()
    assert [v["version"] for v in body["versions"]] == [1, 2, 3]
    assert {v["created_by"] for v in body["versions"][1:]} == {f"api:{LEADER}"}
    # a new playbook starts at version 1
    new = PLAYBOOK | {"name": "red-copy"}
    r = client.put("/api/v1/playbooks/red-copy", content=json.dumps(new),
                   headers={"Content-Type": "application/json"})
    assert (r.json()["name"], r.json()["version"]) == ("red-copy", 1)


@pytest.mark.parametrize("email", [CSM, VIEWER])
def test_csms_and_viewers_cannot_change_or_run_playbooks(client: TestClient, email: str) -> None:
    login(client, email)
    assert problem(client.put("/api/v1/playbooks/red", json=PLAYBOOK | {"cooldown_days": 1}),
                   403)["detail"] == "only leaders and admins may change or run playbooks"
    problem(client.post("/api/v1/playbooks/run", json={"as_of": AS_OF.isoformat()}), 403)
    problem(client.post("/api/v1/playbooks/red/enabled", json={"enabled": False}), 403)
    login(client, LEADER)
    body = client.get("/api/v1/playbooks/red").json()
    assert (body["version"], body["enabled"]) == (1, True)
    assert client.get("/api/v1/tasks", params={"status": "any"}).json() == []


def test_bad_bodies(client: TestClient) -> None:
    login(client, ADMIN)
    other = problem(client.put("/api/v1/playbooks/red", json=PLAYBOOK | {"name": "blue"}), 400)
    assert other["detail"] == "the body names playbook 'blue', the URL 'red'"
    invalid = problem(client.put("/api/v1/playbooks/red", json=PLAYBOOK | {"holdout": 0.9}), 400)
    assert "invalid playbook" in invalid["detail"] and "holdout" in invalid["detail"]
    bad_yaml = problem(client.put("/api/v1/playbooks/red", content="name: [unclosed",
                                  headers={"Content-Type": "application/yaml"}), 400)
    assert "not valid YAML" in bad_yaml["detail"]
    huge = "# " + "x" * (64 * 1024) + "\n" + yaml.safe_dump(PLAYBOOK)
    assert problem(client.put("/api/v1/playbooks/red", content=huge,
                              headers={"Content-Type": "application/yaml"}), 413)["status"] == 413
    assert client.get("/api/v1/playbooks/red").json()["version"] == 1


def test_run_creates_tasks_and_disabled_playbooks_stay_quiet(client: TestClient) -> None:
    login(client, LEADER)
    off = client.post("/api/v1/playbooks/red/enabled", json={"enabled": False}).json()
    assert (off["enabled"], off["version"]) == (False, 2)
    quiet = client.post("/api/v1/playbooks/run", json={"as_of": AS_OF.isoformat()}).json()
    assert (quiet["playbooks"], quiet["enrolled"]) == ([], 0)
    client.post("/api/v1/playbooks/red/enabled", json={"enabled": True})
    report = run(client)
    assert report["as_of"] == AS_OF.isoformat() and report["enrolled"] == 2
    assert report["steps"] == {"done": 4}  # a task and a notification for each account
    rows = client.get("/api/v1/tasks", params={"today": AS_OF.isoformat()}).json()
    assert sorted((t["account_id"], t["owner_email"], t["title"]) for t in rows) == [
        ("A1", CSM, "Save Account 1"), ("A2", OTHER, "Save Account 2")]


def test_impact(client: TestClient) -> None:
    run(client)
    login(client, VIEWER)
    mature = (TURNED_ON + timedelta(days=30)).isoformat()
    body = client.get("/api/v1/playbooks/red/impact", params={"as_of": mature}).json()
    assert {"playbook", "funnel", "goal", "uplift", "ci_low", "ci_high", "treated",
            "held_out_group"} <= set(body)
    assert (body["playbook"], body["goal"], body["mature_enrolments"]) == (
        "red", "health_recovery", 2)
    assert body["treated"] == {"n": 2, "met": 1, "rate": 0.5}  # A1 recovered, A2 did not
    assert body["held_out_group"] == {"n": 0, "met": 0, "rate": None}
    assert (body["uplift"], body["ci_low"], body["ci_high"]) == (None, None, None)
    assert (body["funnel"]["triggered"], body["funnel"]["tasks_open"]) == (2, 2)
    early = client.get("/api/v1/playbooks/red/impact", params={"as_of": AS_OF.isoformat()})
    assert early.json()["mature_enrolments"] == 0


# --------------------------------------------------------------------------- tasks


def test_a_csm_sees_only_their_own_tasks(client: TestClient) -> None:
    run(client)
    login(client, CSM)
    rows = client.get("/api/v1/tasks", params={"today": AS_OF.isoformat()}).json()
    assert [(t["account_id"], t["owner_email"]) for t in rows] == [("A1", CSM)]
    assert rows[0]["due_date"] == (AS_OF + timedelta(days=2)).isoformat()
    assert client.get("/api/v1/tasks", params={"owner": "CSM@x.io"}).status_code == 200
    denied = problem(client.get("/api/v1/tasks", params={"owner": OTHER}), 403)
    assert denied["detail"] == "a CSM sees their own tasks only"


def test_the_owner_completes_the_other_csm_cannot(client: TestClient) -> None:
    run(client)
    mine = task_of(client, CSM)
    login(client, OTHER)
    problem(client.post(f"/api/v1/tasks/{mine['id']}/complete", json={"outcome": "mine now"}),
            403)
    problem(client.post(f"/api/v1/tasks/{mine['id']}/dismiss", json={"outcome": "no"}), 403)
    problem(client.post(f"/api/v1/tasks/{mine['id']}/reassign", json={"to": OTHER}), 403)
    login(client, VIEWER)
    problem(client.post(f"/api/v1/tasks/{mine['id']}/complete", json={"outcome": "x"}), 403)
    login(client, CSM)
    done = client.post(f"/api/v1/tasks/{mine['id']}/complete", json={"outcome": "called"})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["outcome"], done.json()["closed_by"]) == (
        "done", "called", f"api:{CSM}")
    again = problem(client.post(f"/api/v1/tasks/{mine['id']}/dismiss", json={"outcome": "x"}),
                    400)
    assert "already done" in again["detail"]
    closed = client.get("/api/v1/tasks", params={"status": "done"}).json()
    assert [t["id"] for t in closed] == [mine["id"]]


def test_the_owner_dismisses_and_reassigns(client: TestClient, home: Home) -> None:
    run(client)
    theirs = task_of(client, OTHER)
    login(client, OTHER)
    moved = client.post(f"/api/v1/tasks/{theirs['id']}/reassign", json={"to": "Lead@x.io"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["owner_email"] == LEADER
    assert client.get("/api/v1/tasks").json() == []  # no longer the CSM's
    login(client, LEADER)
    gone = client.post(f"/api/v1/tasks/{theirs['id']}/dismiss", json={"outcome": "duplicate"})
    assert (gone.json()["status"], gone.json()["outcome"]) == ("dismissed", "duplicate")
    with home.platform.store.session() as s:
        task = s.get(Task, theirs["id"])
        assert task is not None
        assert (task.status, task.owner_email, task.closed_by) == (
            "dismissed", LEADER, f"api:{LEADER}")


def test_a_read_key_lists_tasks_but_cannot_change_them(client: TestClient, home: Home) -> None:
    run(client)
    task = task_of(client, CSM)
    client.cookies.clear()
    read = key(home, Scope.READ)
    rows = client.get("/api/v1/tasks", headers=read).json()
    assert sorted(t["owner_email"] for t in rows) == [CSM, OTHER]
    problem(client.post(f"/api/v1/tasks/{task['id']}/complete", json={"outcome": "x"},
                        headers=read), 403)
    problem(client.post("/api/v1/tasks", headers=read, json={
        "account_id": "A1", "title": "t", "owner_email": CSM, "due_date": AS_OF.isoformat()}),
        403)
    write = key(home, Scope.WRITE)
    done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"outcome": "via key"},
                       headers=write)
    assert done.json()["status"] == "done"


# --------------------------------------------------------------------------- notifications


def test_the_leader_reads_the_red_escalation(client: TestClient) -> None:
    run(client)
    notes = client.get("/api/v1/notifications").json()  # signed in as the leader
    assert sorted(n["message"] for n in notes) == ["Account 1 is red", "Account 2 is red"]
    first = next(n for n in notes if n["account_id"] == "A1")
    assert first["user_email"] == LEADER and first["read_at"] is None
    login(client, CSM)
    assert client.get("/api/v1/notifications").json() == []
    problem(client.post(f"/api/v1/notifications/{first['id']}/read"), 404)
    login(client, LEADER)
    read = client.post(f"/api/v1/notifications/{first['id']}/read").json()
    assert read["read_at"] is not None
    unread = client.get("/api/v1/notifications", params={"unread": True}).json()
    assert [n["account_id"] for n in unread] == ["A2"]


# --------------------------------------------------------------------------- contacts


def test_contact_preferences(client: TestClient) -> None:
    login(client, CSM)
    default = client.get("/api/v1/contacts/C1/preferences").json()
    assert default == {"contact_id": "C1", "email_opt_out": False, "channels": ["email"],
                       "max_emails_per_week": None, "updated_at": None, "updated_by": None}
    r = client.put("/api/v1/contacts/C1/preferences", json={"email_opt_out": True})
    assert r.status_code == 200, r.text
    assert (r.json()["email_opt_out"], r.json()["updated_by"]) == (True, f"api:{CSM}")
    login(client, VIEWER)
    problem(client.put("/api/v1/contacts/C1/preferences", json={"email_opt_out": False}), 403)
    after = client.get("/api/v1/contacts/C1/preferences").json()
    assert (after["email_opt_out"], after["channels"]) == (True, ["email"])


# --------------------------------------------------------------------------- web pages


def test_unsubscribe_link(client: TestClient, home: Home) -> None:
    with home.platform.store.session() as s:
        token = unsubscribe_token(s, "C1")
    client.cookies.clear()  # the link needs no login
    page = client.get(f"/unsubscribe/{token}")
    assert page.status_code == 200
    assert "Unsubscribe from these emails?" in page.text
    assert f'action="/unsubscribe/{token}"' in page.text
    with home.platform.store.session() as s:
        assert get_preference(s, "C1") is None  # a GET (a mail scanner) changes nothing
    done = client.post(f"/unsubscribe/{token}")
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    with home.platform.store.session() as s:
        pref = get_preference(s, "C1")
        assert pref is not None
        assert (pref.email_opt_out, pref.updated_by) == (True, "unsubscribe-link")
        assert get_preference(s, "C2") is None
    forged = client.post(f"/unsubscribe/{token[:-2]}xx")
    assert forged.status_code == 400 and "This link does not work" in forged.text


def test_the_tasks_page_closes_a_task(client: TestClient, home: Home) -> None:
    run(client)
    login(client, CSM)
    page = client.get("/tasks", params={"due": "all"})
    assert page.status_code == 200
    assert "My tasks" in page.text
    assert "Save Account 1" in page.text and "Save Account 2" not in page.text
    action = re.search(r'action="/tasks/(\d+)/close"', page.text)
    assert action, page.text
    task_id = int(action.group(1))
    r = client.post(f"/tasks/{task_id}/close", follow_redirects=False, data={
        "status": "done", "outcome": "called, save plan agreed", "csrf": _csrf(page.text)})
    assert r.status_code == 303
    assert r.headers["location"] == f"/tasks?due=today&message=Task+{task_id}+done"
    with home.platform.store.session() as s:
        task = s.get(Task, task_id)
        assert task is not None
        assert (task.account_id, task.status, task.outcome, task.closed_by) == (
            "A1", "done", "called, save plan agreed", CSM)
        assert s.scalar(select(func.count()).select_from(Task).where(
            Task.status == "open")) == 1
    forged = client.post(f"/tasks/{task_id}/close", data={
        "status": "dismissed", "outcome": "x", "csrf": "forged"})
    assert forged.status_code == 403
    assert "Nothing due" in client.get("/tasks", params={"due": "all"}).text


def test_the_leader_sees_the_escalation_on_the_tasks_page(client: TestClient) -> None:
    run(client)
    login(client, LEADER)
    page = client.get("/tasks").text
    assert "Notifications" in page and "Account 1 is red" in page


def test_the_playbooks_page_shows_funnel_and_lets_leaders_toggle(client: TestClient,
                                                                  home: Home) -> None:
    run(client)
    login(client, CSM)
    page = client.get("/playbooks")
    assert page.status_code == 200 and PLAYBOOK["title"] in page.text
    assert "Disable" not in page.text  # a CSM reads, does not change
    r = client.post(f"/playbooks/{PLAYBOOK['name']}/enabled",
                    data={"enabled": "false", "csrf": _csrf(page.text)})
    assert r.status_code == 403
    login(client, LEADER)
    page = client.get("/playbooks")
    row = page.text.split(PLAYBOOK["title"], 1)[1].split("</tr>", 1)[0]
    assert '<td class="num">2</td>' in row  # triggered: A1 and A2
    r = client.post(f"/playbooks/{PLAYBOOK['name']}/enabled", follow_redirects=False,
                    data={"enabled": "false", "csrf": _csrf(page.text)})
    assert r.status_code == 303
    with home.platform.store.session() as s:
        assert get_record(s, PLAYBOOK["name"]).enabled is False
