"""Live ingestion inside the running app: one spool and one background flusher per app.

The tracking and webhook routers share the :class:`LiveService` kept on
``app.state``; it is started by the routers' lifespan (so ``helix serve``
flushes in the background and flushes whatever a killed process left in the
spool as soon as it starts) and made on demand otherwise (a test client).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from helix.ingest.live.flush import Flusher, LiveConfig, open_spool
from helix.ingest.live.spool import Spool

if TYPE_CHECKING:
    from fastapi import FastAPI

    from helix.platform import Platform
    from helix.warehouse import Warehouse

__all__ = ["LiveService", "live_service"]

_CONFIG_TTL_S = 5.0
_MAKE_LOCK = threading.Lock()


class LiveService:
    """The spool, the flusher and the (briefly cached) live settings of one app."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.spool: Spool = open_spool(platform.settings.home)
        self.flusher = Flusher(platform, self._warehouse, self.spool)
        self._config: tuple[float, LiveConfig] | None = None

    @contextlib.contextmanager
    def _warehouse(self) -> Iterator[Warehouse]:
        # the app's lease, as every request takes it: a flush round is one more request
        from helix.api.lease import lease_of

        with lease_of(self.platform).use() as wh:
            yield wh

    @property
    def config(self) -> LiveConfig:
        """The live settings, read from the app store at most every few seconds."""
        cached = self._config
        if cached is None or time.monotonic() - cached[0] > _CONFIG_TTL_S:
            cached = (time.monotonic(), LiveConfig.load(self.platform))
            self._config = cached
        return cached[1]

    def close(self) -> None:
        self.flusher.stop()
        self.spool.close()


def live_service(app: FastAPI) -> LiveService:
    """The app's live service, made on first use."""
    service = getattr(app.state, "live", None)
    if service is None:
        with _MAKE_LOCK:
            service = getattr(app.state, "live", None)
            if service is None:
                service = LiveService(app.state.platform)
                app.state.live = service
    return service


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
    """Start the background flusher with the app, stop it (after its round) at shutdown."""
    service = live_service(app)
    service.flusher.start()
    try:
        yield
    finally:
        service.close()
        app.state.live = None
