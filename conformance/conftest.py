"""Loads the conformance pytest plugin when pytest collects this package (`--pyargs conformance`)."""

from __future__ import annotations

pytest_plugins = ["conformance.pytest_plugin"]
