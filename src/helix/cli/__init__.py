"""The `helix` command line."""
