"""What the run trusts: the system's CAs, or a private CA bundle (`--ca-bundle PATH`).

Proxies come from the usual environment variables (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
`NO_PROXY`): httpx and requests (Schemathesis) both honour them by default (`trust_env`).
"""

from __future__ import annotations

import ssl
from pathlib import Path

from conformance.failures import ConformanceError


def verify_for(ca_bundle: Path | None) -> ssl.SSLContext | bool:
    """httpx's `verify`: `True` (system CAs) or a context trusting only the bundle's CAs."""
    if ca_bundle is None:
        return True
    try:
        return ssl.create_default_context(cafile=str(ca_bundle))
    except (OSError, ssl.SSLError) as exc:
        raise ConformanceError(f"cannot read the CA bundle {ca_bundle}: {exc}") from exc
