"""``nbr versions``, ``show``, ``restore``, ``backup`` and ``restore-backup``: notebook versions and backups."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from nbreports.cli.common import platform_of
from nbreports.settings import Settings


def cmd_versions(args: argparse.Namespace, settings: Settings) -> int:
    """``nbr versions``: the saved versions of a report's notebook, newest first."""
    from nbreports.history.versions import list_saves
    from nbreports.identifiers import check_report_name

    platform = platform_of(settings)
    saves = list_saves(platform.store, platform.db, check_report_name(args.report))
    if args.json:
        print(json.dumps(saves, indent=2, default=str))
        return 0
    if not saves:
        print(f"no versions of {args.report} yet")
    for save in saves:
        print(
            f"{save['saved_at'][:19]}  {save['sha256'][:12]}  {save['source']:11} {save['author'] or '-':14} "
            f"{save['kernel'] or '-':10} {save['origin'] or ''}"
        )
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    """``nbr show``: one version of a notebook (``--info``: its record) on stdout."""
    from nbreports.history.versions import show_version

    report, sep, version = args.ref.partition("@")
    if not sep:
        print("error: expected <report>@<version>, e.g. sales_summary@1a2b3c4d", file=sys.stderr)
        return 2
    platform = platform_of(settings)
    row, data = show_version(platform.store, platform.db, report, version)
    if args.info:
        print(json.dumps(row, indent=2, default=str))
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    """``nbr restore``: make a saved version the report's notebook again."""
    from nbreports.history.versions import restore_version
    from nbreports.identifiers import check_report_name

    platform = platform_of(settings)
    folder = settings.resolved_notebooks_dir / check_report_name(args.report)
    sha = restore_version(platform.store, platform.db, folder, args.version, author=settings.resolved_author)
    print(f"restored {args.report} to version {sha[:12]}")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """``nbr backup``: back up the report folders and the platform database now."""
    from nbreports.history.backup import backup

    platform = platform_of(settings)
    manifest = backup(platform.store, platform.db, settings.resolved_notebooks_dir, keep_days=settings.backup_keep_days)
    print(
        f"backup {manifest['date']}: {len(manifest['files'])} files, database ({manifest['database']['dialect']})"
        + (f", pruned {', '.join(manifest['pruned'])}" if manifest["pruned"] else "")
    )
    return 0


def cmd_restore_backup(args: argparse.Namespace, settings: Settings) -> int:
    """``nbr restore-backup``: bring back report folders and records from the backup of a date."""
    from datetime import date

    from nbreports.history.backup import restore_backup

    try:
        day = date.fromisoformat(args.date)
    except ValueError:
        print(f"error: {args.date!r} is not a date such as 2024-01-31", file=sys.stderr)
        return 2
    platform = platform_of(settings)
    result = restore_backup(
        platform.store,
        platform.db,
        settings.resolved_notebooks_dir,
        day,
        overwrite=args.overwrite,
        author=settings.resolved_author,
    )
    for state in ("restored", "overwritten", "unchanged", "kept"):
        for path in result[state]:
            print(f"{state:11} {path}")
    if result["kept"]:
        print(
            f"{len(result['kept'])} files differ from the backup and were kept; --overwrite replaces them "
            "(their current notebooks are saved as versions first)"
        )
    print("database rows restored: " + ", ".join(f"{k} {v}" for k, v in result["database_rows"].items()))
    return 0


def add_parsers(sub: Any) -> None:
    """The subcommands of this module, on the ``nbr`` parser's subparsers."""
    versions = sub.add_parser("versions", help="list the saved versions of a report's notebook, newest first")
    versions.add_argument("report")
    versions.add_argument("--json", action="store_true")
    versions.set_defaults(func=cmd_versions)
    show = sub.add_parser("show", help="print one version of a report's notebook")
    show.add_argument("ref", metavar="REPORT@VERSION", help="e.g. sales_summary@1a2b3c4d (8+ hex digits)")
    show.add_argument("--info", action="store_true", help="the version's record instead of the notebook")
    show.set_defaults(func=cmd_show)
    restore = sub.add_parser("restore", help="make a saved version the report's notebook again")
    restore.add_argument("report")
    restore.add_argument("version", help="8+ hex digits of the version")
    restore.set_defaults(func=cmd_restore)
    backup = sub.add_parser("backup", help="back up the report folders and the platform database now")
    backup.set_defaults(func=cmd_backup)
    restore_backup = sub.add_parser("restore-backup", help="bring back report folders and records from a backup")
    restore_backup.add_argument("date", help="the backup's date, e.g. 2024-01-31")
    restore_backup.add_argument(
        "--overwrite", action="store_true", help="also replace files that differ from the backup"
    )
    restore_backup.set_defaults(func=cmd_restore_backup)
