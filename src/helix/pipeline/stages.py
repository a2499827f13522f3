"""Registers the built-in stages of `helix run`, in the order data flows.

Each capability adds its stage module to the import list below.
"""

from helix.pipeline import account_summary, checks  # noqa: F401  (each registers its stage)
