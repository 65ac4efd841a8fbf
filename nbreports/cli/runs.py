"""``nbr run``, ``nbr reports``, ``nbr history`` and ``nbr pod-spec``: reports and their runs."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import yaml

from nbreports.cli.common import parameter_value, platform_of
from nbreports.errors import ExecutionError
from nbreports.settings import Settings


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """``nbr run``: run and publish one report, as its DAG would; 1 when the notebook failed."""
    from nbreports.lean_imports import optional_imports_skipped

    with optional_imports_skipped():  # this process never needs them: see nbreports.lean_imports
        import papermill.parameterize  # noqa: F401  (prepare uses it)

        from nbreports.reports.catalog import find_report
        from nbreports.runs.runner import run_report

    report = find_report(settings.resolved_notebooks_dir, args.report, settings.derived_cache_dir)
    values = {name: parameter_value(text) for name, text in args.parameter or []}
    if args.parameters_json:
        values.update(json.loads(args.parameters_json))
    log = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        record = run_report(platform_of(settings), report, values, log=log, source="cli", force=args.force)
    except ExecutionError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        print(f"output notebook: {exc.output_uri or 'none was stored'}", file=sys.stderr)
        return 1
    hit = f", cache hit of {record['cache_hit_of']}" if record.get("cache_hit_of") else ""
    print(f"run:    {record['run_id']} ({record['status']}, {record['duration_s']:.1f}s{hit})")
    print(f"output: {record['output_uri']}")
    print(f"html:   {record['html_uri']}")
    return 0


def cmd_reports(args: argparse.Namespace, settings: Settings) -> int:
    """``nbr reports``: the reports of the notebooks folder; 1 when some of them are invalid."""
    from nbreports.reports.catalog import load_reports

    reports, errors = load_reports(settings.resolved_notebooks_dir, settings.derived_cache_dir)
    only = getattr(args, "only", None)  # with --as: the reports that person may view
    for report in reports:
        if only is not None and report.name not in only:
            continue
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
    """``nbr history``: the runs of a report, newest first."""
    from nbreports.browse.runs import recent_runs
    from nbreports.identifiers import check_report_name

    runs = recent_runs(platform_of(settings).db, check_report_name(args.report), limit=args.limit)
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


def cmd_pod_spec(args: argparse.Namespace, settings: Settings) -> int:
    """``nbr pod-spec``: the Kubernetes Pod a pod run of the report would start, as YAML."""
    from nbreports.pods.request import report_pod_manifest
    from nbreports.reports.catalog import find_report

    report = find_report(settings.resolved_notebooks_dir, args.report, settings.derived_cache_dir)
    manifest = report_pod_manifest(
        report, settings, profile=args.profile, run_id=args.run_id, try_number=args.try_number
    )
    print(yaml.safe_dump(manifest, sort_keys=False), end="")
    return 0


def add_parsers(sub: Any) -> None:
    """The subcommands of this module, on the ``nbr`` parser's subparsers."""
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
    pod_spec = sub.add_parser("pod-spec", help="print the Kubernetes Pod a pod run of the report would start")
    pod_spec.add_argument("report")
    pod_spec.add_argument("--profile", help="compute profile (default: the spec's, else the team's)")
    pod_spec.add_argument("--run-id", default="example-run")
    pod_spec.add_argument("--try-number", type=int, default=1)
    pod_spec.set_defaults(func=cmd_pod_spec)
