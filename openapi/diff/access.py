"""Comparing who may call an operation, and where: servers and security.

Owns what changes to servers (the document's, a path's, an operation's; none declared means `/`)
and to security (requirements as alternatives a client may satisfy, and the schemes they name)
mean for existing clients: a server removed or moved breaks clients configured with it; security
that some authorised client no longer satisfies is tightened, the reverse loosened.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from openapi.diff.engine import Comparison
from openapi.diff.nodes import Node, as_list, mapping, show
from openapi.document import join_pointer


def servers(document: Mapping[str, Any], pointer: str, *levels: tuple[Any, str]) -> tuple[Any, str]:
    """The servers in force where the innermost of `levels` declares some (else the document's),
    with the pointer of the object that declares them."""
    found: tuple[Any, str] = (document.get("servers"), pointer)
    for holder, where in levels:
        if "servers" in mapping(holder):
            found = (mapping(holder)["servers"], where)
    return found


def server_urls(servers: Any) -> dict[str, int | None]:
    """Each server's URL (without a trailing slash) and its index; no servers means "/" alone."""
    urls: dict[str, int | None] = {}
    for index, server in enumerate(as_list(servers)):
        url = mapping(server).get("url")
        if isinstance(url, str):
            urls.setdefault(url.rstrip("/") or "/", index)
    return urls or {"/": None}


class AccessComparison:
    """Compares servers and security for one `Comparison`."""

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison

    def compare_servers(self, old: tuple[Any, str], new: tuple[Any, str], where: str) -> None:
        """Compare two server lists, each with the pointer of the object that declares it."""
        old_urls, new_urls = server_urls(old[0]), server_urls(new[0])
        gone = [url for url in old_urls if url not in new_urls]
        came = [url for url in new_urls if url not in old_urls]

        def at(side: tuple[Any, str], index: int | None) -> str:
            return side[1] if index is None else join_pointer(side[1], "servers", index)

        if len(old_urls) == 1 and len(new_urls) == 1 and gone and came:
            self.comparison.report(
                "server-changed",
                at(new, new_urls[came[0]]),
                f"{where}: server {gone[0]} is now {came[0]}",
            )
            return
        for url in gone:
            self.comparison.report(
                "server-removed", at(old, old_urls[url]), f"{where}: server {url} removed", "old"
            )
        for url in came:
            self.comparison.report(
                "server-added", at(new, new_urls[url]), f"{where}: server {url} added"
            )

    @staticmethod
    def _requirements(
        document: Mapping[str, Any], operation: Node
    ) -> tuple[list[dict[str, frozenset[str]]], str]:
        op = mapping(operation.value)
        if "security" in op:
            raw, pointer = op["security"], join_pointer(operation.pointer, "security")
        else:
            # Without a top-level `security` the place is the document itself (pointer "").
            raw = document.get("security", [])
            pointer = "/security" if "security" in document else ""
        alternatives = [
            {
                str(scheme): frozenset(map(str, as_list(scopes)))
                for scheme, scopes in mapping(alt).items()
            }
            for alt in (raw if isinstance(raw, list) else [])
        ]
        # No requirement at all means anonymous access, the same as one empty alternative.
        return alternatives or [{}], pointer

    def compare_security(self, old: Node, new: Node) -> None:
        """Compare the security in force for one operation: the alternatives a client may meet."""
        old_alts, _ = self._requirements(self.comparison.old, old)
        new_alts, pointer = self._requirements(self.comparison.new, new)

        def satisfies(client: dict[str, frozenset[str]], needed: dict[str, frozenset[str]]) -> bool:
            return all(s in client and scopes <= client[s] for s, scopes in needed.items())

        def describe(alts: list[dict[str, frozenset[str]]]) -> str:
            return " or ".join(
                "+".join(f"{s}{sorted(sc) if sc else ''}" for s, sc in sorted(a.items()))
                or "anonymous"
                for a in alts
            )

        change = f"security {describe(old_alts)} is now {describe(new_alts)}"
        # A client that met some old alternative must still meet some new one.
        if any(not any(satisfies(o, n) for n in new_alts) for o in old_alts):
            self.comparison.report("security-tightened", pointer, change)
        if any(not any(satisfies(n, o) for o in old_alts) for n in new_alts):
            self.comparison.report("security-loosened", pointer, change)

    def compare_security_schemes(self) -> None:
        """Compare the schemes both documents declare: type, location, name, URLs, flows."""
        old_schemes = mapping(mapping(self.comparison.old.get("components")).get("securitySchemes"))
        new_schemes = mapping(mapping(self.comparison.new.get("components")).get("securitySchemes"))
        for name, old_raw in old_schemes.items():
            if name not in new_schemes:
                continue  # Unused schemes may go; a used one shows up as security-tightened.
            pointer = join_pointer("/components/securitySchemes", name)
            old_node = self.comparison.resolve(self.comparison.old, old_raw, pointer)
            new_node = self.comparison.resolve(self.comparison.new, new_schemes[name], pointer)
            old_scheme, new_scheme = mapping(old_node.value), mapping(new_node.value)
            old_pointer, pointer = old_node.pointer, new_node.pointer
            for key in ("type", "in", "name", "scheme", "openIdConnectUrl"):
                old_value, new_value = old_scheme.get(key), new_scheme.get(key)
                if key == "scheme" and isinstance(old_value, str) and isinstance(new_value, str):
                    old_value, new_value = old_value.lower(), new_value.lower()
                if old_value != new_value:
                    self.comparison.report(
                        "security-scheme-changed",
                        join_pointer(pointer, key) if key in new_scheme else pointer,
                        f"security scheme {name}: {key} {show(old_value)} is now {show(new_value)}",
                    )
            old_flows = mapping(old_scheme.get("flows"))
            new_flows = mapping(new_scheme.get("flows"))
            for flow, old_flow in old_flows.items():
                new_flow = mapping(new_flows.get(flow))
                if not new_flow:
                    self.comparison.report(
                        "security-scheme-changed",
                        join_pointer(old_pointer, "flows", flow),
                        f"security scheme {name}: {flow} flow removed",
                        "old",
                    )
                    continue
                for url in ("authorizationUrl", "tokenUrl"):
                    if mapping(old_flow).get(url) != new_flow.get(url):
                        self.comparison.report(
                            "security-scheme-changed",
                            join_pointer(
                                pointer, "flows", flow, *([url] if url in new_flow else [])
                            ),
                            f"security scheme {name}: {flow} {url} changed",
                        )
