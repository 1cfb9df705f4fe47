"""What the server tells a newcomer once it answers: where the API, docs and data are, and how to call it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mock_server.hosts import is_loopback
from mock_server.settings import Settings

DEFAULT_TOKEN = "dev"


def banner(settings: Settings, index_path: str, actions: Iterable[Mapping[str, Any]]) -> str:
    """The ready message: URLs, a curl line that works as it is, the data and the modes in force."""
    shown_host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    base = f"http://{shown_host}:{settings.port}"
    if settings.auth == "off":
        auth, credential = "off: no credential needed", ""
    elif settings.auth == "any":
        auth, credential = (
            "any: every non-empty bearer token or access-token",
            " -H 'Authorization: Bearer any-token'",
        )
    else:
        token = settings.tokens[0] if settings.tokens else DEFAULT_TOKEN
        # Only the well-known development token is printed; a real secret stays out of the terminal.
        shown = token if token == DEFAULT_TOKEN else "$TOKEN"
        auth = f"on: {len(settings.tokens)} recognised token(s)" + (
            f" ({DEFAULT_TOKEN})" if shown == DEFAULT_TOKEN else ""
        )
        credential = f" -H 'Authorization: Bearer {shown}'"
    if not settings.cors:
        cors = "off (--no-cors)"
    elif "*" in settings.cors_origins:
        cors = "every origin (*)"
    else:
        cors = ", ".join(settings.cors_origins)
    action_list = (
        ", ".join(f"{a.get('action_id')} ({a.get('action_type')})" for a in actions) or "none"
    )
    lines = [
        "ActionSession mock is ready",
        # The API's root: the index path without its resource and operation.
        f"  API       {base}{index_path.rsplit('/', 2)[0]}/",
        f"  Docs      {base}/ui/",
        f"  Spec      {base}/openapi.json",
        f"  Try       curl -s -X POST {base}{index_path}{credential}",
        f"  Database  {settings.db_path}",
        f"  CORS      {cors}",
        f"  Auth      {auth}",
        f"  Actions   {action_list}",
    ]
    if settings.latency_ms != (0, 0):
        low, high = settings.latency_ms
        lines.append(f"  Latency   {low if low == high else f'{low}-{high}'} ms on every answer")
    if settings.fail_rate:
        lines.append(
            f"  Failures  {settings.fail_rate:.0%} of requests answer {settings.fail_status}"
        )
    if not is_loopback(settings.host) and settings.auth == "off":
        lines.append(
            f"  WARNING   listening on {settings.host} with --auth off: anyone who can reach this "
            "machine can change and delete every record"
        )
    return "\n".join(lines)
