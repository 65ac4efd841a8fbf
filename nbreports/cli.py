"""``nbr``: run and inspect reports without Airflow, through the same code path the DAGs use."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import yaml

from nbreports.errors import ExecutionError, NbreportsError
from nbreports.settings import Settings


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
    from nbreports.runner import Platform

    return Platform.from_settings(settings)


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    from nbreports.catalog import find_report
    from nbreports.runner import run_report

    report = find_report(settings.notebooks_dir, args.report, settings.derived_cache_dir)
    values = {name: _value(text) for name, text in args.parameter or []}
    if args.parameters_json:
        values.update(json.loads(args.parameters_json))
    log = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        record = run_report(_platform(settings), report, values, log=log, source="cli")
    except ExecutionError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        print(f"output notebook: {exc.output_uri}", file=sys.stderr)
        return 1
    print(f"run:    {record['run_id']} ({record['status']}, {record['duration_s']:.1f}s)")
    print(f"output: {record['output_uri']}")
    print(f"html:   {record['html_uri']}")
    return 0


def cmd_reports(args: argparse.Namespace, settings: Settings) -> int:
    from nbreports.catalog import load_reports

    reports, errors = load_reports(settings.notebooks_dir, settings.derived_cache_dir)
    for report in reports:
        if args.names:
            print(report.name)
        else:
            schedule = report.spec.schedule or (
                "after " + ", ".join(report.spec.triggered_by) if report.spec.triggered_by else "manual")
            params = ", ".join(p.name for p in report.parameters) or "-"
            print(f"{report.name:24} {report.spec.title:36} {report.spec.owner:14} {schedule:18} {params}")
    for error in errors.values():
        print(f"error: {error}", file=sys.stderr)
    return 1 if errors else 0


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    from nbreports.names import check_report_name

    runs = _platform(settings).db.history(check_report_name(args.report), limit=args.limit)
    if args.json:
        print(json.dumps(runs, indent=2, default=str))
        return 0
    if not runs:
        print(f"no runs of {args.report} yet")
    for run in runs:
        duration = f"{run['duration_s']:.1f}s" if run["duration_s"] is not None else "-"
        params = json.dumps(run["parameters"], default=str)
        print(f"{run['started_at']:%Y-%m-%d %H:%M:%S}  {run['status']:8} {duration:>7}  "
              f"{run['notebook_version'][:12]}  {run['run_id']}  {params}")
        if run["html_uri"]:
            print(f"    html: {run['html_uri']}")
        if run["error"]:
            print(f"    error: {run['error']}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nbr", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run and publish one report")
    run.add_argument("report", help="report name or folder, e.g. notebooks/sales_summary")
    run.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                     help="a parameter; the value is read as YAML (42, 1.5, true, [EU, US])")
    run.add_argument("--parameters-json", help="all parameters as one JSON object")
    run.add_argument("-q", "--quiet", action="store_true", help="do not stream cell output")
    run.set_defaults(func=cmd_run)

    reports = sub.add_parser("reports", help="list the reports")
    reports.add_argument("--names", action="store_true", help="only the names, one a line")
    reports.set_defaults(func=cmd_reports)

    history = sub.add_parser("history", help="list the runs of a report, newest first")
    history.add_argument("report")
    history.add_argument("-n", "--limit", type=int, default=20)
    history.add_argument("--json", action="store_true")
    history.set_defaults(func=cmd_history)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args, Settings()))
    except NbreportsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
