"""What the mock writes to its logs, and what it never writes there: credentials.

The access log prints each request's path with its query string, and the API accepts its token as
the `access-token` query parameter, so without this every call made that way would leave a working
credential in the log. Values of credential-like query parameters are replaced by `***` in every
log record that carries a request path.
"""

from __future__ import annotations

import logging
import re

SECRET_PARAMETERS = re.compile(
    r"(?i)([?&](?:access[-_]?token|token|api[-_]?key|password|client[-_]?secret)=)[^&#\s]*"
)
MASK = "***"


def mask_credentials(text: str) -> str:
    """`text` with the value of every credential-like query parameter masked."""
    return SECRET_PARAMETERS.sub(lambda m: m.group(1) + MASK, text)


class CredentialFilter(logging.Filter):
    """Masks credentials in a record's message arguments (uvicorn's access log passes the path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                mask_credentials(a) if isinstance(a, str) else a for a in record.args
            )
        elif isinstance(record.msg, str):
            record.msg = mask_credentials(record.msg)
        return True


def mask_server_logs() -> None:
    """Install the filter on uvicorn's loggers; call after uvicorn has configured logging."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).addFilter(CredentialFilter())
