"""Tests of the app store (helix.store) and the admin CLI."""
