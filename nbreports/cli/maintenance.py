"""``nbr cache``: upkeep of the query cache (S3 lifecycle rule, or a sweep of a local store); ``nbr reconcile``."""

from __future__ import annotations

import argparse
from typing import Any

from nbreports.settings import Settings


def cmd_cache(args: argparse.Namespace, settings: Settings) -> int:
    """``nbr cache setup`` (the S3 lifecycle rule) or ``nbr cache sweep`` (remove expired entries now)."""
    from nbreports.kernel.querycache.expiry import apply_lifecycle, s3_client, s3_location, sweep
    from nbreports.storage.store import open_store

    store = open_store(settings.resolved_store_url, settings.store_options)  # no database needed
    if args.action == "setup":
        if not store.url_prefix.startswith("s3://"):
            print(
                f"{store.url_prefix} is a local store: nothing to set up; `nbr cache sweep` (or the "
                "nbreports_maintenance DAG) removes expired entries"
            )
            return 0
        bucket, prefix = s3_location(store)
        rules = apply_lifecycle(s3_client(settings.store_options), bucket, prefix, settings.query_cache_ttl_days)
        for rule in rules:
            print(f"bucket {bucket}: rule {rule['ID']} on {rule['Filter'].get('Prefix') or '(all)'}")
        return 0
    result = sweep(store)
    print(
        f"removed {len(result.removed)} entries ({result.corrupt} corrupt, {result.pickles} old pickles unread), "
        f"kept {result.kept}, freed {result.bytes_freed} bytes"
    )
    return 0


def cmd_reconcile(args: argparse.Namespace, settings: Settings) -> int:
    """``nbr reconcile``: record the runs whose process died as lost (every command does it first); how many."""
    from nbreports.cli.common import record_lost_runs
    from nbreports.runs.model import Platform

    count = record_lost_runs(Platform.from_settings(settings))
    print(f"{count} lost run(s) recorded; runs of Airflow DAG runs are judged by the nbreports_maintenance DAG")
    return 0


def add_parsers(sub: Any) -> None:
    """The subcommands of this module, on the ``nbr`` parser's subparsers."""
    cache = sub.add_parser("cache", help="query cache upkeep")
    cache.add_argument(
        "action",
        choices=["setup", "sweep"],
        help="setup: S3 lifecycle rule deleting expired entries; sweep: remove them now",
    )
    cache.set_defaults(func=cmd_cache)
    reconcile = sub.add_parser("reconcile", help="record runs whose process died (no heartbeat) as lost")
    reconcile.set_defaults(func=cmd_reconcile)
