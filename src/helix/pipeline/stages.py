"""Registers the built-in stages of `helix run`, in the order data flows.

Each capability adds its stage module to the import list below.
"""

from helix.metrics import stage  # noqa: F401  (registers mrr_movements)
from helix.pipeline import account_summary, checks  # noqa: F401  (each registers its stage)
from helix.health import stage as health_stage  # noqa: F401  (signals 30, health 35)
from helix.predict import stage as predict_stage  # noqa: F401  (predictions 40)
from helix.predict import expansion_stage  # noqa: F401  (expansion 45)
from helix.predict import forecast_stage  # noqa: F401  (renewal_forecast 50)
from helix.pipeline import portfolio_table  # noqa: F401  (portfolio 60)
