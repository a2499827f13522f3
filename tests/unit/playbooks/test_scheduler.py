"""The playbook schedule of ``helix serve``: one persisted interval job in the app store
(``scheduler_jobs``), replaced rather than duplicated on restart, and the job itself."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy import text as sql

from helix.playbooks.scheduler import JOB_ID, scheduled_run, start_scheduler
from helix.store.models import Enrolment, Task
from helix.store.settings import set_setting

from .conftest import AS_OF, Home, account, turned
from .test_engine import RED, only


@contextmanager
def running(home: Home) -> Iterator[Any]:
    """A started scheduler over ``home``, always shut down afterwards."""
    scheduler = start_scheduler(home.platform)
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=True)


def stored_jobs(home: Home) -> list[tuple[str, float]]:
    """The rows of ``scheduler_jobs``: (id, next run as epoch seconds)."""
    with home.platform.store.engine.connect() as con:
        rows = con.execute(sql("SELECT id, next_run_time FROM scheduler_jobs ORDER BY id"))
        return [(str(i), float(t)) for i, t in rows]


def test_the_job_is_stored_with_its_next_run_within_the_interval(home: Home) -> None:
    with home.platform.store.session() as s:
        set_setting(s, "playbooks.schedule_minutes", 5, "test")
    before = time.time()
    with running(home) as scheduler:
        job = scheduler.get_job(JOB_ID)
        assert job is not None and job.args == (str(home.path),)
        assert job.trigger.interval == timedelta(minutes=5)
        jobs = stored_jobs(home)
        assert [i for i, _ in jobs] == [JOB_ID]
        next_run = jobs[0][1]
        assert before + 5 * 60 - 1 <= next_run <= time.time() + 5 * 60 + 1


def test_a_restart_replaces_the_job(home: Home) -> None:
    with running(home):
        first = stored_jobs(home)
    assert [i for i, _ in first] == [JOB_ID]  # persisted after shutdown
    assert first[0][1] - time.time() <= 60 * 60 + 1  # the default: hourly
    with home.platform.store.session() as s:
        set_setting(s, "playbooks.schedule_minutes", 2, "test")
    with running(home) as scheduler:
        assert len(scheduler.get_jobs()) == 1
        again = stored_jobs(home)
        assert [i for i, _ in again] == [JOB_ID]
        assert again[0][1] - time.time() <= 2 * 60 + 1  # the new interval replaced the old
        assert scheduler.get_job(JOB_ID).trigger.interval == timedelta(minutes=2)


def test_the_job_runs_the_engine(home: Home) -> None:
    home.accounts([account(1), account(2)])
    home.put("health_events", [turned("A1", AS_OF - timedelta(days=1))])
    only(home, RED)
    home.platform.release_warehouse()  # the job opens the home afresh
    report = scheduled_run(str(home.path))
    assert (report["as_of"], report["enrolled"], report["steps"]) == (
        AS_OF.isoformat(), 1, {"done": 2})  # as of the last pipeline date
    with home.platform.store.session() as s:
        assert s.scalars(select(Task.account_id)).all() == ["A1"]
        assert s.scalars(select(Enrolment.account_id)).all() == ["A1"]
        assert s.scalar(select(func.count()).select_from(Task).where(
            Task.created_by == "scheduler")) == 1
    assert scheduled_run(str(home.path))["enrolled"] == 0  # the next tick adds nothing
