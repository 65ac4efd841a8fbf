"""``nbr``: run and inspect reports without Airflow, through the same code path the DAGs use.

``nbr`` is the operator's tool: it acts with the platform's own credentials (the store and database
of its settings), not as an Airflow user; ``--as USER`` checks the access policy for USER first.
Each module adds its subcommands.
"""

from __future__ import annotations

import argparse
import sys

from nbreports.cli import access, history, maintenance, runs, search
from nbreports.errors import NbreportsError
from nbreports.settings import get_settings


def build_parser() -> argparse.ArgumentParser:
    """The ``nbr`` command line: every subcommand of ``runs``, ``history``, ``maintenance``, ``search``, ``access``."""
    parser = argparse.ArgumentParser(prog="nbr", description=__doc__.split("\n")[0])
    access.add_global_options(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    for module in (runs, history, maintenance, search, access):
        module.add_parsers(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ``nbr`` with ``argv``; the exit code (2 for an nbreports error, told on stderr)."""
    args = build_parser().parse_args(argv)
    try:
        if args.as_user:
            access.enforce(args, get_settings())
        return int(args.func(args, get_settings()))
    except NbreportsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
