"""Playbooks: triggers paired with defined responses, run exactly once per occurrence."""
