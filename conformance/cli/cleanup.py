"""`python -m conformance cleanup --from PATH`: delete what an earlier run could not.

Reads the leftovers file a run wrote (`--leftovers PATH`), force-deletes each record in the order
written (children first), confirms it is gone (view 404), and rewrites the file with what is still
left. Exit codes: 0 everything is gone, 1 some records are still there, 2 the cleanup could not be
made (bad options, unreadable file, unreachable or throttling server).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance.cleanup import Leftover, Tracker, finish_leftovers, read_leftovers, write_leftovers
from conformance.cli.run import add_network_options, network_from_args
from conformance.client import ApiClient, Network
from conformance.config import Profile
from conformance.contract import load_contract
from conformance.failures import ConformanceError
from openapi import SPEC_PATH

logger = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ConformanceError(f"bad options: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The cleanup command's flags."""
    parser = _Parser(
        prog="python -m conformance cleanup",
        description="Delete the records an earlier run left behind (its --leftovers file).",
    )
    parser.add_argument("--from", dest="source", type=Path, required=True, help="leftovers file")
    parser.add_argument("--base-url", default=None, help="the server (default: the file's)")
    parser.add_argument("--spec", type=Path, default=SPEC_PATH, help="the OpenAPI document")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("--token", help="credential sent as Authorization: Bearer TOKEN")
    auth.add_argument("--access-token", help="credential sent as the access-token query parameter")
    add_network_options(parser)
    return parser


def main(argv: Sequence[str]) -> int:
    """Finish the cleanup; 0 all gone, 1 some left, 2 could not be made."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if list(argv) in (["-h"], ["--help"]):
        build_parser().print_help()
        return 0
    try:
        args = build_parser().parse_args(list(argv))
        document = read_leftovers(args.source)
        base_url = args.base_url or document.get("base_url")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise ConformanceError("bad options: give --base-url (the file names none)")
        contract = load_contract(args.spec)
        tracker = Tracker(contract, "cleanup")
        for record in document["records"]:
            resource = contract.resources.get(record["resource"])
            if resource is not None:
                tracker.add(resource, record["id"])
        client = ApiClient(
            base_url,
            token=args.token or args.access_token,
            token_in_query=args.access_token is not None,
            # Only the records of the file may be deleted: the same guard as a run's.
            may_write=tracker.may_write(Profile.FULL),
            network=Network(network_from_args(args)),
            is_read=tracker.is_read,
        )
        try:
            lines, left = finish_leftovers(client, contract, document)
        finally:
            client.close()
    except ConformanceError as exc:
        print(f"conformance: error: {exc}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    runs = document.get("runs") or [""]
    args.source.unlink()
    if left:
        write_leftovers(
            args.source,
            base_url,
            str(runs[-1]),
            [Leftover(r["resource"], r.get("entity", r["resource"]), r["id"]) for r in left],
        )
        print(f"{len(left)} record(s) still left, kept in {args.source}")
        return 1
    write_leftovers(args.source, base_url, str(runs[-1]), [])
    print(f"all {len(lines)} record(s) deleted")
    return 0
