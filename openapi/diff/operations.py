"""Comparing documents down to their schemas: paths, operations, parameters, bodies, responses.

Owns how the two documents' parts are matched and what their own changes mean for clients:
operations by method and path template (a renamed `{id}` is a renamed parameter), parameters by
location and name (path parameters by position), media types and response headers by their
case-insensitive names, statuses with `4XX` ranges and `default`. Servers and security are
`openapi.diff.access`'s. Each schema found is handed to `Comparison.compare_schema`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from openapi.diff.access import AccessComparison, servers
from openapi.diff.engine import Comparison
from openapi.diff.nodes import Node, Side, mapping
from openapi.document import HTTP_METHODS, join_pointer

PAGINATION_HEADER_PREFIX = "x-pagination-"

TEMPLATE_PARAM = re.compile(r"\{([^}/]*)\}")


def template_shape(path: str) -> str:
    """The path with its parameter names blanked, so a renamed path parameter still matches."""
    return TEMPLATE_PARAM.sub("{}", path)


DEFAULT_STYLE = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}


class OperationComparison:
    """Compares two documents down to their schemas, for one `Comparison`."""

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison
        self.access = AccessComparison(comparison)

    def compare_documents(self) -> None:
        """Compare the two documents: paths and operations, servers, security schemes."""
        old_paths = mapping(self.comparison.old.get("paths"))
        new_paths = mapping(self.comparison.new.get("paths"))
        new_by_shape = {template_shape(p): p for p in new_paths}
        matched_new: set[str] = set()
        for old_path, old_item in old_paths.items():
            new_path = (
                old_path if old_path in new_paths else new_by_shape.get(template_shape(old_path))
            )
            old_node = self.comparison.resolve(
                self.comparison.old, old_item, join_pointer("/paths", old_path)
            )
            if new_path is None:
                pointer = join_pointer("/paths", old_path)
                self.comparison.report("path-removed", pointer, f"path {old_path} removed", "old")
                continue
            matched_new.add(new_path)
            new_node = self.comparison.resolve(
                self.comparison.new, new_paths[new_path], join_pointer("/paths", new_path)
            )
            self._compare_path_item(old_path, old_node, new_path, new_node)
        for new_path in new_paths:
            if new_path not in matched_new:
                self.comparison.report(
                    "path-added", join_pointer("/paths", new_path), f"path {new_path} added"
                )
        self.access.compare_servers(
            servers(self.comparison.old, ""), servers(self.comparison.new, ""), "servers"
        )
        self.access.compare_security_schemes()

    def _compare_path_item(self, old_path: str, old: Node, new_path: str, new: Node) -> None:
        old_item, new_item = mapping(old.value), mapping(new.value)
        # Servers declared on a path (or an operation) replace the document's for it.
        old_servers = servers(self.comparison.old, "", (old_item, old.pointer))
        new_servers = servers(self.comparison.new, "", (new_item, new.pointer))
        if "servers" in old_item or "servers" in new_item:
            self.access.compare_servers(old_servers, new_servers, f"path {new_path}")
        for method in HTTP_METHODS:
            old_op, new_op = old_item.get(method), new_item.get(method)
            label = f"{method.upper()} {new_path}"
            if old_op is None and new_op is None:
                continue
            if new_op is None:
                self.comparison.report(
                    "operation-removed",
                    join_pointer(old.pointer, method),
                    f"{label} removed",
                    "old",
                )
            elif old_op is None:
                self.comparison.report(
                    "operation-added", join_pointer(new.pointer, method), f"{label} added"
                )
            else:
                if "servers" in mapping(old_op) or "servers" in mapping(new_op):
                    self.access.compare_servers(
                        servers(
                            self.comparison.old,
                            "",
                            (old_item, old.pointer),
                            (old_op, join_pointer(old.pointer, method)),
                        ),
                        servers(
                            self.comparison.new,
                            "",
                            (new_item, new.pointer),
                            (new_op, join_pointer(new.pointer, method)),
                        ),
                        label,
                    )
                self._compare_operation(
                    label,
                    old_path,
                    old_item,
                    Node(old_op, join_pointer(old.pointer, method)),
                    new_path,
                    new_item,
                    Node(new_op, join_pointer(new.pointer, method)),
                )

    def _compare_operation(
        self,
        label: str,
        old_path: str,
        old_item: Mapping[str, Any],
        old: Node,
        new_path: str,
        new_item: Mapping[str, Any],
        new: Node,
    ) -> None:
        self.comparison.operation = label
        try:
            self._compare_operation_parts(old_path, old_item, old, new_path, new_item, new)
        finally:
            self.comparison.operation = None

    def _compare_operation_parts(
        self,
        old_path: str,
        old_item: Mapping[str, Any],
        old: Node,
        new_path: str,
        new_item: Mapping[str, Any],
        new: Node,
    ) -> None:
        old_op, new_op = mapping(old.value), mapping(new.value)
        old_id, new_id = old_op.get("operationId"), new_op.get("operationId")
        if old_id is not None and old_id != new_id:
            self.comparison.report(
                "operation-id-changed",
                join_pointer(new.pointer, "operationId") if new_id is not None else new.pointer,
                f"operationId {old_id!r} is now {new_id!r}",
            )
        if new_op.get("deprecated") is True and old_op.get("deprecated") is not True:
            self.comparison.report(
                "operation-deprecated", join_pointer(new.pointer, "deprecated"), "deprecated"
            )
        self._compare_parameters(old_path, old_item, old, new_path, new_item, new)
        self._compare_request_body(old, new)
        self._compare_responses(old, new)
        self.access.compare_security(old, new)

    # -- parameters ------------------------------------------------------------------------------

    def _parameters(
        self, document: Mapping[str, Any], path_item: Mapping[str, Any], operation: Node
    ) -> dict[tuple[str, str], tuple[Node, str]]:
        """The operation's parameters, path-level ones included, keyed by (in, name).

        Each comes with the pointer of its entry in the `parameters` list: a parameter added or
        removed is reported there, a change inside a shared parameter at the parameter itself.
        """
        item_pointer = operation.pointer.rsplit("/", 1)[0]
        found: dict[tuple[str, str], tuple[Node, str]] = {}
        sources = (
            (path_item.get("parameters"), join_pointer(item_pointer, "parameters")),
            (
                mapping(operation.value).get("parameters"),
                join_pointer(operation.pointer, "parameters"),
            ),
        )
        for listed, pointer in sources:
            for index, raw in enumerate(listed if isinstance(listed, list) else []):
                entry = join_pointer(pointer, index)
                node = self.comparison.resolve(document, raw, entry)
                param = mapping(node.value)
                location = str(param.get("in", ""))
                name = str(param.get("name", ""))
                # Header names are case-insensitive on the wire.
                found[(location, name.lower() if location == "header" else name)] = (node, entry)
        return found

    def _compare_parameters(
        self,
        old_path: str,
        old_item: Mapping[str, Any],
        old: Node,
        new_path: str,
        new_item: Mapping[str, Any],
        new: Node,
    ) -> None:
        old_entries = self._parameters(self.comparison.old, old_item, old)
        new_entries = self._parameters(self.comparison.new, new_item, new)
        old_params = {key: node for key, (node, _) in old_entries.items()}
        new_params = {key: node for key, (node, _) in new_entries.items()}
        pairs: list[tuple[tuple[str, str], tuple[str, str]]] = [
            (key, key) for key in old_params if key in new_params
        ]
        removed = [key for key in old_params if key not in new_params]
        added = [key for key in new_params if key not in old_params]

        # A path parameter is identified by its place in the template, not by its name.
        old_names = TEMPLATE_PARAM.findall(old_path)
        new_names = TEMPLATE_PARAM.findall(new_path)
        for old_name, new_name in zip(old_names, new_names, strict=False):
            old_key, new_key = ("path", old_name), ("path", new_name)
            if old_name != new_name and old_key in removed and new_key in added:
                self._pair_off(removed, added, pairs, old_key, new_key)
                self.comparison.report(
                    "parameter-renamed",
                    new_params[new_key].pointer,
                    f"path parameter {old_name!r} renamed to {new_name!r}",
                )

        for old_key in list(removed):
            moved_to = next((k for k in added if k[1] == old_key[1] and k[0] != old_key[0]), None)
            if moved_to is not None:
                self._pair_off(removed, added, pairs, old_key, moved_to)
                self.comparison.report(
                    "parameter-moved",
                    new_params[moved_to].pointer,
                    f"parameter {old_key[1]!r} moved from {old_key[0]} to {moved_to[0]}",
                )

        for location in sorted({k[0] for k in removed}):
            gone = [k for k in removed if k[0] == location]
            came = [k for k in added if k[0] == location]
            if len(gone) == 1 and len(came) == 1:
                old_schema = self._param_schema(self.comparison.old, old_params[gone[0]])
                new_schema = self._param_schema(self.comparison.new, new_params[came[0]])
                if self.comparison.equivalent(old_schema, new_schema, "request"):
                    self._pair_off(removed, added, pairs, gone[0], came[0])
                    self.comparison.report(
                        "parameter-renamed",
                        new_params[came[0]].pointer,
                        f"{location} parameter {gone[0][1]!r} renamed to {came[0][1]!r}",
                    )

        for key in removed:
            self.comparison.report(
                "parameter-removed",
                old_entries[key][1],
                f"{key[0]} parameter {key[1]!r} removed",
                "old",
            )
        for key in added:
            param = mapping(new_params[key].value)
            required = param.get("required") is True
            self.comparison.report(
                "parameter-added-required" if required else "parameter-added",
                new_entries[key][1],
                f"{'required' if required else 'optional'} {key[0]} parameter {key[1]!r} added",
            )
        for old_key, new_key in pairs:
            self._compare_parameter(new_key, old_params[old_key], new_params[new_key])

    @staticmethod
    def _pair_off(
        removed: list[tuple[str, str]],
        added: list[tuple[str, str]],
        pairs: list[tuple[tuple[str, str], tuple[str, str]]],
        old_key: tuple[str, str],
        new_key: tuple[str, str],
    ) -> None:
        removed.remove(old_key)
        added.remove(new_key)
        pairs.append((old_key, new_key))

    def _param_schema(self, document: Mapping[str, Any], param: Node) -> Node:
        value = mapping(param.value)
        if "schema" in value:
            return self.comparison.resolve(
                document, value["schema"], join_pointer(param.pointer, "schema")
            )
        # A parameter described by `content` has exactly one media type (OpenAPI 3.0 §4.7.12).
        for media_type, media in mapping(value.get("content")).items():
            pointer = join_pointer(param.pointer, "content", media_type, "schema")
            return self.comparison.resolve(document, mapping(media).get("schema", {}), pointer)
        return Node({}, param.pointer)  # No schema allows anything.

    def _compare_parameter(self, key: tuple[str, str], old: Node, new: Node) -> None:
        old_param, new_param = mapping(old.value), mapping(new.value)
        what = f"{key[0]} parameter {key[1]!r}"
        old_required, new_required = (
            old_param.get("required") is True,
            new_param.get("required") is True,
        )
        if new_required and not old_required:
            self.comparison.report(
                "parameter-made-required", new.pointer, f"{what} is now required"
            )
        elif old_required and not new_required:
            self.comparison.report(
                "parameter-made-optional", new.pointer, f"{what} is now optional"
            )
        location = key[0]
        old_style = old_param.get("style", DEFAULT_STYLE.get(location))
        new_style = new_param.get("style", DEFAULT_STYLE.get(location))
        old_explode = old_param.get("explode", old_style == "form")
        new_explode = new_param.get("explode", new_style == "form")
        if (old_style, old_explode) != (new_style, new_explode):
            self.comparison.report(
                "parameter-serialization-changed",
                new.pointer,
                f"{what}: style/explode {old_style}/{old_explode} is now {new_style}/{new_explode}",
            )
        self.comparison.compare_schema(
            self._param_schema(self.comparison.old, old),
            self._param_schema(self.comparison.new, new),
            "request",
        )

    # -- request bodies --------------------------------------------------------------------------

    def _compare_request_body(self, old: Node, new: Node) -> None:
        old_raw = mapping(old.value).get("requestBody")
        new_raw = mapping(new.value).get("requestBody")
        if old_raw is None and new_raw is None:
            return
        if old_raw is None:
            body = self.comparison.resolve(
                self.comparison.new, new_raw, join_pointer(new.pointer, "requestBody")
            )
            required = mapping(body.value).get("required") is True
            self.comparison.report(
                "request-body-added-required" if required else "request-body-added",
                join_pointer(new.pointer, "requestBody"),
                f"{'required' if required else 'optional'} request body added",
            )
            return
        old_body = self.comparison.resolve(
            self.comparison.old, old_raw, join_pointer(old.pointer, "requestBody")
        )
        if new_raw is None:
            pointer = join_pointer(old.pointer, "requestBody")
            self.comparison.report("request-body-removed", pointer, "request body removed", "old")
            return
        new_body = self.comparison.resolve(
            self.comparison.new, new_raw, join_pointer(new.pointer, "requestBody")
        )
        old_required = mapping(old_body.value).get("required") is True
        new_required = mapping(new_body.value).get("required") is True
        if new_required and not old_required:
            self.comparison.report(
                "request-body-made-required",
                new_body.pointer,
                "request body is now required",
            )
        elif old_required and not new_required:
            self.comparison.report(
                "request-body-made-optional",
                new_body.pointer,
                "request body is now optional",
            )
        self._compare_content(old_body, new_body, "request")

    def _compare_content(self, old: Node, new: Node, side: Side) -> None:
        old_content = {
            k.lower(): (k, v) for k, v in mapping(mapping(old.value).get("content")).items()
        }
        new_content = {
            k.lower(): (k, v) for k, v in mapping(mapping(new.value).get("content")).items()
        }
        for media_type, (old_key, old_media) in old_content.items():
            if media_type not in new_content:
                self.comparison.report(
                    f"{side}-media-type-removed",
                    join_pointer(old.pointer, "content", old_key),
                    f"{side} media type {old_key} removed",
                    "old",
                )
                continue
            new_key, new_media = new_content[media_type]
            self.comparison.compare_schema(
                self._media_schema(
                    self.comparison.old, old_media, join_pointer(old.pointer, "content", old_key)
                ),
                self._media_schema(
                    self.comparison.new, new_media, join_pointer(new.pointer, "content", new_key)
                ),
                side,
            )
        for media_type, (new_key, _) in new_content.items():
            if media_type not in old_content:
                self.comparison.report(
                    f"{side}-media-type-added",
                    join_pointer(new.pointer, "content", new_key),
                    f"{side} media type {new_key} added",
                )

    def _media_schema(self, document: Mapping[str, Any], media: Any, pointer: str) -> Node:
        if "schema" in mapping(media):
            return self.comparison.resolve(
                document, media["schema"], join_pointer(pointer, "schema")
            )
        return Node({}, pointer)  # No schema allows anything.

    # -- responses -------------------------------------------------------------------------------

    def _compare_responses(self, old: Node, new: Node) -> None:
        old_pointer, new_pointer = (
            join_pointer(old.pointer, "responses"),
            join_pointer(new.pointer, "responses"),
        )
        # YAML reads an unquoted 200 as an integer; status keys are strings in the spec's model.
        old_responses = {
            str(k).upper(): v for k, v in mapping(mapping(old.value).get("responses")).items()
        }
        new_responses = {
            str(k).upper(): v for k, v in mapping(mapping(new.value).get("responses")).items()
        }
        new_keys = {str(k).upper(): str(k) for k in mapping(mapping(new.value).get("responses"))}
        old_keys = {str(k).upper(): str(k) for k in mapping(mapping(old.value).get("responses"))}
        for status, old_raw in old_responses.items():
            old_node = self.comparison.resolve(
                self.comparison.old, old_raw, join_pointer(old_pointer, old_keys[status])
            )
            # A removed status still covered by a range (404 by 4XX), or else by `default`, is
            # compared with what now describes it.
            target = status if status in new_responses else f"{status[:1]}XX"
            if target not in new_responses and status != "DEFAULT":
                target = "DEFAULT"
            if target not in new_responses:
                self.comparison.report(
                    "response-status-removed",
                    join_pointer(old_pointer, old_keys[status]),
                    f"response {old_keys[status]} removed",
                    "old",
                )
                continue
            new_node = self.comparison.resolve(
                self.comparison.new,
                new_responses[target],
                join_pointer(new_pointer, new_keys[target]),
            )
            self._compare_response(old_node, new_node)
        for status in new_responses:
            if status not in old_responses:
                self.comparison.report(
                    "response-status-added",
                    join_pointer(new_pointer, new_keys[status]),
                    f"response {new_keys[status]} added",
                )

    def _compare_response(self, old: Node, new: Node) -> None:
        old_headers = {
            k.lower(): (k, v) for k, v in mapping(mapping(old.value).get("headers")).items()
        }
        new_headers = {
            k.lower(): (k, v) for k, v in mapping(mapping(new.value).get("headers")).items()
        }
        for lowered, (old_name, old_raw) in old_headers.items():
            old_node = self.comparison.resolve(
                self.comparison.old, old_raw, join_pointer(old.pointer, "headers", old_name)
            )
            if lowered not in new_headers:
                rule = (
                    "pagination-header-removed"
                    if lowered.startswith(PAGINATION_HEADER_PREFIX)
                    else "response-header-removed"
                )
                pointer = join_pointer(old.pointer, "headers", old_name)
                self.comparison.report(rule, pointer, f"header {old_name} removed", "old")
                continue
            new_name, new_raw = new_headers[lowered]
            new_node = self.comparison.resolve(
                self.comparison.new, new_raw, join_pointer(new.pointer, "headers", new_name)
            )
            old_required = mapping(old_node.value).get("required") is True
            new_required = mapping(new_node.value).get("required") is True
            if old_required and not new_required:
                self.comparison.report(
                    "response-header-made-optional",
                    new_node.pointer,
                    f"header {new_name} is now optional",
                )
            elif new_required and not old_required:
                self.comparison.report(
                    "response-header-made-required",
                    new_node.pointer,
                    f"header {new_name} is now required",
                )
            self.comparison.compare_schema(
                self._param_schema(self.comparison.old, old_node),
                self._param_schema(self.comparison.new, new_node),
                "response",
            )
        for lowered, (new_name, _) in new_headers.items():
            if lowered not in old_headers:
                pointer = join_pointer(new.pointer, "headers", new_name)
                self.comparison.report("response-header-added", pointer, f"header {new_name} added")
        self._compare_content(old, new, "response")
