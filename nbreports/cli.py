"""``nbr``: run and inspect reports without Airflow, through the same code path the DAGs use."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import yaml

from nbreports.errors import ExecutionError, NbreportsError
from nbreports.settings import Settings, get_settings


def _value(text: str) -> Any:
    """``-p name value``: the value is read as YAML (42, 1.5, true, [a, b]); otherwise a string."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if value is None and text.strip() not in ("null", "~", "None"):
        return text
    if hasattr(value, "isoformat"):  # YAML reads 2024-01-31 as a date; parameters keep ISO strings
        return value.isoformat()
    return value


def _platform(settings: Settings) -> Any:
    from nbreports.runs.model import Platform

    return Platform.from_settings(settings)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from nbreports.lean_imports import optional_imports_skipped

    with optional_imports_skipped():  # this process never needs them: see nbreports.lean_imports
        import papermill.parameterize  # noqa: F401  (prepare uses it)

        from nbreports.reports.catalog import find_report
        from nbreports.runs.runner import run_report

    report = find_report(settings.resolved_notebooks_dir, args.report, settings.derived_cache_dir)
    values = {name: _value(text) for name, text in args.parameter or []}
    if args.parameters_json:
        values.update(json.loads(args.parameters_json))
    log = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        record = run_report(_platform(settings), report, values, log=log, source="cli", force=args.force)
    except ExecutionError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        print(f"output notebook: {exc.output_uri}", file=sys.stderr)
        return 1
    hit = f", cache hit of {record['cache_hit_of']}" if record.get("cache_hit_of") else ""
    print(f"run:    {record['run_id']} ({record['status']}, {record['duration_s']:.1f}s{hit})")
    print(f"output: {record['output_uri']}")
    print(f"html:   {record['html_uri']}")
    return 0


def cmd_reports(args: argparse.Namespace, settings: Settings) -> int:
    from nbreports.reports.catalog import load_reports

    reports, errors = load_reports(settings.resolved_notebooks_dir, settings.derived_cache_dir)
    for report in reports:
        if args.names:
            print(report.name)
        else:
            schedule = report.spec.schedule or (
                "after " + ", ".join(report.spec.triggered_by) if report.spec.triggered_by else "manual"
            )
            params = ", ".join(p.name for p in report.parameters) or "-"
            print(f"{report.name:24} {report.spec.title:36} {report.spec.owner:14} {schedule:18} {params}")
    for error in errors.values():
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors else 0


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    from nbreports.identifiers import check_report_name

    runs = _platform(settings).db.history(check_report_name(args.report), limit=args.limit)
    if args.json:
        print(json.dumps(runs, indent=2, default=str))
        return 0
    if not runs:
        print(f"no runs of {args.report} yet")
    for run in runs:
        duration = f"{run['duration_s']:.1f}s" if run["duration_s"] is not None else "-"
        params = json.dumps(run["parameters"], default=str)
        print(
            f"{run['started_at']:%Y-%m-%d %H:%M:%S}  {run['status']:8} {duration:>7}  "
            f"{run['notebook_version'][:12]}  {run['run_id']}  {params}"
        )
        if run["html_uri"]:
            print(f"    html: {run['html_uri']}")
        if run["error"]:
            print(f"    error: {run['error']}")
    return 0


def cmd_versions(args: argparse.Namespace, settings: Settings) -> int:
    from nbreports.history.versions import list_saves
    from nbreports.identifiers import check_report_name

    platform = _platform(settings)
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
    from nbreports.history.versions import show_version

    report, sep, version = args.ref.partition("@")
    if not sep:
        print("error: expected <report>@<version>, e.g. sales_summary@1a2b3c4d", file=sys.stderr)
        return 2
    platform = _platform(settings)
    row, data = show_version(platform.store, platform.db, report, version)
    if args.info:
        print(json.dumps(row, indent=2, default=str))
    else:
        sys.stdout.write(data.decode("utf-8"))
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from nbreports.history.versions import restore_version
    from nbreports.identifiers import check_report_name

    platform = _platform(settings)
    folder = settings.resolved_notebooks_dir / check_report_name(args.report)
    sha = restore_version(platform.store, platform.db, folder, args.version, author=settings.resolved_author)
    print(f"restored {args.report} to version {sha[:12]}")
    return 0


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    from nbreports.history.backup import backup

    platform = _platform(settings)
    manifest = backup(platform.store, platform.db, settings.resolved_notebooks_dir, keep_days=settings.backup_keep_days)
    print(
        f"backup {manifest['date']}: {len(manifest['files'])} files, database ({manifest['database']['dialect']})"
        + (f", pruned {', '.join(manifest['pruned'])}" if manifest["pruned"] else "")
    )
    return 0


def cmd_restore_backup(args: argparse.Namespace, settings: Settings) -> int:
    from datetime import date

    from nbreports.history.backup import restore_backup

    try:
        day = date.fromisoformat(args.date)
    except ValueError:
        print(f"error: {args.date!r} is not a date such as 2024-01-31", file=sys.stderr)
        return 2
    platform = _platform(settings)
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


def cmd_cache(args: argparse.Namespace, settings: Settings) -> int:
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
        f"removed {len(result.removed)} entries ({result.corrupt} corrupt), kept {result.kept}, "
        f"freed {result.bytes_freed} bytes"
    )
    return 0


def cmd_pod_spec(args: argparse.Namespace, settings: Settings) -> int:
    from nbreports.pods.request import report_pod_manifest
    from nbreports.reports.catalog import find_report

    report = find_report(settings.resolved_notebooks_dir, args.report, settings.derived_cache_dir)
    manifest = report_pod_manifest(
        report, settings, profile=args.profile, run_id=args.run_id, try_number=args.try_number
    )
    print(yaml.safe_dump(manifest, sort_keys=False), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nbr", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run and publish one report")
    run.add_argument("report", help="report name or folder, e.g. notebooks/sales_summary")
    run.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="a parameter; the value is read as YAML (42, 1.5, true, [EU, US])",
    )
    run.add_argument("--parameters-json", help="all parameters as one JSON object")
    run.add_argument("-q", "--quiet", action="store_true", help="do not stream cell output")
    run.add_argument("--force", action="store_true", help="run even if a fresh cached run exists")
    run.set_defaults(func=cmd_run)

    reports = sub.add_parser("reports", help="list the reports")
    reports.add_argument("--names", action="store_true", help="only the names, one a line")
    reports.set_defaults(func=cmd_reports)

    history = sub.add_parser("history", help="list the runs of a report, newest first")
    history.add_argument("report")
    history.add_argument("-n", "--limit", type=int, default=20)
    history.add_argument("--json", action="store_true")
    history.set_defaults(func=cmd_history)

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

    cache = sub.add_parser("cache", help="query cache upkeep")
    cache.add_argument(
        "action",
        choices=["setup", "sweep"],
        help="setup: S3 lifecycle rule deleting expired entries; sweep: remove them now",
    )
    cache.set_defaults(func=cmd_cache)

    pod_spec = sub.add_parser("pod-spec", help="print the Kubernetes Pod a pod run of the report would start")
    pod_spec.add_argument("report")
    pod_spec.add_argument("--profile", help="compute profile (default: the spec's, else the team's)")
    pod_spec.add_argument("--run-id", default="example-run")
    pod_spec.add_argument("--try-number", type=int, default=1)
    pod_spec.set_defaults(func=cmd_pod_spec)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args, get_settings()))
    except NbreportsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
