"""Every route an app serves, with its full path, however its routers were included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["iter_routes"]


def iter_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, frozenset[str], Any]]:
    """``(path, methods, route)`` of each route in ``routes`` (e.g. ``app.routes``), included
    routers flattened (FastAPI >= 0.16x keeps them as lazily-resolved wrappers)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from iter_routes(included.routes, prefix + getattr(context, "prefix", ""))
        elif isinstance(getattr(route, "path", None), str):
            yield prefix + route.path, frozenset(getattr(route, "methods", None) or ()), route
