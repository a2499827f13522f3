"""Builders of the generator's output tables from a simulated chunk (Arrow tables)."""
