"""Connexion with its per-request set-up done once: the work that depends only on the spec.

Connexion 3.3 rebuilds, for every request, things that depend only on the operation: the handler's
decorators (with an `inspect.signature` of the handler), the URI parser, and one jsonschema
validator per parameter (after a deep copy of the parameter) and per body. A profile of a view
under load put those at about a tenth of the server's time. Here they are built once per
operation (or per schema) and reused; what they check and answer is Connexion's own, unchanged.

`LeanAsyncApp` is Connexion's `AsyncApp` whose operations keep their decorated handler, and
`CompiledParameterValidator` the parameter validator with one compiled validator per schema.
`compiled(schema, ...)` is the cache the body validator (`mock_server.validation`) uses too.

`LeanAsyncApp.add_checked_api` serves a document Connexion has checked against the OpenAPI schema
before, in this process or at an earlier start that noted it in a stamp file, without checking it
again: that check took a seventh of a start on the default data (0.1 s for the contract, 0.05 s
for the control API). Any other document is checked as Connexion checks it, errors included.

`JSONIFIER` writes the answers' JSON with msgspec: an index page of 100 sessions (54 KB) in 0.05 ms
where `json.dumps` took 0.4 ms, about a tenth of that request. The JSON is compact and UTF-8
(`json.dumps` spaced it and escaped non-ASCII characters), with Connexion's trailing newline.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import msgspec
from connexion import AsyncApp
from connexion import spec as connexion_spec
from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.decorators import StarletteDecorator
from connexion.jsonifier import Jsonifier
from connexion.middleware import ConnexionMiddleware
from connexion.middleware.main import API, _Options
from connexion.operations import AbstractOperation
from connexion.spec import OpenAPISpecification
from connexion.utils import is_null, is_nullable
from connexion.validators import ParameterValidator
from jsonschema import Draft4Validator, FormatChecker, ValidationError

from mock_server import file_identity

_COMPILED: dict[tuple[int, type, int], tuple[object, Any]] = {}
_MAX_COMPILED = 1024  # operations x parameters; a spec reload may add a set


def compiled(schema: Any, validator_class: type, format_checker: FormatChecker) -> Any:
    """A validator for `schema`, built once per schema object (and class and format checker)."""
    key = (id(schema), validator_class, id(format_checker))
    found = _COMPILED.get(key)
    # The schema itself is kept beside its validator, so that its id cannot be reused.
    if found is not None and found[0] is schema:
        return found[1]
    if len(_COMPILED) >= _MAX_COMPILED:
        _COMPILED.clear()
    validator = validator_class(schema, format_checker=format_checker)
    _COMPILED[key] = (schema, validator)
    return validator


_DRAFT4_FORMATS: FormatChecker = Draft4Validator.FORMAT_CHECKER


class CompiledParameterValidator(ParameterValidator):  # type: ignore[misc]  # Connexion is untyped
    """Connexion's parameter validator, with each parameter's schema compiled once."""

    def validate_parameter(
        self, parameter_type: str, value: Any, param: dict[str, Any], param_name: Any = None
    ) -> str | None:
        # Connexion's own steps and messages; only the deep copy and the rebuilt validator go.
        if is_nullable(param) and is_null(value):
            return None
        if value is not None:
            schema = param.get("schema", param)
            try:
                compiled(schema, Draft4Validator, _DRAFT4_FORMATS).validate(value)
            except ValidationError as exception:
                return str(exception)
            return None
        if param.get("required"):
            return f"Missing {parameter_type} parameter '{param['name']}'"
        return None


class _FastJsonifier(Jsonifier):  # type: ignore[misc]  # Connexion is untyped
    """Connexion's jsonifier, writing with msgspec; what msgspec cannot write, Connexion does."""

    _encoder = msgspec.json.Encoder()

    def dumps(self, data: Any, **kwargs: Any) -> str:
        if not kwargs:
            try:
                return self._encoder.encode(data).decode() + "\n"
            except (TypeError, ValueError, msgspec.EncodeError):
                # A type only Connexion's encoder knows (a date, a Decimal), or a string UTF-8
                # cannot hold (a lone surrogate, which a client may send as "\ud800"): its way,
                # which writes such a string escaped.
                pass
        return super().dumps(data, **kwargs)  # type: ignore[no-any-return]


JSONIFIER: Jsonifier = _FastJsonifier()
"""How every answer of the mock is written as JSON, by Connexion and by the direct path."""


class _OnceDecorator(StarletteDecorator):  # type: ignore[misc]  # Connexion is untyped
    """Decorates the handler on the first request only: the result depends on the handler alone."""

    @functools.cached_property
    def _decorated(self) -> dict[Callable[..., Any], Callable[..., Any]]:
        return {}

    def decorate(self, function: Callable[..., Any]) -> Callable[..., Any]:
        decorated = self._decorated.get(function)
        if decorated is None:
            decorated = self._decorated[function] = super().decorate(function)
        return decorated


class _LeanOperation(AsyncOperation):  # type: ignore[misc]  # Connexion is untyped
    @functools.cached_property
    def fn(self) -> Callable[..., Any]:
        decorator = _OnceDecorator(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)
        return decorator(self._fn)  # type: ignore[no-any-return]


class _LeanApi(AsyncApi):  # type: ignore[misc]  # Connexion is untyped
    def make_operation(self, operation: AbstractOperation) -> AsyncOperation:
        return _LeanOperation.from_operation(
            operation, pythonic_params=self.pythonic_params, jsonifier=self.jsonifier
        )


class _CheckedSpecification(OpenAPISpecification):  # type: ignore[misc]  # Connexion is untyped
    """Connexion's OpenAPI document, checked against the OpenAPI schema unless it passed before."""

    passed: ClassVar[set[str]] = set()
    """Digests of the documents that passed the check (in this process, or noted by a start)."""

    def __init__(self, document: dict[str, Any], **options: Any) -> None:
        self.digest = _digest(document)  # as given: Connexion fills in defaults before its check
        super().__init__(document, **options)

    def _validate_spec(self, spec: Any) -> None:  # Connexion calls it on the new instance
        if self.digest is not None and self.digest in self.passed:
            return
        super()._validate_spec(spec)  # raises InvalidSpecification
        if self.digest is not None:
            self.passed.add(self.digest)


def _digest(document: Mapping[str, Any]) -> str | None:
    """What identifies a document's check: its content and the Connexion that checks it (None
    for a document msgspec cannot write in key order, such as one with numbers for keys: it is
    always checked)."""
    try:
        content = msgspec.json.encode(document, order="sorted")
    except (TypeError, ValueError, msgspec.EncodeError):  # ValueError: a lone surrogate
        return None
    return hashlib.sha256(_checker() + content).hexdigest()


@functools.cache
def _checker() -> bytes:
    """The check's own identity: the OpenAPI schema Connexion holds, and its module's file."""
    module = os.stat(connexion_spec.__file__)
    schema = msgspec.json.encode(OpenAPISpecification.openapi_schema, order="sorted")
    return f"{module.st_size} {module.st_mtime_ns}\n".encode() + schema


def _noted(stamp: Path | None) -> list[str]:
    """The digests of the documents `stamp` notes as passed (none for a missing or odd stamp)."""
    noted = file_identity.recall(stamp) if stamp is not None else None
    passed = noted.get("passed") if noted is not None else None
    return [d for d in passed if isinstance(d, str)] if isinstance(passed, list) else []


class _PrebuiltSpecMiddleware(ConnexionMiddleware):  # type: ignore[misc]  # Connexion is untyped
    """Connexion's middleware, also taking an API whose `Specification` is already built."""

    def add_api(self, specification: Any, **options: Any) -> None:
        if not isinstance(specification, OpenAPISpecification):
            super().add_api(specification, **options)
            return
        # Connexion's own steps after it has loaded a document: the API's options over the app's.
        if self.middleware_stack is not None:
            raise RuntimeError("Cannot add api after an application has started")
        base_path, name = options.pop("base_path", None), options.pop("name", None)
        own = {f.name for f in dataclasses.fields(_Options) if f.init}
        merged = self.options.replace(**{k: v for k, v in options.items() if k in own})
        rest = {k: v for k, v in options.items() if k not in own}
        self.apis.append(
            API(specification, base_path=base_path, name=name, **merged.__dict__, **rest)
        )


class LeanAsyncApp(AsyncApp):  # type: ignore[misc]  # Connexion is untyped
    """Connexion's `AsyncApp` whose operations decorate their handler once, not per request,
    and whose documents are checked against the OpenAPI schema once (`add_checked_api`)."""

    def __init__(self, import_name: str, *, checked_stamp: Path | None = None, **kwargs: Any):
        kwargs.setdefault("jsonifier", JSONIFIER)
        super().__init__(import_name, **kwargs)
        self._middleware_app.api_cls = _LeanApi
        # The same middleware, taught to take a built document: Connexion builds it by name.
        self.middleware.__class__ = _PrebuiltSpecMiddleware
        self._stamp = checked_stamp
        self._served: list[str] = []
        _CheckedSpecification.passed.update(_noted(checked_stamp))

    def add_checked_api(self, document: dict[str, Any], **options: Any) -> None:
        """`add_api(document, ...)`, the document checked unless it passed before (a refusal
        raises Connexion's `InvalidSpecification`)."""
        specification = _CheckedSpecification(document)
        self.add_api(specification, **options)
        if specification.digest is not None:
            self._served.append(specification.digest)

    def note_checked(self) -> None:
        """Note the documents this app serves (all passed the check) in the stamp, once it
        serves: a start refused for another reason (a damaged database) leaves the folder as
        it was."""
        if self._stamp is None:
            return
        kept = _noted(self._stamp)
        if all(d in kept for d in self._served):
            return
        kept = [d for d in kept if d not in self._served]
        # The last few documents: a spec being edited leaves its earlier versions behind.
        file_identity.remember(self._stamp, {"passed": [*kept[-7:], *self._served]})
