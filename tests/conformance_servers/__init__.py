"""Servers implementing the ActionSession API, correctly or with one planted bug, for tests."""
