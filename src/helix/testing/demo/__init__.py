"""The demo company generator: a realistic B2B SaaS customer base in the data-contract format.

``generate_company`` writes one file per contract table (Parquet or CSV) for a vendor
with SMB, mid-market and enterprise customers whose churn and expansion are caused by
the signals a CS platform reads (usage, relationships, sentiment, onboarding,
payments). See ``docs/demo.md`` for the causal model and the calibration it produces.
"""

from helix.testing.demo.generate import DemoSummary, generate_company
from helix.testing.demo.writers import SCHEMAS, TABLES

__all__ = ["DemoSummary", "SCHEMAS", "TABLES", "generate_company"]
