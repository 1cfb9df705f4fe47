"""Keeping credentials out of everything a run writes.

Owns `Redactor` (the secrets of one run, each with the placeholder shown in its place: `$TOKEN`
for access tokens, so curl reproductions stay runnable with `TOKEN=... sh`), `redactor_for`
(every secret a run's settings know, including the tokens an identity provider issued during the
run), and a logging filter. Every writer of run output (terminal report, JUnit, JSON, Markdown,
HTML, leftovers file, logs) passes its text through a `Redactor` at the last moment, so that a
secret echoed by a server, or put in a URL, never reaches a file or a CI log.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus, urlsplit

if TYPE_CHECKING:
    from conformance.config import Settings

TOKEN = "$TOKEN"
CLIENT_SECRET = "$CONFORMANCE_CLIENT_SECRET"
PASSWORD = "$CONFORMANCE_PASSWORD"

# Shorter secrets (the mock's `dev`) are only replaced as whole words: replacing them inside
# other words would garble the report without protecting anything real.
_MIN_ANYWHERE = 6


class Redactor:
    """Replaces each known secret, in any of the encodings it travels in, by its placeholder."""

    def __init__(self, secrets: Iterable[tuple[str, str]] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        for value, placeholder in secrets:
            self.add(value, placeholder)

    def add(self, value: str | None, placeholder: str = TOKEN) -> None:
        """Also hide `value` from now on (safe to call from any thread)."""
        if not value:
            return
        with self._lock:
            for form in _forms(value):
                self._secrets.setdefault(form, placeholder)
            self._pattern = None

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __call__(self, text: str) -> str:
        """`text` with every secret replaced."""
        if not text or not self._secrets:
            return text
        with self._lock:
            pattern = self._pattern
            if pattern is None:
                pattern = self._pattern = _compile(self._secrets)
            secrets = dict(self._secrets)
        return pattern.sub(lambda m: secrets[m.group(0)], text)

    def data(self, value: Any) -> Any:
        """A JSON-like value with every string in it redacted."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {self(str(k)): self.data(v) for k, v in value.items()}
        return value


def _forms(value: str) -> list[str]:
    forms = {value, quote(value, safe=""), quote_plus(value)}
    return sorted(forms, key=len, reverse=True)


def _compile(secrets: dict[str, str]) -> re.Pattern[str]:
    parts = []
    for value in sorted(secrets, key=len, reverse=True):
        escaped = re.escape(value)
        parts.append(escaped if len(value) >= _MIN_ANYWHERE else rf"(?<![\w-]){escaped}(?![\w-])")
    return re.compile("|".join(parts))


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with each of `secrets` shown as `$TOKEN` (for callers that hold bare secrets)."""
    return Redactor((s, TOKEN) for s in secrets if s)(text)


def redactor_for(settings: Settings) -> Redactor:
    """Every secret a run with `settings` knows of, including tokens issued during the run."""
    redactor = Redactor()
    redactor.add(settings.token, TOKEN)
    for url in (settings.base_url, settings.oauth.token_url if settings.oauth else ""):
        try:
            redactor.add(urlsplit(url).password, "***")  # https://user:password@host
        except ValueError:
            pass
    oauth = settings.oauth
    if oauth is not None:
        redactor.add(oauth.client_secret, CLIENT_SECRET)
        redactor.add(oauth.password, PASSWORD)
    credential = settings.credential
    if credential is not None:
        for issued in credential.issued():
            redactor.add(issued, TOKEN)
    return redactor


class RedactingFilter(logging.Filter):
    """A logging filter that redacts each record's message (installed on the run's handlers).

    It asks `settings` for the secrets at each record, so tokens issued during the run count.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the message with the secrets hidden; never drops a record."""
        redactor = redactor_for(self.settings)
        message = record.getMessage()
        cleaned = redactor(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redactor(record.exc_text)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True
