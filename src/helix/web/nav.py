"""The top navigation: every section of the web app, shown only where its page exists.

Pages live in several modules (some optional); :func:`install` keeps the links
whose path the app actually serves, so no link ever leads to a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from fastapi.templating import Jinja2Templates

from helix.api.routing import iter_routes


@dataclass(frozen=True)
class Link:
    label: str
    path: str
    admin_only: bool = False


SECTIONS = (
    Link("Accounts", "/accounts"),
    Link("Renewals", "/renewals"),
    Link("Tasks", "/tasks"),
    Link("Playbooks", "/playbooks"),
    Link("Metrics", "/metrics"),
    Link("Health", "/health"),
    Link("Voice", "/voice"),
    Link("Reports", "/reports"),
    Link("Admin", "/admin", admin_only=True),
)


def install(app: FastAPI, templates: Jinja2Templates) -> None:
    """Give the templates the ``nav`` links of the sections ``app`` serves."""
    served = {path for path, _, _ in iter_routes(app.routes)}
    templates.env.globals["nav"] = [link for link in SECTIONS if link.path in served]
