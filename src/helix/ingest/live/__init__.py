"""Live ingestion: Segment's tracking API and Stripe's webhooks, spooled durably and
flushed into the warehouse through the importer.

The routers (``tracking_api``, ``stripe_api``) import FastAPI; the rest does not.
"""

from helix.ingest.live.flush import Flusher, FlushResult, LiveConfig, flush_spool, open_spool
from helix.ingest.live.spool import Spool, spool_path

__all__ = [
    "FlushResult",
    "Flusher",
    "LiveConfig",
    "Spool",
    "flush_spool",
    "open_spool",
    "spool_path",
]
