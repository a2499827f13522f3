"""The top navigation: every section of the web app, shown only where its page exists.

Pages live in several modules (some optional); :func:`install` keeps the links
whose path the app actually serves, so no link ever leads to a 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.templating import Jinja2Templates


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


def _paths(routes: list[Any], prefix: str = "") -> Iterator[str]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI >= 0.16x includes lazily
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from _paths(included.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(getattr(route, "path", None), str):
            yield prefix + route.path


def install(app: FastAPI, templates: Jinja2Templates) -> None:
    """Give the templates the ``nav`` links of the sections ``app`` serves."""
    served = set(_paths(app.routes))
    templates.env.globals["nav"] = [link for link in SECTIONS if link.path in served]
