"""``nbr search``: search every report's versions and runs; ``nbr search reindex|retry|status`` keep the index.

``nbr search revenue kind:code`` prints the hits best first, the matched words marked; with
``--as USER`` only the reports that person may view take part (as in the UI). ``reindex`` rebuilds
the index from the store and database (idempotent, with a progress bar), ``retry`` tries the
versions and runs that failed to index now, ``status`` counts what is indexed or failed. To search
for one of those three words, quote it: ``nbr search '"reindex"'``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from nbreports.settings import Settings

if TYPE_CHECKING:
    from nbreports.storage.database import PlatformDB

MAINTENANCE = ("reindex", "retry", "status")


def maintenance_action(args: argparse.Namespace) -> str | None:
    """The upkeep ``nbr search`` was asked for (admins only), or None for a search."""
    words = getattr(args, "words", [])
    return words[0] if len(words) == 1 and words[0] in MAINTENANCE else None


def _facts(settings: Settings, db: PlatformDB, only: set[str] | None) -> dict[str, Any]:
    from nbreports.browse.catalog import report_entries
    from nbreports.reports.catalog import load_reports
    from nbreports.search import ReportFacts

    disk, _ = load_reports(settings.resolved_notebooks_dir, settings.derived_cache_dir)
    entries = report_entries(db, disk, only)
    return {name: ReportFacts.from_entry(entry) for name, entry in entries.items()}


def _marked(segments: list[dict[str, Any]], tty: bool) -> str:
    on, off = ("\033[1m", "\033[0m") if tty else ("*", "*")
    text = "".join(f"{on}{s['text']}{off}" if s["hit"] else str(s["text"]) for s in segments)
    return " ".join(text.split())


def _where(hit: dict[str, Any]) -> str:
    if hit["run_id"]:
        cell = f" cell {hit['cell']}" if hit["cell"] is not None else ""
        return f"run {hit['run_id']} ({hit['status']}){cell}" + (f" scrap {hit['name']}" if hit["name"] else "")
    if hit["version"]:
        return f"version {hit['version'][:12]} cell {hit['cell']} (in {hit['versions']} version(s))"
    return "report"


def _upkeep(action: str, settings: Settings) -> int:
    from tqdm import tqdm

    from nbreports.runs.model import Platform
    from nbreports.search.rebuild import reindex, retry_failed
    from nbreports.search.sources import counts

    platform = Platform.from_settings(settings)
    if action == "status":
        print(", ".join(f"{n} {status}" for status, n in sorted(counts(platform.db).items())) or "nothing indexed")
        return 0
    if action == "retry":
        outcome = retry_failed(platform.db, platform.store)
    else:
        with tqdm(desc="reindex", unit="source", file=sys.stderr, disable=None) as bar:

            def step(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            outcome = reindex(platform.db, platform.store, step)
    print(f"{action}: {outcome.indexed} indexed, {outcome.failed} failed")
    return 1 if outcome.failed else 0


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    """Print the hits of the query (or run the upkeep it names); exit 2 on a query that cannot be read."""
    action = maintenance_action(args)
    if action:
        return _upkeep(action, settings)
    from nbreports.runs.model import Platform
    from nbreports.search import search

    db = Platform.from_settings(settings).db
    page = search(
        db,
        " ".join(args.words),
        _facts(settings, db, getattr(args, "only", None)),
        page=args.page,
        per_page=args.per_page,
    ).to_dict()
    if args.json:
        print(json.dumps(page, indent=2))
        return 0
    first = (page["page"] - 1) * page["per_page"]
    print(
        f"{page['total']} hit(s) for {page['query']}"
        + (f", {first + 1}-{first + len(page['hits'])}" if page["hits"] else "")
    )
    tty = sys.stdout.isatty()
    for hit in page["hits"]:
        print(f"\n{hit['report']}  {hit['kind']}  {_where(hit)}  {hit['at'][:19]}")
        print(f"  {_marked(hit['snippet'], tty)}")
    return 0


def add_parsers(sub: Any) -> None:
    """The ``search`` subcommand on the ``nbr`` parser's subparsers."""
    search = sub.add_parser(
        "search",
        help="search versions, runs and reports (or: search reindex | retry | status)",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    search.add_argument("words", nargs="+", help='the query: words, "phrases", prefix*, -word, OR, name:value filters')
    search.add_argument("--page", type=int, default=1, help="which page of hits (default 1)")
    search.add_argument("--per-page", type=int, default=10, help="hits per page (default 10, at most 100)")
    search.add_argument("--json", action="store_true", help="the page of hits as JSON, as the UI's API returns it")
    search.set_defaults(func=cmd_search)
