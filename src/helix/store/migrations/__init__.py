"""Alembic migrations of the app store (run by :func:`helix.store.open_store`)."""
