"""The playbook schedule inside ``helix serve`` (APScheduler).

One interval job, ``helix-playbooks``, persisted in the app store's ``scheduler_jobs``
table (APScheduler's SQLAlchemy job store), evaluates the playbooks and executes the
steps that have come due (waits, retries). Every ``playbooks.schedule_minutes``
(default 60) minutes; a run missed while the server was down runs once when it is
back (``coalesce``), never twice at the same time (``max_instances=1``).
"""

from __future__ import annotations

import logging
from typing import Any

from helix.platform import Platform

JOB_ID = "helix-playbooks"
DEFAULT_MINUTES = 60
log = logging.getLogger("helix.playbooks")


def scheduled_run(home: str) -> dict[str, Any]:
    """The job: one engine run for the data directory ``home`` (opened fresh, so the job
    holds nothing between runs; the warehouse is taken under the API's lock)."""
    from helix.api.lease import WAREHOUSE_LOCK, release_all
    from helix.config import Settings
    from helix.playbooks.service import run_playbooks

    with WAREHOUSE_LOCK:
        release_all()  # the app's own hold on the file, taken again by its next request
        with Platform(Settings.load(home)) as platform:
            report = run_playbooks(platform, actor="scheduler")
    log.info("playbooks: %s enrolled, steps %s", report["enrolled"], report["steps"])
    return report


def start_scheduler(platform: Platform) -> Any:
    """Start the background scheduler with its job stored in the app store; returns it
    (call ``shutdown()`` on it when the server stops)."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    from helix.store.settings import get_setting

    store = platform.store
    with store.session() as session:
        minutes = int(get_setting(session, "playbooks.schedule_minutes", DEFAULT_MINUTES))
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=store.engine, tablename="scheduler_jobs")},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
        timezone="UTC",
    )
    scheduler.add_job(
        "helix.playbooks.scheduler:scheduled_run", "interval", minutes=max(1, minutes),
        id=JOB_ID, args=[str(platform.settings.home)], replace_existing=True,
    )
    scheduler.start()
    return scheduler
