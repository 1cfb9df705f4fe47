"""Connexion with its per-request set-up done once: the work that depends only on the spec.

Connexion 3.3 rebuilds, for every request, things that depend only on the operation: the handler's
decorators (with an `inspect.signature` of the handler), the URI parser, and one jsonschema
validator per parameter (after a deep copy of the parameter) and per body. A profile of a view
under load put those at about a tenth of the server's time. Here they are built once per
operation (or per schema) and reused; what they check and answer is Connexion's own, unchanged.

`LeanAsyncApp` is Connexion's `AsyncApp` whose operations keep their decorated handler, and
`CompiledParameterValidator` the parameter validator with one compiled validator per schema.
`compiled(schema, ...)` is the cache the body validator (`mock_server.validation`) uses too.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from connexion import AsyncApp
from connexion.apps.asynchronous import AsyncApi, AsyncOperation
from connexion.decorators import StarletteDecorator
from connexion.operations import AbstractOperation
from connexion.utils import is_null, is_nullable
from connexion.validators import ParameterValidator
from jsonschema import Draft4Validator, FormatChecker, ValidationError

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


class LeanAsyncApp(AsyncApp):  # type: ignore[misc]  # Connexion is untyped
    """Connexion's `AsyncApp` whose operations decorate their handler once, not per request."""

    def __init__(self, import_name: str, **kwargs: Any) -> None:
        super().__init__(import_name, **kwargs)
        self._middleware_app.api_cls = _LeanApi
