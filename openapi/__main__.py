"""`python -m openapi lint|diff`: see `openapi.cli`."""

from __future__ import annotations

from openapi.cli import main

raise SystemExit(main())
